package upscale

import (
	"context"
	"fmt"
	"math"
	"testing"

	"dream/internal/imagecmp"
	"dream/internal/imageio"
)

// keysCubic is Keys' cubic convolution kernel with a = −0.5 (PIL's BICUBIC), in its textbook
// piecewise form.
func keysCubic(t float64) float64 {
	const a = -0.5
	t = math.Abs(t)
	switch {
	case t < 1:
		return (a+2)*t*t*t - (a+3)*t*t + 1
	case t < 2:
		return a*t*t*t - 5*a*t*t + 8*a*t - 4*a
	}
	return 0
}

// bicubicAt is the test's own bicubic enlargement of channel c of src to outW×outH, at output
// pixel (x, y), in [0,1]: pixel centres sit at half-integers, the 4×4 source pixels nearest
// the point are weighed by Keys' kernel, and rows and columns past the edge repeat the edge.
// The sum is clamped to [0,1], as rounding to an 8- or 16-bit sample does.
func bicubicAt(src *imageio.Image, outW, outH, x, y, c int) float64 {
	full := float64(uint32(1)<<src.Depth - 1)
	sx := (float64(x)+0.5)*float64(src.W)/float64(outW) - 0.5
	sy := (float64(y)+0.5)*float64(src.H)/float64(outH) - 0.5
	x0, y0 := int(math.Floor(sx)), int(math.Floor(sy))
	sum := 0.0
	for j := y0 - 1; j <= y0+2; j++ {
		for i := x0 - 1; i <= x0+2; i++ {
			px := max(0, min(i, src.W-1))
			py := max(0, min(j, src.H-1))
			v := float64(src.At((py*src.W+px)*src.Channels+c)) / full
			sum += keysCubic(sx-float64(i)) * keysCubic(sy-float64(j)) * v
		}
	}
	return clamp01f(sum)
}

// With strength s < 1 every output sample is (1−s)·bicubic(original) + s·model, per channel,
// alpha included. The model part comes from the test models' reference, the bicubic part from
// the test's own bicubic, so a fault in either table or the blend shows. The tolerance is one
// step of the image's depth (tighter than the 1/255 asked for on 16-bit images).
func TestStrengthBlend(t *testing.T) {
	images := []struct {
		name string
		img  *imageio.Image
	}{
		{"RGB 8-bit", noiseImage(9, 7, 3, 8, 11)},
		{"gray 8-bit", noiseImage(9, 7, 1, 8, 12)},
		{"RGBA 8-bit", noiseImage(9, 7, 4, 8, 13)},
		{"RGB 16-bit", noiseImage(9, 7, 3, 16, 14)},
		{"1×1 RGB", noiseImage(1, 1, 3, 8, 15)},
	}
	runs := []struct {
		model  testModel
		factor int
	}{
		{nearest4, 4},
		{affine4, 4},
		{unshuffle2, 2},
		{nearest4, 2},
	}
	models := map[string]*Model{}
	for _, r := range runs {
		models[r.model.name] = r.model.load(t)
	}
	for _, im := range images {
		for _, r := range runs {
			for _, s := range []float64{0, 0.3, 0.75} {
				t.Run(fmt.Sprintf("%s/%s to x%d/strength %g", im.name, r.model.name, r.factor, s), func(t *testing.T) {
					out, err := models[r.model.name].Upscale(context.Background(), im.img,
						Options{Factor: float64(r.factor), Strength: s})
					if err != nil {
						t.Fatal(err)
					}
					want := referenceUpscale(im.img, r.model, r.factor)
					for y := range want.h {
						for x := range want.w {
							for c := range want.channels {
								i := (y*want.w+x)*want.channels + c
								want.v[i] = (1-s)*bicubicAt(im.img, want.w, want.h, x, y, c) + s*clamp01f(want.v[i])
							}
						}
					}
					compareToReference(t, out, want, im.img.Depth, 1)
				})
			}
		}
	}
}

