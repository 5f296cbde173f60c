package sampler

import (
	"fmt"
	"math"
)

// Latent Consistency Models' multistep sampler (Luo et al. 2023, Algorithm 3; diffusers'
// LCMScheduler). A consistency model maps any noisy latent straight to its clean estimate;
// the multistep sampler takes that estimate, noises it afresh down to the next, lower level
// and asks again. The timesteps skip through the 50-step schedule the model was distilled on.

// lcmOriginSteps is the length of the schedule LCM models are distilled on (diffusers'
// original_inference_steps, 50 in every published LCM and LCM-LoRA).
const lcmOriginSteps = 50

// lcmTimestepScaling and lcmSigmaData set the boundary-condition scalings, as in the paper's
// code and diffusers (timestep_scaling = 10, σ_data = 0.5).
const (
	lcmTimestepScaling = 10
	lcmSigmaData       = 0.5
)

// lcmTimesteps is LCMScheduler.set_timesteps: the origin schedule k·(1..⌊50·strength⌋) − 1
// with k = 1000/50, taken from the top at the indices ⌊j·len/steps⌋, j = 0..steps−1.
// strength is 1 for text-to-image; img2img truncates the origin schedule first, as diffusers
// does, and then skips the first steps like every other sampler (see Sample).
func lcmTimesteps(steps int, strength float64) ([]int, error) {
	if steps < 1 || steps > lcmOriginSteps {
		return nil, fmt.Errorf("lcm takes 1 to %d steps, not %d", lcmOriginSteps, steps)
	}
	origin := int(float64(lcmOriginSteps) * strength)
	if origin < steps {
		return nil, fmt.Errorf("lcm at strength %g has %d timesteps to choose from, fewer than the %d steps asked for",
			strength, origin, steps)
	}
	k := TrainSteps / lcmOriginSteps
	ts := make([]int, steps)
	for j := range ts {
		index := j * origin / steps // ⌊j·origin/steps⌋, from the top of the reversed schedule
		ts[j] = (origin-index)*k - 1
	}
	return ts, nil
}

// lcmSigmas are the levels of lcmTimesteps, then 0: the last step's estimate is the result.
func lcmSigmas(steps int, strength float64) ([]float64, error) {
	ts, err := lcmTimesteps(steps, strength)
	if err != nil {
		return nil, err
	}
	sigmas := make([]float64, 0, len(ts)+1)
	for _, t := range ts {
		sigmas = append(sigmas, trainSigmas[t])
	}
	return append(sigmas, 0), nil
}

// lcmBoundary returns c_skip and c_out at timestep t: c_skip = σ_d²/((10t)² + σ_d²),
// c_out = 10t/sqrt((10t)² + σ_d²). At every timestep the schedule uses, c_out is 1 within
// 10⁻⁷; they are kept for exactness with the reference.
func lcmBoundary(t float64) (cSkip, cOut float64) {
	s := t * lcmTimestepScaling
	d2 := lcmSigmaData * lcmSigmaData
	return d2 / (s*s + d2), s / math.Sqrt(s*s+d2)
}

// lcm is LCMScheduler.step in k-scale. With x = x_t/sqrt(ᾱ_t) and the model's ε, the clean
// estimate is x0 = x − σ·ε; the consistency function's output in the model's scale is
// c_out·x0 + c_skip·x_t. The next latent, sqrt(ᾱ')·denoised + sqrt(1−ᾱ')·z in the model's
// scale, is denoised + σ'·z in k-scale; the last step (σ' = 0) adds nothing.
func lcm(r *run, x, sigmas []float64) error {
	e := make([]float64, len(x))
	return r.steps(sigmas, func(_ int, from, to float64) error {
		if err := r.eps(x, from, e); err != nil {
			return err
		}
		_, t := r.level(from)
		cSkip, cOut := lcmBoundary(t)
		cSkip /= math.Sqrt(1 + from*from) // x_t = x/sqrt(1+σ²)
		for k := range x {
			x[k] = cOut*(x[k]-from*e[k]) + cSkip*x[k]
		}
		if to > 0 {
			r.addNoise(x, to)
		}
		return nil
	})
}
