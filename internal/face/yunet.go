package face

import (
	"context"
	"fmt"
	"image"
	"math"
	"path/filepath"

	onnx "github.com/yalue/onnxruntime_go"

	"dream/internal/imageio"
	"dream/internal/ort"
)

// YuNet constants, as OpenCV's FaceDetectorYN and SPEC §2.2 use them.
const (
	// DefaultYuNetThreshold is the lowest score a face needs. OpenCV's FaceDetectorYN defaults
	// to 0.9; the SPEC's 0.6 also keeps small, blurred and turned faces, which are the ones
	// most in need of restoration.
	DefaultYuNetThreshold = 0.6
	// yunetNMSIoU is the overlap above which the lower-scoring of two faces is dropped.
	yunetNMSIoU = 0.3
	// yunetTopK bounds the candidates NMS compares (OpenCV's top_k), so a pathological image
	// that lights up every cell cannot make the quadratic NMS slow.
	yunetTopK = 5000
	// yunetMaxSide is the long side of the shrunk copy Detect also runs on (see Detect).
	yunetMaxSide = 640
	// yunetWindow is the largest input side of one run at the image's own size: larger
	// images are cut into overlapping windows, so the input tensor and the network's
	// activations stay bounded whatever the photo's size.
	yunetWindow = 2048
	// yunetMaxFullSizeFace is the largest face (the long side of its box, in pixels) the
	// full-size pass keeps when the shrunk copy is run too; larger faces are left to the
	// shrunk copy. The bound is what lets windows overlap by a fixed amount (yunetOverlap),
	// and it drops what the full-size pass finds in large shapes that are no faces (the
	// astronaut's mission patch, enlarged ×3, scores 0.77 at full size and nothing at 640).
	yunetMaxFullSizeFace = 256
	// yunetEdgeMargin: a face whose box comes this close to a window edge inside the image may
	// be cut by it, and is left to the neighbouring window (see cutByWindow).
	yunetEdgeMargin = 16
	// yunetOverlap is the least overlap of neighbouring windows: the largest face the
	// full-size pass keeps plus the margin on both sides (see windowSpans).
	yunetOverlap = yunetMaxFullSizeFace + 2*yunetEdgeMargin
	// yunetDivisor: the network downsamples by 32, so the input is padded to a multiple of it.
	yunetDivisor = 32
)

// yunetStrides are the three feature maps' strides; the outputs come per stride.
var yunetStrides = [3]int{8, 16, 32}

// yunetHeads are the four kinds of output per stride and the values each gives per cell:
// class score, objectness, box (dx, dy, log w, log h), and five landmarks (x, y).
var yunetHeads = [4]struct {
	name  string
	width int64
}{{"cls", 1}, {"obj", 1}, {"bbox", 4}, {"kps", 10}}

// YuNetContract is what LoadYuNet checks a model against: one BGR image [1,3,H,W] and the
// twelve outputs named cls_8 … kps_32, matched by name because decoding depends on which is
// which. Outputs are ordered like OpenCV's: all cls, then obj, bbox and kps, each by stride.
var YuNetContract = ort.Contract{
	Inputs:  []ort.Tensor{{Type: ort.Float32, Dims: []int64{1, 3, ort.Any, ort.Any}}},
	Outputs: yunetOutputs(),
}

func yunetOutputs() []ort.Tensor {
	var out []ort.Tensor
	for _, head := range yunetHeads {
		for _, s := range yunetStrides {
			out = append(out, ort.Tensor{
				Name: fmt.Sprintf("%s_%d", head.name, s),
				Type: ort.Float32,
				Dims: []int64{1, ort.Any, head.width},
			})
		}
	}
	return out
}

// YuNet is the default face detector: OpenCV Zoo's face_detection_yunet (2023mar), about
// 230 KB. It is safe for concurrent use.
type YuNet struct {
	Session *ort.Session
	// Threshold is the lowest score a face is kept with; LoadYuNet sets
	// DefaultYuNetThreshold.
	Threshold float64
}

// LoadYuNet opens a YuNet ONNX export through the runtime after checking it against
// YuNetContract.
func LoadYuNet(rt *ort.Runtime, path string) (*YuNet, error) {
	session, err := rt.Session(path, YuNetContract)
	if err != nil {
		return nil, err
	}
	return &YuNet{Session: session, Threshold: DefaultYuNetThreshold}, nil
}

