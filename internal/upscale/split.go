package upscale

import (
	"context"
	"fmt"
	"image"
	"os"
	"slices"

	onnx "github.com/yalue/onnxruntime_go"

	"dream/internal/onnxpb"
	"dream/internal/ort"
)

// An RRDBNet (x4plus) computes its 23 dense blocks at the input's size and only then enlarges
// ×4, in a tail of two nearest-neighbour doublings and four convolutions. That tail is 8% of
// the time but most of the memory: its activations are 16 times the window's pixels with 64
// channels. Run whole, x4plus took 12 KiB a window pixel; split at its first upsampling, the
// body took about 4.6 KiB and the tail, run on 128² pieces of the body's features, a fixed
// 180 MB. The same budget then holds windows about 2.5 times as large, which cuts a photo
// into fewer of them and computes fewer pixels twice.

// Contracts of the two parts: the body maps the image to its features (64 channels for
// x4plus), the tail maps features to the enlarged image.
var (
	bodyContract = ort.Contract{
		Inputs:  Contract.Inputs,
		Outputs: []ort.Tensor{{Type: ort.Float32, Dims: []int64{1, ort.Any, ort.Any, ort.Any}}},
	}
	tailContract = ort.Contract{
		Inputs:  bodyContract.Outputs,
		Outputs: Contract.Outputs,
	}
)

// tailSuffix names the tail's session: the file's path followed by it.
const tailSuffix = "#tail"

// upsamplingOps are the operators with which exports enlarge features.
var upsamplingOps = map[string]bool{"Resize": true, "Upsample": true}

// openSplit opens the network in path as its body and its tail, cut where its first
// upsampling reads its features. body and tail are nil, with no error, for a network that
// does not cut cleanly there (general-x4v3 enlarges its input itself, for its residual) or
// cannot be read, which is then opened whole.
func openSplit(rt *ort.Runtime, path string) (body, tail *ort.Session, err error) {
	// Reading and cutting x4plus takes half a second; a second Load of the same file (the
	// bench's) finds both parts open.
	if body, ok := rt.LoadedFromData(path); ok {
		if tail, ok := rt.LoadedFromData(path + tailSuffix); ok {
			return body, tail, nil
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, nil // opening it whole says what is wrong
	}
	bodyData, tailData, ok := splitAtUpsampling(data)
	if !ok {
		return nil, nil, nil
	}
	// The body is named for the file, as it is what messages about the model (the CUDA
	// fallback note, a failed run) should name.
	if body, err = rt.SessionFromData(path, bodyData, bodyContract); err != nil {
		return nil, nil, err
	}
	if tail, err = rt.SessionFromData(path+tailSuffix, tailData, tailContract); err != nil {
		rt.Release(body)
		return nil, nil, err
	}
	return body, tail, nil
}

// splitAtUpsampling cuts a model file at the input of its first upsampling, when that input is
// computed by the network (not its own input) and everything after needs nothing else of it.
func splitAtUpsampling(data []byte) (body, tail []byte, ok bool) {
	e, err := onnxpb.ReadEditable(data)
	if err != nil || len(e.Inputs) == 0 {
		return nil, nil, false
	}
	for i, n := range e.Nodes {
		if !upsamplingOps[n.OpType] || len(n.Inputs) == 0 {
			continue
		}
		cut := n.Inputs[0]
		elemType, known := computedType(e, e.Nodes[i:])
		if slices.Contains(e.Inputs, cut) || !known {
			return nil, nil, false
		}
		body, tail, err := e.Split(cut, elemType,
			onnxpb.Fixed(1), onnxpb.Sym("features"), onnxpb.Sym("height"), onnxpb.Sym("width"))
		return body, tail, err == nil
	}
	return nil, nil, false
}

// computedType is the element type the nodes compute in, read off the weights of the first
// convolution among them: float32, or float16 in a half-precision export, whose input and
// output may still be float32 around casts.
func computedType(e *onnxpb.Editable, nodes []onnxpb.Node) (onnxpb.DataType, bool) {
	for _, n := range nodes {
		if n.OpType != "Conv" || len(n.Inputs) < 2 {
			continue
		}
		w, ok := e.Initializers[n.Inputs[1]]
		return w.DataType, ok
	}
	return 0, false
}

// tailCore and tailPad cut a window's features into the pieces the tail runs on. The tail's
// convolutions see 1.25 feature pixels past a piece (one 3×3 at twice the size, three at four
// times), so 2 pixels of context give exactly what the whole window gives. 128² pieces keep a
// tail run near 180 MB and cost what larger ones do: 512² of features took 2.65, 2.67 and
// 2.78 s in 128² pieces, 2.51, 2.68 and 2.80 s in 256² ones, 2.43, 2.48 and 2.87 s whole.
const tailCore, tailPad = 128, 2

// enlarge runs the tail over the body's features, piece by piece, into out, moving the count
// along progress after each piece. The tail enlarges its features ×4, which is the network's
// own scale only for ×4 networks: a ×2 RRDBNet computes at half the window's size, after a
// pixel-unshuffle.
func (m *Model) enlarge(ctx context.Context, features, out *onnx.Tensor[float32], progress countRange) error {
	shape, outShape := features.GetShape(), out.GetShape()
	s := 0
	if len(shape) == 4 && shape[3] > 0 {
		s = int(outShape[3] / shape[3])
	}
	if s == 0 || !slices.Equal(outShape, onnx.NewShape(1, 3, int64(s)*shape[2], int64(s)*shape[3])) {
		return fmt.Errorf("the network's body gave features of shape %v for an output of %v", shape, outShape)
	}
	channels, h, w := int(shape[1]), int(shape[2]), int(shape[3])
	window, pieces := plan(w, h, tailCore, tailPad)
	in, err := onnx.NewEmptyTensor[float32](onnx.NewShape(1, int64(channels), int64(window.Y), int64(window.X)))
	if err != nil {
		return err
	}
	defer in.Destroy()
	enlarged, err := onnx.NewEmptyTensor[float32](onnx.NewShape(1, 3, int64(s*window.Y), int64(s*window.X)))
	if err != nil {
		return err
	}
	defer enlarged.Destroy()
	for i, p := range pieces {
		copyRect(in.GetData(), window.X, window.Y, image.Point{}, features.GetData(), w, h, p.window, channels)
		if err := m.Tail.Run(ctx, []ort.Value{in}, []ort.Value{enlarged}); err != nil {
			return err
		}
		core := p.core.Sub(p.window.Min)
		core = image.Rectangle{Min: core.Min.Mul(s), Max: core.Max.Mul(s)}
		copyRect(out.GetData(), s*w, s*h, p.core.Min.Mul(s), enlarged.GetData(), s*window.X, s*window.Y, core, 3)
		progress.reach(progress.at(float64(i+1) / float64(len(pieces))))
	}
	return nil
}

// copyRect copies the rectangle r of each of the channels planes of src, which are srcW×srcH,
// into the planes of dst, which are dstW×dstH, with r.Min landing on at.
func copyRect(dst []float32, dstW, dstH int, at image.Point, src []float32, srcW, srcH int, r image.Rectangle, channels int) {
	for c := range channels {
		dstPlane, srcPlane := dst[c*dstW*dstH:], src[c*srcW*srcH:]
		for y := r.Min.Y; y < r.Max.Y; y++ {
			d := (at.Y+y-r.Min.Y)*dstW + at.X
			copy(dstPlane[d:d+r.Dx()], srcPlane[y*srcW+r.Min.X:y*srcW+r.Max.X])
		}
	}
}
