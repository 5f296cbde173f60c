package fuse

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	onnx "github.com/yalue/onnxruntime_go"

	"dream/internal/ort"
)

// sd21SmallUNet is SD 2.1's UNet architecture at a small width (tools/sdgen, --kind sd21
// --size small): torch's export of its attention, with heads of 8 channels whose number
// grows with the level, cross-attention on 1024-wide text embeddings and the linear
// projections in and out of SD 2.x's transformer blocks.
const sd21SmallUNet = "testdata/sd21-small-unet.onnx"

// Every one of the 32 attention blocks of the SD 2.1 architecture is fused, and the fused
// UNet predicts what the exported one does within float rounding.
func TestAttentionSD21(t *testing.T) {
	model, err := os.ReadFile(sd21SmallUNet)
	if err != nil {
		t.Fatal(err)
	}
	fused, n, err := Attention(model)
	if err != nil || n != 32 {
		t.Fatalf("fused %d of 32 attention blocks, err %v", n, err)
	}
	want := runUNet(t, nil)
	got := runUNet(t, fused)
	worst, scale := 0.0, 0.0
	for i := range want {
		worst = math.Max(worst, math.Abs(float64(got[i]-want[i])))
		scale = math.Max(scale, math.Abs(float64(want[i])))
	}
	t.Logf("fused and exported differ by up to %.3g (outputs up to %.3g)", worst, scale)
	if !(worst <= 1e-4) {
		t.Errorf("the fused UNet differs by up to %g", worst)
	}
}

// runUNet runs the small SD 2.1 UNet, or data in its stead, on a seeded 1×4×16×16 latent at
// timestep 500 with seeded text embeddings, and returns its prediction.
func runUNet(t *testing.T, data []byte) []float32 {
	t.Helper()
	contract := ort.Contract{
		Inputs: []ort.Tensor{
			{Name: "sample", Type: ort.Float32, Dims: []int64{ort.Any, 4, ort.Any, ort.Any}},
			{Name: "timestep", Types: []ort.DataType{ort.Float32, ort.Int64}, Dims: []int64{ort.Any}},
			{Name: "encoder_hidden_states", Type: ort.Float32, Dims: []int64{ort.Any, 77, 1024}},
		},
		Outputs: []ort.Tensor{{Name: "out_sample", Type: ort.Float32, Dims: []int64{ort.Any, 4, ort.Any, ort.Any}}},
	}
	var s *ort.Session
	var err error
	if data == nil {
		s, err = testRuntime.Session(sd21SmallUNet, contract)
	} else {
		s, err = testRuntime.SessionFromData(sd21SmallUNet, data, contract)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer testRuntime.Release(s)
	rng := rand.New(rand.NewPCG(3, 4))
	values := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	sample, err := onnx.NewTensor(onnx.NewShape(1, 4, 16, 16), values(4*16*16))
	if err != nil {
		t.Fatal(err)
	}
	defer sample.Destroy()
	var timestep ort.Value
	if s.Inputs[1].DataType == ort.Int64 {
		timestep, err = onnx.NewTensor(onnx.NewShape(1), []int64{500})
	} else {
		timestep, err = onnx.NewTensor(onnx.NewShape(1), []float32{500})
	}
	if err != nil {
		t.Fatal(err)
	}
	defer timestep.Destroy()
	text, err := onnx.NewTensor(onnx.NewShape(1, 77, 1024), values(77*1024))
	if err != nil {
		t.Fatal(err)
	}
	defer text.Destroy()
	out, err := onnx.NewEmptyTensor[float32](onnx.NewShape(1, 4, 16, 16))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Destroy()
	if err := s.Run(context.Background(), []ort.Value{sample, timestep, text}, []ort.Value{out}); err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), out.GetData()...)
}
