package ort

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"dream/internal/onnxpb"

	onnx "github.com/yalue/onnxruntime_go"
)

// passThrough is a model whose outputs copy its inputs, output i from input i, with a Cast when
// the declared types differ. It is enough to give ONNX Runtime any inputs and outputs to declare.
func passThrough(ins, outs []onnxpb.ValueInfo) *onnxpb.Model {
	var g onnxpb.Graph
	g.Inputs, g.Outputs = ins, outs
	for i, out := range outs {
		in := ins[i%len(ins)]
		if in.ElemType == out.ElemType {
			g.Add("Identity", []string{in.Name}, []string{out.Name})
		} else {
			g.Add("Cast", []string{in.Name}, []string{out.Name}, onnxpb.AttrInt("to", int64(out.ElemType)))
		}
	}
	return &onnxpb.Model{Graph: g}
}

// image is the usual image tensor declaration, [1,3,h,w] with symbolic h and w.
func image(name string, t onnxpb.DataType) onnxpb.ValueInfo {
	return onnxpb.NewValueInfo(name, t, onnxpb.Fixed(1), onnxpb.Fixed(3), onnxpb.Sym("h"), onnxpb.Sym("w"))
}

// imageContract is what an upscaler needs: one float32 image in, one out.
var imageContract = Contract{
	Inputs:  []Tensor{{Type: Float32, Dims: []int64{1, 3, Any, Any}}},
	Outputs: []Tensor{{Type: Float32, Dims: []int64{1, 3, Any, Any}}},
}

