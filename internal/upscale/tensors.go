package upscale

import (
	"sync"

	onnx "github.com/yalue/onnxruntime_go"
)

// tensors is the network's input and output for one window size.
type tensors struct {
	w, h    int
	in, out *onnx.Tensor[float32]
}

// keptTensorBytes is the largest pair a model keeps between images. A batch of small photos
// reuses one pair instead of allocating, zeroing and faulting in about 10 MB an image (16 ms of
// a 0.47 s image); the windows of a large photo are allocated rarely and not worth keeping
// when the shell idles.
const keptTensorBytes = 64 << 20

// spareTensors holds the pair the last upscale left, for the next one of its size: at most one
// pair a model.
type spareTensors struct {
	mu   sync.Mutex
	pair *tensors
}

// take returns the kept pair when it is w×h, else a new one; nil and an error when ONNX
// Runtime cannot make one. A kept pair of another size is given back first: the sizes of a
// batch's images change rarely, and a retry with smaller tiles after running out of memory
// must not hold the larger pair meanwhile.
func (s *spareTensors) take(w, h, scale int) (*tensors, error) {
	s.mu.Lock()
	pair := s.pair
	s.pair = nil
	s.mu.Unlock()
	if pair != nil && pair.w == w && pair.h == h {
		return pair, nil
	}
	if pair != nil {
		pair.destroy()
	}
	return newTensors(w, h, scale)
}

// give keeps pair for the next upscale, or destroys it when it is too large.
func (s *spareTensors) give(pair *tensors, scale int) {
	if !worthKeeping(pair.w, pair.h, scale) {
		pair.destroy()
		return
	}
	s.mu.Lock()
	old := s.pair
	s.pair = pair
	s.mu.Unlock()
	if old != nil { // another upscale of the model ran at the same time
		old.destroy()
	}
}

// worthKeeping tells whether the float32 input and output of a w×h window are small enough to
// keep between images.
func worthKeeping(w, h, scale int) bool {
	return 4*3*int64(w)*int64(h)*int64(1+scale*scale) <= keptTensorBytes
}

func newTensors(w, h, scale int) (*tensors, error) {
	in, err := onnx.NewEmptyTensor[float32](onnx.NewShape(1, 3, int64(h), int64(w)))
	if err != nil {
		return nil, err
	}
	s := int64(scale)
	out, err := onnx.NewEmptyTensor[float32](onnx.NewShape(1, 3, s*int64(h), s*int64(w)))
	if err != nil {
		in.Destroy()
		return nil, err
	}
	return &tensors{w: w, h: h, in: in, out: out}, nil
}

func (t *tensors) destroy() {
	t.in.Destroy()
	t.out.Destroy()
}
