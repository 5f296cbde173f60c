package sampler

// CompVis's samplers, ddim (with eta = 0) and plms, on the timesteps of make_ddim_timesteps.
// Both run in k-scale over the levels of ddimSigmas, with the model always told integer
// timesteps (the run's integer flag is set for them).
//
// CompVis's DDIM step from ᾱ_t to ᾱ_prev with eta = 0 is
//
//	x0 = (x_t − sqrt(1−ᾱ_t)·ε)/sqrt(ᾱ_t),   x_prev = sqrt(ᾱ_prev)·x0 + sqrt(1−ᾱ_prev)·ε.
//
// Divided by sqrt(ᾱ_prev), with x = x_t/sqrt(ᾱ_t) and σ = sqrt((1−ᾱ)/ᾱ), this reads
// x_prev = x − σ_t·ε + σ_prev·ε: exactly an Euler step from σ_t to σ_prev.

// ddim is CompVis's DDIM sampler with eta = 0, implemented as the Euler step it equals.
func ddim(r *run, x, sigmas []float64) error {
	return euler(r, x, sigmas)
}

// plms is CompVis's pseudo linear multistep sampler: DDIM steps taken with a combination of
// the current and the previous ε (Adams–Bashforth with equal steps in the timestep index).
// The first step has no history and takes the average of ε at both ends (a Heun step, two
// evaluations).
//
// One detail differs from CompVis: when the first step is also the last (a one-step run),
// CompVis evaluates that second ε at the first timestep again; here it is evaluated at
// the level the step lands on (t = 0), like every other first step.
func plms(r *run, x, sigmas []float64) error {
	var old [][]float64 // previous ε, the latest first, at most 3
	e := make([]float64, len(x))
	prime := make([]float64, len(x))
	x2 := make([]float64, len(x))
	return r.steps(sigmas, func(_ int, from, to float64) error {
		if err := r.eps(x, from, e); err != nil {
			return err
		}
		switch len(old) {
		case 0:
			copy(x2, x)
			axpy(x2, to-from, e)
			if err := r.eps(x2, to, prime); err != nil {
				return err
			}
			combine(prime, []float64{1. / 2, 1. / 2}, e, prime)
		case 1:
			combine(prime, []float64{3. / 2, -1. / 2}, e, old[0])
		case 2:
			combine(prime, []float64{23. / 12, -16. / 12, 5. / 12}, e, old[0], old[1])
		default:
			combine(prime, []float64{55. / 24, -59. / 24, 37. / 24, -9. / 24}, e, old[0], old[1], old[2])
		}
		axpy(x, to-from, prime)

		// Keep e in the history; its buffer is replaced by the oldest one if that drops out.
		var next []float64
		if len(old) == 3 {
			next, old = old[2], old[:2]
		} else {
			next = make([]float64, len(x))
		}
		old = append([][]float64{e}, old...)
		e = next
		return nil
	})
}

// combine sets out[i] = Σ_k c[k]·v[k][i]. out may be one of the v.
func combine(out []float64, c []float64, v ...[]float64) {
	for i := range out {
		s := 0.0
		for k, vk := range v {
			s += c[k] * vk[i]
		}
		out[i] = s
	}
}