func TestContractMismatch(t *testing.T) {
	rt := testRuntime(t)
	f32, f16, f64 := onnxpb.Float, onnxpb.Float16, onnxpb.Double
	vi, fixed, sym := onnxpb.NewValueInfo, onnxpb.Fixed, onnxpb.Sym

	tests := []struct {
		name  string
		file  string
		model *onnxpb.Model
		want  Contract
		// err is the whole message after the file name; the file name comes first.
		err string
	}{
		{
			// A float16 model is opened as float32 (fp16.go), but a mismatch besides the type
			// is reported with the types the model declares.
			name: "float16 input of the wrong rank",
			file: "fp16.onnx",
			model: passThrough([]onnxpb.ValueInfo{vi("x", f16, fixed(3), sym("h"), sym("w"))},
				[]onnxpb.ValueInfo{image("y", f16)}),
			want: imageContract,
			err:  `no input matches what dream needs, float32 [1,3,?,?]; the model has "x" float16 [3,?,?]`,
		},
		{
			name: "wrong rank",
			file: "rank3.onnx",
			model: passThrough([]onnxpb.ValueInfo{vi("x", f32, fixed(3), sym("h"), sym("w"))},
				[]onnxpb.ValueInfo{vi("y", f32, fixed(3), sym("h"), sym("w"))}),
			want: imageContract,
			err:  `no input matches what dream needs, float32 [1,3,?,?]; the model has "x" float32 [3,?,?]`,
		},
		{
			name: "one channel where three are needed",
			file: "gray.onnx",
			model: passThrough([]onnxpb.ValueInfo{vi("x", f32, fixed(1), fixed(1), sym("h"), sym("w"))},
				[]onnxpb.ValueInfo{image("y", f32)}),
			want: imageContract,
			err:  `no input matches what dream needs, float32 [1,3,?,?]; the model has "x" float32 [1,1,?,?]`,
		},
		{
			name:  "two inputs where one is needed",
			file:  "two.onnx",
			model: passThrough([]onnxpb.ValueInfo{image("x", f32), vi("w", f64, fixed(1))}, []onnxpb.ValueInfo{image("y", f32)}),
			want:  imageContract,
			err:   `model has 2 inputs ("x" float32 [1,3,?,?], "w" float64 [1]), dream needs 1 (float32 [1,3,?,?])`,
		},
		{
			name: "two outputs where one is needed",
			file: "twoout.onnx",
			model: passThrough([]onnxpb.ValueInfo{image("x", f32)},
				[]onnxpb.ValueInfo{image("y", f32), image("z", f32)}),
			want: imageContract,
			err:  `model has 2 outputs ("y" float32 [1,3,?,?], "z" float32 [1,3,?,?]), dream needs 1 (float32 [1,3,?,?])`,
		},
		{
			// Each want matches "a" alone, but they cannot both have it.
			name: "two wants for one tensor",
			file: "pair.onnx",
			model: passThrough([]onnxpb.ValueInfo{vi("a", f32, fixed(1)), vi("b", f64, fixed(1))},
				[]onnxpb.ValueInfo{vi("y", f32, fixed(1))}),
			want: Contract{
				Inputs:  []Tensor{{Type: Float32, Dims: []int64{1}}, {Type: Float32, Dims: []int64{1}}},
				Outputs: []Tensor{{Type: Float32, Dims: []int64{1}}},
			},
			err: `the model's inputs ("a" float32 [1], "b" float64 [1]) cannot be paired one to one with what dream needs (float32 [1], float32 [1])`,
		},
		{
			name:  "named input missing",
			file:  "named.onnx",
			model: passThrough([]onnxpb.ValueInfo{image("input", f32)}, []onnxpb.ValueInfo{image("y", f32)}),
			want: Contract{
				Inputs:  []Tensor{{Name: "image", Type: Float32, Dims: []int64{1, 3, Any, Any}}},
				Outputs: imageContract.Outputs,
			},
			err: `no input matches what dream needs, "image" float32 [1,3,?,?]; the model has "input" float32 [1,3,?,?]`,
		},
		{
			name:  "a type list names every accepted type",
			file:  "fp64.onnx",
			model: passThrough([]onnxpb.ValueInfo{image("x", f64)}, []onnxpb.ValueInfo{image("y", f32)}),
			want: Contract{
				Inputs:  []Tensor{{Types: []DataType{Float32, Float16}, Dims: []int64{1, 3, Any, Any}}},
				Outputs: imageContract.Outputs,
			},
			err: `no input matches what dream needs, float32 or float16 [1,3,?,?]; the model has "x" float64 [1,3,?,?]`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeModel(t, tt.file, tt.model)
			s, err := rt.Session(path, tt.want)
			if err == nil {
				t.Fatalf("Session(%s) = %+v, want an error", tt.file, s.Inputs)
			}
			if want := tt.file + ": " + tt.err; err.Error() != want {
				t.Errorf("error:\n got %s\nwant %s", err, want)
			}
			// A model refused once must be refused again, not served from the cache.
			if _, err := rt.Session(path, tt.want); err == nil {
				t.Error("second Session call succeeded")
			}
		})
	}
}

func TestSessionBadFile(t *testing.T) {
	rt := testRuntime(t)
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.onnx")
	if err := os.WriteFile(garbage, []byte("this is not a protobuf"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		want       []string
	}{
		{"missing", filepath.Join(dir, "missing.onnx"), []string{"model file " + filepath.Join(dir, "missing.onnx") + " not found"}},
		{"not a model", garbage, []string{garbage + " is not a model ONNX Runtime can load: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rt.Session(tt.path, imageContract)
			if err == nil {
				t.Fatal("Session succeeded")
			}
			for _, part := range tt.want {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not contain %q", err, part)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans several lines: %q", err)
			}
		})
	}
}

