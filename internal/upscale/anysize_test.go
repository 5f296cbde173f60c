package upscale

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"dream/internal/imagecmp"
	"dream/internal/imageio"
)

// pilCase is one resize PIL made (testdata/lanczos_pil.py): a one-channel float image and an
// 8-bit RGB image, each resized from w×h to dw×dh with Image.LANCZOS.
type pilCase struct {
	W, H, DW, DH int
	FloatIn      []float64 `json:"float_in"`
	FloatOut     []float64 `json:"float_out"`
	RGBIn        []int     `json:"rgb_in"`
	RGBOut       []int     `json:"rgb_out"`
}

func loadPILCases(t *testing.T) []pilCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "lanczos_pil.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Cases []pilCase }
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Cases) == 0 {
		t.Fatal("testdata/lanczos_pil.json holds no cases")
	}
	return doc.Cases
}

// resizeWithTaps applies separable tables to a w×h image of channels samples a pixel, in
// float64, as resizedRow does. With eightBit it works as PIL's 8-bit mode does instead:
// columns first, then the intermediate image rounded and clipped to 0..255, then rows.
func resizeWithTaps(in []float64, w, h, channels int, tx, ty *taps, dw, dh int, eightBit bool) []float64 {
	across := make([]float64, dw*h*channels)
	for y := range h {
		for x := range dw {
			xs, wxs := tx.at(x)
			for c := range channels {
				sum := 0.0
				for b, sx := range xs {
					sum += float64(wxs[b]) * in[(y*w+int(sx))*channels+c]
				}
				if eightBit {
					sum = math.Round(max(0, min(sum, 255)))
				}
				across[(y*dw+x)*channels+c] = sum
			}
		}
	}
	out := make([]float64, dw*dh*channels)
	for y := range dh {
		ys, wys := ty.at(y)
		for i := range dw * channels {
			sum := 0.0
			for a, sy := range ys {
				sum += float64(wys[a]) * across[int(sy)*dw*channels+i]
			}
			out[y*dw*channels+i] = sum
		}
	}
	return out
}

// dream's Lanczos tables are PIL's Image.resize(LANCZOS), enlarging, shrinking (where the
// kernel widens by the shrink factor) and both at once: against PIL's float mode, which
// computes in double precision without rounding between its passes, to float32 precision of
// the weights; against its 8-bit mode, whose weights are fixed-point, within one step, when
// its intermediate rounding and clipping are done the same. (dream keeps the intermediate in
// float: on these noise images, whose rings overshoot 0..255 by far, PIL's clipping moves
// samples by up to 40 steps; on photos the two agree to well over 40 dB, TestFixToWidth.)
func TestLanczosMatchesPIL(t *testing.T) {
	for _, c := range loadPILCases(t) {
		t.Run(fmt.Sprintf("%dx%d to %dx%d", c.W, c.H, c.DW, c.DH), func(t *testing.T) {
			tx, ty := lanczosTaps(c.W, c.DW), lanczosTaps(c.H, c.DH)
			got := resizeWithTaps(c.FloatIn, c.W, c.H, 1, tx, ty, c.DW, c.DH, false)
			worst := 0.0
			for i, want := range c.FloatOut {
				worst = max(worst, math.Abs(got[i]-want))
			}
			if worst > 2e-5 {
				t.Errorf("float: largest difference from PIL %.2g, want ≤ 2e-5", worst)
			}
			in := make([]float64, len(c.RGBIn))
			for i, v := range c.RGBIn {
				in[i] = float64(v)
			}
			rgb := resizeWithTaps(in, c.W, c.H, 3, tx, ty, c.DW, c.DH, true)
			worstStep, same := 0, 0
			for i, want := range c.RGBOut {
				v := int(math.Round(max(0, min(rgb[i], 255))))
				d := max(v-want, want-v)
				worstStep = max(worstStep, d)
				if d == 0 {
					same++
				}
			}
			if worstStep > 1 {
				t.Errorf("8-bit: largest difference from PIL %d steps, want ≤ 1", worstStep)
			}
			t.Logf("float: largest difference %.2g; 8-bit: %d of %d samples equal to PIL's, none more than %d step off",
				worst, same, len(c.RGBOut), worstStep)
		})
	}
}

