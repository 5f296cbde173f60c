package sampler

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The Gaussian data set x0 ~ N(μ, s²) per element has an exact denoiser (see gaussian) and
// an exact probability-flow ODE solution: from (x_T, σ_T),
//
//	x(σ) = μ + (x_T − μ)·sqrt(s²+σ²)/sqrt(s²+σ_T²).
//
// s = 0.5 puts the solution's bend (σ ≈ s) well inside the schedule, so no sampler is exact.
const gaussMu, gaussS = 0.3, 0.5

func gaussExact(xT, sigmaT, sigma float64) float64 {
	s2 := gaussS * gaussS
	return gaussMu + (xT-gaussMu)*math.Sqrt(s2+sigma*sigma)/math.Sqrt(s2+sigmaT*sigmaT)
}

// gaussError runs the named deterministic sampler for n steps on the Gaussian data and
// returns its largest error against the exact solution. The problem is linear, so the error
// of every element is (x_T − μ) times one number, and the ratios below do not depend on the
// elements chosen.
//
// The k-samplers are run on their schedule without its final 0: the last step of a
// k-schedule always goes from σ_0 ≈ 0.0292 to 0, with the same length whatever n is, and
// heun and dpm_2 take it as an Euler step; its error would be a floor that hides the order.
// ddim and plms end at σ_0 anyway, and are run through Sample.
func gaussError(t *testing.T, name string, n int) float64 {
	t.Helper()
	noise := normals(8, 11)
	d := gaussian(gaussMu, gaussS)
	worst := 0.0
	if isCompVis(name) {
		got, err := Sample(context.Background(), name, d, noise, nil, Options{Steps: n})
		if err != nil {
			t.Fatal(err)
		}
		sigmas, _ := Sigmas(name, Options{Steps: n})
		from, to := sigmas[0], sigmas[len(sigmas)-1]
		for i, v := range got {
			want := gaussExact(float64(noise[i])*math.Sqrt(1+from*from), from, to) / math.Sqrt(1+to*to)
			worst = math.Max(worst, math.Abs(float64(v)-want))
		}
		return worst
	}
	sigmas, err := Sigmas(name, Options{Steps: n})
	if err != nil {
		t.Fatal(err)
	}
	sigmas = sigmas[:len(sigmas)-1]
	from, to := sigmas[0], sigmas[len(sigmas)-1]
	x := make([]float64, len(noise))
	for i := range x {
		x[i] = from * float64(noise[i])
	}
	r := &run{ctx: context.Background(), d: d, in: make([]float32, len(x))}
	if err := samplers[name](r, x, sigmas); err != nil {
		t.Fatal(err)
	}
	for i, v := range x {
		worst = math.Max(worst, math.Abs(v-gaussExact(from*float64(noise[i]), from, to)))
	}
	return worst
}

