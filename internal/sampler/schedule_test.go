package sampler

import (
	"math"
	"slices"
	"testing"
)

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

// The published endpoints of Stable Diffusion's schedule.
func TestScheduleEndpoints(t *testing.T) {
	s := TrainingSigmas()
	if len(s) != TrainSteps {
		t.Fatalf("%d training sigmas, want %d", len(s), TrainSteps)
	}
	if got := round4(s[0]); got != 0.0292 {
		t.Errorf("σ_0 = %.6f, want 0.0292", s[0])
	}
	if got := round4(s[TrainSteps-1]); got != 14.6146 {
		t.Errorf("σ_999 = %.6f, want 14.6146", s[TrainSteps-1])
	}
	s[0] = 99 // a copy: the schedule must not change
	if TrainingSigmas()[0] == 99 {
		t.Error("TrainingSigmas returns the package's own slice")
	}
}

// β, ᾱ and σ at a few timesteps, each computed here from its definition.
func TestScheduleFormulas(t *testing.T) {
	for _, tt := range []int{0, 1, 250, 500, 998, 999} {
		r := math.Sqrt(0.00085) + (math.Sqrt(0.012)-math.Sqrt(0.00085))*float64(tt)/999
		beta := r * r
		alphaBar := 1.0
		for k := 0; k <= tt; k++ {
			rk := math.Sqrt(0.00085) + (math.Sqrt(0.012)-math.Sqrt(0.00085))*float64(k)/999
			alphaBar *= 1 - rk*rk
		}
		sigma := math.Sqrt((1 - alphaBar) / alphaBar)
		for _, c := range []struct {
			what      string
			got, want float64
		}{
			{"β", betas[tt], beta},
			{"ᾱ", alphasCumprod[tt], alphaBar},
			{"σ", trainSigmas[tt], sigma},
			{"TToSigma", TToSigma(float64(tt)), sigma},
		} {
			if math.Abs(c.got-c.want) > 1e-12*math.Abs(c.want) {
				t.Errorf("%s_%d = %.15g, want %.15g", c.what, tt, c.got, c.want)
			}
		}
	}
	if math.Abs(betas[0]-0.00085) > 1e-15 {
		t.Errorf("β_0 = %g, want 0.00085", betas[0])
	}
	if math.Abs(betas[999]-0.012) > 1e-15 {
		t.Errorf("β_999 = %g, want 0.012", betas[999])
	}
}

// Fractional timesteps interpolate log σ linearly, and SigmaToT inverts TToSigma.
func TestTToSigmaRoundTrip(t *testing.T) {
	// Halfway between two timesteps the level is the geometric mean of theirs.
	for _, tt := range []int{0, 17, 500, 998} {
		want := math.Sqrt(trainSigmas[tt] * trainSigmas[tt+1])
		if got := TToSigma(float64(tt) + 0.5); math.Abs(got-want) > 1e-12*want {
			t.Errorf("TToSigma(%d.5) = %.15g, want %.15g", tt, got, want)
		}
	}
	for _, tt := range []float64{0, 0.001, 0.25, 1.5, 123.456, 500.3, 998.75, 999} {
		if got := SigmaToT(TToSigma(tt)); math.Abs(got-tt) > 1e-9 {
			t.Errorf("SigmaToT(TToSigma(%g)) = %.12g", tt, got)
		}
	}
	for _, s := range []float64{0.03, 0.05, 0.5, 1, 7.5, 14.6} {
		if got := TToSigma(SigmaToT(s)); math.Abs(got-s) > 1e-12*s {
			t.Errorf("TToSigma(SigmaToT(%g)) = %.15g", s, got)
		}
	}
	// Integer timesteps map to the training levels exactly, both ways.
	for tt, s := range trainSigmas {
		if SigmaToT(s) != float64(tt) || TToSigma(float64(tt)) != s {
			t.Fatalf("timestep %d does not map exactly to σ %g and back", tt, s)
		}
	}
	// Outside the training range both clamp.
	for _, c := range []struct{ in, want float64 }{
		{SigmaToT(0.001), 0}, {SigmaToT(100), 999}, {TToSigma(-3), trainSigmas[0]}, {TToSigma(1200), trainSigmas[999]},
	} {
		if c.in != c.want {
			t.Errorf("clamped value %g, want %g", c.in, c.want)
		}
	}
}

