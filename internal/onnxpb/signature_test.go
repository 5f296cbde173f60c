package onnxpb

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	ort "github.com/yalue/onnxruntime_go"
)

// identityModel passes each input through to the output of the same position.
func identityModel(ins, outs []ValueInfo) *Model {
	var g Graph
	g.Inputs, g.Outputs = ins, outs
	for i, out := range outs {
		g.Add("Identity", []string{ins[i].Name}, []string{out.Name})
	}
	return &Model{Graph: g}
}

// weightsAsInputs is a model as older exporters wrote them (IR version 3): its weight w is
// both an initializer and a graph input.
func weightsAsInputs() *Model {
	var g Graph
	g.Inputs = []ValueInfo{NewValueInfo("x", Float, Sym("n")), NewValueInfo("w", Float, Fixed(1))}
	g.Outputs = []ValueInfo{NewValueInfo("y", Float, Sym("n"))}
	w := g.AddInitializer(Float32Tensor("w", []int64{1}, []float32{2}))
	g.Add("Mul", []string{"x", w}, []string{"y"})
	return &Model{Graph: g, IRVersion: 3, Opset: 9}
}

// constantOnly outputs a constant and has no inputs.
func constantOnly() *Model {
	var g Graph
	g.Outputs = []ValueInfo{NewValueInfo("c", Int64, Fixed(3))}
	g.Add("Constant", nil, []string{"c"}, AttrTensor("value", Int64Tensor("", []int64{3}, []int64{1, 2, 3})))
	return &Model{Graph: g}
}

// appendGraph appends a second ModelProto.graph field holding g's fields. Protobuf merges
// the two, so the model gains g's inputs, outputs and initializers after its own.
func appendGraph(model []byte, g Graph) []byte {
	e := &encoder{b: model}
	e.messageField(modelGraph, func() { e.graph(&g) })
	return e.b
}

func TestReadSignature(t *testing.T) {
	image := []Dim{Fixed(1), Fixed(3), Sym("height"), Sym("width")}
	scalar := []Dim{}
	tests := []struct {
		name            string
		model           []byte
		inputs, outputs []ValueInfo
	}{
		{
			name:    "symbolic and fixed dims",
			model:   addMulModel().Marshal(),
			inputs:  []ValueInfo{NewValueInfo("x", Float, image...)},
			outputs: []ValueInfo{NewValueInfo("y", Float, image...)},
		},
		{
			name: "several inputs and outputs, in order",
			model: identityModel(
				[]ValueInfo{NewValueInfo("b", Double, Fixed(2)), NewValueInfo("a", Int64, Sym("n"), Fixed(4))},
				[]ValueInfo{NewValueInfo("b_out", Double, Fixed(2)), NewValueInfo("a_out", Int64, Sym("n"), Fixed(4))},
			).Marshal(),
			inputs:  []ValueInfo{NewValueInfo("b", Double, Fixed(2)), NewValueInfo("a", Int64, Sym("n"), Fixed(4))},
			outputs: []ValueInfo{NewValueInfo("b_out", Double, Fixed(2)), NewValueInfo("a_out", Int64, Sym("n"), Fixed(4))},
		},
		{
			name: "unknown dimension",
			model: identityModel([]ValueInfo{NewValueInfo("x", Float16, Dim{Value: -1}, Fixed(0))},
				[]ValueInfo{NewValueInfo("y", Float16, Dim{Value: -1}, Fixed(0))}).Marshal(),
			inputs:  []ValueInfo{NewValueInfo("x", Float16, Dim{Value: -1}, Fixed(0))},
			outputs: []ValueInfo{NewValueInfo("y", Float16, Dim{Value: -1}, Fixed(0))},
		},
		{
			name: "scalar and unknown-rank outputs",
			model: identityModel(
				[]ValueInfo{NewValueInfo("s", Float, scalar...), NewValueInfo("u", Int32)},
				[]ValueInfo{NewValueInfo("scalar", Float, scalar...), NewValueInfo("any", Int32)},
			).Marshal(),
			// A scalar has an empty shape, an unknown rank none at all.
			inputs:  []ValueInfo{{Name: "s", ElemType: Float, Dims: []Dim{}}, {Name: "u", ElemType: Int32}},
			outputs: []ValueInfo{{Name: "scalar", ElemType: Float, Dims: []Dim{}}, {Name: "any", ElemType: Int32}},
		},
		{
			name:    "initializers listed as inputs",
			model:   weightsAsInputs().Marshal(),
			inputs:  []ValueInfo{NewValueInfo("x", Float, Sym("n"))},
			outputs: []ValueInfo{NewValueInfo("y", Float, Sym("n"))},
		},
		{
			name: "initializer after the input it shadows",
			model: appendGraph(
				identityModel([]ValueInfo{NewValueInfo("x", Float, Fixed(1)), NewValueInfo("w", Float, Fixed(1))},
					[]ValueInfo{NewValueInfo("y", Float, Fixed(1))}).Marshal(),
				Graph{Initializers: []Tensor{Float32Tensor("w", []int64{1}, []float32{2})}}),
			inputs:  []ValueInfo{NewValueInfo("x", Float, Fixed(1))},
			outputs: []ValueInfo{NewValueInfo("y", Float, Fixed(1))},
		},
		{
			name:    "no inputs",
			model:   constantOnly().Marshal(),
			outputs: []ValueInfo{NewValueInfo("c", Int64, Fixed(3))},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "model.onnx")
			if err := os.WriteFile(path, tt.model, 0o644); err != nil {
				t.Fatal(err)
			}
			ins, outs, err := ReadSignature(path)
			if err != nil {
				t.Fatal(err)
			}
			checkSignature(t, ins, outs, tt.inputs, tt.outputs)

			ins, outs, err = ReadSignatureData(tt.model)
			if err != nil {
				t.Fatal(err)
			}
			checkSignature(t, ins, outs, tt.inputs, tt.outputs)
		})
	}
}