// Detect finds the faces in img (gray, RGB or RGBA, 8 or 16 bits; alpha is ignored). The
// faces are in img's coordinates, sorted by score, highest first. Boxes and landmarks are
// reported as the network gives them: a face cut by the image edge can have a box or
// landmarks outside the image. Cancelling ctx stops the run.
//
// YuNet finds faces from about 10 px to a few hundred px of its input, so no one scale serves
// every photo (SPEC §2.2 step 1). Detect runs it at two and merges the faces with NMS:
//   - the image at its own size finds the small faces, which shrinking a multi-megapixel
//     group photo to 640 loses (3 of 22 on such photos). An image larger than yunetWindow
//     is cut into overlapping windows, run one at a time, so memory stays bounded however
//     large the photo. This pass keeps faces up to yunetMaxFullSizeFace;
//   - a copy whose long side is yunetMaxSide finds the faces too large for the network's
//     receptive field at full size. An image already that small needs only the first pass.
//
// Each face's landmarks are then refined (refine.go), so the same face gets the same
// landmarks wherever it sits and whatever its size; boxes and scores are the detector's.
func (y *YuNet) Detect(ctx context.Context, img *imageio.Image) ([]Face, error) {
	if err := checkDetectImage(img); err != nil {
		return nil, err
	}
	var faces []Face
	for _, frame := range yunetFrames(img.W, img.H) {
		found, err := y.detectIn(ctx, img, frame)
		if err != nil {
			return nil, err
		}
		faces = append(faces, found...)
	}
	faces = suppress(best(faces, yunetTopK), yunetNMSIoU)
	if err := y.refineAll(ctx, img, faces); err != nil {
		return nil, err
	}
	return faces, nil
}

// yunetFrames lists the runs Detect makes on a w×h image: a window at full size per window
// the image is cut into, then the shrunk copy when the image is larger than it.
func yunetFrames(w, h int) []yunetFrame {
	shrunk := max(w, h) > yunetMaxSide
	var frames []yunetFrame
	for _, ys := range windowSpans(h) {
		for _, xs := range windowSpans(w) {
			window := image.Rect(xs[0], ys[0], xs[1], ys[1])
			f := newYunetFrame(w, h, window, window.Dx(), window.Dy())
			if shrunk {
				f.maxFace = yunetMaxFullSizeFace
			}
			frames = append(frames, f)
		}
	}
	if shrunk {
		scale := float64(yunetMaxSide) / float64(max(w, h))
		sw := max(1, int(math.Round(float64(w)*scale)))
		sh := max(1, int(math.Round(float64(h)*scale)))
		frames = append(frames, newYunetFrame(w, h, image.Rect(0, 0, w, h), sw, sh))
	}
	return frames
}

// windowSpans cuts 0..n into the fewest runs [start, end) of at most yunetWindow that overlap
// their neighbours by at least yunetOverlap, all of one length (so ONNX Runtime plans one
// input shape) that is a multiple of yunetDivisor (so no black padding sits at an inner
// window edge). n ≤ yunetWindow is one run.
//
// Why the overlap: with steps of at most length − yunetOverlap, a run [a, b] of length up to
// yunetOverlap lies inside some window. So every face the full-size pass keeps (at most
// yunetMaxFullSizeFace) lies whole and at least yunetEdgeMargin clear of the inner edges in
// some window, which is why a window may drop the faces near its inner edges (cutByWindow):
// they may be cut there, and the whole face is found next door.
func windowSpans(n int) [][2]int {
	if n <= yunetWindow {
		return [][2]int{{0, n}}
	}
	count := ceilDiv(n-yunetOverlap, yunetWindow-yunetOverlap)
	// The shortest length for count runs with yunetOverlap between neighbours; spreading the
	// starts evenly over 0..n−length keeps every step at most length − yunetOverlap.
	length := roundUpTo(ceilDiv(n+(count-1)*yunetOverlap, count), yunetDivisor)
	spans := make([][2]int, count)
	for i := range spans {
		start := i * (n - length) / (count - 1)
		spans[i] = [2]int{start, start + length}
	}
	return spans
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// detectIn runs the network once, on the part of img that frame describes, and returns the
// faces it finds in img's coordinates that this run is the one to report (see reports).
func (y *YuNet) detectIn(ctx context.Context, img *imageio.Image, frame yunetFrame) ([]Face, error) {
	in, err := onnx.NewEmptyTensor[float32](onnx.NewShape(1, 3, int64(frame.padH), int64(frame.padW)))
	if err != nil {
		return nil, err
	}
	defer in.Destroy()
	frame.fill(img, in.GetData())
	faces, err := y.run(ctx, in, frame.padW, frame.padH)
	if err != nil {
		return nil, err
	}
	faces = best(faces, yunetTopK)
	kept := faces[:0]
	for _, f := range faces {
		if f = frame.toOriginal(f); frame.reports(f) {
			kept = append(kept, f)
		}
	}
	return kept, nil
}

// run runs the network on a padW×padH input already in the tensor and returns the faces
// scoring at least the threshold, before NMS, in the input's coordinates.
func (y *YuNet) run(ctx context.Context, in *onnx.Tensor[float32], padW, padH int) ([]Face, error) {
	outputs := make([]ort.Value, len(YuNetContract.Outputs))
	defer destroyValues(outputs)
	if err := y.Session.Run(ctx, []ort.Value{in}, outputs); err != nil {
		return nil, err
	}
	data, err := y.outputData(outputs)
	if err != nil {
		return nil, err
	}
	faces, err := decodeYuNet(data, padW, padH, y.Threshold)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(y.Session.Path), err)
	}
	return faces, nil
}

