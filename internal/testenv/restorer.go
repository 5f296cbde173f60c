package testenv

import (
	"os"
	"path/filepath"
	"testing"

	"dream/internal/onnxpb"
)

// WriteRestorer writes a face restorer with the real exports' contract: gfpgan gives its
// input back; codeformer has FaceFusion's float64 "weight" input and computes input · weight.
func WriteRestorer(t testing.TB, kind, path string) {
	t.Helper()
	image := func(n string) onnxpb.ValueInfo {
		return onnxpb.NewValueInfo(n, onnxpb.Float, onnxpb.Fixed(1), onnxpb.Fixed(3), onnxpb.Fixed(512), onnxpb.Fixed(512))
	}
	g := onnxpb.Graph{Inputs: []onnxpb.ValueInfo{image("input")}, Outputs: []onnxpb.ValueInfo{image("output")}}
	switch kind {
	case "gfpgan":
		g.Add("Identity", []string{"input"}, []string{"output"})
	case "codeformer":
		g.Inputs = append(g.Inputs, onnxpb.NewValueInfo("weight", onnxpb.Double, onnxpb.Fixed(1)))
		g.Add("Cast", []string{"weight"}, []string{"w"}, onnxpb.AttrInt("to", int64(onnxpb.Float)))
		g.Add("Mul", []string{"input", "w"}, []string{"output"})
	default:
		t.Fatalf("unknown restorer kind %q", kind)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	m := onnxpb.Model{Graph: g}
	if err := m.WriteFile(path); err != nil {
		t.Fatal(err)
	}
}
