package sd

import (
	"context"
	"time"

	"dream/internal/ort"
)

// StepTimes measures a 512×512 sampler step of the export in dir (one guided UNet run on a
// batch of two) with its attention fused or, when plain, as exported: one run to warm up,
// then runs more, whose times it returns. The UNet is closed again. For benchmarks.
func StepTimes(ctx context.Context, rt *ort.Runtime, dir string, plain bool, runs int) ([]time.Duration, error) {
	m, err := Open(rt, dir, Policy{KeepAll: true, PlainAttention: plain})
	if err != nil {
		return nil, err
	}
	if err := m.openUNet(); err != nil {
		return nil, err
	}
	defer m.closeUNet()
	rng := NewRand(1)
	const scale = 7.5
	prompts := 1
	if m.guides(scale) {
		prompts = 2
	}
	g, err := m.newGuidedUNet(Normal(rng, prompts*ContextLength*m.shape.hidden), scale, 64, 64)
	if err != nil {
		return nil, err
	}
	defer g.destroy()
	x := Normal(rng, g.n)
	var times []time.Duration
	for i := range 1 + runs {
		start := time.Now()
		if _, err := g.predict(ctx, x, 14.6, 999); err != nil {
			return nil, err
		}
		if i > 0 {
			times = append(times, time.Since(start))
		}
	}
	return times, nil
}
