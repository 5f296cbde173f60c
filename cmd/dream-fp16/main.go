// Command dream-fp16 converts an ONNX model's float32 weights, inputs and outputs to float16,
// as community exports for GPUs are made (realesrgan_x4_fp16.onnx): half the file, and the
// model computes in half precision where it runs on a GPU. dream runs such models as they
// are on CUDA and widens them back to float32 on CPU (see internal/ort).
//
//	dream-fp16 IN.onnx OUT.onnx
//
// Every float32 initializer and Constant is rounded to the nearest half, except those ONNX
// wants float32 (Resize's scales); models with subgraphs or external weights are refused.
package main

import (
	"fmt"
	"os"

	"dream/internal/onnxpb"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: dream-fp16 IN.onnx OUT.onnx")
		os.Exit(2)
	}
	if err := convert(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "dream-fp16:", err)
		os.Exit(1)
	}
}

func convert(in, out string) error {
	model, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	half, err := onnxpb.Retype(model, onnxpb.Float, onnxpb.Float16)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	return onnxpb.WriteModelFile(out, half)
}