// checkDetectImage rejects what Detect cannot read, so a malformed image is an error, not a panic.
func checkDetectImage(img *imageio.Image) error {
	if err := img.Validate(); err != nil {
		return fmt.Errorf("face detection: %w", err)
	}
	return nil
}

func destroyValues(values []ort.Value) {
	for _, v := range values {
		if v != nil {
			v.Destroy()
		}
	}
}

// outputData returns the twelve outputs' values in YuNetContract's order.
func (y *YuNet) outputData(outputs []ort.Value) ([][]float32, error) {
	data := make([][]float32, len(outputs))
	for i, v := range outputs {
		t, ok := v.(*onnx.Tensor[float32])
		if !ok {
			return nil, fmt.Errorf("%s: output %s is not a float32 tensor",
				filepath.Base(y.Session.Path), YuNetContract.Outputs[i].Name)
		}
		data[i] = t.GetData()
	}
	return data, nil
}

// decodeYuNet turns the twelve outputs of a run on a padW×padH input into the faces scoring at
// least threshold, before NMS, in the input's coordinates. It follows OpenCV's
// FaceDetectorYNImpl::postProcess: for stride s, cell (r, c) is value r·cols + c of each output,
// score = sqrt(clamp01(cls)·clamp01(obj)), the box centre is ((c+b0)·s, (r+b1)·s) and its size
// (exp(b2)·s, exp(b3)·s), landmark k is ((c+kx)·s, (r+ky)·s).
func decodeYuNet(data [][]float32, padW, padH int, threshold float64) ([]Face, error) {
	var faces []Face
	for si, s := range yunetStrides {
		cols, rows := padW/s, padH/s
		var heads [4][]float32
		for h, head := range yunetHeads {
			heads[h] = data[h*len(yunetStrides)+si]
			if want := rows * cols * int(head.width); len(heads[h]) != want {
				return nil, fmt.Errorf("output %s_%d has %d values, want %d for a %dx%d input",
					head.name, s, len(heads[h]), want, padW, padH)
			}
		}
		faces = appendStride(faces, heads, s, rows, cols, threshold)
	}
	return faces, nil
}

// appendStride decodes one stride's cells; heads are its cls, obj, bbox and kps values.
func appendStride(faces []Face, heads [4][]float32, s, rows, cols int, threshold float64) []Face {
	cls, obj, bbox, kps := heads[0], heads[1], heads[2], heads[3]
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			i := r*cols + c
			score := math.Sqrt(clampScore(cls[i]) * clampScore(obj[i]))
			// Written as "not ≥" so that a NaN score is dropped too.
			if !(score >= threshold) {
				continue
			}
			f := decodeCell(bbox[4*i:4*i+4], kps[10*i:10*i+10], float64(s), float64(r), float64(c))
			f.Score = score
			if f.finite() {
				faces = append(faces, f)
			}
		}
	}
	return faces
}

