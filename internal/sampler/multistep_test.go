package sampler

import (
	"context"
	"fmt"
	"math"
	"testing"
)

// The multistep samplers are exact for polynomials, which pins their coefficients down
// independently of the convergence tests (where PLMS's order is limited by the schedule,
// so a wrong Adams–Bashforth coefficient would hardly show).
//
// The denoiser returns ε = p(v), a polynomial in the level v and independent of x, so a
// run from x = 0 returns the sum of its steps. p = L + w, where L is a low-degree part
// every step of the method integrates exactly, and w, of degree k, vanishes at the first k
// levels visited: the early steps, whose history is too short for degree k, see only L, and
// every later step must integrate all of p exactly.
//
//   - k_lms in σ: the step i uses the polynomial through ε at σ_i … σ_{i−3} (fewer at the
//     start), integrated over [σ_i, σ_{i+1}]. L is constant (the first step is Euler).
//   - plms in the timestep t: Adams–Bashforth of orders 2, 3, 4 (and the warm-up's
//     trapezoid), which for a polynomial of degree < order give the mean of p over a step
//     of the uniform spacing c = 1000/steps, [t_i − c, t_i]; the step moves x by that
//     mean times Δσ. L is linear. CompVis's last step, from t = 1 to ᾱ_0, is shorter than c,
//     and still uses the mean over [1 − c, 1]: that is what its coefficients compute.
func TestMultistepPolynomials(t *testing.T) {
	for _, name := range []string{"k_lms", "plms"} {
		for k := 0; k <= 3; k++ {
			t.Run(fmt.Sprintf("%s/degree%d", name, k), func(t *testing.T) {
				testPolynomial(t, name, k)
			})
		}
	}
}

func testPolynomial(t *testing.T, name string, k int) {
	const steps = 10
	sigmas, err := Sigmas(name, Options{Steps: steps})
	if err != nil {
		t.Fatal(err)
	}
	n := len(sigmas) - 1
	// The variable p is a polynomial of, and its nodes: σ for k_lms, t for plms.
	nodes := make([]float64, n+1)
	for i, s := range sigmas {
		nodes[i] = s
		if name == "plms" {
			nodes[i] = SigmaToT(s)
		}
	}
	scale := nodes[0] // keeps every term of p of order 1 over the schedule
	low := func(v float64) float64 {
		if name == "plms" {
			return 0.5 - 0.7*v/scale
		}
		return 0.5
	}
	w := func(v float64) float64 {
		prod := 1.0
		for j := range k {
			prod *= (v - nodes[j]) / scale
		}
		if k == 0 {
			return 0
		}
		return 3 * prod
	}
	p := func(v float64) float64 { return low(v) + w(v) }

	d := func(_ context.Context, x []float32, sigma, timestep float64) ([]float32, error) {
		v := sigma
		if name == "plms" {
			v = timestep
		}
		return []float32{float32(p(v))}, nil
	}
	got, err := Sample(context.Background(), name, d, []float32{0}, nil, Options{Steps: steps})
	if err != nil {
		t.Fatal(err)
	}

	// mean returns the mean of f over [a, b]: Simpson's rule is exact for cubics.
	mean := func(f func(float64) float64, a, b float64) float64 {
		return (f(a) + 4*f((a+b)/2) + f(b)) / 6
	}
	want, size := 0.0, 0.0
	for i := range n {
		f := p
		// plms's first step evaluates at t_0 and t_1, so a linear w is not hidden from it;
		// but p is then linear, and every step integrates it exactly.
		if i < k && !(name == "plms" && k == 1) {
			f = low
		}
		a, b := nodes[i], nodes[i+1]
		if name == "plms" {
			a, b = nodes[i], nodes[i]-float64(TrainSteps/steps)
		}
		step := (sigmas[i+1] - sigmas[i]) * mean(f, a, b)
		want += step
		size += math.Abs(step)
	}
	if name == "plms" { // the result is the model latent at σ_0
		want /= math.Sqrt(1 + sigmas[n]*sigmas[n])
	}
	// The state is float64; ε passes through float32 (relative rounding 6e-8) and so does
	// the result: 1e-6 of the steps' total size bounds both. A wrong coefficient is off by
	// a fraction of a step.
	if diff := math.Abs(float64(got[0]) - want); diff > 1e-6*size {
		t.Errorf("result %.9g, want %.9g (difference %.3g, steps' size %.3g)", got[0], want, diff, size)
	}
}