func checkSignature(t *testing.T, ins, outs, wantIns, wantOuts []ValueInfo) {
	t.Helper()
	if !reflect.DeepEqual(ins, wantIns) {
		t.Errorf("inputs:\n got %+v\nwant %+v", ins, wantIns)
	}
	if !reflect.DeepEqual(outs, wantOuts) {
		t.Errorf("outputs:\n got %+v\nwant %+v", outs, wantOuts)
	}
}

// A model whose weights are in a file of their own, like a Stable Diffusion UNet and its
// weights.pb, is read without that file.
func TestReadSignatureExternalData(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.onnx")
	if err := convModel(3, 8, 16, 16, make([]float32, 8*3*3*3), make([]float32, 8)).
		WriteWithExternalData(path, "weights.pb"); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "weights.pb")); err != nil {
		t.Fatal(err)
	}
	ins, outs, err := ReadSignature(path)
	if err != nil {
		t.Fatal(err)
	}
	checkSignature(t, ins, outs,
		[]ValueInfo{NewValueInfo("x", Float, Fixed(1), Fixed(3), Fixed(16), Fixed(16))},
		[]ValueInfo{NewValueInfo("y", Float, Fixed(1), Fixed(8), Fixed(16), Fixed(16))})
}

// hugeModel is an io.ReaderAt for a model with one initializer of gap bytes of raw data,
// which it makes up rather than holds, so that a test can read a model of gigabytes. It
// counts the bytes read.
type hugeModel struct {
	head, tail []byte // the model's bytes before and after the raw data
	gap        int64
	read       int64
}

func newHugeModel(gap int64) *hugeModel {
	// The tail: an input that the initializer shadows, and the real signature.
	e := &encoder{}
	e.graph(&Graph{
		Inputs:  []ValueInfo{NewValueInfo("w", Float, Fixed(gap/4)), NewValueInfo("x", Float, Sym("n"))},
		Outputs: []ValueInfo{NewValueInfo("y", Float, Sym("n"))},
	})
	tail := e.b

	var tensor []byte // the initializer's fields up to its raw data
	tensor = protowire.AppendTag(tensor, tensorName, protowire.BytesType)
	tensor = protowire.AppendString(tensor, "w")
	tensor = protowire.AppendTag(tensor, tensorDataType, protowire.VarintType)
	tensor = protowire.AppendVarint(tensor, uint64(Float))
	tensor = protowire.AppendTag(tensor, tensorRawData, protowire.BytesType)
	tensor = protowire.AppendVarint(tensor, uint64(gap))

	var graph []byte // the graph's fields up to the raw data
	graph = protowire.AppendTag(graph, graphInitializer, protowire.BytesType)
	graph = protowire.AppendVarint(graph, uint64(int64(len(tensor))+gap))
	graph = append(graph, tensor...)

	var head []byte
	head = protowire.AppendTag(head, modelIRVersion, protowire.VarintType)
	head = protowire.AppendVarint(head, DefaultIRVersion)
	head = protowire.AppendTag(head, modelGraph, protowire.BytesType)
	head = protowire.AppendVarint(head, uint64(int64(len(graph))+gap+int64(len(tail))))
	head = append(head, graph...)
	return &hugeModel{head: head, tail: tail, gap: gap}
}

