// Package pipeline runs a Job: load (or, later, generate) an image, upscale it, and save the
// result. It owns the models, loaded once on first use and reused by every later job.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"dream/internal/imageio"
	"dream/internal/job"
	"dream/internal/models"
	"dream/internal/ort"
	"dream/internal/upscale"
)

// Config is what the launch flags decide.
type Config struct {
	Outdir   string // where results go (--outdir)
	ModelDir string // --models / $DREAM_MODELS
	// Upscaler is the key of models.Upscalers used for ×4 (and ×2 without an x2 model).
	Upscaler string
	// UpscalerPath names one model file for every upscale (--esrgan_model_path).
	UpscalerPath string
	// Tile is --esrgan_bg_tile, in input pixels; 0 chooses it from the memory budget.
	Tile int
	// NoUpscale is --no_upscale: upscaling models are never loaded.
	NoUpscale bool
	// Runtime opens ONNX Runtime; it is called on the first job that needs a model, so the
	// shell starts without loading the library.
	Runtime func() (*ort.Runtime, error)
	// Progress, when set, is told how far long work has come.
	Progress func(task string, done, total int)
}

// Pipeline runs jobs one at a time.
type Pipeline struct {
	cfg       Config
	rt        *ort.Runtime
	upscalers map[string]*upscale.Model // by model path
}

// New returns a pipeline; nothing is loaded until a job needs it.
func New(cfg Config) *Pipeline {
	if cfg.Upscaler == "" {
		cfg.Upscaler = models.DefaultUpscaler
	}
	return &Pipeline{cfg: cfg, upscalers: map[string]*upscale.Model{}}
}

// Result describes a file the pipeline wrote.
type Result struct {
	Path string
	W, H int
}

// Fix post-processes an existing image and writes NAME.fixed.png into the output directory.
// The source file is only read. A cancelled or failed job writes nothing.
func (p *Pipeline) Fix(ctx context.Context, j job.Job) (Result, error) {
	outdir := p.outdir(j)
	src, err := p.resolve(j.Path, outdir)
	if err != nil {
		return Result{}, err
	}
	if j.Upscale != nil && p.cfg.NoUpscale {
		return Result{}, errors.New("upscaling is off (--no_upscale): restart dream without it to use -U")
	}
	img, err := imageio.Load(src)
	if err != nil {
		return Result{}, err
	}
	if j.Upscale != nil {
		if img, err = p.upscale(ctx, img, *j.Upscale); err != nil {
			return Result{}, err
		}
	}
	if err := os.MkdirAll(outdir, 0o755); err != nil {
		return Result{}, fmt.Errorf("cannot create output directory %s: %v", outdir, err)
	}
	dest, err := imageio.FixedName(outdir, src)
	if err != nil {
		return Result{}, err
	}
	if err := save(ctx, dest, img); err != nil {
		return Result{}, err
	}
	return Result{Path: dest, W: img.W, H: img.H}, nil
}

func (p *Pipeline) outdir(j job.Job) string {
	if j.Outdir != "" {
		return j.Outdir
	}
	return p.cfg.Outdir
}

// resolve finds a path as typed relative to the working directory, then the output directory.
func (p *Pipeline) resolve(path, outdir string) (string, error) {
	if _, err := os.Stat(path); err == nil || filepath.IsAbs(path) {
		return path, nil
	}
	inOutdir := filepath.Join(outdir, path)
	if _, err := os.Stat(inOutdir); err == nil {
		return inOutdir, nil
	}
	return "", fmt.Errorf("no such file: %s (looked in the working directory and in %s)", path, outdir)
}

func (p *Pipeline) upscale(ctx context.Context, img *imageio.Image, u job.Upscale) (*imageio.Image, error) {
	m, err := p.upscaler(ctx, u.Factor)
	if err != nil {
		return nil, err
	}
	opts := upscale.Options{Factor: u.Factor, Strength: u.Strength, Tile: p.cfg.Tile}
	if p.cfg.Progress != nil {
		task := fmt.Sprintf("upscaling ×%d", u.Factor)
		opts.Progress = func(done, total int) { p.cfg.Progress(task, done, total) }
	}
	return m.Upscale(ctx, img, opts)
}

// upscaler returns the model for a factor, loading it on first use: the launch flag's file if
// given, else a ×2 model for ×2 when one is installed, else the chosen ×4 model.
func (p *Pipeline) upscaler(ctx context.Context, factor int) (*upscale.Model, error) {
	path, err := p.upscalerPath(factor)
	if err != nil {
		return nil, err
	}
	if m, ok := p.upscalers[path]; ok {
		return m, nil
	}
	rt, err := p.runtime()
	if err != nil {
		return nil, err
	}
	m, err := upscale.Load(ctx, rt, path)
	if err != nil {
		return nil, err
	}
	p.upscalers[path] = m
	return m, nil
}

func (p *Pipeline) upscalerPath(factor int) (string, error) {
	if p.cfg.UpscalerPath != "" {
		if _, err := os.Stat(p.cfg.UpscalerPath); err != nil {
			return "", fmt.Errorf("model %s (from --esrgan_model_path) not found", p.cfg.UpscalerPath)
		}
		return p.cfg.UpscalerPath, nil
	}
	if factor == 2 && models.Exists(p.cfg.ModelDir, models.RealESRGANx2plus) {
		return models.Locate(p.cfg.ModelDir, models.RealESRGANx2plus)
	}
	file, ok := models.Upscalers[p.cfg.Upscaler]
	if !ok {
		return "", fmt.Errorf("unknown upscaler %q: use x4plus or general-x4v3", p.cfg.Upscaler)
	}
	return models.Locate(p.cfg.ModelDir, file)
}

func (p *Pipeline) runtime() (*ort.Runtime, error) {
	if p.rt != nil {
		return p.rt, nil
	}
	if p.cfg.Runtime == nil {
		return nil, errors.New("no ONNX Runtime configured")
	}
	rt, err := p.cfg.Runtime()
	if err != nil {
		return nil, err
	}
	p.rt = rt
	return rt, nil
}

// save writes img atomically; a cancel during encoding aborts the write and leaves nothing.
func save(ctx context.Context, path string, img *imageio.Image) error {
	return imageio.WriteFileAtomic(path, func(w io.Writer) error {
		return imageio.Encode(ctxWriter{ctx, w}, img)
	})
}

// ctxWriter fails its writes once the context is done, which stops the encoder early.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(b)
}
