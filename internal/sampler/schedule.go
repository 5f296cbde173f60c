package sampler

import (
	"fmt"
	"math"
	"sort"
)

// Stable Diffusion 1.x was trained on 1000 discrete noise levels whose betas are "scaled
// linear": linear in sqrt(β) from sqrt(0.00085) to sqrt(0.012).
const (
	TrainSteps = 1000
	betaStart  = 0.00085
	betaEnd    = 0.012
)

// The training schedule, computed once in float64 (the references compute it in float64 and
// store it in float32; the difference is below anything the samplers can notice).
var betas, alphasCumprod, trainSigmas, logSigmas = makeSchedule()

// makeSchedule returns β_t, ᾱ_t = Π(1−β), σ_t = sqrt((1−ᾱ_t)/ᾱ_t) and log σ_t for
// t = 0..999. σ_t is the noise level of timestep t in k-diffusion's parametrisation
// x = x0 + σ·ε, which is the model's latent divided by sqrt(ᾱ_t).
func makeSchedule() (beta, alphaBar, sigma, logSigma []float64) {
	beta = make([]float64, TrainSteps)
	alphaBar = make([]float64, TrainSteps)
	sigma = make([]float64, TrainSteps)
	logSigma = make([]float64, TrainSteps)
	lo, hi := math.Sqrt(betaStart), math.Sqrt(betaEnd)
	prod := 1.0
	for t := range TrainSteps {
		r := lo + (hi-lo)*float64(t)/float64(TrainSteps-1)
		beta[t] = r * r
		prod *= 1 - beta[t]
		alphaBar[t] = prod
		sigma[t] = math.Sqrt((1 - prod) / prod)
		logSigma[t] = math.Log(sigma[t])
	}
	return beta, alphaBar, sigma, logSigma
}

// TrainingSigmas returns a copy of the 1000 training noise levels σ_0 ≈ 0.0292 …
// σ_999 ≈ 14.6146, in increasing order.
func TrainingSigmas() []float64 {
	return append([]float64(nil), trainSigmas...)
}

// TToSigma maps a (fractional) timestep to its noise level as k-diffusion's DiscreteSchedule
// does: log σ is interpolated linearly between the neighbouring integer timesteps. t is
// clamped to [0, 999]; at an integer t the training σ is returned exactly.
func TToSigma(t float64) float64 {
	t = math.Max(0, math.Min(TrainSteps-1, t))
	lo := math.Floor(t)
	w := t - lo
	i := int(lo)
	if w == 0 {
		return trainSigmas[i]
	}
	return math.Exp((1-w)*logSigmas[i] + w*logSigmas[i+1])
}

// SigmaToT is the inverse of TToSigma: the fractional timestep whose interpolated log σ is
// log sigma. Levels outside the training range clamp to 0 or 999 (as k-diffusion clamps its
// interpolation weight); a training σ gives its integer timestep exactly.
func SigmaToT(sigma float64) float64 {
	if sigma <= trainSigmas[0] {
		return 0
	}
	if sigma >= trainSigmas[TrainSteps-1] {
		return TrainSteps - 1
	}
	ls := math.Log(sigma)
	hi := sort.SearchFloat64s(logSigmas, ls) // first index with log σ ≥ ls; 1 ≤ hi ≤ 999
	if logSigmas[hi] == ls {
		return float64(hi)
	}
	lo := hi - 1
	w := (ls - logSigmas[lo]) / (logSigmas[hi] - logSigmas[lo])
	return float64(lo) + w
}

// snapSigma returns the training level of the integer timestep nearest to sigma, and that
// timestep. Nearest in t is nearest in log σ, since log σ is linear in t between neighbours.
func snapSigma(sigma float64) (float64, float64) {
	t := math.Round(SigmaToT(sigma))
	return trainSigmas[int(t)], t
}

// kSigmas is k-diffusion's CompVisDenoiser.get_sigmas(steps): the levels at
// t = linspace(999, 0, steps), then a final 0, so steps+1 values (fewer with integer, see
// endLevels).
func kSigmas(steps int, integer bool) []float64 {
	levels := make([]float64, steps)
	for i := range levels {
		t := float64(TrainSteps - 1)
		if steps > 1 {
			t = float64(TrainSteps-1) * float64(steps-1-i) / float64(steps-1)
		}
		levels[i] = TToSigma(t)
	}
	return endLevels(levels, integer)
}