// The k-samplers' levels are k-diffusion's get_sigmas(n): linspace(999, 0, n) then 0.
func TestKSigmas(t *testing.T) {
	for _, n := range []int{1, 2, 20, 50, 1500} {
		for _, integer := range []bool{false, true} {
			s, err := Sigmas("k_lms", Options{Steps: n, IntegerTimesteps: integer})
			if err != nil {
				t.Fatal(err)
			}
			if s[0] != trainSigmas[999] || s[len(s)-1] != 0 {
				t.Errorf("n=%d integer=%v: levels run %g … %g, want σ_999 … 0", n, integer, s[0], s[len(s)-1])
			}
			if !integer && len(s) != n+1 {
				t.Errorf("n=%d: %d levels, want %d", n, len(s), n+1)
			}
			if n > 1 && s[len(s)-2] != trainSigmas[0] {
				t.Errorf("n=%d integer=%v: last nonzero level %g, want σ_0", n, integer, s[len(s)-2])
			}
			for i := 1; i < len(s); i++ {
				if !(s[i] < s[i-1]) {
					t.Fatalf("n=%d integer=%v: levels not strictly decreasing at %d: %g, %g", n, integer, i, s[i-1], s[i])
				}
			}
			if integer {
				for _, v := range s[:len(s)-1] {
					if _, ok := slices.BinarySearch(trainSigmas, v); !ok {
						t.Fatalf("n=%d: level %g is not a training level", n, v)
					}
				}
			}
		}
	}
	// The inner levels of a 5-step schedule sit at t = 749.25, 499.5, 249.75.
	s, _ := Sigmas("k_euler", Options{Steps: 5})
	for i, tt := range []float64{999, 749.25, 499.5, 249.75, 0} {
		if math.Abs(SigmaToT(s[i])-tt) > 1e-9 {
			t.Errorf("level %d at t = %g, want %g", i, SigmaToT(s[i]), tt)
		}
	}
	// Integer levels at 1500 steps collapse to the 1000 training levels.
	if s, _ := Sigmas("k_euler", Options{Steps: 1500, IntegerTimesteps: true}); len(s) != TrainSteps+1 {
		t.Errorf("1500 integer steps give %d levels, want %d", len(s), TrainSteps+1)
	}
}

