package sd

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"

	"dream/internal/imageio"
	"dream/internal/ort"
	"dream/internal/sampler"
)

// Request is what one prompt line asks Stable Diffusion for.
type Request struct {
	Prompt        string
	Width, Height int // pixels, multiples of 8 (the shell gives multiples of 64)
	Steps         int
	CFGScale      float64
	Sampler       string
	// Init is the img2img source, nil for text-to-image; it is resized to Width×Height.
	Init     *imageio.Image
	Strength float64 // img2img strength, 0 < f < 1
	// VAE is the decoder: FullVAE (or "") for the export's own, TinyVAE for TAESD from
	// TinyDecoderFile, several times faster and a little softer.
	VAE string
	// Progress, when set, is called with done = 0 when the sampling of an image starts
	// (its models loaded) and after every sampler step of every image.
	Progress func(image, done, total int)
	// Loading, when set, is told when the models are opened before the first step: 0 of 2
	// as the prompt's encoder opens, 1 of 2 as the UNet (gigabytes, read from disk) opens.
	// It is not called when the UNet is already open.
	Loading func(done, total int)
}

// Result is one generated image.
type Result struct {
	Seed  uint32
	Image *imageio.Image
	// Truncated says the prompt was longer than the text encoder takes; the end was dropped.
	Truncated bool
}

// Generate makes one image per seed, calling each as soon as an image is ready so the caller
// can save it before the next one starts. The prompt is encoded once for all of them.
func (m *Model) Generate(ctx context.Context, req Request, seeds []uint32, each func(Result) error) error {
	if req.Width%8 != 0 || req.Height%8 != 0 || req.Width <= 0 || req.Height <= 0 {
		return fmt.Errorf("image size %dx%d is not a positive multiple of 8", req.Width, req.Height)
	}
	if err := m.CheckVAE(req.VAE); err != nil {
		return err
	}
	loading := func(done int) {
		if req.Loading != nil && m.unet == nil {
			req.Loading(done, 2)
		}
	}
	loading(0)
	if _, err := m.describeUNet(); err != nil {
		return err
	}
	embeddings, truncated, err := m.encodePrompt(ctx, req.Prompt, m.guides(req.CFGScale))
	if err != nil {
		return err
	}
	var init []float32
	if req.Init != nil {
		if init, err = m.encode(ctx, req.Init, req.Width, req.Height); err != nil {
			return err
		}
	}
	loading(1)
	if err := m.openUNet(); err != nil {
		return err
	}
	h, w := req.Height/8, req.Width/8
	unet, err := m.newGuidedUNet(embeddings, req.CFGScale, h, w)
	if err != nil {
		return err
	}
	defer unet.destroy()
	finish := func(seed uint32, latent []float32) error {
		img, err := m.decode(ctx, latent, h, w, req.VAE)
		if err != nil {
			return err
		}
		return each(Result{Seed: seed, Image: img, Truncated: truncated})
	}
	if !m.policy.KeepAll {
		return m.sampleAllThenDecode(ctx, unet, req, init, seeds, finish)
	}
	for i, seed := range seeds {
		latent, err := m.sample(ctx, unet, req, init, seed, i)
		if err != nil {
			return err
		}
		if err := finish(seed, latent); err != nil {
			return err
		}
	}
	return nil
}

// sampleAllThenDecode is Generate's order when models are not kept: every image of the line
// is sampled first (a latent is 64 KB at 512×512), then the UNet is closed, and only then are
// they decoded. The decoder's working memory then never comes on top of the UNet's 3.4 GB of
// weights, which is what lowers the peak of --keep_models no; the next line opens the UNet
// again, which takes seconds next to minutes of sampling. The images are the same.
func (m *Model) sampleAllThenDecode(ctx context.Context, unet *guidedUNet, req Request, init []float32, seeds []uint32,
	finish func(uint32, []float32) error) error {
	latents := make([][]float32, len(seeds))
	for i, seed := range seeds {
		var err error
		if latents[i], err = m.sample(ctx, unet, req, init, seed, i); err != nil {
			return err
		}
	}
	m.closeUNet()
	for i, seed := range seeds {
		if err := finish(seed, latents[i]); err != nil {
			return err
		}
	}
	return nil
}

// sample runs the sampler from the seed's noise (and the encoded image, for img2img).
func (m *Model) sample(ctx context.Context, unet *guidedUNet, req Request, init []float32, seed uint32, image int) ([]float32, error) {
	rng := NewRand(seed)
	noise := Normal(rng, unet.n)
	opts := sampler.Options{
		Steps:            req.Steps,
		IntegerTimesteps: m.timestepType == ort.Int64,
		Trailing:         m.scheduler.TimestepSpacing == "trailing",
		Rand:             rng,
	}
	if init != nil {
		opts.Strength = req.Strength
	}
	if req.Progress != nil {
		opts.Progress = func(done, total int) { req.Progress(image, done, total) }
	}
	latent, err := sampler.Sample(ctx, req.Sampler, unet.predict, noise, init, opts)
	if err != nil && !errors.Is(err, context.Canceled) {
		return nil, fmt.Errorf("sampling: %w", err)
	}
	return latent, err
}

// NewRand is the random source of one image: its initial noise and, for ancestral samplers,
// the noise of every step come from it, so a seed fixes the image. PCG is specified exactly
// by math/rand/v2, so the sequence does not depend on the platform or Go version.
func NewRand(seed uint32) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), 0x5eed_d7ea_0000_0001))
}

// Normal draws n standard normal values.
func Normal(rng *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(rng.NormFloat64())
	}
	return out
}