// decodeCell turns one cell's box and landmark offsets into a face in input pixels.
func decodeCell(b, k []float32, s, r, c float64) Face {
	cx, cy := (c+float64(b[0]))*s, (r+float64(b[1]))*s
	w, h := math.Exp(float64(b[2]))*s, math.Exp(float64(b[3]))*s
	f := Face{Box: [2]Point{{cx - w/2, cy - h/2}, {cx + w/2, cy + h/2}}}
	// YuNet lists the subject's right eye first, which is the eye on the image's left; its
	// order is therefore already Face.Landmarks' (image-left eye, image-right eye, nose,
	// image-left mouth corner, image-right mouth corner).
	for n := range f.Landmarks {
		f.Landmarks[n] = Point{(c + float64(k[2*n])) * s, (r + float64(k[2*n+1])) * s}
	}
	return f
}

func clampScore(v float32) float64 {
	return math.Min(1, math.Max(0, float64(v)))
}

// yunetFrame is how one run sees the image: the window src of a srcW×srcH image, shrunk to
// w×h (or kept at its size), then padded with black on the right and bottom to padW×padH.
type yunetFrame struct {
	srcW, srcH int
	src        image.Rectangle
	w, h       int
	padW, padH int
	// maxFace is the largest face (long side of the box, image pixels) this run reports;
	// 0 for any size.
	maxFace float64
}

func newYunetFrame(srcW, srcH int, src image.Rectangle, w, h int) yunetFrame {
	return yunetFrame{srcW: srcW, srcH: srcH, src: src, w: w, h: h,
		padW: roundUpTo(w, yunetDivisor), padH: roundUpTo(h, yunetDivisor)}
}

func roundUpTo(n, m int) int { return (n + m - 1) / m * m }

// toOriginal maps a face found in the network's input back to the image. Pixels are sampled
// at integer coordinates (see Point), and input pixel x averages window pixels
// [x·sx, (x+1)·sx), so input coordinate X is window coordinate (X+0.5)·sx − 0.5.
func (f yunetFrame) toOriginal(face Face) Face {
	sx, sy := float64(f.src.Dx())/float64(f.w), float64(f.src.Dy())/float64(f.h)
	m := func(p Point) Point {
		return Point{(p.X+0.5)*sx - 0.5 + float64(f.src.Min.X), (p.Y+0.5)*sy - 0.5 + float64(f.src.Min.Y)}
	}
	face.Box = [2]Point{m(face.Box[0]), m(face.Box[1])}
	for i, p := range face.Landmarks {
		face.Landmarks[i] = m(p)
	}
	return face
}

// reports says whether this run is the one to report face (in image coordinates): not when
// it is larger than maxFace (the shrunk copy's), nor when an inner window edge may cut it.
func (f yunetFrame) reports(face Face) bool {
	side := max(face.Box[1].X-face.Box[0].X, face.Box[1].Y-face.Box[0].Y)
	return (f.maxFace == 0 || side <= f.maxFace) && !f.cutByWindow(face)
}

// cutByWindow reports whether face (in image coordinates) comes within yunetEdgeMargin of an
// edge of the window that lies inside the image: the window may show only part of it, and
// the overlap (windowSpans) puts the whole face inside a neighbouring window. Image edges do
// not count: a face cut by one of them is all there is.
func (f yunetFrame) cutByWindow(face Face) bool {
	const m = yunetEdgeMargin
	b, r := face.Box, f.src
	return (r.Min.X > 0 && b[0].X < float64(r.Min.X+m)) ||
		(r.Min.Y > 0 && b[0].Y < float64(r.Min.Y+m)) ||
		(r.Max.X < f.srcW && b[1].X > float64(r.Max.X-m)) ||
		(r.Max.Y < f.srcH && b[1].Y > float64(r.Max.Y-m))
}

