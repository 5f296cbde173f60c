package ort

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"dream/internal/onnxpb"
)

// TestDescribeReadsTheFile checks that describe, which reads a model's inputs and outputs from
// the file itself, reports exactly what ONNX Runtime would, for files and for models in memory,
// and that it asks ONNX Runtime only where the file leaves something for it to infer.
func TestDescribeReadsTheFile(t *testing.T) {
	rt := testRuntime(t)
	vi, fixed, sym := onnxpb.NewValueInfo, onnxpb.Fixed, onnxpb.Sym
	shared := func(name string) string { return filepath.Join("..", "..", "..", "shared", "models", name) }

	// Older exporters list weights as inputs too; from IR version 4 on, such an input is a
	// default that a caller may override, and ONNX Runtime does not list it either way.
	weightsAsInputs := func(irVersion int64) *onnxpb.Model {
		var g onnxpb.Graph
		g.Inputs = []onnxpb.ValueInfo{vi("x", onnxpb.Float, sym("n")), vi("w", onnxpb.Float, fixed(1))}
		g.Outputs = []onnxpb.ValueInfo{vi("y", onnxpb.Float, sym("n"))}
		w := g.AddInitializer(onnxpb.Float32Tensor("w", []int64{1}, []float32{2}))
		g.Add("Mul", []string{"x", w}, []string{"y"})
		return &onnxpb.Model{Graph: g, IRVersion: irVersion, Opset: 9}
	}
	sum := func() *onnxpb.Model { // a scalar output of an input of unknown rank
		var g onnxpb.Graph
		g.Inputs = []onnxpb.ValueInfo{vi("x", onnxpb.Float)}
		g.Outputs = []onnxpb.ValueInfo{{Name: "total", ElemType: onnxpb.Float, Dims: []onnxpb.Dim{}}}
		g.Add("ReduceSum", []string{"x"}, []string{"total"}, onnxpb.AttrInt("keepdims", 0))
		return &onnxpb.Model{Graph: g}
	}

	tests := []struct {
		name, path string
		// fromFile says describe needs no ONNX Runtime for this model.
		fromFile bool
	}{
		{"x4plus", shared("realesrgan-x4plus.onnx"), true},
		{"general-x4v3", shared("realesr-general-x4v3.onnx"), true},
		{"yunet", shared("face_detection_yunet.onnx"), true},
		{"symbolic dims", writeModel(t, "double.onnx", doubleModel()), true},
		{"fixed and unknown dims", writeModel(t, "pass.onnx", passThrough(
			[]onnxpb.ValueInfo{vi("x", onnxpb.Double, fixed(2), onnxpb.Dim{Value: -1})},
			[]onnxpb.ValueInfo{vi("y", onnxpb.Float16, fixed(2), onnxpb.Dim{Value: -1})})), true},
		{"initializers listed as inputs", writeModel(t, "old.onnx", weightsAsInputs(3)), true},
		{"overridable initializers", writeModel(t, "new.onnx", weightsAsInputs(8)), true},
		{"scalar output, input of unknown rank", writeModel(t, "sum.onnx", sum()), true},
		// ONNX Runtime infers the shape the file leaves out, [-1] here.
		{"output of unknown rank", writeModel(t, "any.onnx", passThrough(
			[]onnxpb.ValueInfo{vi("x", onnxpb.Float, sym("n"))}, []onnxpb.ValueInfo{vi("y", onnxpb.Float)})), false},
	}
	for _, tt := range tests {
		data, err := os.ReadFile(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		for _, src := range []modelSource{{path: tt.path}, {path: tt.path, data: data}} {
			name := tt.name
			if src.data != nil {
				name += " in memory"
			}
			t.Run(name, func(t *testing.T) {
				wantIns, wantOuts, err := rt.describeWithRuntime(src)
				if err != nil {
					t.Fatal(err)
				}
				if _, _, ok := declared(src); ok != tt.fromFile {
					t.Errorf("read from the file: %v, want %v", ok, tt.fromFile)
				}
				ins, outs, err := rt.describe(src)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(ins, wantIns) {
					t.Errorf("inputs:\n got %v\nwant %v (ONNX Runtime)", ins, wantIns)
				}
				if !reflect.DeepEqual(outs, wantOuts) {
					t.Errorf("outputs:\n got %v\nwant %v (ONNX Runtime)", outs, wantOuts)
				}
			})
		}
	}
}

// A file the reader cannot make sense of goes to ONNX Runtime, whose error the user sees.
func TestDescribeBrokenModel(t *testing.T) {
	rt := testRuntime(t)
	model := doubleModel().Marshal()
	path := filepath.Join(t.TempDir(), "cut.onnx")
	if err := os.WriteFile(path, model[:len(model)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := rt.Describe(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+" is not a model ONNX Runtime can load: ") {
		t.Errorf("error %v, want ONNX Runtime's", err)
	}
	_, err = rt.SessionFromData("cut", model[:len(model)/2], doubleContract)
	if err == nil || !strings.HasPrefix(err.Error(), "cut is not a model ONNX Runtime can load: ") {
		t.Errorf("error %v, want ONNX Runtime's", err)
	}
}

// A model held in memory finds its external data beside the file it stands for, as a model
// loaded from that file does, whatever the working directory.
func TestSessionFromDataFindsExternalData(t *testing.T) {
	rt := testRuntime(t)
	var g onnxpb.Graph
	g.Inputs = []onnxpb.ValueInfo{onnxpb.NewValueInfo("x", onnxpb.Float, onnxpb.Fixed(256))}
	g.Outputs = []onnxpb.ValueInfo{onnxpb.NewValueInfo("y", onnxpb.Float, onnxpb.Fixed(256))}
	twos := make([]float32, 256) // 1 KiB: WriteWithExternalData puts it in weights.pb
	for i := range twos {
		twos[i] = 2
	}
	g.Add("Mul", []string{"x", g.AddInitializer(onnxpb.Float32Tensor("twos", []int64{256}, twos))}, []string{"y"})
	path := filepath.Join(t.TempDir(), "model.onnx")
	if err := (&onnxpb.Model{Graph: g}).WriteWithExternalData(path, "weights.pb"); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := rt.SessionFromData(path, data, doubleContract)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Release(s)
	xs := make([]float32, 256)
	for i := range xs {
		xs[i] = float32(i)
	}
	runDouble(t, s, xs...)
}

// A session made from data is found under its name until it is released.
func TestLoadedFromData(t *testing.T) {
	rt := testRuntime(t)
	s, err := rt.SessionFromData("doubled.onnx", doubleModel().Marshal(), doubleContract)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := rt.LoadedFromData("doubled.onnx"); !ok || got != s {
		t.Errorf("LoadedFromData = %p, %v; want the open session %p", got, ok, s)
	}
	if rt.Loaded("doubled.onnx") {
		t.Error("Loaded reports a file named like the data's session; a file by that name was never opened")
	}
	rt.Release(s)
	if _, ok := rt.LoadedFromData("doubled.onnx"); ok {
		t.Error("LoadedFromData still finds the session after Release")
	}
}
