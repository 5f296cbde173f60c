package sampler

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// normals returns n standard normal values from seed.
func normals(n int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

// onePoint is the exact denoiser of a data set with the single point x0: the noise in x at
// level σ is (x − x0)/σ.
func onePoint(x0 []float32) Denoiser {
	return func(_ context.Context, x []float32, sigma, _ float64) ([]float32, error) {
		e := make([]float32, len(x))
		for i := range x {
			e[i] = float32((float64(x[i]) - float64(x0[i])) / sigma)
		}
		return e, nil
	}
}

// gaussian is the exact denoiser of data x0 ~ N(mu, s²) per element: D(x, σ) =
// (s²x + σ²μ)/(s²+σ²), and ε = (x − D)/σ = σ(x − μ)/(s²+σ²).
func gaussian(mu, s float64) Denoiser {
	return func(_ context.Context, x []float32, sigma, _ float64) ([]float32, error) {
		e := make([]float32, len(x))
		for i := range x {
			e[i] = float32(sigma * (float64(x[i]) - mu) / (s*s + sigma*sigma))
		}
		return e, nil
	}
}

// startAndEnd returns, for a run of Sample, the k-scale start x and its level, and the
// level where the result lies, computed here from the schedule and the documented rules.
func startAndEnd(t *testing.T, name string, noise, init []float32, opts Options) (x []float64, from, to float64) {
	t.Helper()
	sigmas, err := Sigmas(name, Options{Steps: opts.Steps, IntegerTimesteps: opts.IntegerTimesteps})
	if err != nil {
		t.Fatal(err)
	}
	n := len(sigmas) - 1
	from, to = sigmas[0], sigmas[n]
	x = make([]float64, len(noise))
	for i := range x {
		switch {
		case init != nil:
			from = sigmas[n-int(float64(n)*opts.Strength)]
			x[i] = float64(init[i]) + from*float64(noise[i])
		case name == "ddim" || name == "plms":
			x[i] = float64(noise[i]) * math.Sqrt(1+from*from)
		default:
			x[i] = float64(noise[i]) * from
		}
	}
	return x, from, to
}

// With a single data point every sampler must follow the ODE exactly: along the solution
// x = x0 + σ·n the noise ε = n is constant, Euler steps are exact, and every method's
// combination of ε sums to the step. The k-samplers, ancestral ones included (their last
// σ_up is 0), land on x0; ddim and plms on their endpoint at σ_0, (x0 + σ_0·n)/sqrt(1+σ_0²)
// as the model's latent, where n = (x_start − x0)/σ_start is fixed by the start.
//
// Tolerance: 4e-6 absolute for |x0| ≤ 2. The state is float64, so what remains is float32
// rounding: of the denoiser's input at the last evaluation (which the last step carries into
// the result one for one: x − σ·(x₃₂ − x0)/σ = x0 + (x − x₃₂)), ½ ulp of |x| ≤ 4 = 2.4e-7,
// of the returned ε, and of the result, ½ ulp of 2 = 1.2e-7. k_lms's last step combines
// four ε, each carrying its input's rounding divided by its σ; Σ|c_j|/σ_j is 1.2 at 20
// steps and 1.7 at 50, so its error reaches 1e-6 (measured worst: 8.3e-7, k_lms img2img
// at 50 steps; the other samplers stay below 1.5e-7). Earlier rounding is damped by the
// contraction σ_{i+1}/σ_i of every step. A wrong coefficient or level gives errors of 1e-2
// or more.
func TestOnePoint(t *testing.T) {
	const size = 64
	const tol = 4e-6
	x0 := normals(size, 1)
	for i := range x0 {
		x0[i] = float32(math.Max(-2, math.Min(2, float64(x0[i]))))
	}
	noise := normals(size, 2)
	init := normals(size, 3) // an init latent that is not x0
	for _, name := range Names {
		if name == "lcm" {
			continue // not an ODE solver: see TestLCMUpdate
		}
		for _, steps := range []int{20, 50} {
			for _, img2img := range []bool{false, true} {
				for _, integer := range []bool{false, true} {
					t.Run(fmt.Sprintf("%s/%d/img2img=%v/int=%v", name, steps, img2img, integer), func(t *testing.T) {
						opts := Options{Steps: steps, IntegerTimesteps: integer, Rand: rand.New(rand.NewPCG(4, 5))}
						var in []float32
						if img2img {
							in, opts.Strength = init, 0.5
						}
						got, err := Sample(context.Background(), name, onePoint(x0), noise, in, opts)
						if err != nil {
							t.Fatal(err)
						}
						start, from, to := startAndEnd(t, name, noise, in, opts)
						worst := 0.0
						for i := range got {
							n := (start[i] - float64(x0[i])) / from
							want := (float64(x0[i]) + to*n) / math.Sqrt(1+to*to)
							worst = math.Max(worst, math.Abs(float64(got[i])-want))
						}
						t.Logf("max error %.3g", worst)
						if !(worst <= tol) { // NaN fails too
							t.Errorf("max error %.3g > %g", worst, tol)
						}
					})
				}
			}
		}
	}
}

// Ancestral samplers are reproducible from their Rand's seed, and the seed matters; the
// deterministic ones do not use Rand at all.
func TestDeterminism(t *testing.T) {
	noise := normals(32, 21)
	d := gaussian(gaussMu, gaussS)
	run := func(name string, seed uint64) []float32 {
		t.Helper()
		got, err := Sample(context.Background(), name, d, noise, nil,
			Options{Steps: 10, Rand: rand.New(rand.NewPCG(seed, 0))})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	same := slicesEqual
	for _, name := range Names {
		a, b, c := run(name, 1), run(name, 1), run(name, 2)
		if !same(a, b) {
			t.Errorf("%s: the same seed gives different results", name)
		}
		switch {
		case isAncestral(name) && same(a, c):
			t.Errorf("%s: a different seed gives the same result", name)
		case !isAncestral(name) && !same(a, c):
			t.Errorf("%s: deterministic, but the seed changes the result", name)
		}
	}
}

func slicesEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// call is one question to the denoiser.
type call struct{ sigma, timestep float64 }

// recording wraps d and records every call.
func recording(d Denoiser, calls *[]call) Denoiser {
	return func(ctx context.Context, x []float32, sigma, timestep float64) ([]float32, error) {
		*calls = append(*calls, call{sigma, timestep})
		return d(ctx, x, sigma, timestep)
	}
}

// With IntegerTimesteps (and always for ddim and plms) the denoiser is told integer
// timesteps, at exactly their training levels; midpoints included. Without it, the
// k-samplers' timesteps are fractional, and σ = TToSigma(timestep) up to rounding.
func TestIntegerTimesteps(t *testing.T) {
	noise := normals(16, 22)
	for _, name := range Names {
		for _, integer := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/int=%v", name, integer), func(t *testing.T) {
				var calls []call
				_, err := Sample(context.Background(), name, recording(gaussian(gaussMu, gaussS), &calls), noise, nil,
					Options{Steps: 13, IntegerTimesteps: integer, Rand: rand.New(rand.NewPCG(1, 2))})
				if err != nil {
					t.Fatal(err)
				}
				fractional := 0
				for _, c := range calls {
					if c.timestep != math.Trunc(c.timestep) {
						fractional++
						if math.Abs(TToSigma(c.timestep)-c.sigma) > 1e-12*c.sigma {
							t.Errorf("σ %.15g at timestep %g, whose level is %.15g", c.sigma, c.timestep, TToSigma(c.timestep))
						}
						continue
					}
					if c.sigma != TToSigma(c.timestep) {
						t.Errorf("σ %.15g at integer timestep %g, whose level is %.15g", c.sigma, c.timestep, TToSigma(c.timestep))
					}
				}
				wantInteger := integer || isCompVis(name) || name == "lcm"
				if wantInteger && fractional > 0 {
					t.Errorf("%d of %d timesteps are fractional", fractional, len(calls))
				}
				if !wantInteger && fractional == 0 {
					t.Errorf("all %d timesteps are integers; 13 steps should give fractional ones", len(calls))
				}
			})
		}
	}
}

