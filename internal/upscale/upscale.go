package upscale

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"time"

	onnx "github.com/yalue/onnxruntime_go"

	"dream/internal/imageio"
	"dream/internal/ort"
)

// Options for one upscale.
type Options struct {
	// Factor is the enlargement, from 1 to the network's own scale: each side of the output is
	// round(side·Factor). The network runs at its own scale, and a Lanczos filter (as PIL's
	// LANCZOS) resizes its output to the size asked for; at the network's scale it is not needed.
	Factor float64
	// Width and Height, when both are set, are the output's exact size instead of Factor's:
	// each side at most the network's scale times the image's. A side may also be smaller than
	// the image's, as in the second pass of a size that is more than ×4 one way and less the
	// other; the blend's original (Plain, or the image) must not be larger than the result.
	Width, Height int
	// Strength blends the model's result with a bicubic enlargement of the original:
	// out = (1−s)·bicubic + s·model. 1 keeps the model's own output.
	Strength float64
	// Plain, when set, is the original the bicubic enlargement of the blend is made from, in
	// place of the input: a second pass (×8 is ×4 twice) blends with the image the user gave,
	// not with the first pass's output. It has the input's channels and depth.
	Plain *imageio.Image
	// Tile is the core size in input pixels; 0 chooses it from Budget.
	Tile int
	// Budget is the memory, in bytes, the model's working set may take; 0 means DefaultBudget.
	Budget int64
	// Progress, when set, is told how far the upscale has come, in units of which a tile is
	// ProgressPerTile: 0 of total before the first tile, then often while each tile runs
	// (see progress.go), never less than before, and total of total at the end. It is called
	// from more than one goroutine, one call at a time.
	Progress func(done, total int)
}

// DefaultBudget keeps a ×4 upscale of a 1024×1024 photo well under 1 GB of peak memory while
// letting images up to about 600×600 (general-x4v3) run whole.
const DefaultBudget = 512 << 20

// DefaultPad is the context, in input pixels, each tile's window carries past its core, for
// networks without a measured pad of their own (see Model.Pad).
const DefaultPad = compactPad

// Upscale returns img enlarged by opts.Factor, or to opts.Width×opts.Height. The original is
// not modified. Memory stays bounded by the tile: each tile's result goes straight into the
// 8- or 16-bit output, resized on the way.
func (m *Model) Upscale(ctx context.Context, img *imageio.Image, opts Options) (*imageio.Image, error) {
	if err := m.check(img, opts); err != nil {
		return nil, err
	}
	g := m.Grid(img.W, img.H, opts)
	for {
		out, err := m.runGrid(ctx, img, opts, g, m.Pad)
		if !ort.IsAllocationFailure(err) {
			return out, err
		}
		// Running out of memory is answered with smaller tiles, down to a floor.
		finer := g.finer(img.W, img.H, m.Pad)
		if finer == g {
			return nil, fmt.Errorf("not enough memory to upscale even with %d-pixel tiles: %w", MinTile, err)
		}
		g = finer
	}
}

// Grid is how Upscale cuts a w×h image: by opts.Tile when set, else into the windows that fit
// the memory budget and take the least time (see gridFor).
func (m *Model) Grid(w, h int, opts Options) grid {
	budget := opts.Budget
	if budget <= 0 {
		budget = DefaultBudget
	}
	switch {
	case m.Fixed != image.Point{}:
		return fixedGrid(w, h, m.Pad, m.Fixed, budget/m.BytesPerPixel)
	case opts.Tile > 0:
		return tileGrid(w, h, opts.Tile)
	}
	return gridFor(w, h, m.Pad, budget/m.BytesPerPixel, m.Slowdown)
}

// Overlap is the share of extra pixels the model computes for a w×h image under opts: the
// windows' total area over the image's, 1 for an image that runs whole.
func (m *Model) Overlap(w, h int, opts Options) float64 {
	return float64(m.Grid(w, h, opts).area(w, h, m.Pad)) / (float64(w) * float64(h))
}

func (m *Model) check(img *imageio.Image, opts Options) error {
	exact := opts.Width > 0 || opts.Height > 0
	if !exact && !(opts.Factor >= 1 && opts.Factor <= float64(m.Scale)) {
		return fmt.Errorf("%s is a ×%d model and cannot upscale ×%g in one pass: use a factor from 1 to %d",
			m.Name, m.Scale, opts.Factor, m.Scale)
	}
	outW, outH := opts.size(img.W, img.H)
	if outW < 1 || outH < 1 || outW > img.W*m.Scale || outH > img.H*m.Scale {
		return fmt.Errorf("%s is a ×%d model and cannot make %d×%d from %d×%d in one pass: each side must be at most %d times the image's",
			m.Name, m.Scale, outW, outH, img.W, img.H, m.Scale)
	}
	if opts.Strength < 0 || opts.Strength > 1 || math.IsNaN(opts.Strength) {
		return fmt.Errorf("upscale strength %g is out of range: use a value from 0 to 1", opts.Strength)
	}
	plain := img
	if opts.Plain != nil {
		plain = opts.Plain
	}
	if plain.Channels != img.Channels || plain.Depth != img.Depth {
		return fmt.Errorf("the original to blend with (%d channels, %d-bit) is not like the image (%d channels, %d-bit)",
			plain.Channels, plain.Depth, img.Channels, img.Depth)
	}
	// The blend's bicubic enlargement only enlarges.
	if opts.Strength < 1 && (plain.W > outW || plain.H > outH) {
		return fmt.Errorf("a %d×%d result is smaller than the %d×%d original it is to be blended with: blend only when enlarging",
			outW, outH, plain.W, plain.H)
	}
	return nil
}