func (h *hugeModel) size() int64 { return int64(len(h.head)) + h.gap + int64(len(h.tail)) }

func (h *hugeModel) ReadAt(p []byte, off int64) (int, error) {
	start, tailAt := off, int64(len(h.head))+h.gap
	for len(p) > 0 && off < h.size() {
		var n int
		switch {
		case off < int64(len(h.head)):
			n = copy(p, h.head[off:])
		case off < tailAt:
			n = int(min(int64(len(p)), tailAt-off))
			clear(p[:n])
		default:
			n = copy(p, h.tail[off-tailAt:])
		}
		p, off = p[n:], off+int64(n)
	}
	h.read += off - start
	if len(p) > 0 {
		return int(off - start), io.EOF
	}
	return int(off - start), nil
}

// The reader seeks over a tensor's data instead of reading it, so a model of gigabytes
// costs a few kilobytes of reading.
func TestReadSignatureSkipsWeights(t *testing.T) {
	m := newHugeModel(3 << 30)
	ins, outs, err := readSignature(m, m.size())
	if err != nil {
		t.Fatal(err)
	}
	checkSignature(t, ins, outs,
		[]ValueInfo{NewValueInfo("x", Float, Sym("n"))}, []ValueInfo{NewValueInfo("y", Float, Sym("n"))})
	if m.read > 4*bufSize {
		t.Errorf("read %d bytes of a %d-byte model", m.read, m.size())
	}
}

func TestReadSignatureRejects(t *testing.T) {
	model := addMulModel().Marshal()
	graphEnd := topLevelFieldEnd(t, model, modelGraph)
	var noGraph []byte
	noGraph = protowire.AppendTag(noGraph, modelIRVersion, protowire.VarintType)
	noGraph = protowire.AppendVarint(noGraph, DefaultIRVersion)
	// hugeName is a model whose one input has a name of 2 MiB: graph { input { name } }, each
	// length 4 more than the next, for the 1-byte tag and 3-byte length in between.
	hugeName := protowire.AppendTag(bytes.Clone(noGraph), modelGraph, protowire.BytesType)
	hugeName = protowire.AppendVarint(hugeName, 2*maxNameLen)
	hugeName = protowire.AppendTag(hugeName, graphInput, protowire.BytesType)
	hugeName = protowire.AppendVarint(hugeName, 2*maxNameLen-4)
	hugeName = protowire.AppendTag(hugeName, valueInfoName, protowire.BytesType)
	hugeName = protowire.AppendVarint(hugeName, 2*maxNameLen-8)
	hugeName = append(hugeName, make([]byte, 2*maxNameLen-8)...)

	tests := []struct {
		name, want string
		data       []byte
	}{
		{"empty", "empty", nil},
		{"no ir_version", "no ir_version", protowire.AppendVarint(protowire.AppendTag(nil, modelOpsetImport, protowire.BytesType), 0)},
		{"text", "wire type", []byte("this is not a protobuf")},
		{"PNG", "", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")},
		{"no graph", "no graph", noGraph},
		{"cut in the graph", "claims", model[:graphEnd-1]},
		{"cut in a varint", "unexpected EOF", append(bytes.Clone(noGraph), 0x80)},
		{"length past the end", "claims", protowire.AppendVarint(protowire.AppendTag(bytes.Clone(noGraph), modelGraph, protowire.BytesType), 1<<62)},
		{"field number 0", "invalid field number", []byte{0x00, 0x01}},
		{"huge name", "a name of", hugeName},
		{"a sequence", `"seq" is not a tensor`, sequenceInputModel()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ReadSignatureData(tt.data)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), "onnxpb: not an ONNX model: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want one that contains %q", err, tt.want)
			}
		})
	}

	t.Run("file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "cut.onnx")
		if err := os.WriteFile(path, model[:graphEnd-1], 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := ReadSignature(path)
		if err == nil || !strings.HasPrefix(err.Error(), "onnxpb: "+path+" is not an ONNX model: ") {
			t.Errorf("error %v, want one that names %s", err, path)
		}
		if _, _, err := ReadSignature(path + ".missing"); !os.IsNotExist(errors.Unwrap(err)) {
			t.Errorf("missing file: error %v", err)
		}
	})

	// Every cut before the graph ends loses part of it, and must be an error, not a panic.
	for n := range graphEnd {
		if _, _, err := ReadSignatureData(model[:n]); err == nil {
			t.Errorf("model cut to %d of %d bytes: no error", n, len(model))
		}
	}
}