// DPM-Solver++(2M) against k-diffusion's sample_dpmpp_2m as it is written there: in
// λ = −log σ, with expm1, the step ratio r and the weights 1 + 1/(2r) and 1/(2r), on both
// schedules, with fractional and integer levels, for txt2img and img2img (whose first step,
// in mid-schedule, must be first order too). The implementation computes the same numbers
// another way (σ_{i+1}/σ_i and h/(2·h_last)), so the two agree up to float64 rounding and
// the result's float32 rounding, 6e-8 of values below 2 (measured: 5.9e-8; bound 2e-7).
// A weight 1% off misses by 2e-3; a second-order first step gives NaN or ±Inf.
func TestDPMPP2MRecurrence(t *testing.T) {
	noise := normals(16, 31)
	init := normals(16, 32)
	d := gaussian(gaussMu, gaussS)
	for _, name := range []string{"k_dpmpp_2m", "k_dpmpp_2m_karras"} {
		for _, integer := range []bool{false, true} {
			for _, img2img := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/int=%v/img2img=%v", name, integer, img2img), func(t *testing.T) {
					opts := Options{Steps: 12, IntegerTimesteps: integer}
					var in []float32
					if img2img {
						in, opts.Strength = init, 0.5
					}
					got, err := Sample(context.Background(), name, d, noise, in, opts)
					if err != nil {
						t.Fatal(err)
					}
					sigmas, _ := Sigmas(name, Options{Steps: opts.Steps, IntegerTimesteps: integer})
					if img2img {
						sigmas = sigmas[startIndex(len(sigmas)-1, opts.Strength):]
					}
					x, _, _ := startAndEnd(t, name, noise, in, opts)
					want := kDiffusionDPMPP2M(t, d, x, sigmas)
					worst := 0.0
					for i := range got {
						worst = math.Max(worst, math.Abs(float64(got[i])-want[i]))
					}
					t.Logf("max difference %.3g", worst)
					if !(worst <= 2e-7) { // NaN fails too
						t.Errorf("result differs from k-diffusion's recurrence by %.3g", worst)
					}
				})
			}
		}
	}
}

// kDiffusionDPMPP2M runs sample_dpmpp_2m's recurrence from x over sigmas, passing the
// denoiser its input in float32 as Sample does.
func kDiffusionDPMPP2M(t *testing.T, d Denoiser, x, sigmas []float64) []float64 {
	t.Helper()
	lambda := func(sigma float64) float64 { return -math.Log(sigma) } // +Inf at σ = 0
	in := make([]float32, len(x))
	var old []float64
	for i := 0; i+1 < len(sigmas); i++ {
		for k, v := range x {
			in[k] = float32(v)
		}
		e, err := d(context.Background(), in, sigmas[i], SigmaToT(sigmas[i]))
		if err != nil {
			t.Fatal(err)
		}
		denoised := make([]float64, len(x))
		for k := range x {
			denoised[k] = x[k] - sigmas[i]*float64(e[k])
		}
		l, lNext := lambda(sigmas[i]), lambda(sigmas[i+1])
		h := lNext - l
		use := denoised
		if old != nil && sigmas[i+1] != 0 {
			r := (l - lambda(sigmas[i-1])) / h
			use = make([]float64, len(x))
			for k := range x {
				use[k] = (1+1/(2*r))*denoised[k] - 1/(2*r)*old[k]
			}
		}
		for k := range x {
			x[k] = math.Exp(-lNext)/math.Exp(-l)*x[k] - math.Expm1(-h)*use[k]
		}
		old = denoised
	}
	return x
}