// lanczosResize is the test's own Lanczos-3 resize of a plane to w×h, written from PIL's
// definition pixel by pixel rather than from tables: destination (x, y) is centred at
// ((x+0.5)·p.w/w, (y+0.5)·p.h/h); the source sample i, centred at i+0.5, weighs
// L((i+0.5−centre)/s) with s = max(1, p.w/w) along x (and likewise along y); taps past the
// edge are left out and the rest normalised.
func lanczosResize(p *plane, w, h int) *plane {
	weights := func(dst, n, m int) (first int, ws []float64) {
		scale := float64(n) / float64(m)
		s := max(scale, 1)
		centre := (float64(dst) + 0.5) * scale
		first = max(int(math.Floor(centre-3*s)), 0)
		last := min(int(math.Ceil(centre+3*s)), n-1)
		sum := 0.0
		for i := first; i <= last; i++ {
			x := (float64(i) + 0.5 - centre) / s
			k := 0.0
			if x == 0 {
				k = 1
			} else if math.Abs(x) < 3 {
				k = 3 * math.Sin(math.Pi*x) * math.Sin(math.Pi*x/3) / (math.Pi * math.Pi * x * x)
			}
			ws = append(ws, k)
			sum += k
		}
		for i := range ws {
			ws[i] /= sum
		}
		return first, ws
	}
	out := &plane{w: w, h: h, channels: p.channels, v: make([]float64, w*h*p.channels)}
	for y := range h {
		y0, wy := weights(y, p.h, h)
		for x := range w {
			x0, wx := weights(x, p.w, w)
			for c := range p.channels {
				sum := 0.0
				for i, ky := range wy {
					for k, kx := range wx {
						sum += ky * kx * clamp01f(p.at(x0+k, y0+i, c))
					}
				}
				out.v[(y*w+x)*p.channels+c] = sum
			}
		}
	}
	return out
}

// referenceAnySize is what Upscale must return for src with a test model resized to w×h, at
// strength 1, before rounding: the network's output at its own scale, as RGB for the colour
// and for alpha run as a gray picture (as referenceUpscale builds it), Lanczos-resized and
// clamped, then turned into the image's channels: gray and alpha as BT.601 luma of the
// resized RGB.
func referenceAnySize(src *imageio.Image, tm testModel, w, h int) *plane {
	full := float64(uint32(1)<<src.Depth - 1)
	s := tm.scale
	big := &plane{w: src.W * s, h: src.H * s, channels: 6, v: make([]float64, src.W*s*src.H*s*6)}
	for y := range big.h {
		for x := range big.w {
			p := ((y/s)*src.W + x/s) * src.Channels
			var colour, alpha [3]float64
			for c := range 3 {
				colour[c] = float64(src.At(p+min(c, src.Channels-1))) / full
				if src.Channels == 4 {
					alpha[c] = float64(src.At(p+3)) / full
				}
			}
			rgb, a := tm.at(colour), tm.at(alpha)
			copy(big.v[(y*big.w+x)*6:], append(rgb[:], a[:]...))
		}
	}
	resized := lanczosResize(big, w, h)
	out := &plane{w: w, h: h, channels: src.Channels, v: make([]float64, w*h*src.Channels)}
	for i := range w * h {
		n := resized.v[i*6 : i*6+6]
		for k := range n {
			n[k] = clamp01f(n[k])
		}
		o := out.v[i*src.Channels:]
		switch src.Channels {
		case 1:
			o[0] = lumaf(n[0:3])
		default:
			copy(o[:3], n[0:3])
		}
		if src.Channels == 4 {
			o[3] = 1
			if !isOpaque(src) {
				o[3] = lumaf(n[3:6])
			}
		}
	}
	return out
}

