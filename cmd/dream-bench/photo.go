package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"dream/internal/job"
	"dream/internal/models"
	"dream/internal/ort"
	"dream/internal/pipeline"
	"dream/internal/upscale"
)

// photoTarget bounds both figures of a real-size photo: the pixels the model computes over
// the image's own, and the whole job's time over the bare model's time for those pixels.
const photoTarget = 1.15

// The real-size photo: a 1920×1350 enlargement of the coffee photo, ×4 with x4plus at the
// default settings, as a user would run it.
const photoW, photoH = 1920, 1350

// bareSide is the window the bare model rate is measured on.
const bareSide = 512

// photoSection runs `!fix photo.png -U 4` with x4plus at default settings and compares the
// job's time with the bare model's seconds per pixel on one 512² window times the image's
// pixels, measured in the same process. It also prints the tile plan.
func photoSection(ctx context.Context, c config, rt *ort.Runtime, tmp string) error {
	budget := pipeline.DefaultMaxMemory()
	fmt.Printf("\n%d×%d photo, !fix -U 4 with x4plus at default settings (memory budget %.1f GiB; targets ≤ %.2f)\n",
		photoW, photoH, float64(budget)/(1<<30), photoTarget)
	input := filepath.Join(tmp, "photo1920.png")
	if err := enlargeTo(c.image("coffee.png"), input, photoW, photoH); err != nil {
		return err
	}
	path, err := models.Locate(c.models(), models.Upscalers["x4plus"])
	if err != nil {
		return err
	}
	m, err := upscale.Load(ctx, rt, path)
	if err != nil {
		return err
	}
	opts := upscale.Options{Factor: 4, Strength: 1, Budget: budget}
	g := m.Grid(photoW, photoH, opts)
	fmt.Printf("  tiles %d×%d, window %s, pad %d: window area / image area %.3f\n", g.Cols(), g.Rows(),
		g.Window(photoW, photoH, m.Pad), m.Pad, m.Overlap(photoW, photoH, opts))

	// The bare runs come before and after the job, which takes minutes: this machine's speed
	// drifts by 5–10% between minutes, and one side alone followed the drift or not by chance.
	bare, err := newBareWindow(rt, path, m.Scale, bareSide, bareSide)
	if err != nil {
		return err
	}
	defer rt.Release(bare.session)
	defer bare.destroy()
	if _, err := bare.time(ctx); err != nil { // the first run of a shape plans its memory
		return err
	}
	before, err := bareSecondsPerPixel(ctx, bare)
	if err != nil {
		return err
	}
	p := pipeline.New(pipeline.Config{Outdir: filepath.Join(tmp, "photo"), ModelDir: c.models(),
		Upscaler: "x4plus", MaxMemory: budget, Runtime: func() (*ort.Runtime, error) { return rt, nil }})
	fix := job.Job{Kind: job.Fix, Path: input, Upscale: &job.Upscale{Factor: 4, Strength: 0.75},
		Line: "!fix " + input + " -U 4"}
	run, err := timeJob(ctx, p, fix)
	if err != nil {
		return err
	}
	os.Remove(run.path)
	after, err := bareSecondsPerPixel(ctx, bare)
	if err != nil {
		return err
	}
	perPixel := (before + after) / 2
	model := perPixel * photoW * photoH
	fmt.Printf("  bare model on one %d² window, median of 3 before the job and of 3 after: %.1f and %.1f µs a pixel, so %.1f s for the photo's pixels\n",
		bareSide, before*1e6, after*1e6, model)
	fmt.Printf("  whole job %.1f s: %.3f× the bare model time\n", secs(run.took), secs(run.took)/model)
	return nil
}

// bareSecondsPerPixel times the network alone, whole, on a bareSide² window: the median of
// three runs.
func bareSecondsPerPixel(ctx context.Context, b *bareRun) (float64, error) {
	var runs []time.Duration
	for range 3 {
		took, err := b.time(ctx)
		if err != nil {
			return 0, err
		}
		runs = append(runs, took)
	}
	return median(runs).Seconds() / (bareSide * bareSide), nil
}

// firstFixSection times a new dream process doing its first `!fix -U 4` of a 256² image with
// x4plus, and the part of it spent opening ONNX Runtime and loading the model (timed in a
// fresh process of this bench, since the runtime is one per process).
func firstFixSection(ctx context.Context, c config, tmp string) error {
	fmt.Println("\nfirst !fix -U 4 of a 256² image with x4plus in a new process (median of 3)")
	input := filepath.Join(tmp, "first256.png")
	if err := enlargeTo(c.image("coffee.png"), input, 256, 256); err != nil {
		return err
	}
	var jobs, loads []time.Duration
	for i := range 3 {
		outdir := filepath.Join(tmp, fmt.Sprintf("first-%d", i))
		args := []string{"--models", c.models(), "--device", "cpu", "--outdir", outdir}
		r, err := measureDream(ctx, c, args, "!fix "+input+" -U 4\nq\n", func() error {
			return checkOutput(filepath.Join(outdir, "first256.fixed.png"), 1024, 1024)
		})
		if err != nil {
			return err
		}
		load, err := timeLoadInChild(ctx, filepath.Join(c.models(), models.Upscalers["x4plus"]))
		if err != nil {
			return err
		}
		jobs, loads = append(jobs, r.wall), append(loads, load)
	}
	job, load := median(jobs), median(loads)
	fmt.Printf("  process start to exit %.2f s; opening ONNX Runtime and loading x4plus %.2f s (%.0f%%)\n",
		secs(job), secs(load), 100*secs(load)/secs(job))
	return nil
}

// childLoadFlag makes the bench load one model and print how long that took.
const childLoadFlag = "-child-load"

// timeLoadInChild runs this bench again to time ort.Open and upscale.Load in a new process.
func timeLoadInChild(ctx context.Context, model string) (time.Duration, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, err
	}
	out, err := exec.CommandContext(ctx, self, childLoadFlag, model).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("timing the model load: %v: %s", err, out)
	}
	return time.ParseDuration(strings.TrimSpace(string(out)))
}

// childLoad is the child's side of timeLoadInChild.
func childLoad(model string) error {
	start := time.Now()
	rt, err := ort.Open(ort.Options{Device: "cpu"})
	if err != nil {
		return err
	}
	if _, err := upscale.Load(context.Background(), rt, model); err != nil {
		return err
	}
	fmt.Println(time.Since(start))
	return nil
}
