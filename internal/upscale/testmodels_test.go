package upscale

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	onnx "github.com/yalue/onnxruntime_go"

	"dream/internal/imageio"
	"dream/internal/onnxpb"
	"dream/internal/ort"
)

// This file writes small ONNX upscalers whose arithmetic is known exactly, and holds the
// test's own reference implementation of what the upscaler must make of them. The models run
// in the real ONNX Runtime; nothing about the runtime is mocked.

// testModel is a nearest-neighbour upscaler: every output pixel is the input pixel it lies
// over, put through y_c = gain[c]·x_c + bias[c]. A gain of 1 and bias of 0 make it the
// identity, so every sample must come back exactly; other values check that the channels
// keep their order and that results are clamped to [0,1].
type testModel struct {
	name  string
	scale int // 2 or 4
	// unshuffle makes a ×2 model start with SpaceToDepth(2), as RealESRGAN_x2plus does: the
	// runtime then refuses inputs with an odd side.
	unshuffle  bool
	gain, bias [3]float32
}

var (
	identity = [3]float32{1, 1, 1}
	noBias   = [3]float32{}
	// The affine gains and biases are multiples of 1/8, so y·255 is v/2 + 63.75 and the like:
	// never within reach of a rounding tie. Green goes past 1 and is clamped there, blue below
	// 0 is not reachable, red is squeezed into [0.25, 0.75].
	affineGain = [3]float32{0.5, 1.5, 0.75}
	affineBias = [3]float32{0.25, -0.25, 0.125}

	nearest4   = testModel{name: "nearest x4", scale: 4, gain: identity, bias: noBias}
	affine4    = testModel{name: "affine x4", scale: 4, gain: affineGain, bias: affineBias}
	unshuffle2 = testModel{name: "unshuffle x2", scale: 2, unshuffle: true, gain: identity, bias: noBias}
	affine2    = testModel{name: "affine unshuffle x2", scale: 2, unshuffle: true, gain: affineGain, bias: affineBias}
)

// graph builds the ONNX graph. Both kinds end as Real-ESRGAN's exports do, with a 1×1
// convolution to 3·16 channels and DepthToSpace(4) in CRD mode, which sends channel
// c·16 + i·4 + j of input pixel (Y, X) to output pixel (4Y+i, 4X+j) of colour c.
//
//	×4: input RGB → Conv 1×1 (3→48) → DepthToSpace(4). Channel c·16+i·4+j copies colour c.
//	×2: input RGB → SpaceToDepth(2) → Conv 1×1 (12→48) → DepthToSpace(4). SpaceToDepth puts
//	    input pixel (2Y+bh, 2X+bw) of colour c into channel (bh·2+bw)·3 + c at (Y, X); output
//	    pixel (4Y+i, 4X+j) must show input pixel (2Y+i/2, 2X+j/2), so channel c·16+i·4+j
//	    copies channel ((i/2)·2 + j/2)·3 + c.
func (tm testModel) graph() onnxpb.Graph {
	var g onnxpb.Graph
	g.Inputs = []onnxpb.ValueInfo{onnxpb.NewValueInfo("input", onnxpb.Float,
		onnxpb.Fixed(1), onnxpb.Fixed(3), onnxpb.Sym("height"), onnxpb.Sym("width"))}
	g.Outputs = []onnxpb.ValueInfo{onnxpb.NewValueInfo("output", onnxpb.Float,
		onnxpb.Fixed(1), onnxpb.Fixed(3), onnxpb.Sym("out_height"), onnxpb.Sym("out_width"))}

	features, inChannels := "input", 3
	if tm.unshuffle {
		features, inChannels = "unshuffled", 12
		g.Add("SpaceToDepth", []string{"input"}, []string{features}, onnxpb.AttrInt("blocksize", 2))
	}
	weights := make([]float32, 48*inChannels)
	bias := make([]float32, 48)
	for c := range 3 {
		for i := range 4 {
			for j := range 4 {
				out := c*16 + i*4 + j
				in := c
				if tm.unshuffle {
					in = ((i/2)*2+j/2)*3 + c
				}
				weights[out*inChannels+in] = tm.gain[c]
				bias[out] = tm.bias[c]
			}
		}
	}
	w := g.AddInitializer(onnxpb.Float32Tensor("weight", []int64{48, int64(inChannels), 1, 1}, weights))
	b := g.AddInitializer(onnxpb.Float32Tensor("bias", []int64{48}, bias))
	g.Add("Conv", []string{features, w, b}, []string{"shuffled"}, onnxpb.AttrInts("kernel_shape", 1, 1))
	g.Add("DepthToSpace", []string{"shuffled"}, []string{"output"},
		onnxpb.AttrInt("blocksize", 4), onnxpb.AttrString("mode", "CRD"))
	return g
}