// size is the output's size for a w×h image.
func (o Options) size(w, h int) (int, int) {
	if o.Width > 0 || o.Height > 0 {
		return o.Width, o.Height
	}
	return scaled(w, o.Factor), scaled(h, o.Factor)
}

// scaled is a side times a factor, rounded to the nearest pixel.
func scaled(side int, factor float64) int {
	return int(math.Round(float64(side) * factor))
}

// resampleReach is the context, in input pixels, the Lanczos taps of an output pixel reach
// past the core that holds its centre, for n input and m output pixels along an axis: the
// kernel's 3 output pixels, or 3 input pixels when the output is smaller, plus a pixel for the
// rounding of window edges. Windows are given at least that much pad, so no tap falls outside
// the network's output.
func resampleReach(n, m int) int {
	return int(math.Ceil(3*max(1, float64(n)/float64(m)))) + 1
}

// resizes reports whether the output of img under opts differs from the network's own.
func (m *Model) resizes(img *imageio.Image, opts Options) bool {
	outW, outH := opts.size(img.W, img.H)
	return outW != img.W*m.Scale || outH != img.H*m.Scale
}

// job holds what one run of the tile loop needs.
type job struct {
	model    *Model
	src, dst *imageio.Image
	plain    *imageio.Image // what the blend enlarges: src, or Options.Plain
	strength float32
	maxValue float32
	// The network input and output, one pair reused by every tile: pair's, which goes back
	// to the model for the next image when the job ends.
	in, out *onnx.Tensor[float32]
	pair    *tensors
	// inW, inH are the tensor's sides: the window, made even for ×2 networks.
	inW, inH int
	// Bicubic tables from source to output, for the strength blend.
	blendX, blendY *taps
	// Lanczos tables from the network's output to the output's size, when they differ.
	resizeX, resizeY *taps
}

// run upscales with cores of at most tileSize (0: the whole image) and pad pixels of context.
func (m *Model) run(ctx context.Context, img *imageio.Image, opts Options, tileSize, pad int) (*imageio.Image, error) {
	return m.runGrid(ctx, img, opts, tileGrid(img.W, img.H, tileSize), pad)
}

func (m *Model) runGrid(ctx context.Context, img *imageio.Image, opts Options, g grid, pad int) (*imageio.Image, error) {
	if m.resizes(img, opts) {
		outW, outH := opts.size(img.W, img.H)
		pad = max(pad, resampleReach(img.W, outW), resampleReach(img.H, outH))
	}
	window, tiles := planGrid(img.W, img.H, g, pad)
	j, err := m.newJob(img, opts, window)
	if err != nil {
		return nil, err
	}
	defer j.destroy()
	// Told 0 just before the first tile, which can take minutes: a bar's clock starts there.
	progress := newMeter(opts.Progress, len(tiles)*ProgressPerTile)
	defer progress.close()
	sets := []channelSet{colour}
	if img.Channels == 4 && !opaque(img) {
		sets = append(sets, alphaChannel)
	}
	for i, t := range tiles {
		for k, set := range sets {
			if err := j.runTile(ctx, t, set, runRange(progress, i, k, len(sets))); err != nil {
				return nil, err
			}
		}
	}
	progress.reach(len(tiles) * ProgressPerTile)
	if img.Channels == 4 && len(sets) == 1 {
		fillOpaque(j.dst)
	}
	return j.dst, nil
}

func (m *Model) newJob(img *imageio.Image, opts Options, window image.Point) (*job, error) {
	j := &job{
		model:    m,
		src:      img,
		plain:    img,
		strength: float32(opts.Strength),
		maxValue: float32(uint32(1)<<img.Depth - 1),
		inW:      window.X,
		inH:      window.Y,
	}
	if m.Scale == 2 {
		// ×2 networks pixel-unshuffle their input, so both sides must be even.
		j.inW, j.inH = j.inW+j.inW%2, j.inH+j.inH%2
	}
	if opts.Plain != nil {
		j.plain = opts.Plain
	}
	outW, outH := opts.size(img.W, img.H)
	j.dst = imageio.New(outW, outH, img.Channels, img.Depth)
	if opts.Strength < 1 {
		j.blendX, j.blendY = bicubicTaps(j.plain.W, outW), bicubicTaps(j.plain.H, outH)
	}
	if m.resizes(img, opts) {
		j.resizeX, j.resizeY = lanczosTaps(img.W*m.Scale, outW), lanczosTaps(img.H*m.Scale, outH)
	}
	pair, err := m.spare.take(j.inW, j.inH, m.Scale)
	if err != nil {
		return nil, err
	}
	j.pair, j.in, j.out = pair, pair.in, pair.out
	return j, nil
}

