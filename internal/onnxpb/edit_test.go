package onnxpb

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// ReadEditable decodes every kind of node field and attribute the encoder writes.
func TestReadEditable(t *testing.T) {
	e, err := ReadEditable(tinyModel().Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Nodes) != 1 {
		t.Fatalf("%d nodes, want 1", len(e.Nodes))
	}
	n := e.Nodes[0]
	if n.OpType != "Custom" || n.Name != "Custom_0" || n.Domain != "test.domain" ||
		!reflect.DeepEqual(n.Inputs, []string{"x", "", "w"}) || !reflect.DeepEqual(n.Outputs, []string{"y"}) {
		t.Errorf("node %+v", n)
	}
	if a, _ := n.Attr("i"); !is(a.Int()) || a.i != -1 {
		t.Errorf("attribute i: %+v", a)
	}
	if a, _ := n.Attr("f"); !is(a.Float()) || a.f != 0.5 {
		t.Errorf("attribute f: %+v", a)
	}
	if a, _ := n.Attr("is"); !is(a.Ints()) || !reflect.DeepEqual(a.ints, []int64{1, 300}) {
		t.Errorf("attribute is: %+v", a)
	}
	if a, _ := n.Attr("t"); !is(a.Tensor()) || a.t.DataType != Int64 || !bytes.Equal(a.t.Raw, []byte{2, 1, 0, 0, 0, 0, 0, 0}) {
		t.Errorf("attribute t: %+v", a)
	}
	if _, ok := n.Attr("missing"); ok {
		t.Error("found an attribute the node does not have")
	}
	if w, err := e.Initializers["w"].Float32s(); err != nil || !reflect.DeepEqual(w, []float32{1, -2}) {
		t.Errorf("initializer w: %v, %v", w, err)
	}
	if !reflect.DeepEqual(e.Inputs, []string{"x"}) || !reflect.DeepEqual(e.Outputs, []string{"y"}) {
		t.Errorf("inputs %v, outputs %v", e.Inputs, e.Outputs)
	}
	if !reflect.DeepEqual(e.Opsets, map[string]int64{"": DefaultOpset, "test.domain": 3}) {
		t.Errorf("opsets %v", e.Opsets)
	}
}

func is[T any](_ T, ok bool) bool { return ok }

// With nothing replaced, Marshal gives back the file byte for byte; a weight in an external
// file is only a reference, with its location.
func TestEditableRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.onnx")
	if err := convModel(3, 8, 16, 16, make([]float32, 8*3*3*3), make([]float32, 8)).
		WriteWithExternalData(path, "weights.pb"); err != nil {
		t.Fatal(err)
	}
	external, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, model := range map[string][]byte{"tiny": tinyModel().Marshal(), "external data": external} {
		e, err := ReadEditable(model)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.Marshal(nil, nil); !bytes.Equal(got, model) {
			t.Errorf("%s: the model changed with nothing replaced", name)
		}
	}
	e, _ := ReadEditable(external)
	for name, w := range e.Initializers {
		if len(w.Raw) >= externalThreshold || (w.External != nil && w.External.Location != "weights.pb") {
			t.Errorf("initializer %s: %d bytes in the model, external %+v", name, len(w.Raw), w.External)
		}
	}
}

// Replacing a node changes that node's field and nothing else: putting the original node
// back gives the original file.
func TestEditableReplace(t *testing.T) {
	model := tinyModel().Marshal()
	e, err := ReadEditable(model)
	if err != nil {
		t.Fatal(err)
	}
	original := e.Nodes[0]
	twice := []Node{
		{OpType: "Relu", Name: "a", Inputs: []string{"x"}, Outputs: []string{"h"}},
		{OpType: "Fused", Name: "b", Domain: "com.example", Inputs: []string{"h"}, Outputs: []string{"y"},
			Attrs: []Attr{AttrInt("k", 2)}},
	}
	edited := e.Marshal(map[int][]Node{0: twice}, map[string]int64{"com.example": 1, "test.domain": 9})
	e2, err := ReadEditable(edited)
	if err != nil {
		t.Fatal(err)
	}
	if len(e2.Nodes) != 2 || e2.Nodes[0].OpType != "Relu" || e2.Nodes[1].OpType != "Fused" || e2.Nodes[1].Domain != "com.example" {
		t.Fatalf("nodes after the edit: %+v", e2.Nodes)
	}
	// The new domain is imported once; test.domain keeps the version it had.
	if !reflect.DeepEqual(e2.Opsets, map[string]int64{"": DefaultOpset, "test.domain": 3, "com.example": 1}) {
		t.Errorf("opsets %v", e2.Opsets)
	}
	back := e2.Marshal(map[int][]Node{0: {original}, 1: nil}, nil)
	// The added opset_import is the model's last field; without it the file is the original.
	if !bytes.Equal(withoutLastField(t, back), model) {
		t.Error("putting the original node back did not restore the file")
	}
	if removed := e.Marshal(map[int][]Node{0: nil}, nil); len(mustRead(t, removed).Nodes) != 0 {
		t.Error("a node mapped to no replacement was kept")
	}
}

func mustRead(t *testing.T, model []byte) *Editable {
	t.Helper()
	e, err := ReadEditable(model)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func withoutLastField(t *testing.T, msg []byte) []byte {
	t.Helper()
	last := 0
	for at := 0; at < len(msg); {
		num, typ, n := protowire.ConsumeTag(msg[at:])
		m := protowire.ConsumeFieldValue(num, typ, msg[at+n:])
		if n < 0 || m < 0 {
			t.Fatal("bad field")
		}
		last, at = at, at+n+m
	}
	return msg[:last]
}

// Exporters other than this package may store constants in typed fields and packed lists.
func TestReadEditableTypedData(t *testing.T) {
	var tensor []byte
	tensor = protowire.AppendTag(tensor, tensorDims, protowire.BytesType) // packed dims
	tensor = protowire.AppendBytes(tensor, protowire.AppendVarint(nil, 2))
	tensor = protowire.AppendTag(tensor, tensorDataType, protowire.VarintType)
	tensor = protowire.AppendVarint(tensor, uint64(Int64))
	for _, v := range []int64{-1, 7} {
		tensor = protowire.AppendTag(tensor, tensorInt64Data, protowire.VarintType)
		tensor = protowire.AppendVarint(tensor, uint64(v))
	}
	got, err := readTensor(tensor)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := got.Int64s(); err != nil || !reflect.DeepEqual(v, []int64{-1, 7}) {
		t.Errorf("int64_data: %v, %v", v, err)
	}
}

func TestReadEditableRejects(t *testing.T) {
	model := tinyModel().Marshal()
	for name, data := range map[string][]byte{
		"truncated":  model[:len(model)-3],
		"no graph":   protowire.AppendVarint(protowire.AppendTag(nil, modelIRVersion, protowire.VarintType), 8),
		"two graphs": append(bytes.Clone(model), protowire.AppendBytes(protowire.AppendTag(nil, modelGraph, protowire.BytesType), nil)...),
	} {
		if _, err := ReadEditable(data); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
