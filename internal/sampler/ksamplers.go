package sampler

import "math"

// The k-samplers of Katherine Crowson's k-diffusion. Her derivative d = (x − D(x))/σ, with
// the denoised estimate D = x − σ·ε, is ε itself, so the steps below use ε directly.
// Each sampler walks the levels sigmas[0] → sigmas[len-1] and updates x in place; a level
// of 0 is never given to the model.

// euler is k_euler: x += (σ_{i+1} − σ_i)·ε(x, σ_i).
func euler(r *run, x, sigmas []float64) error {
	d := make([]float64, len(x))
	return r.steps(sigmas, func(_ int, from, to float64) error {
		if err := r.eps(x, from, d); err != nil {
			return err
		}
		axpy(x, to-from, d)
		return nil
	})
}

// heun is k_heun: Heun's second-order method (the trapezoid of ε at both ends of the step).
// The last step, to σ = 0, is Euler: ε at σ = 0 is undefined.
func heun(r *run, x, sigmas []float64) error {
	d := make([]float64, len(x))
	d2 := make([]float64, len(x))
	x2 := make([]float64, len(x))
	return r.steps(sigmas, func(_ int, from, to float64) error {
		if err := r.eps(x, from, d); err != nil {
			return err
		}
		if to == 0 {
			axpy(x, to-from, d)
			return nil
		}
		copy(x2, x)
		axpy(x2, to-from, d)
		if err := r.eps(x2, to, d2); err != nil {
			return err
		}
		axpy(x, (to-from)/2, d)
		axpy(x, (to-from)/2, d2)
		return nil
	})
}

// dpm2 is k_dpm_2: a midpoint method (inspired by DPM-Solver-2) whose midpoint is the
// geometric mean of the two levels, the midpoint in log σ. The last step is Euler.
//
// Newer k-diffusion versions put the midpoint on a rho = 3 Karras curve instead; Stable
// Diffusion's k_dpm_2 was the log-σ midpoint, which is what this implements.
func dpm2(r *run, x, sigmas []float64) error {
	m := newMidpoint(len(x))
	return r.steps(sigmas, func(_ int, from, to float64) error {
		return m.step(r, x, from, to)
	})
}

// eulerAncestral is k_euler_a: an Euler step down to σ_down, then fresh noise of σ_up, so
// that the result has the variance of level σ_{i+1} again (eta = 1).
func eulerAncestral(r *run, x, sigmas []float64) error {
	d := make([]float64, len(x))
	return r.steps(sigmas, func(_ int, from, to float64) error {
		if err := r.eps(x, from, d); err != nil {
			return err
		}
		down, up := ancestralStep(from, to)
		axpy(x, down-from, d)
		if up > 0 {
			r.addNoise(x, up)
		}
		return nil
	})
}

// dpm2Ancestral is k_dpm_2_a: dpm2's midpoint step down to σ_down, then fresh noise of σ_up.
func dpm2Ancestral(r *run, x, sigmas []float64) error {
	m := newMidpoint(len(x))
	return r.steps(sigmas, func(_ int, from, to float64) error {
		down, up := ancestralStep(from, to)
		if err := m.step(r, x, from, down); err != nil {
			return err
		}
		if up > 0 {
			r.addNoise(x, up)
		}
		return nil
	})
}

// ancestralStep splits a step from σ_from to σ_to into a deterministic part down to σ_down
// and fresh noise of σ_up, with σ_down² + σ_up² = σ_to² (eta = 1):
// σ_up = sqrt(σ_to²(σ_from² − σ_to²)/σ_from²) as in k-diffusion, which makes
// σ_down = σ_to²/σ_from; computed that way it has no cancellation. Both are 0 when σ_to is.
func ancestralStep(from, to float64) (down, up float64) {
	down = to * to / from
	up = math.Sqrt(max(0, to*to-down*down))
	return down, up
}

// midpoint holds the buffers of dpm2's step.
type midpoint struct{ d, d2, x2 []float64 }

func newMidpoint(n int) *midpoint {
	return &midpoint{d: make([]float64, n), d2: make([]float64, n), x2: make([]float64, n)}
}

