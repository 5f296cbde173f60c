package pipeline

import (
	"context"
	"errors"

	"dream/internal/imageio"
	"dream/internal/job"
	"dream/internal/models"
	"dream/internal/ort"
	"dream/internal/pngmeta"
	"dream/internal/upscale"
)

// postprocessing is what a job's -U and -G need, found before any work starts.
type postprocessing struct {
	upscaler string // the model -U runs (see planUpscale), "" without -U
	twoTimes string // the ×2 model, for passes of ×2 or less, when installed
	restorer string // model path, "" without -G
	detector string // the face detector's path, with -G
}

// planPostprocessing finds what j's -U and -G need, and starts hashing those models for the
// result's metadata.
func (p *Pipeline) planPostprocessing(j job.Job) (postprocessing, error) {
	plan, err := p.findPostprocessing(j)
	if err == nil {
		p.hashSoon(plan.upscaler, plan.twoTimes, plan.restorer)
	}
	return plan, err
}

// findPostprocessing finds the model files j's -U and -G need, or says which is missing.
func (p *Pipeline) findPostprocessing(j job.Job) (postprocessing, error) {
	var plan postprocessing
	var err error
	if j.Upscale != nil {
		if p.cfg.NoUpscale {
			return plan, errors.New("upscaling is off (--no_upscale): restart dream without it to use -U")
		}
		if j.Kind == job.Generate {
			// The size is known: a -U too large is refused before the image is generated.
			if _, _, err := checkUpscaleSize(j, j.Width, j.Height); err != nil {
				return plan, err
			}
		}
		if plan.upscaler, plan.twoTimes, err = p.planUpscale(*j.Upscale, j.Upscaler); err != nil {
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
	rt, err := p.upscaleRuntime()
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