// Each deterministic sampler's error must fall with the number of steps at its order: the
// measured order log2(error(N)/error(2N)) must lie in [lo, hi] for every doubling. The steps
// are uniform in the timestep (except k_dpmpp_2m_karras's), so the steps in σ are far from
// uniform (σ runs from 14.6 to 0.029 over 1000 timesteps, steeply at both ends), and the
// orders are those measured on this schedule, which the comments explain. The errors stay
// above 1e-6, well clear of the float32 rounding of the denoiser's input (about 1e-7 here).
func TestGaussianConvergence(t *testing.T) {
	cases := []struct {
		name   string
		steps  []int
		lo, hi float64
	}{
		// First order. Measured 0.92, 0.94, 0.96 (k_euler) and 0.91, 0.94, 0.96 (ddim).
		{"k_euler", []int{20, 40, 80, 160}, 0.8, 1.2},
		// ddim's steps divide 1000 so that the CompVis timesteps are exactly uniform.
		{"ddim", []int{25, 50, 100, 200}, 0.8, 1.2},
		// Second order. Measured 1.96, 1.93, 1.94.
		{"k_heun", []int{20, 40, 80, 160}, 1.8, 2.2},
		// The log-σ midpoint is the arithmetic one only as σ_{i+1}/σ_i → 1; near σ_0 the
		// ratio of neighbouring levels stays large (σ grows like sqrt(t) there), which costs
		// part of an order at these step counts. Measured 1.53, 1.56, 1.65 (1.76 at 160→320),
		// rising towards 2. Taking the second ε at the end of the step instead measures 1.1;
		// the arithmetic midpoint, a different method, measures 3.0 on this problem.
		{"k_dpm_2", []int{20, 40, 80, 160}, 1.4, 2.2},
		// Order 4, started at orders 1–3; the startup's error and the order-4 error have
		// opposite signs, which cancel near 17 steps, so the range starts at 40. Measured
		// 2.83, 3.31 (3.72 at 160→320), rising towards 4. Adams–Bashforth coefficients for
		// equal steps instead of the Lagrange integrals measure below 1.6.
		{"k_lms", []int{40, 80, 160}, 2.5, 4.5},
		// DPM-Solver++(2M) on Karras levels, whose steps in λ = −log σ are nearly even
		// (0.22 to 0.51 at 20 steps). Measured 2.13, 2.08, 2.04 (2.00 at 1280→2560).
		{"k_dpmpp_2m_karras", []int{20, 40, 80, 160}, 1.9, 2.2},
		// The same method on the timestep-uniform levels reaches order 2 only at many
		// steps: its last step above σ_0 is long in λ (h = 2.07 at 20 steps, still 1.00 at
		// 160, since σ grows like sqrt(t) near t = 0) and three to five times the step
		// before it, so the extrapolation weight 1/(2r) is 2.4 and 1.6 there and that step's
		// error dominates. Measured 1.17, 1.39, 1.55 over 20–160 steps, then 1.69, 1.82,
		// 1.93 (1.96 at 1280→2560).
		{"k_dpmpp_2m", []int{160, 320, 640, 1280}, 1.6, 2.2},
		// CompVis's PLMS is Adams–Bashforth in the timestep index, not in σ, so its local
		// error keeps a term from the variation of dσ/dt within a step (second order), and
		// its last step, from timestep 1 to ᾱ_0, is shorter than the spacing the coefficients
		// assume (a first-order term of the opposite sign, which cancels the rest near 110
		// steps). Measured 1.43, 1.73 over 10–40 steps: well above ddim's 1.
		{"plms", []int{10, 20, 40}, 1.3, 2.6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			errs := make([]float64, len(c.steps))
			for i, n := range c.steps {
				errs[i] = gaussError(t, c.name, n)
			}
			t.Logf("errors %.3g at steps %v", errs, c.steps)
			for i := 1; i < len(errs); i++ {
				order := math.Log2(errs[i-1] / errs[i])
				t.Logf("%d → %d steps: order %.2f", c.steps[i-1], c.steps[i], order)
				if !(order >= c.lo && order <= c.hi) {
					t.Errorf("%d → %d steps: order %.2f, want %g to %g", c.steps[i-1], c.steps[i], order, c.lo, c.hi)
				}
			}
		})
	}
}

// The ancestral samplers draw the Gaussian data's distribution: from standard normal noise
// their results must have mean μ and standard deviation s. At 200 steps k_euler_a, a
// first-order method, still measures s about 4% low and k_dpm_2_a within 0.5%; with 8192
// elements the sample deviation itself varies by 0.8% (s/sqrt(2n)), so the bound is 6%.
// Wrong ancestral steps miss by far more: σ_up 10% short gives 0.43 and 0.45, σ_up without
// its square root 0.12, no σ_up 0.02, and σ_down = σ_{i+1} with k-diffusion's σ_up 1.35.
func TestAncestralDistribution(t *testing.T) {
	noise := normals(8192, 12)
	for _, name := range []string{"k_euler_a", "k_dpm_2_a"} {
		t.Run(name, func(t *testing.T) {
			got, err := Sample(context.Background(), name, gaussian(gaussMu, gaussS), noise, nil,
				Options{Steps: 200, Rand: rand.New(rand.NewPCG(13, 14))})
			if err != nil {
				t.Fatal(err)
			}
			mean, std := meanStd(got)
			t.Logf("mean %.4f, deviation %.4f", mean, std)
			if math.Abs(mean-gaussMu) > 0.02 || math.Abs(std-gaussS) > 0.06*gaussS {
				t.Errorf("mean %.4f, deviation %.4f; want %g and %g", mean, std, gaussMu, gaussS)
			}
		})
	}
}

func meanStd(v []float32) (mean, std float64) {
	for _, x := range v {
		mean += float64(x)
	}
	mean /= float64(len(v))
	for _, x := range v {
		std += (float64(x) - mean) * (float64(x) - mean)
	}
	return mean, math.Sqrt(std / float64(len(v)-1))
}

// ancestralStep against k-diffusion's formulas, and the split it promises.
func TestAncestralStep(t *testing.T) {
	for _, c := range []struct{ from, to float64 }{{14.6, 10}, {1, 0.5}, {0.05, 0.0292}, {3, 0}, {2, 2}} {
		down, up := ancestralStep(c.from, c.to)
		wantUp := math.Sqrt(c.to * c.to * (c.from*c.from - c.to*c.to) / (c.from * c.from))
		wantDown := math.Sqrt(c.to*c.to - wantUp*wantUp)
		if math.Abs(up-wantUp) > 1e-12 || math.Abs(down-wantDown) > 1e-9 {
			t.Errorf("%s: down %g up %g, want %g %g", fmt.Sprint(c), down, up, wantDown, wantUp)
		}
		if math.Abs(down*down+up*up-c.to*c.to) > 1e-12 {
			t.Errorf("%v: σ_down² + σ_up² = %g, want σ_to² = %g", c, down*down+up*up, c.to*c.to)
		}
	}
}
