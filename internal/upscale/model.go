// Package upscale runs Real-ESRGAN models over images of any size: it cuts the image into tiles
// that fit a memory budget, gives each tile enough context that the seams cannot be seen, and
// writes each tile's result straight into the output image.
package upscale

import (
	"context"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"time"

	onnx "github.com/yalue/onnxruntime_go"

	"dream/internal/onnxpb"
	"dream/internal/ort"
)

// Contract is what every Real-ESRGAN export offers: one RGB float32 NCHW image in [0,1] and one
// image out at the model's scale. The names differ between exports, so they are not checked.
var Contract = ort.Contract{
	Inputs:  []ort.Tensor{{Type: ort.Float32, Dims: []int64{1, 3, ort.Any, ort.Any}}},
	Outputs: []ort.Tensor{{Type: ort.Float32, Dims: []int64{1, 3, ort.Any, ort.Any}}},
}

// Model is a loaded upscaling network.
type Model struct {
	Name string
	// Session runs the network on a window: the whole network, or, when Tail is set, its
	// body, whose features Tail enlarges piece by piece (see split.go).
	Session *ort.Session
	Tail    *ort.Session
	// Scale is the network's own factor, 2 or 4, found by running it once on a small input.
	Scale int
	// BytesPerPixel is the memory one window pixel costs while the model runs; the windows
	// are sized from it and the budget.
	BytesPerPixel int64
	// Pad is the context, in input pixels, each tile's window carries past its core: enough
	// that a tiled result cannot be told from a whole-image run (TestTiledMatchesWhole).
	Pad int
	// Slowdown is how much dearer a pixel gets per pixel of window: a window of n pixels
	// costs n·(1 + Slowdown·n). Large windows outgrow the caches, so the quickest plan is not
	// always the one with the largest windows.
	Slowdown float64
	// Fixed is the input size the export declares, when it declares one (some published
	// exports were traced at 1×3×256×256 and run at no other size): every window then has
	// exactly that size, padded past the image's edge where the image is smaller. A side
	// of 0 is free.
	Fixed image.Point
	// spare is the input and output of the last upscale, kept for the next image.
	spare spareTensors
	// pace is the time a window pixel has taken, for progress between the ends of runs.
	pace pace
}

// Costs of the two kinds of Real-ESRGAN network with ONNX Runtime 1.30 on CPU (2 cores).
// Networks are told apart by their weight size (x4plus 67 MB, general-x4v3 4.9 MB); an unknown
// large network gets RRDBNet's costs.
//
// Memory: peak RSS of a whole dream process upscaling one window, against the window's pixels.
// x4plus took 1.26 GB at 256², 2.21 GB at 384², 3.31 GB at 512² and 6.37 GB at 724² (10.4 KiB
// a pixel from 256² to 512², 11.7 KiB from 512² to 724²) run whole; run as body and tail
// (split.go), 1.32 GB at 512² and 4.94 GB at 1024² (4.6 KiB a pixel, the body's activations
// and the features between the parts, the tail's pieces adding a fixed 180 MB). general-x4v3
// 413 MB at 512² and 616 MB at 724² (0.78 KiB a pixel).
//
// Speed (BenchmarkWindow, warm runs on a quiet machine): x4plus whole ran 4.67k px/s on a
// 362² window, 4.82k at 512², 4.41k at 724² and 4.02k at 1000², so a megapixel window cost
// 20% more a pixel than a 512² one. That was its tail, whose 64-channel activations at 16
// times the window's pixels outgrow every cache: its body alone, in the same process and
// alternating, ran 8.67k px/s at 512² and 8.54k at 1024² (1.6% slower), and 7.57k and 8.04k
// in a noisier pair; the tail in 128² pieces costs the same a pixel at any window.
// general-x4v3 gets faster with size, 61k px/s at 256² to 72k at 1448², then slower again:
// a 4000×3000 photo ×2 took 222 s both in two windows of 2020×3000 (1.01× the image's pixels,
// 6.2 GB peak) and in twelve of about 1030² (1.05×, 1.7 GB), so its 6-megapixel windows cost
// some 5% more a pixel.
//
// Pads, measured on a 256² photo crop cut into 2×2 tiles against the whole-image run (largest
// difference of one sample): general-x4v3 4/255 at 16, 3/255 at 20, 1/255 at 24; x4plus,
// whose 23 dense blocks see far, 17/255 at 24, 10/255 at 32, 7/255 at 40, 2/255 at 48.
// Real-ESRGAN's own tile_pad of 10 gives 12/255 and 32/255. A feathered blend across the
// overlap, in place of a cut in its middle, did no better at any of these pads.
const (
	compactPad           = 20
	compactBytesPerPixel = 800
	compactSlowdown      = 1e-8
	largePad             = 48
	largeBytesPerPixel   = 12 << 10
	largeSlowdown        = 3e-7
	splitBytesPerPixel   = 4700
	splitSlowdown        = 2e-8
	largeModelFileSize   = 20 << 20
)