// write saves the model in a fresh directory and returns its path.
func (tm testModel) write(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.onnx")
	if err := (&onnxpb.Model{Graph: tm.graph()}).WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// load writes the model and opens it as an upscaler.
func (tm testModel) load(t testing.TB) *Model {
	t.Helper()
	m, err := Load(context.Background(), testRuntime, tm.write(t))
	if err != nil {
		t.Fatal(err)
	}
	if m.Scale != tm.scale {
		t.Fatalf("%s: Load found scale %d, want %d", tm.name, m.Scale, tm.scale)
	}
	return m
}

// at is the model's clamped output, in [0,1], for an input pixel of RGB v (in [0,1]).
func (tm testModel) at(v [3]float64) [3]float64 {
	var y [3]float64
	for c := range y {
		y[c] = clamp01f(float64(tm.gain[c])*v[c] + float64(tm.bias[c]))
	}
	return y
}

func clamp01f(v float64) float64 { return max(0, min(v, 1)) }

// plane is an image held as unrounded float64 samples in [0,1], channels interleaved: the
// reference results before quantisation.
type plane struct {
	w, h, channels int
	v              []float64
}

func (p *plane) at(x, y, c int) float64 { return p.v[(y*p.w+x)*p.channels+c] }

// referenceUpscale is what Upscale must return for src with a test model at strength 1,
// before rounding: nearest-neighbour enlargement by the model's scale through its affine,
// then, for ×2 from a ×4 model, the Lanczos halving. Colour is computed as RGB; gray images
// and alpha go in as gray RGB and come back as BT.601 luma; alpha is left at full when every
// pixel is opaque (the alpha pass is skipped).
func referenceUpscale(src *imageio.Image, tm testModel, factor int) *plane {
	full := float64(uint32(1)<<src.Depth - 1)
	s := tm.scale
	// big is the network's output at its own scale: RGB for the colour, then RGB for the alpha
	// run as a gray picture.
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
	if factor != s {
		big = lanczosHalf(big)
	}
	opaque := isOpaque(src)
	out := &plane{w: big.w, h: big.h, channels: src.Channels, v: make([]float64, big.w*big.h*src.Channels)}
	for i := range big.w * big.h {
		n := big.v[i*6 : i*6+6]
		o := out.v[i*src.Channels:]
		switch src.Channels {
		case 1:
			o[0] = lumaf(n[0:3])
		default:
			copy(o[:3], n[0:3])
		}
		if src.Channels == 4 {
			o[3] = 1
			if !opaque {
				o[3] = lumaf(n[3:6])
			}
		}
	}
	return out
}

func lumaf(rgb []float64) float64 { return 0.299*rgb[0] + 0.587*rgb[1] + 0.114*rgb[2] }

func isOpaque(img *imageio.Image) bool {
	if img.Channels != 4 {
		return true
	}
	full := img.MaxValue()
	for i := 3; i < img.W*img.H*4; i += 4 {
		if img.At(i) != full {
			return false
		}
	}
	return true
}

// lanczosHalf shrinks p to half size with a Lanczos-3 filter stretched by the factor 2, in the
// way PIL's LANCZOS does: the source pixel centred at src+0.5 weighs
// L((src + 0.5 − centre)/2) for the destination centre (dst + 0.5)·2, taps past the edge are
// left out and the remaining weights normalised.
func lanczosHalf(p *plane) *plane {
	const a, factor = 3.0, 2.0
	kernel := func(x float64) float64 {
		if x == 0 {
			return 1
		}
		if math.Abs(x) >= a {
			return 0
		}
		return a * math.Sin(math.Pi*x) * math.Sin(math.Pi*x/a) / (math.Pi * math.Pi * x * x)
	}
	weightsFor := func(dst, n int) (first int, w []float64) {
		centre := (float64(dst) + 0.5) * factor
		first = max(int(math.Floor(centre-a*factor)), 0)
		last := min(int(math.Ceil(centre+a*factor)), n-1)
		sum := 0.0
		for src := first; src <= last; src++ {
			k := kernel((float64(src) + 0.5 - centre) / factor)
			w = append(w, k)
			sum += k
		}
		for i := range w {
			w[i] /= sum
		}
		return first, w
	}
	out := &plane{w: p.w / 2, h: p.h / 2, channels: p.channels, v: make([]float64, p.w/2*p.h/2*p.channels)}
	for y := range out.h {
		y0, wy := weightsFor(y, p.h)
		for x := range out.w {
			x0, wx := weightsFor(x, p.w)
			for c := range p.channels {
				sum := 0.0
				for i, ky := range wy {
					for k, kx := range wx {
						sum += ky * kx * p.at(x0+k, y0+i, c)
					}
				}
				out.v[(y*out.w+x)*out.channels+c] = sum
			}
		}
	}
	return out
}

// compareToReference checks every sample of got against the reference. slack is in sample
// steps: 0.5 plus a hair demands the correctly rounded value (either neighbour when the
// reference sits on a tie, since the runtime computes in float32); 1 allows one step.
func compareToReference(t *testing.T, got *imageio.Image, want *plane, depth int, slack float64) {
	t.Helper()
	if got.W != want.w || got.H != want.h || got.Channels != want.channels || got.Depth != depth {
		t.Fatalf("got %dx%d, %d channels, %d-bit; want %dx%d, %d channels, %d-bit",
			got.W, got.H, got.Channels, got.Depth, want.w, want.h, want.channels, depth)
	}
	full := float64(uint32(1)<<depth - 1)
	worst, bad := 0.0, 0
	for i, g := range samples(got) {
		e := clamp01f(want.v[i]) * full
		d := math.Abs(float64(g) - e)
		worst = max(worst, d)
		if d > slack {
			if bad < 5 {
				c := i % got.Channels
				px := i / got.Channels
				t.Errorf("pixel (%d,%d) channel %d = %d, want %.3f", px%got.W, px/got.W, c, g, e)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d samples differ from the reference by more than %.2f steps", bad, len(want.v), slack)
	}
	t.Logf("largest difference from the reference: %.4f steps of %d bits", worst, depth)
}

// exact is the slack that demands correct rounding of the reference: float32 arithmetic in
// the runtime moves a 16-bit sample by well under 0.02 steps.
const exact = 0.52

// noiseImage is a reproducible random image: every pixel differs from its neighbours, so a
// tile pasted one pixel off or a channel swapped cannot go unnoticed.
func noiseImage(w, h, channels, depth int, seed uint64) *imageio.Image {
	r := rand.New(rand.NewPCG(seed, 1))
	full := uint32(1)<<depth - 1
	img := imageio.New(w, h, channels, depth)
	for i := range w * h * channels {
		img.Set(i, uint16(r.Uint32N(full+1)))
	}
	return img
}

// imageOf builds an image from a list of sample values, at either depth.
func imageOf(w, h, channels, depth int, list []uint16) *imageio.Image {
	img := imageio.New(w, h, channels, depth)
	for i, v := range list {
		img.Set(i, v)
	}
	return img
}

// samples returns every sample of img as a number, whatever its depth.
func samples(img *imageio.Image) []uint16 {
	out := make([]uint16, img.W*img.H*img.Channels)
	for i := range out {
		out[i] = img.At(i)
	}
	return out
}

func sameImage(a, b *imageio.Image) error {
	if a.W != b.W || a.H != b.H || a.Channels != b.Channels || a.Depth != b.Depth {
		return fmt.Errorf("%dx%d×%d@%d vs %dx%d×%d@%d", a.W, a.H, a.Channels, a.Depth, b.W, b.H, b.Channels, b.Depth)
	}
	as, bs := samples(a), samples(b)
	for i := range as {
		if as[i] != bs[i] {
			px := i / a.Channels
			return fmt.Errorf("pixel (%d,%d) channel %d: %d vs %d", px%a.W, px/a.W, i%a.Channels, as[i], bs[i])
		}
	}
	return nil
}

// TestTestModels checks the test models themselves against their description, straight
// through the runtime and not through the upscaler: otherwise a mistake in a model could hide
// a matching one in the upscaler. The ×2 model must also refuse an odd side, which is what
// makes it a fair test of the upscaler's padding.
func TestTestModels(t *testing.T) {
	ctx := context.Background()
	const w, h = 6, 4
	for _, tm := range []testModel{nearest4, affine4, unshuffle2, affine2} {
		t.Run(tm.name, func(t *testing.T) {
			m := tm.load(t)
			src := noiseImage(w, h, 3, 8, 1)
			input := make([]float32, 3*w*h)
			for i := range w * h {
				for c := range 3 {
					input[c*w*h+i] = float32(src.At(i*3+c)) / 255
				}
			}
			in, err := onnx.NewTensor(onnx.NewShape(1, 3, h, w), input)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Destroy()
			outputs := []ort.Value{nil}
			if err := m.Session.Run(ctx, []ort.Value{in}, outputs); err != nil {
				t.Fatal(err)
			}
			defer outputs[0].Destroy()
			s := tm.scale
			if got, want := outputs[0].GetShape(), onnx.NewShape(1, 3, h*int64(s), w*int64(s)); !slices.Equal(got, want) {
				t.Fatalf("output shape %v, want %v", got, want)
			}
			data := outputs[0].(*onnx.Tensor[float32]).GetData()
			for y := range h * s {
				for x := range w * s {
					var v [3]float64
					for c := range 3 {
						v[c] = float64(input[c*w*h+(y/s)*w+x/s])
					}
					for c := range 3 {
						// The test's clamp01f stands in for the upscaler's; the model does not clamp.
						got := clamp01f(float64(data[(c*h*s+y)*w*s+x]))
						if want := tm.at(v)[c]; math.Abs(got-want) > 1e-6 {
							t.Fatalf("output (%d,%d) channel %d = %g, want %g", x, y, c, got, want)
						}
					}
				}
			}
		})
	}
	t.Run("odd side refused by unshuffle x2", func(t *testing.T) {
		m := unshuffle2.load(t)
		in, err := onnx.NewEmptyTensor[float32](onnx.NewShape(1, 3, 4, 5))
		if err != nil {
			t.Fatal(err)
		}
		defer in.Destroy()
		outputs := []ort.Value{nil}
		// Any error will do: the point is that the runtime does not quietly accept an odd side.
		err = m.Session.Run(ctx, []ort.Value{in}, outputs)
		if err == nil {
			outputs[0].Destroy()
			t.Fatal("the runtime ran SpaceToDepth(2) on a 5-pixel side; the padding tests would prove nothing")
		}
		t.Logf("a 5×4 input is refused, as it should be: %v", err)
	})
}
