package sampler

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The timesteps diffusers' LCMScheduler.set_timesteps gives (original_inference_steps 50),
// worked out by hand from its rule: the origin schedule 20·(1..⌊50·strength⌋) − 1, reversed,
// at the indices ⌊linspace(0, len, steps, endpoint=False)⌋. For img2img the pipeline then
// drops the first steps − ⌊steps·strength⌋ of them.
func TestLCMTimesteps(t *testing.T) {
	cases := []struct {
		steps    int
		strength float64
		want     []int
	}{
		{1, 1, []int{999}},
		{2, 1, []int{999, 499}},
		{3, 1, []int{999, 679, 339}},
		{4, 1, []int{999, 759, 499, 259}},
		{8, 1, []int{999, 879, 759, 639, 499, 379, 259, 139}},
		{4, 0.5, []int{499, 379, 259, 139}},
		{50, 1, nil}, // every origin timestep, checked below
	}
	for _, c := range cases {
		got, err := lcmTimesteps(c.steps, c.strength)
		if err != nil {
			t.Fatal(err)
		}
		want := c.want
		if want == nil {
			for k := 50; k >= 1; k-- {
				want = append(want, 20*k-1)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%d steps at strength %g: timesteps %v, want %v", c.steps, c.strength, got, want)
		}
	}
	for _, bad := range []struct {
		steps    int
		strength float64
	}{{0, 1}, {51, 1}, {30, 0.5}} {
		if _, err := lcmTimesteps(bad.steps, bad.strength); err == nil {
			t.Errorf("%d steps at strength %g: no error", bad.steps, bad.strength)
		}
	}
}

// TestLCMProgress: img2img runs the last ⌊steps·strength⌋ of the shortened schedule, so -s 4
// -f 0.5 runs timesteps 259 and 139, as diffusers' LCM img2img pipeline does.
func TestLCMProgress(t *testing.T) {
	var timesteps []float64
	d := func(_ context.Context, x []float32, sigma, t float64) ([]float32, error) {
		timesteps = append(timesteps, t)
		return make([]float32, len(x)), nil
	}
	noise, init := normals(16, 1), normals(16, 2)
	total := 0
	opts := Options{Steps: 4, Strength: 0.5, Rand: rand.New(rand.NewPCG(1, 2)), Progress: func(_, n int) { total = n }}
	if _, err := Sample(context.Background(), "lcm", d, noise, init, opts); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(timesteps, []float64{259, 139}) || total != 2 {
		t.Errorf("img2img -s 4 -f 0.5 ran timesteps %v (progress total %d), want [259 139] (2)", timesteps, total)
	}
}

// lcmReference is LCMScheduler's loop as diffusers writes it, in the model's scale with
// ᾱ_t computed here on its own: x0 = (x_t − sqrt(1−ᾱ_t)·ε)/sqrt(ᾱ_t), denoised = c_out·x0 +
// c_skip·x_t, then x_prev = sqrt(ᾱ_prev)·denoised + sqrt(1−ᾱ_prev)·z except after the last
// step. z is drawn in index order from rng, as Sample draws it.
func lcmReference(eps func(xt []float64, t int) []float64, xT []float64, timesteps []int, rng *rand.Rand) []float64 {
	alphaBar := make([]float64, 1000)
	prod := 1.0
	for t := range alphaBar {
		b := math.Sqrt(0.00085) + (math.Sqrt(0.012)-math.Sqrt(0.00085))*float64(t)/999
		prod *= 1 - b*b
		alphaBar[t] = prod
	}
	x := slices.Clone(xT)
	for i, t := range timesteps {
		e := eps(x, t)
		a := alphaBar[t]
		s := 10 * float64(t)
		cSkip, cOut := 0.25/(s*s+0.25), s/math.Sqrt(s*s+0.25)
		for k := range x {
			x0 := (x[k] - math.Sqrt(1-a)*e[k]) / math.Sqrt(a)
			x[k] = cOut*x0 + cSkip*x[k]
		}
		if i == len(timesteps)-1 {
			break
		}
		prev := alphaBar[timesteps[i+1]]
		for k := range x {
			x[k] = math.Sqrt(prev)*x[k] + math.Sqrt(1-prev)*rng.NormFloat64()
		}
	}
	return x
}

// TestLCMUpdate compares Sample's lcm, which works in k-diffusion's scale, with the
// reference loop on the Gaussian data set (whose ε depends on x, so every step's arithmetic
// shows): they agree within float32 rounding of the denoiser's input and output.
func TestLCMUpdate(t *testing.T) {
	const mu, s = 0.3, 0.8
	noise := normals(256, 7)
	for _, steps := range []int{1, 2, 4, 8} {
		t.Run(fmt.Sprint(steps), func(t *testing.T) {
			got, err := Sample(context.Background(), "lcm", gaussian(mu, s), noise, nil,
				Options{Steps: steps, Rand: rand.New(rand.NewPCG(3, 4))})
			if err != nil {
				t.Fatal(err)
			}
			ts, _ := lcmTimesteps(steps, 1)
			epsModelScale := func(xt []float64, t int) []float64 {
				// The same data set seen in the model's scale: x = x_t·sqrt(1+σ²).
				sigma := trainSigmas[t]
				out := make([]float64, len(xt))
				for k, v := range xt {
					x := float64(float32(v * math.Sqrt(1+sigma*sigma)))
					out[k] = float64(float32(sigma * (x - mu) / (s*s + sigma*sigma)))
				}
				return out
			}
			xT := make([]float64, len(noise))
			for k, v := range noise {
				xT[k] = float64(v)
			}
			want := lcmReference(epsModelScale, xT, ts, rand.New(rand.NewPCG(3, 4)))
			worst := 0.0
			for k := range got {
				worst = math.Max(worst, math.Abs(float64(got[k])-want[k]))
			}
			t.Logf("max difference %.3g", worst)
			if !(worst < 1e-5) {
				t.Errorf("max difference from diffusers' LCM loop %.3g", worst)
			}
		})
	}
}

// TestLCMOnePoint: with the exact denoiser of one point every estimate is the point, and the
// result is off only by c_skip at the last timestep times the latent's distance from it.
func TestLCMOnePoint(t *testing.T) {
	x0 := normals(64, 1)
	noise := normals(64, 2)
	for _, steps := range []int{1, 4, 8} {
		got, err := Sample(context.Background(), "lcm", onePoint(x0), noise, nil, Options{Steps: steps, Rand: rand.New(rand.NewPCG(1, 1))})
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if d := math.Abs(float64(got[i] - x0[i])); d > 1e-5 {
				t.Fatalf("%d steps: element %d is %g, the point is %g", steps, i, got[i], x0[i])
			}
		}
	}
}