// A cancelled context stops the run before the next step: no further denoiser call, and
// the error is the context's.
func TestCancel(t *testing.T) {
	noise := normals(16, 23)
	for _, name := range Names {
		for _, cancelAfter := range []int{0, 3} {
			t.Run(fmt.Sprintf("%s/after%d", name, cancelAfter), func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				if cancelAfter == 0 {
					cancel()
				}
				calls, cancelledAt := 0, -1
				d := func(ctx context.Context, x []float32, sigma, timestep float64) ([]float32, error) {
					calls++
					return gaussian(gaussMu, gaussS)(ctx, x, sigma, timestep)
				}
				opts := Options{Steps: 10, Rand: rand.New(rand.NewPCG(1, 2)), Progress: func(done, _ int) {
					if done == cancelAfter {
						cancel()
						cancelledAt = calls
					}
				}}
				got, err := Sample(ctx, name, d, noise, nil, opts)
				if !errors.Is(err, context.Canceled) || got != nil {
					t.Fatalf("result %v, error %v; want context.Canceled", got != nil, err)
				}
				if cancelAfter == 0 && calls != 0 {
					t.Errorf("%d denoiser calls under a cancelled context", calls)
				}
				if cancelAfter > 0 && calls != cancelledAt {
					t.Errorf("%d denoiser calls after the cancel", calls-cancelledAt)
				}
			})
		}
	}
}

