package web

import (
	"fmt"

	"dream/internal/job"
)

// The page offers only what can run: a choice whose model is missing is shown disabled, with
// the reason and the file to put in place, and a line that needs one anyway is refused
// before it is queued, so that trying adds no failed job. Both ask the pipeline, which looks
// for the models as the job would (launch flags included).

// availability says whether a choice can run, and why not.
type availability struct {
	OK bool `json:"ok"`
	// Reason is the job's own error: the missing file and where it belongs.
	Reason string `json:"reason,omitempty"`
}

// offer is what the page may offer, as GET /api/models tells it.
type offer struct {
	Generate availability `json:"generate"`
	// Upscale is -U with dream's own choice of network (no --esrgan_model on the line).
	Upscale availability `json:"upscale"`
	// DefaultUpscaler is that choice, --esrgan_model at launch.
	DefaultUpscaler string `json:"defaultUpscaler,omitempty"`
	// Upscalers are the networks a line may name with --esrgan_model.
	Upscalers map[string]availability `json:"upscalers"`
	// FaceTools are the restorers of -ft, each with the face detector -G needs.
	FaceTools map[string]availability `json:"faceTools"`
}

// offer asks the pipeline about each choice of the forms.
func (s *Server) offer() offer {
	o := offer{
		Generate:        s.available(job.Job{Kind: job.Generate}),
		Upscale:         s.available(upscaleJob("")),
		DefaultUpscaler: s.cfg.Upscaler,
		Upscalers:       map[string]availability{},
		FaceTools:       map[string]availability{},
	}
	for _, name := range job.Upscalers {
		o.Upscalers[name] = s.available(upscaleJob(name))
	}
	for _, tool := range job.FaceTools {
		o.FaceTools[tool] = s.available(facesJob(tool))
	}
	return o
}

func (s *Server) available(j job.Job) availability {
	if err := s.cfg.Pipeline.CheckModels(j); err != nil {
		return availability{Reason: oneLine(err.Error())}
	}
	return availability{OK: true}
}

// upscaleJob is a ×4 (the factor that needs the ×4 network whatever else is installed) with
// network name, "" for dream's own choice.
func upscaleJob(name string) job.Job {
	return job.Job{Kind: job.Fix, Upscale: &job.Upscale{Factor: 4, Strength: 1}, Upscaler: name}
}

func facesJob(tool string) job.Job {
	return job.Job{Kind: job.Fix, Faces: &job.Faces{Strength: 1, Tool: tool}}
}

// checkModels refuses a line from the page whose models are missing, with the job's own
// error after the switch it is about, so that the page shows it under that switch's field.
func (s *Server) checkModels(j job.Job) error {
	p := s.cfg.Pipeline
	if j.Kind == job.Generate {
		if err := p.CheckModels(job.Job{Kind: job.Generate}); err != nil {
			return err
		}
	}
	if j.Upscale != nil {
		// The job's own kind and size: a prompt's -U is checked against the image it makes.
		upscale := job.Job{Kind: j.Kind, Generation: j.Generation, Upscale: j.Upscale, Upscaler: j.Upscaler}
		if err := p.CheckModels(upscale); err != nil {
			return upscaleError(j, err)
		}
	}
	if j.Restores() {
		if err := p.CheckModels(facesJob(j.Faces.Tool)); err != nil {
			return fmt.Errorf("-ft %s: %w", j.Faces.Tool, err)
		}
	}
	return nil
}

func upscaleError(j job.Job, err error) error {
	if j.Upscaler != "" {
		return fmt.Errorf("--esrgan_model %s: %w", j.Upscaler, err)
	}
	return fmt.Errorf("-U: %w", err)
}