// Load opens a model file through the runtime and finds its scale. A network is opened as its
// body and its tail when it splits (see split.go), else whole.
func Load(ctx context.Context, rt *ort.Runtime, path string) (*Model, error) {
	fixed, err := declaredWindow(path)
	if err != nil {
		return nil, err
	}
	var body, tail *ort.Session
	// The tail runs on pieces of its own size, which a fixed-size export cannot take.
	if fixed == (image.Point{}) {
		if body, tail, err = openSplit(rt, path); err != nil {
			return nil, err
		}
	}
	if body == nil {
		if body, err = rt.Session(path, Contract); err != nil {
			return nil, err
		}
	}
	m := costsOf(path, tail != nil)
	m.Name, m.Session, m.Tail = filepath.Base(path), body, tail
	m.Fixed, m.Pad = fixed, padFor(fixed, m.Pad)
	if m.Scale, err = m.probeScale(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

// costsOf is a Model with the pad, memory and speed costs of the network in path, told by its
// file's size (see the measurements above) and whether it runs as body and tail, and nothing
// else.
func costsOf(path string, split bool) *Model {
	if info, err := os.Stat(path); err == nil && info.Size() > largeModelFileSize {
		if split {
			return &Model{Pad: largePad, BytesPerPixel: splitBytesPerPixel, Slowdown: splitSlowdown}
		}
		return &Model{Pad: largePad, BytesPerPixel: largeBytesPerPixel, Slowdown: largeSlowdown}
	}
	return &Model{Pad: compactPad, BytesPerPixel: compactBytesPerPixel, Slowdown: compactSlowdown}
}

// Tiles is how many tiles Upscale runs for a w×h image with the model file at path, known
// without loading the model: a progress bar can show them while it loads, which takes over a
// second for x4plus.
func Tiles(path string, w, h int, opts Options) int {
	m := planned(path)
	_, tiles := planGrid(w, h, m.Grid(w, h, opts), m.Pad)
	return len(tiles)
}

// WorkingSet is the memory the model file at path takes while it upscales a w×h image: its
// window's pixels at the network's cost each, at most opts.Budget (and less for an image
// smaller than the window the budget allows). Known without loading the model, as Tiles.
func WorkingSet(path string, w, h int, opts Options) int64 {
	m := planned(path)
	return m.Grid(w, h, opts).windowPixels(w, h, m.Pad) * m.BytesPerPixel
}

// planned is the Model Load would give for the file at path as far as planning its tiles
// goes: costs, pad and declared window, without a session. A large network is taken to
// split, as every RRDBNet export does, unless it declares a fixed input size.
func planned(path string) *Model {
	fixed, _ := declaredWindow(path)
	m := costsOf(path, fixed == image.Point{})
	m.Fixed, m.Pad = fixed, padFor(fixed, m.Pad)
	return m
}

// probeSize is the side of the image probeScale runs: even (×2 models pixel-unshuffle their
// input) and small enough to cost a few milliseconds even for RRDBNet.
const probeSize = 16

// minFixedSide is the smallest declared window side dream tiles with: smaller windows would
// leave cores of a few pixels and no context.
const minFixedSide = 16

// declaredWindow reads the input size the model at path declares: the zero point when its
// height and width are free, as in Real-ESRGAN's own exports.
func declaredWindow(path string) (image.Point, error) {
	ins, _, err := onnxpb.ReadSignature(path)
	if err != nil || len(ins) != 1 || len(ins[0].Dims) != 4 {
		// The contract check, when the session opens, explains what is wrong.
		return image.Point{}, nil
	}
	size := func(d onnxpb.Dim) int {
		if d.Param != "" {
			return 0
		}
		return max(int(d.Value), 0)
	}
	dims := ins[0].Dims
	name := filepath.Base(path)
	if batch := size(dims[0]); batch > 1 {
		return image.Point{}, fmt.Errorf("%s declares a batch of %d images; dream runs one window at a time: export it with a batch of 1 or a free batch size",
			name, batch)
	}
	fixed := image.Pt(size(dims[3]), size(dims[2]))
	for _, side := range []int{fixed.X, fixed.Y} {
		if side > 0 && side < minFixedSide {
			return image.Point{}, fmt.Errorf("%s declares its input as %s, too small to tile with: dream needs windows of at least %d pixels; export it with a larger or free size",
				name, formatSize(fixed), minFixedSide)
		}
	}
	return fixed, nil
}

// formatSize writes a declared size as W×H, "?" for a free side.
func formatSize(p image.Point) string {
	side := func(v int) string {
		if v <= 0 {
			return "?"
		}
		return fmt.Sprint(v)
	}
	return side(p.X) + "×" + side(p.Y)
}

// padFor shrinks the context pad to a quarter of a fixed window's shorter side, so that
// each window's core keeps at least half of it.
func padFor(fixed image.Point, pad int) int {
	for _, side := range []int{fixed.X, fixed.Y} {
		if side > 0 {
			pad = min(pad, side/4)
		}
	}
	return pad
}

// probeInput is the size probeScale runs: the declared size where there is one.
func (m *Model) probeInput() image.Point {
	p := image.Pt(probeSize, probeSize)
	if m.Fixed.X > 0 {
		p.X = m.Fixed.X
	}
	if m.Fixed.Y > 0 {
		p.Y = m.Fixed.Y
	}
	return p
}

// probeScale runs the model on a small input and reads the factor off the output's size. It
// also sets the model's first pace (see progress.go): from a second run, larger and warm,
// or where there is none (a fixed-size export, whose probe is window-sized; a model that
// fails at that size, as it will on its first tile) from this one.
func (m *Model) probeScale(ctx context.Context) (int, error) {
	size := m.probeInput()
	out, body, tail, err := m.runZeros(ctx, size)
	if err != nil {
		return 0, err
	}
	defer out.Destroy()
	shape := out.GetShape()
	scale := int(shape[3]) / size.X
	if int(shape[3]) != scale*size.X || int(shape[2]) != scale*size.Y || (scale != 2 && scale != 4) {
		return 0, fmt.Errorf("%s: a %dx%d input gave a %dx%d output; dream needs a ×2 or ×4 upscaler",
			m.Name, size.X, size.Y, shape[3], shape[2])
	}
	if m.Fixed == (image.Point{}) {
		// The quicker of two runs: the first at a new size also sets up for it, and either
		// may be slowed by other work on the machine.
		warm := image.Pt(paceSide, paceSide)
		for i := range 2 {
			out, b, t, err := m.runZeros(ctx, warm)
			if err != nil {
				break
			}
			out.Destroy()
			if i == 0 || b+t < body+tail {
				size, body, tail = warm, b, t
			}
		}
	}
	pixels := float64(size.X * size.Y)
	m.pace.set(body.Seconds()/pixels, tail.Seconds()/pixels)
	return scale, nil
}

// paceSide is the side of the input whose run gives a model its first pace. A session's
// first run is slowed by its setup, and a tiny input by each operator's fixed cost: x4plus's
// body took 173 µs a pixel warm at 16², 123 at 32² and 100 at 256², where its tail took
// 11, 33 and 32 (in 128² pieces). Two runs at 32² cost x4plus 0.3 s more to load.
const paceSide = 32

// runZeros runs the network, both parts when split, on a zero input of size, and returns its
// output, which the caller destroys, and the time each part took.
func (m *Model) runZeros(ctx context.Context, size image.Point) (out ort.Value, body, tail time.Duration, err error) {
	in, err := onnx.NewEmptyTensor[float32](onnx.NewShape(1, 3, int64(size.Y), int64(size.X)))
	if err != nil {
		return nil, 0, 0, err
	}
	defer in.Destroy()
	outputs := []ort.Value{nil}
	start := time.Now()
	if err := m.Session.Run(ctx, []ort.Value{in}, outputs); err != nil {
		return nil, 0, 0, err
	}
	body = time.Since(start)
	if m.Tail == nil {
		return outputs[0], body, 0, nil
	}
	features := outputs[0]
	defer features.Destroy()
	outputs[0] = nil
	start = time.Now()
	if err := m.Tail.Run(ctx, []ort.Value{features}, outputs); err != nil {
		return nil, 0, 0, err
	}
	return outputs[0], body, time.Since(start), nil
}