// The timesteps of diffusers' EulerDiscreteScheduler with timestep_spacing "trailing", worked
// out by hand from round(arange(1000, 0, −1000/steps)) − 1.
func TestTrailingSigmas(t *testing.T) {
	cases := map[int][]int{
		1:  {999},
		2:  {999, 499},
		3:  {999, 666, 332},
		4:  {999, 749, 499, 249},
		16: {999, 937, 874, 811, 749, 687, 624, 561, 499, 437, 374, 311, 249, 187, 124, 61}, // halves round to even
	}
	for steps, ts := range cases {
		got, err := Sigmas("k_euler_a", Options{Steps: steps, Trailing: true})
		if err != nil {
			t.Fatal(err)
		}
		want := make([]float64, 0, len(ts)+1)
		for _, t := range ts {
			want = append(want, TToSigma(float64(t)))
		}
		want = append(want, 0)
		if !slices.Equal(got, want) {
			t.Errorf("%d trailing steps: levels %v, want those of timesteps %v then 0", steps, got, ts)
		}
	}
	// The schedules of their own ignore Trailing.
	for _, name := range []string{"k_dpmpp_2m_karras", "ddim", "lcm"} {
		plain, _ := Sigmas(name, Options{Steps: 4})
		trailing, _ := Sigmas(name, Options{Steps: 4, Trailing: true})
		if !slices.Equal(plain, trailing) {
			t.Errorf("%s: Trailing changed its levels", name)
		}
	}
}

// TestTrailingOnePoint: SD-Turbo's one step of Euler on trailing timesteps lands on the
// point, as every k-sampler's last step to 0 does.
func TestTrailingOnePoint(t *testing.T) {
	x0 := normals(64, 1)
	noise := normals(64, 2)
	for _, name := range []string{"k_euler", "k_euler_a"} {
		for _, steps := range []int{1, 4} {
			got, err := Sample(context.Background(), name, onePoint(x0), noise, nil,
				Options{Steps: steps, Trailing: true, Rand: rand.New(rand.NewPCG(1, 1))})
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if d := math.Abs(float64(got[i] - x0[i])); d > 4e-6 {
					t.Fatalf("%s %d steps: element %d is %g, the point is %g", name, steps, i, got[i], x0[i])
				}
			}
		}
	}
}
