package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"dream/internal/imageio"
	"dream/internal/job"
	"dream/internal/models"
)

// Generate makes the images of a prompt line. Everything the line names is checked first; the
// Stable Diffusion pipeline itself is not part of this version, so a valid line ends with a
// message saying how to install a model.
func (p *Pipeline) Generate(ctx context.Context, j job.Job) ([]Result, error) {
	if j.InitImage != "" {
		src, err := p.Resolve(j.InitImage, j)
		if err != nil {
			return nil, fmt.Errorf("-I: %w", err)
		}
		if _, err := imageio.Load(src); err != nil {
			return nil, fmt.Errorf("-I: %w", err)
		}
	}
	if _, err := p.planPostprocessing(j); err != nil {
		return nil, err
	}
	dir := filepath.Join(p.cfg.ModelDir, models.StableDiffusion)
	if info, err := os.Stat(dir); err == nil && info.IsDir() {
		return nil, fmt.Errorf("found a Stable Diffusion model in %s, but this version of dream cannot generate images yet; !fix works", dir)
	}
	return nil, fmt.Errorf("no Stable Diffusion model is installed: put a diffusers ONNX export of Stable Diffusion 1.5 "+
		"(text_encoder, unet, vae_decoder, tokenizer) in %s; !fix works without it", dir)
}
