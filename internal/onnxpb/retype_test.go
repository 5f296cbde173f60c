package onnxpb

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// mixedModel has each kind of thing Retype changes or keeps: a float32 input and output, a
// weight, a Resize whose scales must stay float32, a Constant, a Cast to float32, an int64
// initializer, and a value info for an inner value.
func mixedModel() *Model {
	var g Graph
	g.Inputs = []ValueInfo{NewValueInfo("x", Float, Fixed(1), Fixed(1), Sym("h"), Sym("w"))}
	g.Outputs = []ValueInfo{NewValueInfo("y", Float, Fixed(1), Fixed(1), Sym("h2"), Sym("w2"))}
	w := g.AddInitializer(Float32Tensor("w", []int64{2}, []float32{1.0 / 3, 65520}))
	scales := g.AddInitializer(Float32Tensor("scales", []int64{4}, []float32{1, 1, 2, 2}))
	g.AddInitializer(Int64Tensor("unused_shape", []int64{1}, []int64{7}))
	g.Add("Constant", nil, []string{"c"}, AttrTensor("value", Float32Tensor("", nil, []float32{0.1})))
	g.Add("Resize", []string{"x", "", scales}, []string{"up"}, AttrString("mode", "nearest"))
	g.Add("Mul", []string{"up", "c"}, []string{"m"})
	g.Add("Cast", []string{"m"}, []string{"m32"}, AttrInt("to", int64(Float)))
	g.Add("Add", []string{"m32", w}, []string{"y"})
	return &Model{Graph: g}
}

func TestRetype(t *testing.T) {
	model := mixedModel().Marshal()
	half, err := Retype(model, Float, Float16)
	if err != nil {
		t.Fatal(err)
	}
	e := mustRead(t, half)
	types := map[string]DataType{}
	for name, init := range e.Initializers {
		types[name] = init.DataType
	}
	want := map[string]DataType{"w": Float16, "scales": Float, "unused_shape": Int64}
	for name, dt := range want {
		if types[name] != dt {
			t.Errorf("initializer %s is type %d, want %d", name, types[name], dt)
		}
	}
	// 1/3 rounds to 0x3555; 65520 is past the largest half and becomes +Inf.
	if raw := e.Initializers["w"].Raw; !slices.Equal(raw, []byte{0x55, 0x35, 0x00, 0x7c}) {
		t.Errorf("w's halves are % x", raw)
	}
	for _, n := range e.Nodes {
		switch n.OpType {
		case "Constant":
			if c, _ := n.Attr("value"); c.t.DataType != Float16 || len(c.t.Raw) != 2 {
				t.Errorf("the Constant's value is type %d with %d bytes, want one half", c.t.DataType, len(c.t.Raw))
			}
		case "Cast":
			if to, _ := n.Attr("to"); to.i != int64(Float16) {
				t.Errorf("the Cast makes type %d, want float16", to.i)
			}
		}
	}
	ins, outs, err := ReadSignatureData(half)
	if err != nil {
		t.Fatal(err)
	}
	if ins[0].ElemType != Float16 || outs[0].ElemType != Float16 || ins[0].Dims[2].Param != "h" {
		t.Errorf("signature %+v → %+v, want float16 with the shapes kept", ins, outs)
	}

	// Widening the narrowed model gives back a float32 model with the rounded weights.
	wide, err := Retype(half, Float16, Float)
	if err != nil {
		t.Fatal(err)
	}
	e = mustRead(t, wide)
	got, err := e.Initializers["w"].Float32s()
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != Float32FromHalf(0x3555) || got[1] <= 65504 {
		t.Errorf("widened w = %v, want [%v +Inf]", got, Float32FromHalf(0x3555))
	}
	if in, _, _ := ReadSignatureData(wide); in[0].ElemType != Float {
		t.Errorf("widened input type %d", in[0].ElemType)
	}
}

func TestRetypeRefuses(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		from DataType
		to   DataType
		want string
	}{
		{"not floats", mixedModel().Marshal(), Float, Int64, "converts between float32 and float16"},
		{"not a model", []byte("hello"), Float, Float16, "not an ONNX model"},
	}
	for _, tt := range tests {
		if _, err := Retype(tt.data, tt.from, tt.to); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Retype error %v, want one with %q", tt.name, err, tt.want)
		}
	}
}

func TestRetypeExternalWeights(t *testing.T) {
	path := t.TempDir() + "/model.onnx"
	m := &Model{Graph: Graph{
		Inputs:       []ValueInfo{NewValueInfo("x", Float, Fixed(512))},
		Outputs:      []ValueInfo{NewValueInfo("y", Float, Fixed(512))},
		Initializers: []Tensor{Float32Tensor("w", []int64{512}, make([]float32, 512))},
	}}
	m.Graph.Add("Add", []string{"x", "w"}, []string{"y"})
	if err := m.WriteWithExternalData(path, "weights.pb"); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Retype(data, Float, Float16); err == nil || !strings.Contains(err.Error(), `initializer "w" is in an external file`) {
		t.Errorf("Retype of external weights: %v", err)
	}
	// The casts around it need no weights.
	if _, err := CastIO(data, Float, Float16); err != nil {
		t.Errorf("CastIO of external weights: %v", err)
	}
}

func TestCastIO(t *testing.T) {
	half, err := Retype(mixedModel().Marshal(), Float, Float16)
	if err != nil {
		t.Fatal(err)
	}
	wrapped, err := CastIO(half, Float16, Float)
	if err != nil {
		t.Fatal(err)
	}
	ins, outs, err := ReadSignatureData(wrapped)
	if err != nil {
		t.Fatal(err)
	}
	if ins[0].Name != "x" || ins[0].ElemType != Float || outs[0].Name != "y" || outs[0].ElemType != Float {
		t.Errorf("wrapped signature %+v → %+v, want x and y as float32", ins, outs)
	}
	e := mustRead(t, wrapped)
	first, last := e.Nodes[0], e.Nodes[len(e.Nodes)-1]
	if first.OpType != "Cast" || first.Inputs[0] != "x" || first.Outputs[0] != "x_cast" {
		t.Errorf("first node %+v, want Cast x → x_cast", first)
	}
	if last.OpType != "Cast" || last.Inputs[0] != "y_cast" || last.Outputs[0] != "y" {
		t.Errorf("last node %+v, want Cast y_cast → y", last)
	}
	for _, n := range e.Nodes[1 : len(e.Nodes)-1] {
		if slices.Contains(n.Inputs, "x") || slices.Contains(n.Outputs, "y") {
			t.Errorf("node %s still uses x or y: %v → %v", n.Name, n.Inputs, n.Outputs)
		}
	}
	// A model with nothing of type inner is left as it was, bar re-encoding.
	same, err := CastIO(mixedModel().Marshal(), Float16, Float)
	if err != nil || len(mustRead(t, same).Nodes) != len(mixedModel().Graph.Nodes) {
		t.Errorf("CastIO of a float32 model added nodes (err %v)", err)
	}
}
