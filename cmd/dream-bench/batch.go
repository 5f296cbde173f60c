package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"dream/internal/imageio"
	"dream/internal/job"
	"dream/internal/ort"
	"dream/internal/pipeline"
)

// batchImages is the size of the folder the batch section fixes, of batchW×batchH pieces of
// the test photos: small images, where what a job adds to the model weighs most.
const (
	batchImages    = 20
	batchW, batchH = 256, 192
)

// batchRounds is how many times the batch and the bare runs are measured, one after the
// other: on a shared machine their speed drifts by several per cent from minute to minute, so
// each batch is set against the mean of bare runs made just before and just after it, and the
// median round is reported.
const batchRounds = 5

// batchSection measures what a batch adds to the model's own work: one dream process fixes a
// folder of 20 small images (!fix DIR) and, in a second run, only the first of them. Their
// difference is what images 2 to 20 cost with the model already loaded (decoding, the model,
// encoding, saving, the batch's own bookkeeping), which is set against bare model runs on the
// same 19 images, measured just before. Target: at most 1.1×.
func batchSection(ctx context.Context, c config, rt *ort.Runtime, tmp string) error {
	const upscaler = "general-x4v3"
	fmt.Printf("\nbatch: !fix of a folder of %d small images in one process, %s ×4 (target ≤ 1.10× the bare model time)\n",
		batchImages, upscaler)
	dir := filepath.Join(tmp, "batch")
	images, err := writeBatchImages(c, filepath.Join(dir, "scans"))
	if err != nil {
		return err
	}
	bare, err := newBareRuns(ctx, rt, c, upscaler, images[1:])
	if err != nil {
		return err
	}
	defer bare.destroy()
	var ratios []float64
	for round := range batchRounds {
		before, err := bare.time(ctx)
		if err != nil {
			return err
		}
		all, err := timeBatch(ctx, c, dir, upscaler, "scans")
		if err != nil {
			return err
		}
		first, err := timeBatch(ctx, c, dir, upscaler, images[0])
		if err != nil {
			return err
		}
		after, err := bare.time(ctx)
		if err != nil {
			return err
		}
		model := (before + after) / 2
		rest := all - first
		ratios = append(ratios, secs(rest)/secs(model))
		fmt.Printf("  round %d: dream, %d images %.2f s, the first alone %.2f s, so images 2–%d %.2f s; bare model on them %.2f s before, %.2f s after: %.3f×\n",
			round+1, batchImages, secs(all), secs(first), batchImages, secs(rest), secs(before), secs(after), ratios[round])
	}
	slices.Sort(ratios)
	fmt.Printf("  batch/bare, the median of %d rounds: %.3f×\n", batchRounds, ratios[batchRounds/2])
	jobs, err := timeSingleJobs(ctx, c, rt, upscaler, images[1:], filepath.Join(dir, "single"))
	if err != nil {
		return err
	}
	model, err := bare.time(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("  (the same 19 as single !fix jobs in this process, model loaded: %.2f s, %.3f× bare)\n", secs(jobs), secs(jobs)/secs(model))
	return nil
}

// bareRuns holds a bare run of the model for each image, warmed up.
type bareRuns []*bareRun

func newBareRuns(ctx context.Context, rt *ort.Runtime, c config, upscaler string, images []string) (bareRuns, error) {
	var runs bareRuns
	for _, src := range images {
		b, err := newBareRun(ctx, rt, c.models(), upscaler, src)
		if err != nil {
			runs.destroy()
			return nil, err
		}
		runs = append(runs, b)
		if _, err := b.time(ctx); err != nil { // the first run of a shape plans its memory
			runs.destroy()
			return nil, err
		}
	}
	return runs, nil
}

// time is one bare run of each image, in all.
func (runs bareRuns) time(ctx context.Context) (time.Duration, error) {
	var total time.Duration
	for _, b := range runs {
		took, err := b.time(ctx)
		if err != nil {
			return 0, err
		}
		total += took
	}
	return total, nil
}

func (runs bareRuns) destroy() {
	for _, b := range runs {
		b.destroy()
	}
}

// writeBatchImages cuts 20 different pieces out of the test photos.
func writeBatchImages(c config, dir string) ([]string, error) {
	var photos []*imageio.Image
	for _, name := range []string{"coffee.png", "astronaut.png"} {
		img, err := imageio.Load(c.image(name))
		if err != nil {
			return nil, err
		}
		photos = append(photos, img)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	for i := range batchImages {
		src := photos[i%2]
		x, y := (i*37)%(src.W-batchW), (i*53)%(src.H-batchH)
		piece := crop(src, x, y, batchW, batchH)
		path := filepath.Join(dir, fmt.Sprintf("scan%02d.png", i))
		if err := imageio.SavePNG(path, piece); err != nil {
			return nil, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}

func crop(img *imageio.Image, x0, y0, w, h int) *imageio.Image {
	out := imageio.New(w, h, img.Channels, img.Depth)
	px := img.Channels * img.Depth / 8
	for y := range h {
		copy(out.Pix[y*w*px:(y+1)*w*px], img.Pix[((y0+y)*img.W+x0)*px:][:w*px])
	}
	return out
}

// timeBatch runs dream --from_file with one !fix line for path in dir, into a fresh folder.
func timeBatch(ctx context.Context, c config, dir, upscaler, path string) (time.Duration, error) {
	outdir, err := os.MkdirTemp(dir, "out-")
	if err != nil {
		return 0, err
	}
	lines := filepath.Join(dir, "lines.txt")
	if err := os.WriteFile(lines, []byte("!fix "+path+" -U 4 1\n"), 0o644); err != nil {
		return 0, err
	}
	binary, err := filepath.Abs(c.dream) // the command runs in dir
	if err != nil {
		return 0, err
	}
	modelDir, err := filepath.Abs(c.models())
	if err != nil {
		return 0, err
	}
	cmd := exec.CommandContext(ctx, binary, "--models", modelDir, "--device", "cpu",
		"--esrgan_model", upscaler, "--outdir", outdir, "--from_file", lines)
	cmd.Dir = dir
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("dream --from_file: %v\n%s", err, out)
	}
	return time.Since(start), nil
}

// timeSingleJobs runs each image as its own !fix through a pipeline in this process, after a
// warm-up job that loads the model: what the images cost one job at a time.
func timeSingleJobs(ctx context.Context, c config, rt *ort.Runtime, upscaler string, images []string, outdir string) (time.Duration, error) {
	p := pipeline.New(pipeline.Config{Outdir: outdir, ModelDir: c.models(), Upscaler: upscaler,
		Runtime: func() (*ort.Runtime, error) { return rt, nil }})
	fix := func(src string) job.Job {
		return job.Job{Kind: job.Fix, Path: src, Upscale: &job.Upscale{Factor: 4, Strength: 1}, Line: "!fix " + src + " -U 4 1"}
	}
	if _, err := timeJob(ctx, p, fix(images[0])); err != nil {
		return 0, err
	}
	var total time.Duration
	for _, src := range images {
		run, err := timeJob(ctx, p, fix(src))
		if err != nil {
			return 0, err
		}
		total += run.took
	}
	return total, nil
}
