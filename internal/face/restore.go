package face

import (
	"context"
	"fmt"
	"path/filepath"

	onnx "github.com/yalue/onnxruntime_go"

	"dream/internal/ort"
)

// CropSize is the side of the aligned face crop every restorer takes.
const CropSize = 512

// imageTensor is the crop both restorers take and return: RGB, NCHW, values in [−1, 1].
var imageTensor = ort.Tensor{Type: ort.Float32, Dims: []int64{1, 3, CropSize, CropSize}}

// fidelityTensor is CodeFormer's second input, w: one float64 (FaceFusion's "weight") or
// float32 ("w" in other exports), as a [1] tensor or a scalar.
var fidelityTensor = ort.Tensor{Types: []ort.DataType{ort.Float64, ort.Float32}}

// Restorer is a loaded face restoration model.
type Restorer struct {
	Name    string
	session *ort.Session
	// fidelity is the type of CodeFormer's w input; 0 for GFPGAN, which has none.
	fidelity ort.DataType
}

// LoadGFPGAN opens a GFPGAN export: one image in, one image out.
func LoadGFPGAN(rt *ort.Runtime, path string) (*Restorer, error) {
	s, err := rt.Session(path, ort.Contract{Inputs: []ort.Tensor{imageTensor}, Outputs: []ort.Tensor{imageTensor}})
	if err != nil {
		return nil, err
	}
	return &Restorer{Name: filepath.Base(path), session: s}, nil
}

// LoadCodeFormer opens a CodeFormer export: the image and the fidelity w in, one image out.
// The two inputs are told apart by shape and type, since exports name them differently. An
// export without the fidelity input had w fixed when it was made, and -cf could not work.
func LoadCodeFormer(rt *ort.Runtime, path string) (*Restorer, error) {
	inputs, _, err := rt.Describe(path)
	if err != nil {
		return nil, err
	}
	if len(inputs) == 1 {
		return nil, fmt.Errorf("%s has no fidelity input (its fidelity was fixed when it was exported), so -cf cannot "+
			"reach it: use an export with a weight input, such as FaceFusion's codeformer.onnx", filepath.Base(path))
	}
	s, err := rt.Session(path, ort.Contract{Inputs: []ort.Tensor{imageTensor, fidelityTensor}, Outputs: []ort.Tensor{imageTensor}})
	if err != nil {
		return nil, err
	}
	return &Restorer{Name: filepath.Base(path), session: s, fidelity: s.Inputs[1].DataType}, nil
}

// Restore runs the model on an aligned crop (RGB planar, 3×512×512, values in [0,1]) and
// returns the restored crop in the same form, rounded to 8-bit steps as the reference's
// (y+1)/2·255 is. fidelity is CodeFormer's w; GFPGAN ignores it.
func (r *Restorer) Restore(ctx context.Context, crop []float32, fidelity float64) ([]float32, error) {
	if len(crop) != 3*CropSize*CropSize {
		return nil, fmt.Errorf("face crop has %d values, want %d", len(crop), 3*CropSize*CropSize)
	}
	in, err := onnx.NewEmptyTensor[float32](onnx.NewShape(1, 3, CropSize, CropSize))
	if err != nil {
		return nil, err
	}
	defer in.Destroy()
	for i, v := range crop {
		in.GetData()[i] = (v - 0.5) / 0.5
	}
	inputs := []ort.Value{in}
	if r.fidelity != 0 {
		w, err := fidelityValue(r.fidelity, r.session.Inputs[1].Dimensions, fidelity)
		if err != nil {
			return nil, err
		}
		defer w.Destroy()
		inputs = append(inputs, w)
	}
	out, err := onnx.NewEmptyTensor[float32](onnx.NewShape(1, 3, CropSize, CropSize))
	if err != nil {
		return nil, err
	}
	defer out.Destroy()
	if err := r.session.Run(ctx, inputs, []ort.Value{out}); err != nil {
		return nil, err
	}
	restored := make([]float32, len(crop))
	for i, y := range out.GetData() {
		y = max(-1, min(y, 1))
		restored[i] = float32(int((y+1)/2*255+0.5)) / 255
	}
	return restored, nil
}

// fidelityValue makes the w input in the type and shape the export declares.
func fidelityValue(t ort.DataType, dims []int64, w float64) (ort.Value, error) {
	switch {
	case len(dims) == 0 && t == ort.Float64:
		return onnx.NewScalar(w)
	case len(dims) == 0:
		return onnx.NewScalar(float32(w))
	case t == ort.Float64:
		return onnx.NewTensor(onnx.NewShape(1), []float64{w})
	}
	return onnx.NewTensor(onnx.NewShape(1), []float32{float32(w)})
}