// TestContractAccepts checks which declared tensor each wanted one is paired with, and that the
// session lists them in the contract's order.
func TestContractAccepts(t *testing.T) {
	rt := testRuntime(t)
	f32, f16, f64 := onnxpb.Float, onnxpb.Float16, onnxpb.Double
	vi, fixed := onnxpb.NewValueInfo, onnxpb.Fixed

	tests := []struct {
		name    string
		model   *onnxpb.Model
		want    Contract
		inputs  []string // the declared names Session.Inputs must list, in order
		outputs []string
		types   []DataType // the first input's and output's types as callers see them, when set
	}{
		{
			name:    "fixed sizes where any size is wanted",
			model:   passThrough([]onnxpb.ValueInfo{vi("x", f32, fixed(1), fixed(3), fixed(64), fixed(64))}, []onnxpb.ValueInfo{vi("y", f32, fixed(1), fixed(3), fixed(64), fixed(64))}),
			want:    imageContract,
			inputs:  []string{"x"},
			outputs: []string{"y"},
		},
		{
			name:  "float16 when the contract lists it",
			model: passThrough([]onnxpb.ValueInfo{image("x", f16)}, []onnxpb.ValueInfo{image("y", f16)}),
			want: Contract{
				Inputs:  []Tensor{{Types: []DataType{Float32, Float16}, Dims: []int64{1, 3, Any, Any}}},
				Outputs: []Tensor{{Types: []DataType{Float32, Float16}, Dims: []int64{1, 3, Any, Any}}},
			},
			inputs:  []string{"x"},
			outputs: []string{"y"},
			types:   []DataType{Float16, Float16},
		},
		{
			name:    "float16 input where float32 is needed, opened as float32",
			model:   passThrough([]onnxpb.ValueInfo{image("x", f16)}, []onnxpb.ValueInfo{image("y", f32)}),
			want:    imageContract,
			inputs:  []string{"x"},
			outputs: []string{"y"},
			types:   []DataType{Float32, Float32},
		},
		{
			name:    "float16 output where float32 is needed, opened as float32",
			model:   passThrough([]onnxpb.ValueInfo{image("x", f32)}, []onnxpb.ValueInfo{image("y", f16)}),
			want:    imageContract,
			inputs:  []string{"x"},
			outputs: []string{"y"},
			types:   []DataType{Float32, Float32},
		},
		{
			name: "by name, against the declared order",
			model: passThrough([]onnxpb.ValueInfo{vi("a", f32, fixed(2)), vi("b", f32, fixed(2))},
				[]onnxpb.ValueInfo{vi("a_out", f32, fixed(2)), vi("b_out", f32, fixed(2))}),
			want: Contract{
				Inputs:  []Tensor{{Name: "b", Type: Float32}, {Name: "a", Type: Float32}},
				Outputs: []Tensor{{Name: "b_out", Type: Float32}, {Name: "a_out", Type: Float32}},
			},
			inputs:  []string{"b", "a"},
			outputs: []string{"b_out", "a_out"},
		},
		{
			// The first wanted tensor would take "x" if it were paired greedily, leaving nothing
			// of shape [1,3,?,?] for the second.
			name: "a loose want before a strict one",
			model: passThrough([]onnxpb.ValueInfo{image("x", f32), vi("m", f32, fixed(1))},
				[]onnxpb.ValueInfo{image("y", f32)}),
			want: Contract{
				Inputs:  []Tensor{{Type: Float32}, {Type: Float32, Dims: []int64{1, 3, Any, Any}}},
				Outputs: imageContract.Outputs,
			},
			inputs:  []string{"m", "x"},
			outputs: []string{"y"},
		},
		{
			name: "an unnamed want does not take a named one's tensor",
			model: passThrough([]onnxpb.ValueInfo{vi("x", f32, fixed(2)), vi("y", f32, fixed(2))},
				[]onnxpb.ValueInfo{vi("z", f32, fixed(2))}),
			want: Contract{
				Inputs:  []Tensor{{Type: Float32}, {Name: "x", Type: Float32}},
				Outputs: []Tensor{{Type: Float32}},
			},
			inputs:  []string{"y", "x"},
			outputs: []string{"z"},
		},
		{
			name:    "any rank",
			model:   passThrough([]onnxpb.ValueInfo{vi("x", f64, fixed(2), fixed(2), fixed(2))}, []onnxpb.ValueInfo{vi("y", f64)}),
			want:    Contract{Inputs: []Tensor{{Type: Float64}}, Outputs: []Tensor{{Type: Float64}}},
			inputs:  []string{"x"},
			outputs: []string{"y"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := rt.Session(writeModel(t, "model.onnx", tt.model), tt.want)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(s.Inputs); !slices.Equal(got, tt.inputs) {
				t.Errorf("Inputs = %v, want %v", got, tt.inputs)
			}
			if got := names(s.Outputs); !slices.Equal(got, tt.outputs) {
				t.Errorf("Outputs = %v, want %v", got, tt.outputs)
			}
			if tt.types != nil && (s.Inputs[0].DataType != tt.types[0] || s.Outputs[0].DataType != tt.types[1]) {
				t.Errorf("types %v and %v, want %v", s.Inputs[0].DataType, s.Outputs[0].DataType, tt.types)
			}
		})
	}
}

