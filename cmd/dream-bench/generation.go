package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"dream/internal/sd/sdtest"
)

// generationMemorySection measures the memory policy of generation (sd.Policy) on a test
// export whose UNet and VAE decoder have large working memory, as real ones do at 512×512
// (no real Stable Diffusion weights can be had here). Two images are made, so the second
// one's sampling runs after the first one's decoding: with the VAE kept, its working memory
// is still held then; released, it is not.
func generationMemorySection(ctx context.Context, c config, tmp string) error {
	fmt.Println("\npeak memory, whole process, two 512×512 images from a test export (UNet and VAE decoder with 1 GiB and 0.5 GiB intermediates)")
	dir := filepath.Join(tmp, "sd")
	export := sdtest.Export{Mean: [4]float32{0.3, -0.2, 0.5, 0.1}, Spread: 0.5, Workload: 512}
	if err := export.Write(dir); err != nil {
		return err
	}
	if err := sdtest.WriteTokenizer(dir, filepath.Join(c.shared, "tokenizer", "bpe_simple_vocab_16e6.txt.gz")); err != nil {
		return err
	}
	var errs []error
	for _, keep := range []string{"yes", "no"} {
		r, err := runGeneration(ctx, c, dir, keep, filepath.Join(tmp, "gen-"+keep))
		if err != nil {
			fmt.Printf("  --keep_models %-4s FAILED: %v\n", keep, err)
			errs = append(errs, err)
			continue
		}
		fmt.Printf("  --keep_models %-4s %5d MiB  %5.1f s\n", keep, r.peak>>20, r.wall.Seconds())
	}
	return errors.Join(errs...)
}

func runGeneration(ctx context.Context, c config, sdDir, keep, outdir string) (dreamRun, error) {
	args := []string{"--sd_model", sdDir, "--keep_models", keep, "--device", "cpu", "--models", c.models(), "--outdir", outdir}
	return measureDream(ctx, c, args, "a fox -s 3 -n 2 -S 1 -W 512 -H 512\nq\n", func() error {
		for _, name := range []string{"000001.1.png", "000001.2.png"} {
			if err := checkOutput(filepath.Join(outdir, name), 512, 512); err != nil {
				return err
			}
		}
		return nil
	})
}