// Progress is called before the first step and once per step run, with done = 0 … total and
// total the steps run: the schedule's steps for txt2img (31 for ddim at 30 steps, as
// CompVis), int(n·f) for img2img; never when that is 0.
func TestProgress(t *testing.T) {
	noise := normals(16, 24)
	init := normals(16, 25)
	cases := []struct {
		steps    int
		strength float64
		want     int
		compVis  int // the count for ddim and plms, when it differs
	}{
		{steps: 20, want: 20},
		{steps: 30, want: 30, compVis: 31},
		{steps: 20, strength: 0.5, want: 10},
		{steps: 50, strength: 0.75, want: 37},
		{steps: 20, strength: 1, want: 20},
		{steps: 20, strength: 0.01, want: 0},
	}
	for _, name := range Names {
		if name == "lcm" {
			continue // img2img shortens its schedule too: see TestLCMProgress
		}
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s/%d/%g", name, c.steps, c.strength), func(t *testing.T) {
				want := c.want
				if isCompVis(name) && c.compVis != 0 {
					want = c.compVis
				}
				var in []float32
				if c.strength > 0 {
					in = init
				}
				var seen []int
				opts := Options{Steps: c.steps, Strength: c.strength, Rand: rand.New(rand.NewPCG(1, 2)),
					Progress: func(done, total int) {
						if total != want {
							t.Errorf("total %d, want %d", total, want)
						}
						seen = append(seen, done)
					}}
				got, err := Sample(context.Background(), name, onePoint(init), noise, in, opts)
				if err != nil {
					t.Fatal(err)
				}
				calls := want + 1
				if want == 0 {
					calls = 0
				}
				if len(seen) != calls {
					t.Fatalf("%d progress calls, want %d", len(seen), calls)
				}
				for i, done := range seen {
					if done != i {
						t.Fatalf("progress %v, want 0 … %d", seen, want)
					}
				}
				// With no step to run a k-sampler returns the init latent itself (its start
				// level is 0).
				if want == 0 && !isCompVis(name) && !slicesEqual(got, init) {
					t.Errorf("no step run, and the result is not the init latent")
				}
			})
		}
	}
}

// Sample must leave its inputs alone, and refuse what it cannot run.
func TestSampleErrors(t *testing.T) {
	noise := normals(8, 26)
	keep := append([]float32(nil), noise...)
	d := gaussian(gaussMu, gaussS)
	r := rand.New(rand.NewPCG(1, 2))
	if _, err := Sample(context.Background(), "k_euler_a", d, noise, noise, Options{Steps: 5, Strength: 0.5, Rand: r}); err != nil {
		t.Fatal(err)
	}
	if !slicesEqual(noise, keep) {
		t.Error("Sample changed its noise or init")
	}

	failing := errors.New("model failed")
	cases := []struct {
		what  string
		name  string
		d     Denoiser
		noise []float32
		init  []float32
		opts  Options
		want  string
		is    error
	}{
		{what: "unknown sampler", name: "k_dpmpp", want: `unknown sampler "k_dpmpp": use one of ddim, plms, k_lms, k_euler, k_euler_a, k_heun, k_dpm_2, k_dpm_2_a, k_dpmpp_2m, k_dpmpp_2m_karras`},
		{what: "no steps", name: "k_euler", opts: Options{Steps: 0}, want: "steps"},
		{what: "ddim past 500 steps", name: "ddim", opts: Options{Steps: 501}, want: "1 to 500 steps"},
		{what: "ancestral without Rand", name: "k_dpm_2_a", opts: Options{Steps: 5}, want: "needs Options.Rand"},
		{what: "no denoiser", name: "k_euler", opts: Options{Steps: 5}, d: Denoiser(nil), want: "no denoiser"},
		{what: "no noise", name: "k_euler", noise: []float32{}, opts: Options{Steps: 5}, want: "empty noise"},
		{what: "init size", name: "k_euler", init: make([]float32, 7), opts: Options{Steps: 5, Strength: 0.5}, want: "init latent has 7 values"},
		{what: "strength 0", name: "ddim", init: noise, opts: Options{Steps: 5}, want: "strength"},
		{what: "strength above 1", name: "ddim", init: noise, opts: Options{Steps: 5, Strength: 1.5}, want: "strength"},
		{what: "short output", name: "k_heun", opts: Options{Steps: 5}, d: func(context.Context, []float32, float64, float64) ([]float32, error) {
			return make([]float32, 3), nil
		}, want: "returned 3 values for 8"},
		{what: "model error", name: "plms", opts: Options{Steps: 5}, d: func(context.Context, []float32, float64, float64) ([]float32, error) {
			return nil, failing
		}, is: failing},
	}
	for _, c := range cases {
		t.Run(c.what, func(t *testing.T) {
			if c.d == nil && c.want != "no denoiser" {
				c.d = d
			}
			if c.noise == nil {
				c.noise = noise
			}
			got, err := Sample(context.Background(), c.name, c.d, c.noise, c.init, c.opts)
			if err == nil || got != nil {
				t.Fatalf("no error (result %v)", got != nil)
			}
			if c.want != "" && !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want it to contain %q", err, c.want)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %q does not wrap %q", err, c.is)
			}
		})
	}
	if _, err := Sigmas("nope", Options{Steps: 10}); err == nil || !strings.Contains(err.Error(), "unknown sampler") {
		t.Errorf("Sigmas of an unknown sampler: %v", err)
	}
}
