package face

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"dream/internal/onnxpb"
)

// writeRestorer writes a test model with the real exports' contract: the image input
// [1,3,512,512] float32, optionally a fidelity input, and one image output computed by
// the given nodes from "input" (and "fidelity").
func writeRestorer(t *testing.T, name string, fidelity *onnxpb.ValueInfo, nodes func(g *onnxpb.Graph)) string {
	t.Helper()
	image := func(n string) onnxpb.ValueInfo {
		return onnxpb.NewValueInfo(n, onnxpb.Float, onnxpb.Fixed(1), onnxpb.Fixed(3), onnxpb.Fixed(CropSize), onnxpb.Fixed(CropSize))
	}
	g := onnxpb.Graph{Name: name, Outputs: []onnxpb.ValueInfo{image("output")}}
	// The fidelity input comes first, as in FaceFusion's export, so the loader must find the
	// inputs by type and shape, not by position.
	if fidelity != nil {
		g.Inputs = append(g.Inputs, *fidelity)
	}
	g.Inputs = append(g.Inputs, image("input"))
	nodes(&g)
	path := filepath.Join(t.TempDir(), name)
	m := onnxpb.Model{Graph: g}
	if err := m.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func identityNodes(g *onnxpb.Graph) { g.Add("Identity", []string{"input"}, []string{"output"}) }

// scaledByFidelity computes output = input · w, so the result shows which w reached the model.
func scaledByFidelity(g *onnxpb.Graph) {
	g.Add("Cast", []string{"fidelity"}, []string{"w"}, onnxpb.AttrInt("to", int64(onnxpb.Float)))
	g.Add("Mul", []string{"input", "w"}, []string{"output"})
}

// crop returns a test crop whose values sweep [0,1].
func crop() []float32 {
	c := make([]float32, 3*CropSize*CropSize)
	for i := range c {
		c[i] = float32(i%256) / 255
	}
	return c
}

func TestGFPGANIdentity(t *testing.T) {
	r, err := LoadGFPGAN(testRuntime, writeRestorer(t, "gfpgan_1.4.onnx", nil, identityNodes))
	if err != nil {
		t.Fatal(err)
	}
	in := crop()
	out, err := r.Restore(context.Background(), in, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if math.Abs(float64(out[i]-in[i])) > 1e-6 {
			t.Fatalf("value %d: %v in, %v out; an identity model must give its input back", i, in[i], out[i])
		}
	}
}

// -cf reaches the model, in the type and shape the export declares.
func TestCodeFormerFidelity(t *testing.T) {
	tests := []struct {
		name     string
		fidelity onnxpb.ValueInfo
	}{
		{"float64 [1] named weight", onnxpb.NewValueInfo("fidelity", onnxpb.Double, onnxpb.Fixed(1))},
		{"float32 [1] named w", onnxpb.NewValueInfo("fidelity", onnxpb.Float, onnxpb.Fixed(1))},
		{"float64 scalar", onnxpb.ValueInfo{Name: "fidelity", ElemType: onnxpb.Double, Dims: []onnxpb.Dim{}}},
	}
	in := crop()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fid := tt.fidelity
			r, err := LoadCodeFormer(testRuntime, writeRestorer(t, "codeformer.onnx", &fid, scaledByFidelity))
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range []float64{0, 0.3, 0.7, 1} {
				out, err := r.Restore(context.Background(), in, w)
				if err != nil {
					t.Fatal(err)
				}
				for _, i := range []int{0, 77, 255, 1000, len(in) - 1} {
					x := (float64(in[i]) - 0.5) / 0.5
					want := math.Round((x*w+1)/2*255) / 255
					if math.Abs(float64(out[i])-want) > 1e-6 {
						t.Fatalf("w=%v value %d: got %v, want %v", w, i, out[i], want)
					}
				}
			}
		})
	}
}

func TestRestorerContracts(t *testing.T) {
	noFidelity := writeRestorer(t, "codeformer.onnx", nil, identityNodes)
	if _, err := LoadCodeFormer(testRuntime, noFidelity); err == nil || !strings.Contains(err.Error(), "has no fidelity input") {
		t.Errorf("a CodeFormer export without fidelity: %v", err)
	}
	small := filepath.Join(t.TempDir(), "gfpgan_small.onnx")
	g := onnxpb.Graph{
		Inputs:  []onnxpb.ValueInfo{onnxpb.NewValueInfo("input", onnxpb.Float, onnxpb.Fixed(1), onnxpb.Fixed(3), onnxpb.Fixed(256), onnxpb.Fixed(256))},
		Outputs: []onnxpb.ValueInfo{onnxpb.NewValueInfo("output", onnxpb.Float, onnxpb.Fixed(1), onnxpb.Fixed(3), onnxpb.Fixed(256), onnxpb.Fixed(256))},
	}
	identityNodes(&g)
	m := onnxpb.Model{Graph: g}
	if err := m.WriteFile(small); err != nil {
		t.Fatal(err)
	}
	_, err := LoadGFPGAN(testRuntime, small)
	if err == nil || !strings.Contains(err.Error(), "gfpgan_small.onnx") || !strings.Contains(err.Error(), "[1,3,256,256]") {
		t.Errorf("a 256-pixel GFPGAN export: %v", err)
	}
}