// step moves x from level from to level to: an Euler half step to the log-σ midpoint, then
// the whole step with ε there. With integer timesteps the midpoint is snapped like every
// level the model sees; if it snaps onto from, the step degenerates to Euler, correctly.
// Stepping to 0 is Euler.
func (m *midpoint) step(r *run, x []float64, from, to float64) error {
	if err := r.eps(x, from, m.d); err != nil {
		return err
	}
	if to == 0 {
		axpy(x, to-from, m.d)
		return nil
	}
	mid, _ := r.level(math.Sqrt(from * to))
	copy(m.x2, x)
	axpy(m.x2, mid-from, m.d)
	if err := r.eps(m.x2, mid, m.d2); err != nil {
		return err
	}
	axpy(x, to-from, m.d2)
	return nil
}

// lmsOrder is k_lms's order, as in k-diffusion and Stable Diffusion.
const lmsOrder = 4

// lms is k_lms: the linear multistep method on ε with variable steps. Each step integrates
// the polynomial through the last (up to) four ε exactly over [σ_i, σ_{i+1}]; the first
// steps use the lower orders their history allows.
func lms(r *run, x, sigmas []float64) error {
	var ds [][]float64 // the latest ε first
	return r.steps(sigmas, func(i int, _, _ float64) error {
		var d []float64
		if len(ds) == lmsOrder { // recycle the oldest buffer
			d, ds = ds[lmsOrder-1], ds[:lmsOrder-1]
		} else {
			d = make([]float64, len(x))
		}
		if err := r.eps(x, sigmas[i], d); err != nil {
			return err
		}
		ds = append([][]float64{d}, ds...)
		order := min(i+1, lmsOrder)
		for j := range order {
			axpy(x, lmsCoeff(order, sigmas, i, j), ds[j])
		}
		return nil
	})
}

// lmsCoeff is k-diffusion's linear_multistep_coeff: the integral over [t[i], t[i+1]] of the
// Lagrange basis polynomial that is 1 at t[i−j] and 0 at the other nodes t[i−k], k < order.
// k-diffusion integrates numerically (scipy's quad); the polynomial has degree order−1 ≤ 3,
// and three-point Gauss–Legendre quadrature is exact up to degree 5, so this is exact.
func lmsCoeff(order int, t []float64, i, j int) float64 {
	basis := func(tau float64) float64 {
		p := 1.0
		for k := range order {
			if k != j {
				p *= (tau - t[i-k]) / (t[i-j] - t[i-k])
			}
		}
		return p
	}
	a, b := t[i], t[i+1]
	mid, half := (a+b)/2, (b-a)/2
	node := math.Sqrt(3.0 / 5)
	return half * (5*basis(mid-half*node) + 8*basis(mid) + 5*basis(mid+half*node)) / 9
}

// dpmpp2m is k_dpmpp_2m (and k_dpmpp_2m_karras, on other levels): DPM-Solver++(2M) of Lu et
// al. (2022) as k-diffusion's sample_dpmpp_2m, deterministic. It steps on the denoised
// estimate D = x − σ·ε in λ = −log σ, where the ODE's linear part integrates exactly:
//
//	x_{i+1} = q·x_i + (1 − q)·D̂,   q = σ_{i+1}/σ_i  (k-diffusion's 1 − q is −expm1(−h)).
//
// With D̂ = D_i this is first order (and equals an Euler step in ε). The multistep D̂ extends
// D linearly in λ through D_{i−1} and D_i: D̂ = (1 + c)·D_i − c·D_{i−1}, c = 1/(2r), where
// r = h_{i−1}/h_i is the ratio of the steps in λ, h_i = λ_{i+1} − λ_i = log(σ_i/σ_{i+1}); on
// uneven steps it is what keeps the method second order. The first step has no D_{i−1},
// and the last, to σ = 0, has an infinite h (q = 0: the result is D_i itself); both are
// first order, as in k-diffusion.
func dpmpp2m(r *run, x, sigmas []float64) error {
	e := make([]float64, len(x))
	cur, prev := make([]float64, len(x)), make([]float64, len(x)) // D_i and D_{i−1}
	return r.steps(sigmas, func(i int, from, to float64) error {
		if err := r.eps(x, from, e); err != nil {
			return err
		}
		for k := range cur {
			cur[k] = x[k] - from*e[k]
		}
		q := to / from
		if i == 0 || to == 0 {
			combine(x, []float64{q, 1 - q}, x, cur)
		} else {
			c := math.Log(from/to) / (2 * math.Log(sigmas[i-1]/from))
			combine(x, []float64{q, (1 - q) * (1 + c), -(1 - q) * c}, x, cur, prev)
		}
		cur, prev = prev, cur
		return nil
	})
}
