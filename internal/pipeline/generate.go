package pipeline

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"

	"dream/internal/imageio"
	"dream/internal/job"
	"dream/internal/pngmeta"
	"dream/internal/sampler"
	"dream/internal/sd"
)

// Generate makes the images of a prompt line. Everything the line names is checked before
// any work starts. All -n images are generated and saved first, then post-processed one by
// one (SPEC §1): every image exists before the slow part starts, and the VAE's working
// memory is released (sd.Policy) before the upscaler needs its own.
func (p *Pipeline) Generate(ctx context.Context, j job.Job) ([]Result, error) {
	if err := checkSchedule(j); err != nil {
		return nil, err
	}
	j, output := p.generationOutput(j)
	if err := checkOutput(j, output, j.Width, j.Height, false); err != nil {
		return nil, err
	}
	var init *imageio.Image
	if j.InitImage != "" {
		src, err := p.Resolve(j.InitImage, j)
		if err != nil {
			return nil, fmt.Errorf("-I: %w", err)
		}
		if init, err = imageio.Load(src); err != nil {
			return nil, fmt.Errorf("-I: %w", err)
		}
		j.InitImage = src
	}
	plan, err := p.planPostprocessing(j)
	if err != nil {
		return nil, err
	}
	model, err := p.stableDiffusion(init != nil)
	if err != nil {
		return nil, err
	}
	if err := model.CheckVAE(j.VAE); err != nil {
		return nil, err
	}
	outdir := p.outdir(j)
	if err := p.prepareOutdir(outdir); err != nil {
		return nil, err
	}
	// Another process writing into outdir never gets this PREFIX, and so never the names
	// of this line's images, not even with the same seeds.
	prefix, err := imageio.ReservePrefix(outdir)
	if err != nil {
		return nil, err
	}
	defer prefix.Release() // after the post-processed copies too: they share the PREFIX
	refs := p.hashInBackground(model, init != nil, j.VAE)

	gen := generated{job: j, seeds: seedsFor(j), outdir: outdir, prefix: prefix.Prefix, output: output}
	err = model.Generate(ctx, p.request(j, init, len(gen.seeds)), gen.seeds, func(r sd.Result) error {
		return gen.save(ctx, r, refs())
	})
	if err != nil {
		return gen.results, err
	}
	return p.postprocessGenerated(ctx, j, plan, &gen)
}

// checkSchedule refuses, before any work, steps the sampler cannot take: the parser allows
// 1000, CompVis's spacing for ddim and plms stops at 500, lcm's at 50, and lcm's img2img
// chooses its steps from the int(50·f) timesteps that strength f leaves.
func checkSchedule(j job.Job) error {
	opts := sampler.Options{Steps: j.Steps}
	if j.InitImage != "" {
		opts.Strength = j.Strength
	}
	_, err := sampler.Sigmas(j.Sampler, opts)
	switch {
	case err == nil:
		return nil
	case opts.Strength > 0 && j.Sampler == "lcm":
		return fmt.Errorf("-s %d -A %s -f %g: %v; lower -s or raise -f", j.Steps, j.Sampler, j.Strength, err)
	}
	return fmt.Errorf("-s %d -A %s: %v", j.Steps, j.Sampler, err)
}

// request turns the job into what the generator needs; progress is reported per image.
func (p *Pipeline) request(j job.Job, init *imageio.Image, images int) sd.Request {
	req := sd.Request{Prompt: j.Prompt, Width: j.Width, Height: j.Height, Steps: j.Steps,
		CFGScale: j.CFGScale, Sampler: j.Sampler, Init: init, Strength: j.Strength, VAE: j.VAE}
	if p.cfg.Progress != nil {
		req.Progress = func(image, done, total int) {
			task := Task{Name: "generating", Unit: "steps"}
			if images > 1 {
				task.Name = fmt.Sprintf("generating %d/%d", image+1, images)
				task.Part, task.Parts = image, images
			}
			p.cfg.Progress(task, done, total)
		}
		// Opening a full-size UNet from a cold disk takes most of a minute: the bar says so.
		req.Loading = func(done, total int) {
			p.cfg.Progress(Task{Name: "loading Stable Diffusion", Unit: "models"}, done, total)
		}
	}
	return req
}

// seedsFor gives each image of the line its seed: the one -S names (or a random one) for the
// first, and the next ones after it, so every image can be made again alone with -S.
func seedsFor(j job.Job) []uint32 {
	first := j.Seed.Value
	if !j.Seed.Set {
		first = rand.Uint32()
	}
	seeds := make([]uint32, j.Iterations)
	for i := range seeds {
		seeds[i] = first + uint32(i)
	}
	return seeds
}

// stableDiffusion opens the export in the model directory (or --sd_model), once per process.
func (p *Pipeline) stableDiffusion(img2img bool) (*sd.Model, error) {
	dir, err := p.stableDiffusionDir()
	if err != nil {
		return nil, err
	}
	if p.sd == nil || p.sd.Dir != dir {
		rt, err := p.runtime()
		if err != nil {
			return nil, err
		}
		if p.sd, err = sd.Open(rt, dir, sd.Policy{KeepAll: p.cfg.KeepModels, TiledDecode: p.cfg.TiledDecode}); err != nil {
			return nil, err
		}
	}
	if img2img {
		if err := p.sd.CanEncode(); err != nil {
			return nil, err
		}
	}
	return p.sd, nil
}

// hashInBackground hashes the model files the job reads, the decoder vae names included,
// while the first image is sampled (the UNet's weights are gigabytes); the function it
// returns waits for the references.
func (p *Pipeline) hashInBackground(m *sd.Model, img2img bool, vae string) func() []pngmeta.ModelRef {
	done := make(chan struct{})
	var refs []pngmeta.ModelRef
	go func() {
		defer close(done)
		for _, file := range m.Files(img2img, vae) {
			ref := p.modelRef(filepath.Join(m.Dir, file))
			ref.Name = filepath.Base(m.Dir) + "/" + file
			refs = append(refs, ref)
		}
	}()
	return func() []pngmeta.ModelRef {
		<-done
		return refs
	}
}
