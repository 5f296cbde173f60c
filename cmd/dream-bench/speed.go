package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	onnx "github.com/yalue/onnxruntime_go"

	"dream/internal/imageio"
	"dream/internal/job"
	"dream/internal/models"
	"dream/internal/ort"
	"dream/internal/pipeline"
	"dream/internal/upscale"
)

// speedCase is one model on one image.
type speedCase struct {
	upscaler string // key of models.Upscalers
	image    string // file in shared/images
	// macsPerPixel is the network's multiply-adds per input pixel, 0 when not known.
	macsPerPixel float64
}

// RRDBNet (x4plus) costs about 17.9 million multiply-adds per input pixel.
const x4plusMACs = 17.9e6

var speedCases = []speedCase{
	{upscaler: "x4plus", image: "coffee_crop128.png", macsPerPixel: x4plusMACs},
	{upscaler: "general-x4v3", image: "astronaut.png"},
}

// jobTarget is the largest job/bare ratio we aim for: the job may add at most 10% to the
// model run it wraps.
const jobTarget = 1.10

func speedSection(ctx context.Context, c config, rt *ort.Runtime, tmp string) error {
	fmt.Printf("\njob vs bare run (median of %d; target job/bare ≤ %.2f)\n", c.reps, jobTarget)
	var errs []error
	for _, sc := range speedCases {
		outdir := filepath.Join(tmp, "speed-"+sc.upscaler)
		m, err := measureSpeed(ctx, c, rt, sc, outdir)
		if err != nil {
			fmt.Printf("  %-13s %s: FAILED: %v\n", sc.upscaler, sc.image, err)
			errs = append(errs, err)
			continue
		}
		m.print(sc)
	}
	return errors.Join(errs...)
}

// speedResult holds the medians of one case.
type speedResult struct {
	w, h, tiles               int
	job, bare, decode, encode time.Duration
	// coreShare is the part of all cores this process used during the timed runs, 0 if
	// unknown.
	coreShare float64
}

func measureSpeed(ctx context.Context, c config, rt *ort.Runtime, sc speedCase, outdir string) (*speedResult, error) {
	src := c.image(sc.image)
	tiles := 0
	p := pipeline.New(pipeline.Config{
		Outdir:   outdir,
		ModelDir: c.models(),
		Upscaler: sc.upscaler,
		Runtime:  func() (*ort.Runtime, error) { return rt, nil },
		// The tile count tells whether the job ran the model once on the whole image, the
		// same shape as the bare run; otherwise the two would not be comparable.
		Progress: func(task pipeline.Task, _, total int) { tiles = total / max(task.PerUnit, 1) },
	})
	fix := job.Job{Kind: job.Fix, Path: src, Upscale: &job.Upscale{Factor: 4, Strength: 1},
		Line: "!fix " + src + " -U 4 1"}

	// The warm-up job also loads the model, so the session below is the one it opened.
	out, err := timeJob(ctx, p, fix)
	if err != nil {
		return nil, err
	}
	result, err := imageio.Load(out.path)
	if err != nil {
		return nil, err
	}
	os.Remove(out.path)
	b, err := newBareRun(ctx, rt, c.models(), sc.upscaler, src)
	if err != nil {
		return nil, err
	}
	defer b.destroy()
	if _, err := b.time(ctx); err != nil {
		return nil, err
	}

	var jobs, bares, decodes, encodes []time.Duration
	load := startLoadCheck()
	// Job and bare run alternate so that drift in the machine (heat, other load) hits both.
	for range c.reps {
		j, err := timeJob(ctx, p, fix)
		if err != nil {
			return nil, err
		}
		os.Remove(j.path)
		bare, err := b.time(ctx)
		if err != nil {
			return nil, err
		}
		dec, err := timeDecode(src)
		if err != nil {
			return nil, err
		}
		enc, err := timeSave(filepath.Join(outdir, "encode-probe.png"), result)
		if err != nil {
			return nil, err
		}
		if c.verbose {
			fmt.Printf("    %s rep: job %.2f s, bare %.2f s, decode %.3f s, encode+write %.3f s\n",
				sc.upscaler, secs(j.took), secs(bare), secs(dec), secs(enc))
		}
		jobs, bares = append(jobs, j.took), append(bares, bare)
		decodes, encodes = append(decodes, dec), append(encodes, enc)
	}
	return &speedResult{w: b.w, h: b.h, tiles: tiles, coreShare: load.share(),
		job: median(jobs), bare: median(bares), decode: median(decodes), encode: median(encodes)}, nil
}