// blendReference mixes a reference with the test's own bicubic enlargement of plain:
// (1−s)·bicubic + s·reference, as -U's strength asks.
func blendReference(want *plane, plain *imageio.Image, s float64) *plane {
	if s == 1 {
		return want
	}
	for y := range want.h {
		for x := range want.w {
			for c := range want.channels {
				i := (y*want.w+x)*want.channels + c
				want.v[i] = (1-s)*bicubicAt(plain, want.w, want.h, x, y, c) + s*clamp01f(want.v[i])
			}
		}
	}
	return want
}

// Any output size is the network's output at its own scale, Lanczos-resized to that size,
// blended with the bicubic enlargement of the original: RGB, gray, RGBA and 16-bit alike, by
// factors from 1 up to the network's scale and to exact sizes that change the aspect ratio,
// and the same whole or in tiles of any size, at any pad.
func TestAnySize(t *testing.T) {
	images := []struct {
		name string
		img  *imageio.Image
	}{
		{"RGB 37×23", noiseImage(37, 23, 3, 8, 51)},
		{"gray 16-bit 19×26", noiseImage(19, 26, 1, 16, 52)},
		{"RGBA 30×17", noiseImage(30, 17, 4, 8, 53)},
	}
	runs := []struct {
		model  testModel
		opts   Options
		sx, sy float64 // an exact size, as multiples of the image's sides
	}{
		{nearest4, Options{Factor: 1}, 0, 0},
		{nearest4, Options{Factor: 1.5}, 0, 0},
		{nearest4, Options{Factor: 3, Strength: 0.6}, 0, 0},
		{nearest4, Options{Factor: 3.7}, 0, 0},
		{affine4, Options{Factor: 2.5, Strength: 0.3}, 0, 0},
		{unshuffle2, Options{Factor: 1.5, Strength: 0.75}, 0, 0},
		{unshuffle2, Options{Factor: 1.01}, 0, 0},
		{nearest4, Options{Strength: 1}, 3.9, 1.1},
		{affine2, Options{Strength: 0.5}, 1.08, 2},
		{nearest4, Options{Strength: 1}, 3.9, 0.45}, // a second pass's shrink: taps reach 7 pixels
	}
	for _, r := range runs {
		m := r.model.load(t)
		for _, im := range images {
			opts := r.opts
			if opts.Strength == 0 {
				opts.Strength = 1
			}
			if r.sx > 0 {
				opts.Width, opts.Height = scaled(im.img.W, r.sx), scaled(im.img.H, r.sy)
			}
			name := fmt.Sprintf("%s/%s/x%g %dx%d strength %g", r.model.name, im.name, opts.Factor, opts.Width, opts.Height, opts.Strength)
			t.Run(name, func(t *testing.T) {
				ctx := context.Background()
				whole, err := m.Upscale(ctx, im.img, opts)
				if err != nil {
					t.Fatal(err)
				}
				w, h := opts.size(im.img.W, im.img.H)
				want := referenceAnySize(im.img, r.model, w, h)
				// Lanczos rings past [0,1] on noise, where both clamp: a tie at the clamp is
				// the one place float32 and float64 can round apart by more than a hair.
				compareToReference(t, whole, blendReference(want, im.img, opts.Strength), im.img.Depth, 0.6)
				for _, tile := range []int{3, 7, 16} {
					for _, pad := range []int{0, 2, DefaultPad} {
						tiled, err := m.run(ctx, im.img, opts, tile, pad)
						if err != nil {
							t.Fatal(err)
						}
						if err := sameImage(tiled, whole); err != nil {
							t.Errorf("tile %d pad %d differs from whole: %v", tile, pad, err)
						}
					}
				}
			})
		}
	}
}

