package pipeline

import (
	"fmt"
	"os"
	"path/filepath"

	"dream/internal/job"
	"dream/internal/models"
)

// CheckModels tells, before a job is queued, whether the models it needs are where this
// pipeline looks for them: Stable Diffusion for a prompt, the upscaler for -U, the face
// detector and restorer for -G. The error is the one the job would fail with, naming the
// file and where it belongs. Nothing is loaded; an upscaler's ncnn pair in the model folder is
// converted, as the job would convert it.
func (p *Pipeline) CheckModels(j job.Job) error {
	if j.Kind == job.Generate {
		if _, err := p.stableDiffusionDir(); err != nil {
			return err
		}
	}
	_, err := p.findPostprocessing(j)
	return err
}

// stableDiffusionDir is the Stable Diffusion export's folder (--sd_model, else the model
// folder's), or why there is none.
func (p *Pipeline) stableDiffusionDir() (string, error) {
	dir := p.cfg.SDModel
	if dir == "" {
		dir = filepath.Join(p.cfg.ModelDir, models.StableDiffusion)
	}
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return "", fmt.Errorf("no Stable Diffusion model is installed: put a diffusers ONNX export of Stable Diffusion 1.5 "+
			"(text_encoder, unet, vae_decoder, tokenizer) in %s, or name one with --sd_model; !fix works without it", dir)
	}
	return dir, nil
}
