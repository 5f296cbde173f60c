// Package sampler holds Stable Diffusion's noise schedule and its samplers (ddim, plms,
// eight of k-diffusion's and Latent Consistency Models' lcm), in pure Go and independent of
// the model runtime.
//
// Everything works in k-diffusion's parametrisation x = x0 + σ·ε, where σ is the noise level
// (σ_t = sqrt((1−ᾱ_t)/ᾱ_t) at training timestep t). The model's own latent at level σ is
// x/sqrt(1+σ²). The caller supplies a Denoiser that predicts ε; it scales x for the UNet and
// applies classifier-free guidance itself, so this package never sees the UNet.
//
// The probability-flow ODE in this parametrisation is dx/dσ = ε(x, σ), which makes every
// sampler a few lines of arithmetic on ε. The state is kept in float64 between steps: only
// the denoiser's input and the result are float32, so the rounding of many small steps
// (and of the LMS/PLMS combinations of several ε) does not accumulate.
package sampler

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// Denoiser predicts the noise ε in x at noise level sigma. x is in k-diffusion's scale
// (x0 + σ·ε): the UNet must be given x/sqrt(σ²+1). timestep is the same level as the UNet's
// (fractional, or integer with Options.IntegerTimesteps and for ddim/plms) timestep, which
// is what the model is actually told.
//
// x belongs to the sampler and is reused between calls: the denoiser must not keep it. The
// sampler copies the result before calling again, so the denoiser may reuse its output.
type Denoiser func(ctx context.Context, x []float32, sigma, timestep float64) ([]float32, error)

// Options control a run.
type Options struct {
	Steps int // the -s switch: the number of steps of the full schedule

	// Strength is img2img's strength f, 0 < f ≤ 1, used only when Sample is given an init
	// latent: the last int(n·f) of the schedule's n steps run, from the init latent noised
	// to the level where they start.
	Strength float64

	// IntegerTimesteps is for UNet exports that take an int64 timestep. Every level the
	// denoiser is asked about is snapped to the σ of the nearest integer timestep, and the
	// sampler uses the snapped σ in its own arithmetic too (the step lengths, LMS
	// coefficients, midpoints), so that the model is told exactly the noise level its input
	// has. The alternative, telling the model a rounded timestep while stepping with the
	// exact σ, would feed it inputs whose noise does not match its timestep. ddim and plms
	// are on integer timesteps anyway.
	IntegerTimesteps bool

	// Trailing puts the k-samplers' levels on diffusers' "trailing" timesteps,
	// round(1000 − i·1000/Steps) − 1, as SD-Turbo's scheduler config asks, instead of
	// k-diffusion's linspace(999, 0, Steps): one step is at 999, four at 999, 749, 499, 249,
	// never at 0. The _karras sampler, ddim, plms and lcm have schedules of their own.
	Trailing bool

	// Rand draws the fresh noise of the ancestral samplers (k_euler_a, k_dpm_2_a, lcm), so that
	// their results are reproducible from a seed. Required for them, unused by the others.
	Rand *rand.Rand

	// Progress, if set, is called with 0 when the first step starts and after each step
	// with the number of steps done, and the number of steps this run takes (fewer than
	// Steps for img2img; a run of no steps reports nothing).
	Progress func(done, total int)
}

// Names lists the samplers, in the order the shell shows them.
var Names = []string{"ddim", "plms", "k_lms", "k_euler", "k_euler_a", "k_heun", "k_dpm_2", "k_dpm_2_a",
	"k_dpmpp_2m", "k_dpmpp_2m_karras", "lcm"}

// sampleFunc runs one sampler over the levels sigmas[0] → sigmas[len-1], updating x in place.
type sampleFunc func(r *run, x []float64, sigmas []float64) error

var samplers = map[string]sampleFunc{
	"ddim":      ddim,
	"plms":      plms,
	"k_lms":     lms,
	"k_euler":   euler,
	"k_euler_a": eulerAncestral,
	"k_heun":    heun,
	"k_dpm_2":   dpm2,
	"k_dpm_2_a": dpm2Ancestral,

	"k_dpmpp_2m":        dpmpp2m,
	"k_dpmpp_2m_karras": dpmpp2m,

	"lcm": lcm,
}

// isCompVis tells the CompVis samplers (ddim, plms: integer timesteps, result at σ_0, start
// in the model's latent scale) from k-diffusion's.
func isCompVis(name string) bool { return name == "ddim" || name == "plms" }