// fill writes the window of img, resampled to w×h, into dst: the [1,3,padH,padW] input
// tensor, planes B, G, R with values 0..255, already zero (the padding). A window run at its
// own size is copied (copyWindow); a shrunk one is area-resampled (OpenCV's INTER_AREA),
// which averages every source pixel under an input pixel, so a large photo shrinks without
// aliasing. Rows are made one at a time, so memory is one source row and one input row per
// core beyond the tensor; the rows are shared out over every core.
func (f yunetFrame) fill(img *imageio.Image, dst []float32) {
	if f.w == f.src.Dx() && f.h == f.src.Dy() {
		f.copyWindow(img, dst)
		return
	}
	xs, ys := areaSpans(f.src.Dx(), f.w), areaSpans(f.src.Dy(), f.h)
	plane := f.padW * f.padH
	parallelRows(f.h, func(y0, y1 int) {
		src := make([]float32, 3*f.src.Dx())
		row := make([]float32, 3*f.w)
		acc := make([]float32, 3*f.w)
		for y := y0; y < y1; y++ {
			span := ys[y]
			clear(acc)
			for k, wy := range span.weights {
				bgrRow(img, f.src.Min.Y+span.first+k, f.src.Min.X, src)
				shrinkRow(src, xs, row)
				for i, v := range row {
					acc[i] += wy * v
				}
			}
			for x := 0; x < f.w; x++ {
				for c := 0; c < 3; c++ {
					dst[c*plane+y*f.padW+x] = acc[3*x+c]
				}
			}
		}
	})
}

// copyWindow is fill for a run at the window's own size, where each input pixel is one image
// pixel: the full-size pass copies megapixels, so it skips the resampling.
func (f yunetFrame) copyWindow(img *imageio.Image, dst []float32) {
	plane := f.padW * f.padH
	parallelRows(f.h, func(y0, y1 int) {
		row := make([]float32, 3*f.w)
		for y := y0; y < y1; y++ {
			bgrRow(img, f.src.Min.Y+y, f.src.Min.X, row)
			at := y * f.padW
			b, g, r := dst[at:at+f.w], dst[plane+at:plane+at+f.w], dst[2*plane+at:2*plane+at+f.w]
			for x := range b {
				b[x], g[x], r[x] = row[3*x], row[3*x+1], row[3*x+2]
			}
		}
	})
}

// areaSpan is the run of source samples one resampled sample averages, with their weights
// (summing to one).
type areaSpan struct {
	first   int
	weights []float32
}

// areaSpans lists, for each of n samples resampled from m ≥ n, the source samples whose
// extent [j, j+1) overlaps its extent [i·m/n, (i+1)·m/n), weighted by the overlap.
func areaSpans(m, n int) []areaSpan {
	scale := float64(m) / float64(n)
	spans := make([]areaSpan, n)
	for i := range spans {
		lo, hi := float64(i)*scale, math.Min(float64(i+1)*scale, float64(m))
		first, last := int(lo), min(m, int(math.Ceil(hi)))
		weights := make([]float32, 0, last-first)
		for j := first; j < last; j++ {
			overlap := math.Min(hi, float64(j+1)) - math.Max(lo, float64(j))
			weights = append(weights, float32(overlap/scale))
		}
		spans[i] = areaSpan{first, weights}
	}
	return spans
}

// shrinkRow resamples a row of BGR triples with the given spans.
func shrinkRow(src []float32, xs []areaSpan, dst []float32) {
	for x, span := range xs {
		var b, g, r float32
		for k, w := range span.weights {
			p := src[3*(span.first+k):]
			b, g, r = b+w*p[0], g+w*p[1], r+w*p[2]
		}
		dst[3*x], dst[3*x+1], dst[3*x+2] = b, g, r
	}
}

// bgrRow converts len(dst)/3 pixels of row y of img, from column x0 on, into BGR triples on
// YuNet's 0..255 scale: gray is repeated into all three, alpha is dropped, and 16-bit samples
// are divided by 257 (65535 → 255).
func bgrRow(img *imageio.Image, y, x0 int, dst []float32) {
	scale := float32(1)
	if img.Depth == 16 {
		scale = 1.0 / 257
	}
	ch := img.Channels
	row := (y*img.W + x0) * ch // the first sample read
	for x := 0; x < len(dst)/3; x++ {
		p := row + x*ch
		if ch == 1 {
			v := float32(img.At(p)) * scale
			dst[3*x], dst[3*x+1], dst[3*x+2] = v, v, v
			continue
		}
		dst[3*x], dst[3*x+1], dst[3*x+2] = float32(img.At(p+2))*scale, float32(img.At(p+1))*scale, float32(img.At(p))*scale
	}
}