// k_dpmpp_2m_karras's levels are k-diffusion's get_sigmas_karras(n, σ_0, σ_999, ρ = 7) then 0:
// σ_i = (σ_max^(1/7) + i/(n−1)·(σ_min^(1/7) − σ_max^(1/7)))^7. The values at 5 steps were
// computed from that formula outside this package, in float64; the rest is checked
// against the formula as written here.
func TestKarrasSigmas(t *testing.T) {
	want5 := []float64{14.614641229333646, 4.79653482712404, 1.274100208978096, 0.24794990271076306, 0.029167158151720367, 0}
	s, err := Sigmas("k_dpmpp_2m_karras", Options{Steps: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != len(want5) {
		t.Fatalf("5 steps: %d levels, want %d", len(s), len(want5))
	}
	for i, w := range want5 {
		if math.Abs(s[i]-w) > 1e-13*w {
			t.Errorf("5 steps: level %d is %.17g, want %.17g", i, s[i], w)
		}
	}

	formula := func(i, n int) float64 {
		lo, hi := math.Pow(trainSigmas[0], 1.0/7), math.Pow(trainSigmas[999], 1.0/7)
		return math.Pow(hi+float64(i)/float64(n-1)*(lo-hi), 7)
	}
	for _, n := range []int{1, 2, 20, 50, 1500} {
		for _, integer := range []bool{false, true} {
			s, err := Sigmas("k_dpmpp_2m_karras", Options{Steps: n, IntegerTimesteps: integer})
			if err != nil {
				t.Fatal(err)
			}
			// The ends are the training levels exactly, so the model is told t = 999 and 0.
			if s[0] != trainSigmas[999] || s[len(s)-1] != 0 {
				t.Errorf("n=%d integer=%v: levels run %g … %g, want σ_999 … 0", n, integer, s[0], s[len(s)-1])
			}
			if n > 1 && s[len(s)-2] != trainSigmas[0] {
				t.Errorf("n=%d integer=%v: last nonzero level %.17g, want σ_0", n, integer, s[len(s)-2])
			}
			for i := 1; i < len(s); i++ {
				if !(s[i] < s[i-1]) {
					t.Fatalf("n=%d integer=%v: levels not strictly decreasing at %d: %g, %g", n, integer, i, s[i-1], s[i])
				}
			}
			if integer {
				fractional, _ := Sigmas("k_dpmpp_2m_karras", Options{Steps: n})
				checkSnapped(t, n, fractional, s)
				continue
			}
			if len(s) != n+1 {
				t.Errorf("n=%d: %d levels, want %d", n, len(s), n+1)
			}
			for i := 1; i < n-1; i++ {
				if w := formula(i, n); math.Abs(s[i]-w) > 1e-14*w {
					t.Fatalf("n=%d: level %d is %.17g, want %.17g", n, i, s[i], w)
				}
			}
		}
	}
}

// checkSnapped checks that the integer levels are the fractional ones snapped to their
// nearest training level, in order, with repeats dropped.
func checkSnapped(t *testing.T, n int, fractional, integer []float64) {
	t.Helper()
	var want []float64
	for _, f := range fractional[:len(fractional)-1] {
		s, _ := snapSigma(f)
		if len(want) == 0 || want[len(want)-1] != s {
			want = append(want, s)
		}
	}
	want = append(want, 0)
	if !slices.Equal(integer, want) {
		t.Errorf("n=%d: integer levels %v, want the snapped levels %v", n, integer, want)
	}
}

// ddim and plms use CompVis's make_ddim_timesteps('uniform').
func TestDDIMTimesteps(t *testing.T) {
	seq := func(first, step, n int) []int {
		var s []int
		for i := range n {
			s = append(s, first+i*step)
		}
		return s
	}
	for _, c := range []struct {
		steps int
		want  []int
	}{
		{50, seq(1, 20, 50)},  // 1, 21, …, 981
		{20, seq(1, 50, 20)},  // 1, 51, …, 951
		{30, seq(1, 33, 31)},  // stride 33 gives one timestep more, as CompVis
		{1, []int{1}},         //
		{500, seq(1, 2, 500)}, // 1, 3, …, 999
	} {
		got, err := ddimTimesteps(c.steps)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%d steps: %v, want %v", c.steps, got, c.want)
		}
	}
	for _, steps := range []int{0, 501, 1000} {
		if _, err := ddimTimesteps(steps); err == nil {
			t.Errorf("%d steps: no error", steps)
		}
	}
	// The levels visited: from the top timestep down, then ᾱ_0's level.
	s, err := Sigmas("plms", Options{Steps: 50})
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 51 || s[0] != trainSigmas[981] || s[49] != trainSigmas[1] || s[50] != trainSigmas[0] {
		t.Errorf("plms levels %g, %g … %g, %g (%d), want σ_981, σ_961 … σ_1, σ_0 (51)", s[0], s[1], s[49], s[50], len(s))
	}
}

// lmsCoeff integrates the Lagrange basis exactly: compare with a fine composite Simpson rule
// (k-diffusion's scipy quad is accurate to 1e-4 relative), and the coefficients of each
// step must sum to its length (the basis sums to 1).
func TestLMSCoeff(t *testing.T) {
	sigmas := kSigmas(10, false)
	for i := 0; i < len(sigmas)-1; i++ {
		order := min(i+1, lmsOrder)
		sum := 0.0
		for j := range order {
			got := lmsCoeff(order, sigmas, i, j)
			want := simpson(func(tau float64) float64 {
				p := 1.0
				for k := range order {
					if k != j {
						p *= (tau - sigmas[i-k]) / (sigmas[i-j] - sigmas[i-k])
					}
				}
				return p
			}, sigmas[i], sigmas[i+1], 2000)
			if math.Abs(got-want) > 1e-10*math.Max(1, math.Abs(want)) {
				t.Errorf("step %d order %d coefficient %d: %.15g, Simpson %.15g", i, order, j, got, want)
			}
			sum += got
		}
		if h := sigmas[i+1] - sigmas[i]; math.Abs(sum-h) > 1e-12*math.Abs(h) {
			t.Errorf("step %d: coefficients sum to %.15g, want the step %.15g", i, sum, h)
		}
	}
}

func simpson(f func(float64) float64, a, b float64, n int) float64 {
	h := (b - a) / float64(n)
	s := f(a) + f(b)
	for k := 1; k < n; k++ {
		w := 2.0
		if k%2 == 1 {
			w = 4
		}
		s += w * f(a+float64(k)*h)
	}
	return s * h / 3
}