// destroy hands the tensors back to the model for the next image of the same size.
func (j *job) destroy() {
	j.model.spare.give(j.pair, j.model.Scale)
}

// channelSet says which part of the image a tile run computes.
type channelSet int

const (
	colour channelSet = iota
	alphaChannel
)

// runTile computes one set of channels of the tile, moving the job's count along s.
func (j *job) runTile(ctx context.Context, t tile, set channelSet, s countRange) error {
	s.since = time.Now()
	j.fill(t, set)
	if err := j.model.runWindow(ctx, j.in, j.out, s); err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return fmt.Errorf("upscaling with %s: %w", j.model.Name, err)
	}
	j.store(t, set)
	s.reach(s.to)
	return nil
}

// runWindow runs the network on in into out: in one run, or for a split network, its body
// and then its tail on the body's features. The count moves along s as it goes, short of
// s.to: what follows the run is part of the tile too.
func (m *Model) runWindow(ctx context.Context, in, out *onnx.Tensor[float32], s countRange) error {
	shape := in.GetShape()
	pixels := int(shape[2] * shape[3])
	if m.Tail == nil {
		return m.runBody(ctx, in, []ort.Value{out}, pixels, s)
	}
	body := countRange{meter: s.meter, from: s.from, to: s.at(m.pace.bodyShare()), since: s.since}
	outputs := []ort.Value{nil}
	if err := m.runBody(ctx, in, outputs, pixels, body); err != nil {
		return err
	}
	defer outputs[0].Destroy()
	body.reach(body.to)
	features, ok := outputs[0].(*onnx.Tensor[float32])
	if !ok {
		return fmt.Errorf("the network's body gave %T features, not float32", outputs[0])
	}
	start := time.Now()
	if err := m.enlarge(ctx, features, out, countRange{meter: s.meter, from: body.to, to: s.to}); err != nil {
		return err
	}
	m.pace.noteTail(time.Since(start), pixels)
	return nil
}

// runBody is one ORT run of the whole network or its body on a window of pixels, its count
// estimated along s while it runs, and its time kept as the model's pace.
func (m *Model) runBody(ctx context.Context, in *onnx.Tensor[float32], outputs []ort.Value, pixels int, s countRange) error {
	s.begin(m.pace.bodyTime(pixels))
	start := time.Now()
	if err := m.Session.Run(ctx, []ort.Value{in}, outputs); err != nil {
		return err
	}
	m.pace.noteBody(time.Since(start), pixels)
	return nil
}

// fill writes the tile's window into the input tensor as RGB in [0,1]. Gray is repeated into
// the three channels and so is alpha, which the model enlarges as a gray picture (Real-ESRGAN's
// default). Where the window runs past the image (made even for a ×2 network, or a fixed-size
// export's window on a smaller image) the image is mirrored into it.
func (j *job) fill(t tile, set channelSet) {
	data := j.in.GetData()
	plane := j.inW * j.inH
	src := j.src
	scale := 1 / j.maxValue
	// The part of the window inside the image: windows start inside it.
	insideW, insideH := min(t.window.Dx(), src.W-t.window.Min.X), min(t.window.Dy(), src.H-t.window.Min.Y)
	parallelRows(0, j.inH, func(y0, y1 int) {
		for y := y0; y < y1; y++ {
			sy := t.window.Min.Y + reflect(y, insideH)
			for x := 0; x < j.inW; x++ {
				sx := t.window.Min.X + reflect(x, insideW)
				p := (sy*src.W + sx) * src.Channels
				var r, g, b uint16
				switch {
				case set == alphaChannel:
					a := src.At(p + 3)
					r, g, b = a, a, a
				case src.Channels == 1:
					v := src.At(p)
					r, g, b = v, v, v
				default:
					r, g, b = src.At(p), src.At(p+1), src.At(p+2)
				}
				i := y*j.inW + x
				data[i] = float32(r) * scale
				data[plane+i] = float32(g) * scale
				data[2*plane+i] = float32(b) * scale
			}
		}
	})
}

// reflect maps an index past the end of a span of n back inside it, as reflect-padding does
// (the edge sample is not repeated), mirroring again as often as the span is short.
func reflect(i, n int) int {
	if i < n {
		return i
	}
	if n <= 1 {
		return 0
	}
	period := 2 * (n - 1)
	if i %= period; i >= n {
		i = period - i
	}
	return i
}

// opaque reports whether every alpha sample of an RGBA image is at full value, in which case
// the alpha pass is skipped.
func opaque(img *imageio.Image) bool {
	full := img.MaxValue()
	for i := 3; i < img.W*img.H*4; i += 4 {
		if img.At(i) != full {
			return false
		}
	}
	return true
}

func fillOpaque(img *imageio.Image) {
	full := img.MaxValue()
	for i := 3; i < img.W*img.H*4; i += 4 {
		img.Set(i, full)
	}
}
