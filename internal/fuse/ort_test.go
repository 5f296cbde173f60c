package fuse

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	onnx "github.com/yalue/onnxruntime_go"

	"dream/internal/onnxpb"
	"dream/internal/ort"
	"dream/internal/testenv"
)

var testRuntime *ort.Runtime

func TestMain(m *testing.M) {
	testenv.Run(m, func(rt *ort.Runtime) { testRuntime = rt })
}

// attentionContract is attentionGraph's signature, with the outputs a test adds after y.
func attentionContract(extra ...ort.Tensor) ort.Contract {
	return ort.Contract{
		Inputs: []ort.Tensor{
			{Name: "x", Type: ort.Float32, Dims: []int64{ort.Any, ort.Any, 4}},
			{Name: "context", Type: ort.Float32, Dims: []int64{ort.Any, ort.Any, 16}},
		},
		Outputs: append([]ort.Tensor{{Name: "y", Type: ort.Float32, Dims: []int64{ort.Any, ort.Any, 4}}}, extra...),
	}
}

// The fused graph computes what the original does, in ONNX Runtime: also when a shape
// computation of a block stays because something else uses it.
func TestAttentionRunsAsOriginal(t *testing.T) {
	for name, mutate := range map[string]func(*onnxpb.Graph) []ort.Tensor{
		"plain": func(*onnxpb.Graph) []ort.Tensor { return nil },
		"shape computation kept": func(g *onnxpb.Graph) []ort.Tensor {
			sizes := nodeOf(t, g, "/attn1/", "Concat", 0).Outputs[0]
			g.Outputs = append(g.Outputs, onnxpb.NewValueInfo(sizes, onnxpb.Int64, onnxpb.Fixed(4)))
			return []ort.Tensor{{Name: sizes, Type: ort.Int64, Dims: []int64{4}}}
		},
	} {
		t.Run(name, func(t *testing.T) {
			g := attentionGraph()
			contract := attentionContract(mutate(g)...)
			model := marshal(g)
			fused, n, err := Attention(model)
			if err != nil || n != 2 {
				t.Fatalf("fused %d blocks, err %v; want 2", n, err)
			}
			path := filepath.Join(t.TempDir(), "model.onnx")
			if err := os.WriteFile(path, model, 0o644); err != nil {
				t.Fatal(err)
			}
			want := runAttention(t, path, nil, contract)
			got := runAttention(t, path, fused, contract)
			worst := 0.0
			for i := range want {
				worst = math.Max(worst, math.Abs(float64(got[i]-want[i])))
			}
			if worst > 1e-5 {
				t.Errorf("the fused graph differs by up to %g", worst)
			}
		})
	}
}

// runAttention runs the model at path, or data in its stead, on a batch of 2 with 9 tokens
// attending to 5 keys, and returns y.
func runAttention(t *testing.T, path string, data []byte, contract ort.Contract) []float32 {
	t.Helper()
	var s *ort.Session
	var err error
	if data == nil {
		s, err = testRuntime.Session(path, contract)
	} else {
		s, err = testRuntime.SessionFromData(path, data, contract)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer testRuntime.Release(s)
	rng := rand.New(rand.NewPCG(1, 2))
	values := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	x, err := onnx.NewTensor(onnx.NewShape(2, 9, 4), values(2*9*4))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Destroy()
	c, err := onnx.NewTensor(onnx.NewShape(2, 5, 16), values(2*5*16))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Destroy()
	y, err := onnx.NewEmptyTensor[float32](onnx.NewShape(2, 9, 4))
	if err != nil {
		t.Fatal(err)
	}
	defer y.Destroy()
	outs := make([]ort.Value, len(contract.Outputs))
	outs[0] = y
	if err := s.Run(context.Background(), []ort.Value{x, c}, outs); err != nil {
		t.Fatal(err)
	}
	for _, extra := range outs[1:] {
		extra.Destroy()
	}
	return append([]float32(nil), y.GetData()...)
}