// topLevelFieldEnd is the offset just after the first field numbered num of a message.
func topLevelFieldEnd(t *testing.T, msg []byte, num protowire.Number) int {
	t.Helper()
	for at := 0; at < len(msg); {
		n, typ, tagLen := protowire.ConsumeTag(msg[at:])
		valueLen := protowire.ConsumeFieldValue(n, typ, msg[at+tagLen:])
		if tagLen < 0 || valueLen < 0 {
			t.Fatalf("bad field at byte %d", at)
		}
		at += tagLen + valueLen
		if n == num {
			return at
		}
	}
	t.Fatalf("no field %d", num)
	return 0
}

// sequenceInputModel has an input "seq" whose TypeProto is a sequence_type (field 4), which
// onnxpb cannot write.
func sequenceInputModel() []byte {
	e := &encoder{}
	e.intField(modelIRVersion, DefaultIRVersion)
	e.messageField(modelGraph, func() {
		e.messageField(graphInput, func() {
			e.stringField(valueInfoName, "seq")
			e.messageField(valueInfoType, func() {
				e.messageField(4, func() { // sequence_type: a TypeProto.Sequence
					e.messageField(1, func() { // elem_type: a TypeProto
						e.messageField(typeTensorType, func() { e.intField(tensorTypeElemType, int64(Float)) })
					})
				})
			})
		})
	})
	return e.b
}

// The real models compared with what ONNX Runtime reports. ONNX Runtime says -1 for a
// symbolic or unknown dimension.
func TestReadSignatureRealModels(t *testing.T) {
	for _, name := range []string{"realesrgan-x4plus.onnx", "realesr-general-x4v3.onnx", "face_detection_yunet.onnx"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("..", "..", "..", "shared", "models", name)
			wantIns, wantOuts, err := ort.GetInputOutputInfo(path)
			if err != nil {
				t.Fatal(err)
			}
			ins, outs, err := ReadSignature(path)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := describeAsORT(ins), describeORT(wantIns); got != want {
				t.Errorf("inputs:\n got %s\nwant %s", got, want)
			}
			if got, want := describeAsORT(outs), describeORT(wantOuts); got != want {
				t.Errorf("outputs:\n got %s\nwant %s", got, want)
			}
		})
	}
}

// describeAsORT writes tensors as describeORT does, symbolic and unknown dimensions as -1.
func describeAsORT(values []ValueInfo) string {
	var b strings.Builder
	for _, v := range values {
		dims := make([]int64, len(v.Dims))
		for i, d := range v.Dims {
			dims[i] = d.Value
			if d.Param != "" {
				dims[i] = -1
			}
		}
		fmt.Fprintf(&b, "%q %d %v; ", v.Name, v.ElemType, dims)
	}
	return b.String()
}

func describeORT(infos []ort.InputOutputInfo) string {
	var b strings.Builder
	for _, info := range infos {
		if info.OrtValueType != ort.ONNXTypeTensor {
			fmt.Fprintf(&b, "%q %v; ", info.Name, info.OrtValueType)
			continue
		}
		fmt.Fprintf(&b, "%q %d %v; ", info.Name, info.DataType, []int64(info.Dimensions))
	}
	return b.String()
}

// FuzzReadSignature feeds the reader damaged and made-up models. It must never panic, and
// what it reads must survive being written by onnxpb and read again.
func FuzzReadSignature(f *testing.F) {
	f.Add(addMulModel().Marshal())
	f.Add(weightsAsInputs().Marshal())
	f.Add(tinyModel().Marshal())
	f.Add(sequenceInputModel())
	f.Fuzz(func(t *testing.T, data []byte) {
		ins, outs, err := ReadSignatureData(data)
		if err != nil {
			return
		}
		again := (&Model{Graph: Graph{Inputs: ins, Outputs: outs}}).Marshal()
		ins2, outs2, err := ReadSignatureData(again)
		if err != nil {
			t.Fatalf("reading what was read and written again: %v", err)
		}
		checkSignature(t, ins2, outs2, ins, outs)
	})
}