// isAncestral tells the samplers that add fresh noise between steps.
func isAncestral(name string) bool {
	return name == "k_euler_a" || name == "k_dpm_2_a" || name == "lcm"
}

// startsLikeCompVis tells the samplers whose text-to-image run starts from the noise itself
// as the model's latent (CompVis's ddim and plms, and lcm as diffusers runs it, whose initial
// noise sigma is 1), rather than from noise·σ_max in k-scale.
func startsLikeCompVis(name string) bool { return isCompVis(name) || name == "lcm" }

// isKarras tells the samplers that step through Karras et al.'s levels (karrasSigmas) from
// those on k-diffusion's timestep-uniform ones (kSigmas). The schedule is part of the name,
// as in AUTOMATIC1111 ("DPM++ 2M Karras"), so that -A alone says how an image was made.
func isKarras(name string) bool { return name == "k_dpmpp_2m_karras" }

func unknownSampler(name string) error {
	return fmt.Errorf("unknown sampler %q: use one of %s", name, strings.Join(Names, ", "))
}

// Sigmas returns the noise levels the named sampler steps through for opts.Steps steps,
// first to last: one more level than the steps it takes, which is Steps except for ddim and
// plms when Steps does not divide 1000 (CompVis's spacing: 30 → 31). For the k-samplers and
// lcm the last level is 0; for ddim and plms it is σ_0 ≈ 0.0292, where their result lies (see
// Sample). The k-samplers run from σ_max = σ_999 on k-diffusion's levels uniform in the
// timestep (or on diffusers' trailing timesteps with opts.Trailing), except the _karras
// ones, on Karras et al.'s (ρ = 7) down to σ_0. opts.IntegerTimesteps snaps the k-samplers'
// levels to integer timesteps; ddim, plms and lcm are on integer timesteps anyway. lcm's
// levels also depend on opts.Strength when it is set (img2img; see lcmTimesteps). Midpoints
// of the two-evaluation samplers are not listed.
func Sigmas(name string, opts Options) ([]float64, error) {
	if _, ok := samplers[name]; !ok {
		return nil, unknownSampler(name)
	}
	steps, integer := opts.Steps, opts.IntegerTimesteps
	switch {
	case isCompVis(name):
		return ddimSigmas(steps)
	case name == "lcm":
		strength := opts.Strength
		if strength == 0 {
			strength = 1
		}
		return lcmSigmas(steps, strength)
	case steps < 1:
		return nil, fmt.Errorf("steps must be at least 1, not %d", steps)
	case isKarras(name):
		return karrasSigmas(steps, integer), nil
	case opts.Trailing:
		return trailingSigmas(steps, integer), nil
	}
	return kSigmas(steps, integer), nil
}

// Sample runs the named sampler and returns the result in the model's latent scale.
//
// noise is standard normal, one value per latent element. For txt2img (init == nil) the
// start is noise·σ_max for the k-samplers (as k-diffusion) and noise itself as the model's
// latent for ddim and plms (as CompVis), that is x = noise·sqrt(1+σ_max²) in k-scale.
//
// For img2img, init is the encoded image's latent (already ×0.18215) and Options.Strength
// is f: of the schedule's n steps, t_start = n − int(n·f) are skipped, the start is
// x = init + σ(t_start)·noise (for ddim in k-scale this is exactly diffusers' add_noise), and
// only the remaining int(n·f) steps run. n is the number of steps of the full schedule (see
// Sigmas): Steps, except for ddim and plms when Steps does not divide 1000.
//
// The k-samplers end at σ = 0. ddim and plms end, as in Stable Diffusion, at the level of
// ᾱ_0 (σ_0 ≈ 0.0292), and their result is that level's model latent x/sqrt(1+σ_0²).
//
// The context is checked before each step; a cancelled run returns ctx.Err().
func Sample(ctx context.Context, name string, d Denoiser, noise, init []float32, opts Options) ([]float32, error) {
	sample, ok := samplers[name]
	if !ok {
		return nil, unknownSampler(name)
	}
	if err := checkArgs(name, d, noise, init, opts); err != nil {
		return nil, err
	}
	schedule := opts
	if init == nil {
		schedule.Strength = 0
	}
	sigmas, err := Sigmas(name, schedule)
	if err != nil {
		return nil, err
	}
	start := 0
	if init != nil {
		start = startIndex(len(sigmas)-1, opts.Strength)
	}
	sigmas = sigmas[start:]
	x := startLatent(name, noise, init, sigmas[0])

	r := &run{
		ctx:      ctx,
		d:        d,
		integer:  opts.IntegerTimesteps || isCompVis(name) || name == "lcm",
		rnd:      opts.Rand,
		progress: opts.Progress,
		in:       make([]float32, len(x)),
	}
	if err := sample(r, x, sigmas); err != nil {
		return nil, err
	}
	return modelLatent(x, sigmas[len(sigmas)-1]), nil
}

