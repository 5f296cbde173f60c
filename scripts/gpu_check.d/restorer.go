//go:build ignore

// restorer writes a face restorer with GFPGAN's contract (input and output: float32
// 1×3×512×512, values in [−1, 1]) that does real work on every run, for scripts/gpu_check:
// four 3×3 convolutions (3→32→32→32→3 channels, ReLU between) with weights drawn from a fixed
// seed, whose result is added to the input at a small scale, so the face comes back visibly
// changed but recognisable. About 10 GFLOP a face; the file is about 80 KB. It restores
// nothing: it gives CUDA and the CPU the same convolutions to compute.
//
//	go run scripts/gpu_check.d/restorer.go OUT.onnx
package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"

	"dream/internal/onnxpb"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: restorer OUT.onnx")
		os.Exit(2)
	}
	rng := rand.New(rand.NewPCG(42, 2022))
	image := func(name string) onnxpb.ValueInfo {
		return onnxpb.NewValueInfo(name, onnxpb.Float, onnxpb.Fixed(1), onnxpb.Fixed(3), onnxpb.Fixed(512), onnxpb.Fixed(512))
	}
	g := onnxpb.Graph{Name: "gpu_check_restorer", Inputs: []onnxpb.ValueInfo{image("input")}, Outputs: []onnxpb.ValueInfo{image("output")}}

	channels := []int64{3, 32, 32, 32, 3}
	x := "input"
	for layer := range len(channels) - 1 {
		in, out := channels[layer], channels[layer+1]
		// He initialisation keeps the activations' scale from layer to layer.
		std := math.Sqrt(2 / float64(in*9))
		w := make([]float32, out*in*9)
		for i := range w {
			w[i] = float32(rng.NormFloat64() * std)
		}
		b := make([]float32, out)
		for i := range b {
			b[i] = float32(rng.NormFloat64() * 0.01)
		}
		wName := g.AddInitializer(onnxpb.Float32Tensor(fmt.Sprintf("conv%d.weight", layer), []int64{out, in, 3, 3}, w))
		bName := g.AddInitializer(onnxpb.Float32Tensor(fmt.Sprintf("conv%d.bias", layer), []int64{out}, b))
		y := g.Add("Conv", []string{x, wName, bName}, []string{fmt.Sprintf("conv%d", layer)},
			onnxpb.AttrInts("kernel_shape", 3, 3), onnxpb.AttrInts("pads", 1, 1, 1, 1))[0]
		if layer < len(channels)-2 {
			y = g.Add("Relu", []string{y}, []string{fmt.Sprintf("relu%d", layer)})[0]
		}
		x = y
	}
	// output = input + 0.1·tanh(convolutions): near the input, never far out of range.
	t := g.Add("Tanh", []string{x}, []string{"tanh"})[0]
	scale := g.AddInitializer(onnxpb.Float32Tensor("scale", nil, []float32{0.1}))
	d := g.Add("Mul", []string{t, scale}, []string{"delta"})[0]
	g.Add("Add", []string{"input", d}, []string{"output"})

	m := onnxpb.Model{Graph: g, Producer: "dream scripts/gpu_check"}
	if err := m.WriteFile(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "restorer:", err)
		os.Exit(1)
	}
}
