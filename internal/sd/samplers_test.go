package sd

import (
	"context"
	"fmt"
	"math"
	"testing"

	"dream/internal/sampler"
	"dream/internal/sd/sdtest"
)

// The data set of these tests is one latent: channel c is mean[c] everywhere. The test UNet
// predicts the exact noise for it, so the probability-flow ODE's solution is a straight line
// in k-diffusion's scale, x(σ) = x0 + σ·n, with n fixed by the start. Every sampler follows
// such a line without discretisation error, so what is left is rounding:
//   - The ONNX UNet is float32. It undoes the input scaling (sample·sqrt(σ²+1)) and divides
//     by σ, and it derives σ from the timestep through a float32 log-σ table. Its σ differs
//     from the sampler's float64 σ by a few float32 ulps (relative 1e-6 at most), which moves
//     the predicted clean latent by about |x|·1e-6, with |x| up to σ_max·|noise| ≈ 60 at the
//     start; each step forgets all but σ_next/σ of its predecessor's error, and the last
//     steps run at |x| ≈ 1.
//   - The result is float32: half an ulp of values near 1 is 6e-8.
//
// Measured, the worst sampler lands 4.5e-7 away. The bound is 1e-5: twenty times that, and
// still three thousand times below the error of the slightest mistake in a step: stopping
// one step short leaves σ_1·|n| ≥ 0.03, and a σ that is off by one training timestep moves
// the result by about 1e-3 (a UNet input scaled with sqrt(σ²+1.01) instead of sqrt(σ²+1)
// fails every sampler).
const landingTolerance = 1e-5

var oneLatent = [4]float32{0.3, -0.2, 0.5, 0.1}

func TestEverySamplerLandsOnTheLatent(t *testing.T) {
	for _, integer := range []bool{false, true} {
		m := openExport(t, sdtest.Export{Mean: oneLatent, IntegerTimestep: integer})
		const h, w = 4, 6
		unet, _ := guided(t, m, "a photo of a cat", 7.5, h, w)
		for _, name := range sampler.Names {
			for _, steps := range []int{20, 50} {
				t.Run(fmt.Sprintf("%s/%d steps/integer timestep %v", name, steps, integer), func(t *testing.T) {
					opts := sampler.Options{Steps: steps, IntegerTimesteps: integer, Rand: NewRand(7)}
					noise := Normal(NewRand(42), unet.n)
					got, err := sampler.Sample(context.Background(), name, unet.predict, noise, nil, opts)
					if err != nil {
						t.Fatal(err)
					}
					want := lineEnd(t, name, steps, integer, noise, h*w)
					d := maxAbsDiff(got, want)
					t.Logf("max abs error %.2g", d)
					if d > landingTolerance {
						t.Errorf("result is %.3g from the ODE's end point (tolerance %g)", d, landingTolerance)
					}
				})
			}
		}
	}
}

// lineEnd is where the ODE's straight line from the sampler's start ends: x0 at σ = 0 for the
// k-samplers, and for ddim and plms the model latent at σ_0, (x0 + σ_0·n)/sqrt(1+σ_0²). The
// ancestral samplers add fresh noise along the way, but their last step goes to σ = 0 with
// none, which lands on x0 all the same.
func lineEnd(t *testing.T, name string, steps int, integer bool, noise []float32, plane int) []float64 {
	sigmas, err := sampler.Sigmas(name, sampler.Options{Steps: steps, IntegerTimesteps: integer})
	if err != nil {
		t.Fatal(err)
	}
	first, last := sigmas[0], sigmas[len(sigmas)-1]
	startScale := first // k-diffusion starts at noise·σ_max
	if name == "ddim" || name == "plms" {
		startScale = math.Sqrt(1 + first*first) // CompVis starts at noise in the model's scale
	}
	want := make([]float64, len(noise))
	for i, z := range noise {
		x0 := float64(oneLatent[i/plane])
		n := (float64(z)*startScale - x0) / first
		want[i] = (x0 + last*n) / math.Sqrt(1+last*last)
	}
	return want
}
