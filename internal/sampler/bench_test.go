package sampler

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"
)

// The samplers' own work per step on a 512×512 image's latent (4×64×64) with a denoiser that
// costs next to nothing: a few tens of microseconds a step, against seconds for the UNet.
func BenchmarkSamplers(b *testing.B) {
	const size, steps = 4 * 64 * 64, 20
	noise := normals(size, 31)
	out := make([]float32, size)
	cheap := func(_ context.Context, x []float32, _, _ float64) ([]float32, error) {
		for i, v := range x {
			out[i] = 0.1 * v
		}
		return out, nil
	}
	for _, name := range Names {
		b.Run(name, func(b *testing.B) {
			opts := Options{Steps: steps, Rand: rand.New(rand.NewPCG(1, 2))}
			start := time.Now()
			for b.Loop() {
				if _, err := Sample(context.Background(), name, cheap, noise, nil, opts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N*steps), "ns/step")
		})
	}
}