func checkArgs(name string, d Denoiser, noise, init []float32, opts Options) error {
	switch {
	case d == nil:
		return errors.New("sampler: no denoiser")
	case len(noise) == 0:
		return errors.New("sampler: empty noise")
	case init != nil && len(init) != len(noise):
		return fmt.Errorf("sampler: init latent has %d values, noise %d", len(init), len(noise))
	case init != nil && !(opts.Strength > 0 && opts.Strength <= 1):
		return fmt.Errorf("sampler: img2img strength must be in (0, 1], not %g", opts.Strength)
	case isAncestral(name) && opts.Rand == nil:
		return fmt.Errorf("sampler: %s draws noise at every step and needs Options.Rand", name)
	}
	return nil
}

// startIndex is img2img's t_start = n − int(n·f): the number of the schedule's n steps
// skipped. At f = 1 nothing is skipped; when int(n·f) is 0 no step runs.
func startIndex(n int, strength float64) int {
	return n - int(float64(n)*strength)
}

// startLatent returns the start of the run in k-scale, in float64.
func startLatent(name string, noise, init []float32, sigma float64) []float64 {
	x := make([]float64, len(noise))
	switch {
	case init != nil:
		for i := range x {
			x[i] = float64(init[i]) + sigma*float64(noise[i])
		}
	case startsLikeCompVis(name):
		// CompVis starts from the model latent x_T = noise, which is noise/sqrt(ᾱ) =
		// noise·sqrt(1+σ²) in k-scale.
		scale := math.Sqrt(1 + sigma*sigma)
		for i := range x {
			x[i] = scale * float64(noise[i])
		}
	default:
		for i := range x {
			x[i] = sigma * float64(noise[i])
		}
	}
	return x
}

// modelLatent converts the k-scale result at level sigma to the model's latent.
func modelLatent(x []float64, sigma float64) []float32 {
	scale := 1 / math.Sqrt(1+sigma*sigma)
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v * scale)
	}
	return out
}

// run is the state a sampler shares with its steps: the denoiser and what it needs to be
// called, the options, and the float32 buffer its input is passed in.
type run struct {
	ctx      context.Context
	d        Denoiser
	integer  bool
	rnd      *rand.Rand
	progress func(done, total int)
	in       []float32
}

// level returns the noise level the model is asked about for sigma, and its timestep: sigma
// itself and its fractional timestep, or with integer timesteps the snapped level. Samplers
// step with the returned level.
func (r *run) level(sigma float64) (float64, float64) {
	if r.integer {
		return snapSigma(sigma)
	}
	return sigma, SigmaToT(sigma)
}

// eps asks the denoiser for ε at x and level sigma (already a level from r.level) and
// writes it to out.
func (r *run) eps(x []float64, sigma float64, out []float64) error {
	_, t := r.level(sigma)
	for i, v := range x {
		r.in[i] = float32(v)
	}
	e, err := r.d(r.ctx, r.in, sigma, t)
	if err != nil {
		return err
	}
	if len(e) != len(x) {
		return fmt.Errorf("sampler: the denoiser returned %d values for %d", len(e), len(x))
	}
	for i, v := range e {
		out[i] = float64(v)
	}
	return nil
}

// steps runs step once for each pair of neighbouring levels, checking the context before
// each step and reporting progress after it. It also reports 0 before the first step, so
// that a rate can start its clock when sampling starts rather than after the first step.
func (r *run) steps(sigmas []float64, step func(i int, from, to float64) error) error {
	n := len(sigmas) - 1
	if r.progress != nil && n > 0 {
		r.progress(0, n)
	}
	for i := range n {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		if err := step(i, sigmas[i], sigmas[i+1]); err != nil {
			return fmt.Errorf("step %d of %d: %w", i+1, n, err)
		}
		if r.progress != nil {
			r.progress(i+1, n)
		}
	}
	return nil
}

// addNoise adds amount·z to x, z fresh standard normal noise from r.rnd, drawn in index order.
func (r *run) addNoise(x []float64, amount float64) {
	for i := range x {
		x[i] += amount * r.rnd.NormFloat64()
	}
}

// axpy does x += a·y.
func axpy(x []float64, a float64, y []float64) {
	for i := range x {
		x[i] += a * y[i]
	}
}
