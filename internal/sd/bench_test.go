package sd

import (
	"context"
	"testing"

	"dream/internal/ort"
	"dream/internal/sampler"
	"dream/internal/sd/sdtest"
)

// The cost dream adds to each sampler step at 512×512 (a 64×64 latent), next to the UNet run
// itself: input scaling, the guidance combination, and the sampler's arithmetic. The test
// UNet does almost nothing, so "bare" is ONNX Runtime's own cost for it; subtract it from
// "step" to get dream's share. The real UNet takes seconds a step on a CPU.
func BenchmarkStep(b *testing.B) {
	m := openExport(b, sdtest.Export{Mean: oneLatent})
	unet, _ := guided(b, m, "a photo of a cat", 7.5, 64, 64)
	x := Normal(NewRand(1), unet.n)
	b.Run("bare", func(b *testing.B) {
		for range b.N {
			if err := unet.session.Run(context.Background(), []ort.Value{unet.sample, unet.timestep, unet.contexts[0]}, []ort.Value{unet.outs[0]}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("step", func(b *testing.B) {
		for range b.N {
			if _, err := unet.predict(context.Background(), x, 3, 500); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("k_lms-50-steps", func(b *testing.B) {
		for range b.N {
			if _, err := sampler.Sample(context.Background(), "k_lms", unet.predict, x, nil, sampler.Options{Steps: 50}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
