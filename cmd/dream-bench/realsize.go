package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"dream/internal/ort"
	"dream/internal/sd"
)

// EnvRealSize names the folder of a Stable Diffusion 1.5 export at real size (made by
// ../shared/tools/sd15-realsize); the realsize section runs only when it is set.
const EnvRealSize = "DREAM_SD_REALSIZE"

// realSizeSection measures generation at the real scale: peak memory of a 512×512 line under
// each --keep_models policy, the time per line, how long the UNet takes to open, and a step's
// time with the attention blocks as exported and fused.
// Each line takes minutes on a small CPU.
func realSizeSection(ctx context.Context, c config, rt *ort.Runtime, tmp string) error {
	dir := os.Getenv(EnvRealSize)
	if dir == "" {
		fmt.Printf("\nreal-size Stable Diffusion: skipped (set %s to the export made by ../shared/tools/sd15-realsize)\n", EnvRealSize)
		return nil
	}
	fmt.Printf("\nreal-size Stable Diffusion 1.5 (%s), 512×512, -s 3 -A k_euler\n", dir)
	// The dream runs come first, while this process is small: Go starts children with vfork,
	// so the kernel counts the parent's peak at exec time in the child's (see main.go).
	var errs []error
	for _, keep := range []string{"no", "yes"} {
		outdir := filepath.Join(tmp, "realsize-"+keep)
		args := []string{"--sd_model", dir, "--keep_models", keep, "--device", "cpu", "--models", c.models(), "--outdir", outdir}
		r, err := measureDream(ctx, c, args, "a fox -s 3 -S 1 -W 512 -H 512 -A k_euler\nq\n", func() error {
			return checkOutput(filepath.Join(outdir, "000001.1.png"), 512, 512)
		})
		if err != nil {
			fmt.Printf("  --keep_models %-4s FAILED: %v\n", keep, err)
			errs = append(errs, err)
			continue
		}
		fmt.Printf("  --keep_models %-4s peak %5.2f GB   %5.0f s for the line\n", keep, float64(r.peak)/1e9, r.wall.Seconds())
	}
	open, err := timeUNetOpen(rt, dir)
	if err != nil {
		return err
	}
	fmt.Printf("  opening the UNet: %.1f s\n", open.Seconds())
	for _, plain := range []bool{true, false} {
		times, err := sd.StepTimes(ctx, rt, dir, plain, 3)
		if err != nil {
			return err
		}
		name := "attention fused"
		if plain {
			name = "as exported"
		}
		fmt.Printf("  a 512×512 step (batch 2), %-15s median %5.2f s of %d\n", name, median(times).Seconds(), len(times))
	}
	return errors.Join(errs...)
}

// timeUNetOpen opens the export's UNet alone, in this process, and closes it again.
func timeUNetOpen(rt *ort.Runtime, dir string) (time.Duration, error) {
	lean, err := rt.ReturningMemory() // a runtime of its own, so the session closes with it
	if err != nil {
		return 0, err
	}
	start := time.Now()
	s, err := lean.Session(filepath.Join(dir, sd.UNetFile), sd.UNetContract())
	took := time.Since(start)
	if err != nil {
		return 0, err
	}
	lean.Release(s)
	return took, nil
}