func (r *speedResult) print(sc speedCase) {
	size := fmt.Sprintf("%d×%d → %d×%d", r.w, r.h, 4*r.w, 4*r.h)
	fmt.Printf("  %-13s %-19s %-21s job %5.2f s   bare %5.2f s   ratio %.2f",
		sc.upscaler, sc.image, size, secs(r.job), secs(r.bare), secs(r.job)/secs(r.bare))
	if sc.macsPerPixel > 0 {
		flops := 2 * sc.macsPerPixel * float64(r.w*r.h) / secs(r.bare)
		fmt.Printf("   (%.0f GFLOP/s)", flops/1e9)
	}
	fmt.Println()
	// What the job spends beyond decode, model and save is the tile loop: filling the input
	// tensor and rounding the output into the image.
	rest := r.job - r.decode - r.bare - r.encode
	fmt.Printf("    breakdown: decode %.2f s, model %.2f s, encode+write %.2f s, rest %.2f s (tensor fill, store)",
		secs(r.decode), secs(r.bare), secs(r.encode), secs(rest))
	if r.tiles > 1 {
		// Several windows mean the bare whole-image run is not the job's model work.
		fmt.Printf(" — job ran %d tiles", r.tiles)
	}
	fmt.Println()
	if r.coreShare > 0 && r.coreShare < busyShare {
		fmt.Printf("    note: the runs got only %.0f%% of the cores; other work competed, so these times are inflated\n",
			100*r.coreShare)
	}
}

// busyShare is the core share below which other processes must have taken the cores: ONNX
// Runtime keeps every core busy during a run, which is nearly all of a job, so a quiet
// machine gives well over 90%.
const busyShare = 0.8

// loadCheck measures how much of the machine this process got between start and share.
type loadCheck struct {
	wall time.Time
	cpu  time.Duration
	ok   bool
}

func startLoadCheck() loadCheck {
	cpu, ok := cpuTime()
	return loadCheck{wall: time.Now(), cpu: cpu, ok: ok}
}

func (l loadCheck) share() float64 {
	cpu, ok := cpuTime()
	wall := time.Since(l.wall)
	if !l.ok || !ok || wall <= 0 {
		return 0
	}
	return float64(cpu-l.cpu) / float64(wall) / float64(runtime.NumCPU())
}

type jobRun struct {
	path string
	took time.Duration
}

func timeJob(ctx context.Context, p *pipeline.Pipeline, j job.Job) (jobRun, error) {
	start := time.Now()
	res, err := p.Fix(ctx, j)
	took := time.Since(start)
	if err != nil {
		return jobRun{}, err
	}
	if res.W == 0 || res.H == 0 {
		return jobRun{}, fmt.Errorf("the job wrote an empty image")
	}
	return jobRun{path: res.Path, took: took}, nil
}

func timeDecode(path string) (time.Duration, error) {
	start := time.Now()
	_, err := imageio.Load(path)
	return time.Since(start), err
}

// timeSave writes img the way the pipeline saves a result (PNG, atomic write with fsync) and
// removes the file again.
func timeSave(path string, img *imageio.Image) (time.Duration, error) {
	start := time.Now()
	err := imageio.WriteFileAtomic(path, func(w io.Writer) error { return imageio.Encode(w, img) })
	took := time.Since(start)
	os.Remove(path)
	return took, err
}

// bareRun is one Session.Run of the model on the whole image, with the tensors made once: the
// least any upscale of this image can cost.
type bareRun struct {
	session *ort.Session
	in, out *onnx.Tensor[float32]
	w, h    int
}

func newBareRun(ctx context.Context, rt *ort.Runtime, modelDir, upscaler, src string) (*bareRun, error) {
	path, err := models.Locate(modelDir, models.Upscalers[upscaler])
	if err != nil {
		return nil, err
	}
	m, err := upscale.Load(ctx, rt, path)
	if err != nil {
		return nil, err
	}
	img, err := imageio.Load(src)
	if err != nil {
		return nil, err
	}
	b, err := newBareWindow(rt, path, m.Scale, img.W, img.H)
	if err != nil {
		return nil, err
	}
	copy(b.in.GetData(), planes(img))
	return b, nil
}

// newBareWindow is a bare run of the network in path on a w×h input of zeros: the network
// whole, in one session, even where the upscaler runs it as a body and a tail
// (upscale.Model.Tail). rt.Session caches sessions per file, so for a network the upscaler
// runs whole this is the session the pipeline runs.
func newBareWindow(rt *ort.Runtime, path string, scale, w, h int) (*bareRun, error) {
	session, err := rt.Session(path, upscale.Contract)
	if err != nil {
		return nil, err
	}
	b := &bareRun{session: session, w: w, h: h}
	if b.in, err = onnx.NewEmptyTensor[float32](onnx.NewShape(1, 3, int64(h), int64(w))); err != nil {
		return nil, err
	}
	s := int64(scale)
	if b.out, err = onnx.NewEmptyTensor[float32](onnx.NewShape(1, 3, s*int64(h), s*int64(w))); err != nil {
		b.in.Destroy()
		return nil, err
	}
	return b, nil
}

// planes converts an image to the network's input: RGB planes in [0,1]. Gray repeats into all
// three planes and alpha is dropped, as the upscaler's colour pass does.
func planes(img *imageio.Image) []float32 {
	n := img.W * img.H
	data := make([]float32, 3*n)
	scale := 1 / float32(img.MaxValue())
	for i := range n {
		p := i * img.Channels
		for c := range 3 {
			data[c*n+i] = float32(img.At(p+min(c, img.Channels-1))) * scale
		}
	}
	return data
}

func (b *bareRun) time(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	err := b.session.Run(ctx, []ort.Value{b.in}, []ort.Value{b.out})
	return time.Since(start), err
}

func (b *bareRun) destroy() {
	b.in.Destroy()
	b.out.Destroy()
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func secs(d time.Duration) float64 { return d.Seconds() }