// A second pass blends with the original the user gave (Options.Plain), not with the first
// pass's output: ×6 is ×4, then ×4 again Lanczos-shrunk to ×6 overall.
func TestSecondPassBlendsWithOriginal(t *testing.T) {
	m := nearest4.load(t)
	src := noiseImage(11, 7, 3, 8, 61)
	ctx := context.Background()
	first, err := m.Upscale(ctx, src, Options{Factor: 4, Strength: 1})
	if err != nil {
		t.Fatal(err)
	}
	const s = 0.4
	out, err := m.Upscale(ctx, first, Options{Width: 66, Height: 42, Strength: s, Plain: src})
	if err != nil {
		t.Fatal(err)
	}
	// nearest4 twice is nearest ×16 of the source.
	big := referenceUpscale(src, nearest4, 4)
	sixteen := &plane{w: big.w * 4, h: big.h * 4, channels: 3, v: make([]float64, big.w*4*big.h*4*3)}
	for y := range sixteen.h {
		for x := range sixteen.w {
			for c := range 3 {
				sixteen.v[(y*sixteen.w+x)*3+c] = big.at(x/4, y/4, c)
			}
		}
	}
	compareToReference(t, out, blendReference(lanczosResize(sixteen, 66, 42), src, s), 8, 0.6)
}

// Sizes one pass cannot make are refused before any work, in one line.
func TestAnySizeRefusals(t *testing.T) {
	x4, x2 := nearest4.load(t), unshuffle2.load(t)
	src := noiseImage(10, 8, 3, 8, 71)
	cases := []struct {
		name  string
		model *Model
		opts  Options
	}{
		{"factor below 1", x4, Options{Factor: 0.9, Strength: 1}},
		{"factor beyond the network", x4, Options{Factor: 4.1, Strength: 1}},
		{"x3 from a x2 model", x2, Options{Factor: 3, Strength: 1}},
		{"narrower than the original to blend with", x4, Options{Width: 9, Height: 20, Strength: 0.5}},
		{"narrower than the original given", x4, Options{Width: 20, Height: 20, Strength: 0.5, Plain: noiseImage(21, 8, 3, 8, 1)}},
		{"taller than the network makes", x4, Options{Width: 20, Height: 33, Strength: 1}},
		{"original of other channels", x4, Options{Factor: 2, Strength: 1, Plain: noiseImage(10, 8, 1, 8, 1)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := c.model.Upscale(context.Background(), src, c.opts)
			if err == nil {
				t.Fatalf("got a %dx%d image, want an error", out.W, out.H)
			}
			t.Log(err)
		})
	}
}

// On a real photo and the real general-x4v3, ×3 and an exact size are the network's ×4
// output resized by Lanczos, recomputed here from the 8-bit ×4 result: the ×4 output's
// rounding (½ step) through the filter and the final rounding allow 1.5 steps at most (see
// TestTwoTimesFromFourReal); and tiles cannot be told from the whole image.
func TestAnySizeReal(t *testing.T) {
	m := sharedModel(t, "realesr-general-x4v3.onnx")
	src := sharedImage(t, "images", "coffee_crop128.png")
	ctx := context.Background()
	x4, err := m.run(ctx, src, Options{Factor: 4, Strength: 1}, 0, DefaultPad)
	if err != nil {
		t.Fatal(err)
	}
	p := &plane{w: x4.W, h: x4.H, channels: 3, v: make([]float64, len(x4.Pix))}
	for i, v := range x4.Pix {
		p.v[i] = float64(v) / 255
	}
	for _, opts := range []Options{{Factor: 3, Strength: 1}, {Width: 300, Height: 200, Strength: 1}} {
		t.Run(fmt.Sprintf("x%g %dx%d", opts.Factor, opts.Width, opts.Height), func(t *testing.T) {
			whole, err := m.run(ctx, src, opts, 0, DefaultPad)
			if err != nil {
				t.Fatal(err)
			}
			compareToReference(t, whole, lanczosResize(p, whole.W, whole.H), 8, 1.5)
			tiled, err := m.run(ctx, src, opts, 64, DefaultPad)
			if err != nil {
				t.Fatal(err)
			}
			d, err := imagecmp.Compare(whole, tiled)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("64-pixel tiles vs whole: %v", d)
			if d.PSNR < 50 {
				t.Errorf("tiled differs from whole: %v, want PSNR ≥ 50 dB", d)
			}
		})
	}
}
