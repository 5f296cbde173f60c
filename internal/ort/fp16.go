package ort

import (
	"fmt"
	"os"

	"dream/internal/onnxpb"

	onnx "github.com/yalue/onnxruntime_go"
)

// Float16 models (exports made for GPUs: realesrgan_x4_fp16.onnx, codeformer.fp16.onnx) are
// opened as float32 ones: every caller fills and reads float32 tensors, whatever the model
// computes in. The model is rewritten in memory as it loads rather than its tensors converted
// in Go at every run:
//
//   - For CUDA (and CoreML) it is wrapped in Cast nodes at its inputs and outputs
//     (onnxpb.CastIO): the graph still computes in float16, which is what such an export is
//     for, the casts run on the GPU beside it, and no caller changes, not the upscaler, the
//     face restorers nor Stable Diffusion's loops, which would each need float16 tensors of
//     their own and a conversion of every tile and step on the CPU.
//   - For the CPU it is widened to float32 whole (onnxpb.Retype): ONNX Runtime's CPU provider
//     lacks float16 kernels for most operators and runs them between casts of its own, which
//     made fp16 x4plus take 4.5 s on a 128² window where fp32 took 2.3 s; widened, it runs at
//     float32's speed, on the half-precision weights. Widening needs the weights in the model
//     file; a model with external weights (a UNet's weights.pb) is wrapped as for CUDA, and
//     ONNX Runtime's own casts run it, slower.

// matchContract pairs the model's declared inputs and outputs with want. A model whose
// float16 tensors make it miss want is tried again with them taken as float32; half is then
// true, and the model must be opened through forProvider.
func matchContract(ins, outs []onnx.InputOutputInfo, want Contract) (inNames, outNames []string, half bool, err error) {
	inNames, outNames, err = matchBoth(ins, outs, want)
	if err == nil || !hasFloat16(ins, outs) {
		return inNames, outNames, false, err
	}
	if inNames, outNames, err2 := matchBoth(asFloat32(ins), asFloat32(outs), want); err2 == nil {
		return inNames, outNames, true, nil
	}
	return nil, nil, false, err // the mismatch as declared, which names the model's own types
}

func matchBoth(ins, outs []onnx.InputOutputInfo, want Contract) ([]string, []string, error) {
	inNames, err := matchAll("input", ins, want.Inputs)
	if err != nil {
		return nil, nil, err
	}
	outNames, err := matchAll("output", outs, want.Outputs)
	return inNames, outNames, err
}

func hasFloat16(lists ...[]onnx.InputOutputInfo) bool {
	for _, list := range lists {
		for _, d := range list {
			if d.DataType == Float16 {
				return true
			}
		}
	}
	return false
}

// asFloat32 is a copy of the declared tensors with float16 ones made float32.
func asFloat32(declared []onnx.InputOutputInfo) []onnx.InputOutputInfo {
	out := make([]onnx.InputOutputInfo, len(declared))
	for i, d := range declared {
		if d.DataType == Float16 {
			d.DataType = Float32
		}
		out[i] = d
	}
	return out
}

// forProvider is the model as provider gets it: a float16 model used as float32 (src.half)
// is widened for the CPU when it can be, else wrapped in casts (see above).
func forProvider(provider string, src modelSource) (modelSource, error) {
	if !src.half {
		return src, nil
	}
	data := src.data
	if data == nil {
		var err error
		if data, err = os.ReadFile(src.path); err != nil {
			return src, err
		}
	}
	if provider == "cpu" {
		if wide, err := onnxpb.Retype(data, onnxpb.Float16, onnxpb.Float); err == nil {
			return modelSource{path: src.path, data: wide, half: true}, nil
		}
	}
	wrapped, err := onnxpb.CastIO(data, onnxpb.Float16, onnxpb.Float)
	if err != nil {
		return src, fmt.Errorf("cannot present the float16 model as float32: %v", err)
	}
	return modelSource{path: src.path, data: wrapped, half: true}, nil
}