// karrasRho is the ρ of Karras et al. (2022), which k-diffusion and AUTOMATIC1111 use.
const karrasRho = 7

// karrasSigmas is k-diffusion's get_sigmas_karras(steps, σ_min, σ_max, ρ = 7) on the training
// schedule's range σ_min = σ_0 ≈ 0.0292, σ_max = σ_999 ≈ 14.6146: levels uniform in σ^(1/ρ),
// which puts more of the steps at low noise than kSigmas does, then a final 0. The ends are
// the training levels themselves rather than their round trip through the power, which
// can miss by an ulp: σ_max a hair above the table would clamp its timestep to 999 while
// the model is asked about a level that is not 999's.
func karrasSigmas(steps int, integer bool) []float64 {
	sigmaMin, sigmaMax := trainSigmas[0], trainSigmas[TrainSteps-1]
	lo, hi := math.Pow(sigmaMin, 1.0/karrasRho), math.Pow(sigmaMax, 1.0/karrasRho)
	levels := make([]float64, steps)
	for i := range levels {
		switch i {
		case 0:
			levels[i] = sigmaMax
		case steps - 1:
			levels[i] = sigmaMin
		default:
			ramp := float64(i) / float64(steps-1)
			levels[i] = math.Pow(hi+ramp*(lo-hi), karrasRho)
		}
	}
	return endLevels(levels, integer)
}

// endLevels finishes a k-sampler schedule from its decreasing levels: with integer, each
// level is snapped to its nearest integer timestep (see Options.IntegerTimesteps), and
// repeats are dropped (many steps can snap neighbours onto one timestep; a step of length
// zero does nothing, and would make the multistep coefficients divide by zero). Then the
// final 0.
func endLevels(levels []float64, integer bool) []float64 {
	sigmas := make([]float64, 0, len(levels)+1)
	for _, s := range levels {
		if integer {
			s, _ = snapSigma(s)
			if len(sigmas) > 0 && sigmas[len(sigmas)-1] == s {
				continue
			}
		}
		sigmas = append(sigmas, s)
	}
	return append(sigmas, 0)
}

// maxDDIMSteps is the most steps CompVis's uniform spacing supports: from 501 steps on its
// stride 1000/steps is 1 and the timesteps would run past 999.
const maxDDIMSteps = TrainSteps / 2

// ddimTimesteps is CompVis's make_ddim_timesteps with the 'uniform' method, in increasing
// order: c = 1000/steps (integer division), then range(0, 1000, c) + 1. When steps does not
// divide 1000 this gives a few more timesteps than steps (30 → 31), as in CompVis.
func ddimTimesteps(steps int) ([]int, error) {
	if steps < 1 || steps > maxDDIMSteps {
		return nil, fmt.Errorf("ddim and plms take 1 to %d steps, not %d", maxDDIMSteps, steps)
	}
	c := TrainSteps / steps
	var ts []int
	for t := 0; t < TrainSteps; t += c {
		ts = append(ts, t+1)
	}
	return ts, nil
}

// ddimSigmas are the levels ddim and plms visit: the timesteps from high to low, then ᾱ_0's
// level σ_0 where the last step lands (Stable Diffusion's set_alpha_to_one = False).
func ddimSigmas(steps int) ([]float64, error) {
	ts, err := ddimTimesteps(steps)
	if err != nil {
		return nil, err
	}
	sigmas := make([]float64, 0, len(ts)+1)
	for i := len(ts) - 1; i >= 0; i-- {
		sigmas = append(sigmas, trainSigmas[ts[i]])
	}
	return append(sigmas, trainSigmas[0]), nil
}

// trailingSigmas are the levels of diffusers' "trailing" timestep spacing, which SD-Turbo's
// scheduler uses: t_i = round(1000 − i·1000/steps) − 1 for i = 0..steps−1 (numpy rounds
// halves to even), so the first level is σ_999 and the last well above 0, then a final 0.
// diffusers interpolates σ linearly in t rather than in log σ; the two agree at the integer
// timesteps, which are all there are unless 1000/steps is fractional.
func trailingSigmas(steps int, integer bool) []float64 {
	levels := make([]float64, steps)
	stride := float64(TrainSteps) / float64(steps)
	for i := range levels {
		t := math.RoundToEven(float64(TrainSteps)-float64(i)*stride) - 1
		levels[i] = trainSigmas[int(t)]
	}
	return endLevels(levels, integer)
}
