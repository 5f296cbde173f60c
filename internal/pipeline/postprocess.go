package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"

	"dream/internal/imageio"
	"dream/internal/job"
	"dream/internal/models"
	"dream/internal/ort"
	"dream/internal/pngmeta"
	"dream/internal/upscale"
)

// postprocessing is what a job's -U and -G need, found before any work starts.
type postprocessing struct {
	upscaler string // model path, "" without -U
	restorer string // model path, "" without -G
	detector string // the face detector's path, with -G
}

func (p *Pipeline) planPostprocessing(j job.Job) (postprocessing, error) {
	var plan postprocessing
	var err error
	if j.Upscale != nil {
		if p.cfg.NoUpscale {
			return plan, errors.New("upscaling is off (--no_upscale): restart dream without it to use -U")
		}
		if plan.upscaler, err = p.upscalerPath(j.Upscale.Factor); err != nil {
			return plan, err
		}
	}
	if j.Restores() {
		if p.cfg.NoRestore {
			return plan, errors.New("face restoration is off (--no_restore): restart dream without it to use -G")
		}
		if plan.restorer, err = p.restorerPath(j.Faces.Tool); err != nil {
			return plan, err
		}
		if plan.detector, err = models.Locate(p.cfg.ModelDir, models.YuNet); err != nil {
			return plan, err
		}
	}
	p.hashSoon(plan.upscaler, plan.restorer)
	return plan, nil
}

// postprocess runs -U, then -G, on img and returns the result with the steps for its
// metadata and any notes for the user.
func (p *Pipeline) postprocess(ctx context.Context, img *imageio.Image, j job.Job, plan postprocessing) (*imageio.Image, []pngmeta.Step, []string, error) {
	original := img
	img, steps, err := p.upscaleStep(ctx, img, j, plan)
	if err != nil || plan.restorer == "" {
		return img, steps, nil, err
	}
	img, step, note, err := p.restoreFaces(ctx, original, img, j, plan)
	if err != nil {
		return nil, nil, nil, err
	}
	if step != nil {
		steps = append(steps, *step)
	}
	var notes []string
	if note != "" {
		notes = append(notes, note)
	}
	return img, steps, notes, nil
}

// upscaleStep runs -U when the job asks for it.
func (p *Pipeline) upscaleStep(ctx context.Context, img *imageio.Image, j job.Job, plan postprocessing) (*imageio.Image, []pngmeta.Step, error) {
	var steps []pngmeta.Step
	if plan.upscaler != "" {
		opts := upscale.Options{Factor: j.Upscale.Factor, Strength: j.Upscale.Strength, Tile: p.cfg.Tile,
			Budget: p.ramBudget}
		if p.cfg.Progress != nil {
			task := Task{Name: fmt.Sprintf("upscaling ×%d", j.Upscale.Factor), Unit: "tiles"}
			opts.Progress = func(done, total int) { p.cfg.Progress(task, done, total) }
			// The bar shows before the model loads, the first time a second or more.
			opts.Progress(0, upscale.Tiles(plan.upscaler, img.W, img.H, opts))
		}
		m, err := p.upscaler(ctx, plan.upscaler)
		if err != nil {
			return nil, nil, err
		}
		opts.Budget = p.budgetFor(m.Session)
		if img, err = m.Upscale(ctx, img, opts); err != nil {
			return nil, nil, err
		}
		steps = append(steps, pngmeta.Step{Type: "esrgan", Scale: j.Upscale.Factor, Strength: j.Upscale.Strength,
			Model: p.modelRef(plan.upscaler)})
	}
	return img, steps, nil
}

// budgetFor is the memory a model's working set may take: --max_memory when given, else a
// share of the GPU's free memory, asked now, for a model that runs on CUDA, and of the RAM
// available at start for one on the CPU. A GPU whose free memory the driver does not tell
// keeps the RAM's figure.
func (p *Pipeline) budgetFor(s *ort.Session) int64 {
	if p.cfg.MaxMemory > 0 || s.Provider != "cuda" {
		return p.ramBudget
	}
	if gpu, err := p.rt.GPU(); err == nil {
		return GPUMaxMemory(gpu.Free)
	}
	return p.ramBudget
}

// upscaler returns the model at path, loading it on first use.
func (p *Pipeline) upscaler(ctx context.Context, path string) (*upscale.Model, error) {
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

// upscalerPath picks the model file for a factor: the launch flag's file if given, else a ×2
// model for ×2 when one is installed, else the chosen ×4 model.
func (p *Pipeline) upscalerPath(factor int) (string, error) {
	if p.cfg.UpscalerPath != "" {
		if _, err := os.Stat(p.cfg.UpscalerPath); err != nil {
			return "", fmt.Errorf("model %s (from --esrgan_model_path) not found", p.cfg.UpscalerPath)
		}
		return p.cfg.UpscalerPath, nil
	}
	if factor == 2 {
		if path, err := models.LocateOrImport(p.cfg.ModelDir, models.RealESRGANx2plus); err == nil {
			return path, nil
		}
	}
	file, ok := models.Upscalers[p.cfg.Upscaler]
	if !ok {
		return "", fmt.Errorf("unknown upscaler %q: use x4plus or general-x4v3", p.cfg.Upscaler)
	}
	return models.LocateOrImport(p.cfg.ModelDir, file)
}