// ×2 with a model that pixel-unshuffles needs even sides, which odd images do not have: the
// upscaler pads the window by reflection and crops the result, so an odd image still comes
// out as the exact ×2 nearest-neighbour enlargement, whole or in tiles of odd width.
func TestTwoTimesOddSides(t *testing.T) {
	m := unshuffle2.load(t)
	cases := []struct {
		w, h, tile, pad int
	}{
		{37, 23, 0, 0},
		{37, 23, 0, DefaultPad},
		{1, 1, 0, 0},
		{2, 3, 0, 0},
		{37, 23, 9, 3}, // windows of 15×15: odd both ways
		{37, 23, 10, 2},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%dx%d tile %d pad %d", c.w, c.h, c.tile, c.pad), func(t *testing.T) {
			src := noiseImage(c.w, c.h, 3, 8, uint64(c.w*c.h))
			out, err := m.run(context.Background(), src, Options{Factor: 2, Strength: 1}, c.tile, c.pad)
			if err != nil {
				t.Fatal(err)
			}
			compareToReference(t, out, referenceUpscale(src, unshuffle2, 2), 8, exact)
		})
	}
}

// ×2 from a ×4 model is the ×4 output halved with Lanczos (a=3). The filter's weights sum to
// one, so a flat picture must come back exactly as it went in, edges included, at either
// depth and with alpha.
func TestTwoTimesFromFourFlat(t *testing.T) {
	m := nearest4.load(t)
	cases := []struct {
		name   string
		w, h   int
		depth  int
		colour []uint16
	}{
		{"RGB 37×23", 37, 23, 8, []uint16{200, 17, 96}},
		{"RGB 1×1", 1, 1, 8, []uint16{1, 254, 128}},
		{"RGBA 5×8", 5, 8, 8, []uint16{90, 180, 45, 100}},
		{"gray 16-bit 6×3", 6, 3, 16, []uint16{12345}},
		{"RGB 16-bit 11×4", 11, 4, 16, []uint16{12345, 65535, 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			channels := len(c.colour)
			var list []uint16
			for range c.w * c.h {
				list = append(list, c.colour...)
			}
			src := imageOf(c.w, c.h, channels, c.depth, list)
			out, err := m.Upscale(context.Background(), src, Options{Factor: 2, Strength: 1})
			if err != nil {
				t.Fatal(err)
			}
			if out.W != 2*c.w || out.H != 2*c.h || out.Channels != channels || out.Depth != c.depth {
				t.Fatalf("got %dx%d×%d@%d, want %dx%d×%d@%d", out.W, out.H, out.Channels, out.Depth,
					2*c.w, 2*c.h, channels, c.depth)
			}
			for i, v := range samples(out) {
				if want := c.colour[i%channels]; v != want {
					px := i / channels
					t.Fatalf("pixel (%d,%d) channel %d = %d, want %d", px%out.W, px/out.W, i%channels, v, want)
				}
			}
		})
	}
}

// On a real photo and a real ×4 network, ×2 must (a) be the Lanczos halving of the network's
// ×4 result, here recomputed by the test from the 8-bit ×4 output, and (b) come out the same
// tiled as whole. The ×4 output's rounding (up to ½ step a sample) goes through the filter,
// whose weights' absolute values sum to 1.97 in two dimensions, and the result is rounded
// again: the two can differ by at most 0.5·1.97 + 0.5 ≈ 1.48 steps.
func TestTwoTimesFromFourReal(t *testing.T) {
	m := sharedModel(t, "realesr-general-x4v3.onnx")
	src := sharedImage(t, "images", "coffee_crop128.png")
	ctx := context.Background()
	opts := Options{Factor: 2, Strength: 1}
	whole, err := m.run(ctx, src, opts, 0, DefaultPad)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("Lanczos of the x4 result", func(t *testing.T) {
		x4, err := m.run(ctx, src, Options{Factor: 4, Strength: 1}, 0, DefaultPad)
		if err != nil {
			t.Fatal(err)
		}
		p := &plane{w: x4.W, h: x4.H, channels: 3, v: make([]float64, len(x4.Pix))}
		for i, v := range x4.Pix { // 8-bit: one byte a sample
			p.v[i] = float64(v) / 255
		}
		compareToReference(t, whole, lanczosHalf(p), 8, 1.5)
	})
	t.Run("tiled vs whole", func(t *testing.T) {
		tiled, err := m.run(ctx, src, opts, 64, DefaultPad)
		if err != nil {
			t.Fatal(err)
		}
		d, err := imagecmp.Compare(whole, tiled)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("×2 from general-x4v3, 64-pixel tiles with pad %d vs whole: %v", DefaultPad, d)
		if d.PSNR < 50 {
			t.Errorf("tiled ×2 differs from whole: %v, want PSNR ≥ 50 dB", d)
		}
	})
}