// codeFormerLike declares its inputs as CodeFormer's export does, fidelity weight first and
// image second, and computes y = x·w so a swap of the two would show in the result.
func codeFormerLike() *onnxpb.Model {
	var g onnxpb.Graph
	g.Inputs = []onnxpb.ValueInfo{
		onnxpb.NewValueInfo("w", onnxpb.Double, onnxpb.Fixed(1)),
		onnxpb.NewValueInfo("x", onnxpb.Float, onnxpb.Fixed(1), onnxpb.Fixed(3), onnxpb.Fixed(2), onnxpb.Fixed(2)),
	}
	g.Outputs = []onnxpb.ValueInfo{
		onnxpb.NewValueInfo("y", onnxpb.Float, onnxpb.Fixed(1), onnxpb.Fixed(3), onnxpb.Fixed(2), onnxpb.Fixed(2)),
	}
	g.Add("Mul", []string{"x", g.Add("Cast", []string{"w"}, []string{"w32"},
		onnxpb.AttrInt("to", int64(onnxpb.Float)))[0]}, []string{"y"})
	return &onnxpb.Model{Graph: g}
}

func TestContractUnnamedOrder(t *testing.T) {
	rt := testRuntime(t)
	want := Contract{
		Inputs: []Tensor{
			{Type: Float32, Dims: []int64{1, 3, Any, Any}}, // the face
			{Type: Float64, Dims: []int64{1}},              // the fidelity weight
		},
		Outputs: []Tensor{{Type: Float32, Dims: []int64{1, 3, Any, Any}}},
	}
	s, err := rt.Session(writeModel(t, "codeformer.onnx", codeFormerLike()), want)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(s.Inputs); !slices.Equal(got, []string{"x", "w"}) {
		t.Fatalf("Inputs = %v, want the contract's order [x w]", got)
	}
	if s.Inputs[1].DataType != Float64 || len(s.Inputs[0].Dimensions) != 4 {
		t.Errorf("Inputs carry the wrong descriptions: %v", s.Inputs)
	}

	// Values go in the contract's order: the image first, then the weight.
	x := newTensor(t, []int64{1, 3, 2, 2}, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	w := newTensor(t, []int64{1}, []float64{0.5})
	y := newTensor(t, []int64{1, 3, 2, 2}, make([]float32, 12))
	if err := s.Run(t.Context(), []Value{x, w}, []Value{y}); err != nil {
		t.Fatal(err)
	}
	for i, got := range y.GetData() {
		if want := float32(i+1) * 0.5; got != want {
			t.Fatalf("y[%d] = %v, want %v", i, got, want)
		}
	}
}

func TestTensorString(t *testing.T) {
	tests := []struct {
		t    Tensor
		want string
	}{
		{Tensor{Type: Float32, Dims: []int64{1, 3, Any, Any}}, "float32 [1,3,?,?]"},
		{Tensor{Name: "weight", Type: Float64, Dims: []int64{1}}, `"weight" float64 [1]`},
		{Tensor{Types: []DataType{Float32, Float16}}, "float32 or float16"},
		{Tensor{Type: Int64, Dims: []int64{}}, "int64 []"},
	}
	for _, tt := range tests {
		if got := tt.t.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

// names lists the declared names of a session's inputs or outputs.
func names(infos []onnx.InputOutputInfo) []string {
	out := make([]string, len(infos))
	for i, info := range infos {
		out[i] = info.Name
	}
	return out
}
