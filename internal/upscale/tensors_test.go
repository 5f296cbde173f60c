package upscale

import (
	"context"
	"testing"

	"dream/internal/imageio"
)

// Images of one size share the network's tensors, and what one image left in them never
// reaches the next: each result is the reference's, in any order.
func TestImagesOfOneSizeShareTensors(t *testing.T) {
	ctx := context.Background()
	m := affine2.load(t)
	opts := Options{Factor: 2, Strength: 1}
	// 13×9 runs in a 14×10 window (×2 networks take even sides); the RGBA image also runs
	// its alpha through the same tensors.
	rgb, rgba := noiseImage(13, 9, 3, 8, 1), noiseImage(13, 9, 4, 8, 2)
	var kept *tensors
	for i, src := range []*imageio.Image{rgb, rgba, rgb} {
		out, err := m.Upscale(ctx, src, opts)
		if err != nil {
			t.Fatal(err)
		}
		compareToReference(t, out, referenceUpscale(src, affine2, 2), 8, exact)
		if m.spare.pair == nil {
			t.Fatalf("image %d: the model keeps no tensors after it", i+1)
		}
		if i > 0 && m.spare.pair != kept {
			t.Errorf("image %d made new tensors for a window the size of the last one", i+1)
		}
		kept = m.spare.pair
	}
	if _, err := m.Upscale(ctx, noiseImage(20, 9, 3, 8, 3), opts); err != nil {
		t.Fatal(err)
	}
	if p := m.spare.pair; p == kept || p.w != 20 || p.h != 10 {
		t.Errorf("after a 20×9 image the model keeps a %d×%d pair, want a new 20×10 one", p.w, p.h)
	}
}

// Only small windows' tensors are kept: those of a photo's large windows are given back.
func TestLargeTensorsAreNotKept(t *testing.T) {
	for _, c := range []struct {
		w, h, scale int
		keep        bool
	}{
		{256, 192, 4, true},    // a small photo: 9.6 MiB
		{640, 480, 4, true},    // 59.8 MiB
		{1024, 1024, 4, false}, // 204 MiB
		{1200, 1200, 2, false}, // 82.4 MiB
	} {
		if got := worthKeeping(c.w, c.h, c.scale); got != c.keep {
			t.Errorf("worthKeeping(%d×%d ×%d) = %v, want %v", c.w, c.h, c.scale, got, c.keep)
		}
	}
}
