// Package onnxpb writes ONNX model files, reads the inputs and outputs a
// model file declares (ReadSignature, in signature.go), and replaces nodes
// of a model file's graph while keeping every other byte (ReadEditable, in
// edit.go).
//
// It describes a model with a few plain Go structs (Model, Graph, Node,
// Tensor, ValueInfo) and encodes them as the ONNX protobuf messages
// (ModelProto, GraphProto, ...) with protowire, so there is no generated
// code and no protoc step. The field numbers, taken from onnx.proto, are
// in encode.go.
//
// Tensor data is always stored little-endian in TensorProto.raw_data. ONNX
// Runtime loads that without decoding element by element, and it keeps
// large weight tensors cheap to write.
//
// A model is a single protobuf message, so it must stay below the 2 GiB
// protobuf limit; larger weights go to an external data file
// (Model.WriteWithExternalData).
//
// A tiny model, y = x * 2:
//
//	var g onnxpb.Graph
//	g.Inputs = []onnxpb.ValueInfo{onnxpb.NewValueInfo("x", onnxpb.Float, onnxpb.Sym("n"))}
//	g.Outputs = []onnxpb.ValueInfo{onnxpb.NewValueInfo("y", onnxpb.Float, onnxpb.Sym("n"))}
//	two := g.AddInitializer(onnxpb.Float32Tensor("two", nil, []float32{2}))
//	g.Add("Mul", []string{"x", two}, []string{"y"})
//	err := (&onnxpb.Model{Graph: g}).WriteFile("double.onnx")
package onnxpb

import (
	"encoding/binary"
	"fmt"
)

// DataType is an ONNX TensorProto.DataType: the element type of a tensor.
type DataType int32

// The values are those of the TensorProto.DataType enum in onnx.proto.
const (
	Float   DataType = 1 // float32
	Uint8   DataType = 2
	Int8    DataType = 3
	Int32   DataType = 6
	Int64   DataType = 7
	String  DataType = 8
	Bool    DataType = 9
	Float16 DataType = 10
	Double  DataType = 11 // float64
)

// Defaults used when the corresponding Model field is zero. Opset 17 and
// IR version 8 are what current exporters emit and what any recent ONNX
// Runtime accepts.
const (
	DefaultOpset     = 17
	DefaultIRVersion = 8
)

// Model is an ONNX model: one graph plus the versions needed to interpret it.
type Model struct {
	Graph Graph

	// Opset is the version of the default ("ai.onnx") operator set, which
	// decides the semantics of every standard op. 0 means DefaultOpset.
	Opset int64
	// ExtraOpsets imports further operator sets by domain, for nodes whose
	// Domain is not empty, e.g. {"com.microsoft": 1}.
	ExtraOpsets map[string]int64

	// IRVersion is the ONNX file-format version. 0 means DefaultIRVersion.
	IRVersion int64
	// Producer names the tool that wrote the model (producer_name).
	Producer string
	// Metadata is stored as metadata_props; ONNX Runtime exposes it as the
	// model's custom metadata map.
	Metadata map[string]string
}

// Graph is the computation: nodes wired together by value names.
type Graph struct {
	Name string
	// Nodes must be in topological order: ONNX requires every node input
	// to be produced by an earlier node, a graph input or an initializer.
	Nodes           []Node
	Inputs, Outputs []ValueInfo
	// Initializers are the graph's constants (weights). Nodes refer to
	// them by name; they need not be listed in Inputs.
	Initializers []Tensor
}

// Add appends a node, naming it after its op and position (e.g. "Conv_3",
// which is what ONNX Runtime quotes in error messages), and returns its
// output names so calls can be nested:
//
//	g.Add("Relu", g.Add("Conv", []string{"x", "w", "b"}, []string{"c"}), []string{"y"})
func (g *Graph) Add(opType string, inputs, outputs []string, attrs ...Attr) []string {
	g.Nodes = append(g.Nodes, Node{
		OpType:  opType,
		Name:    fmt.Sprintf("%s_%d", opType, len(g.Nodes)),
		Inputs:  inputs,
		Outputs: outputs,
		Attrs:   attrs,
	})
	return outputs
}

// AddInitializer stores t as a graph constant and returns its name, for
// use as a node input.
func (g *Graph) AddInitializer(t Tensor) string {
	g.Initializers = append(g.Initializers, t)
	return t.Name
}

// Node is one operator application.
type Node struct {
	OpType, Name string
	// Inputs and Outputs are value names. An empty input name marks an
	// optional input that is left out but followed by one that is given.
	Inputs, Outputs []string
	Attrs           []Attr
	// Domain is the operator set the op comes from; "" is standard ONNX.
	// Any other domain needs a matching Model.ExtraOpsets entry.
	Domain string
}

// attrKind is an AttributeProto.AttributeType value from onnx.proto. The
// encoder writes it as the attribute's type field, which ONNX requires.
type attrKind int64

const (
	kindFloat  attrKind = 1
	kindInt    attrKind = 2
	kindString attrKind = 3
	kindTensor attrKind = 4
	kindFloats attrKind = 6
	kindInts   attrKind = 7
)

// Attr is a node attribute. Build one with the Attr* functions; a zero
// Attr is not a valid attribute.
type Attr struct {
	name   string
	kind   attrKind
	f      float32
	i      int64
	s      string
	t      Tensor
	floats []float32
	ints   []int64
}

// AttrInt is an integer attribute, e.g. AttrInt("group", 1).
func AttrInt(name string, v int64) Attr { return Attr{name: name, kind: kindInt, i: v} }

// AttrFloat is a float attribute, e.g. AttrFloat("alpha", 0.2).
func AttrFloat(name string, f float32) Attr { return Attr{name: name, kind: kindFloat, f: f} }

// AttrString is a string attribute, e.g. AttrString("mode", "CRD").
func AttrString(name, s string) Attr { return Attr{name: name, kind: kindString, s: s} }

// AttrTensor is a tensor attribute, e.g. the "value" of a Constant node.
func AttrTensor(name string, t Tensor) Attr { return Attr{name: name, kind: kindTensor, t: t} }

// AttrInts is an integer-list attribute, e.g. AttrInts("pads", 1, 1, 1, 1).
func AttrInts(name string, v ...int64) Attr { return Attr{name: name, kind: kindInts, ints: v} }

// AttrFloats is a float-list attribute.
func AttrFloats(name string, f ...float32) Attr {
	return Attr{name: name, kind: kindFloats, floats: f}
}

// Dim is one dimension of a graph input or output: a fixed size, or a
// symbolic name when the size is only known at run time. ONNX Runtime
// reports symbolic dimensions as -1.
type Dim struct {
	// Value is the size, used when Param is empty. A negative Value is
	// a dimension of unknown size with no name, which ONNX writes as an
	// empty dimension; ONNX Runtime reports it as -1 too.
	Value int64
	Param string // a symbolic name such as "height"
}

// Fixed is a dimension of size n.
func Fixed(n int64) Dim { return Dim{Value: n} }

// Sym is a symbolic dimension. Dimensions that share a name must have the
// same size at run time.
func Sym(name string) Dim { return Dim{Param: name} }

// ValueInfo declares the name, element type and shape of a graph input or
// output.
type ValueInfo struct {
	Name string
	// ElemType 0 (ONNX's UNDEFINED) is what ReadSignature reports when a
	// file leaves the type out, as it may for an output that ONNX
	// Runtime can infer.
	ElemType DataType
	// Dims == nil leaves the shape unspecified (any rank). A scalar needs
	// an empty, non-nil slice.
	Dims []Dim
}

// NewValueInfo is shorthand for a ValueInfo literal. With no dims the
// shape is left unspecified.
func NewValueInfo(name string, elemType DataType, dims ...Dim) ValueInfo {
	return ValueInfo{Name: name, ElemType: elemType, Dims: dims}
}

// Tensor is a constant: a graph initializer or a tensor attribute.
type Tensor struct {
	Name     string
	DataType DataType
	Dims     []int64 // empty for a scalar
	// Raw holds the elements in row-major order, each little-endian and
	// fixed-width, exactly as ONNX defines TensorProto.raw_data.
	Raw []byte
	// External, when set, says the elements are in another file instead of Raw
	// (see Model.WriteWithExternalData).
	External *ExternalData
}

// ExternalData locates a tensor's bytes in a file beside the model.
type ExternalData struct {
	Location       string // file name, relative to the model's folder
	Offset, Length int64
}

// Float32Tensor makes a float32 tensor. It panics if len(data) does not
// match dims, as that is a bug in the caller.
func Float32Tensor(name string, dims []int64, data []float32) Tensor {
	return newTensor(name, Float, dims, data)
}

// Float16Tensor makes a float16 tensor from float32 values, each rounded to the nearest half
// (HalfFromFloat32); see Float32Tensor.
func Float16Tensor(name string, dims []int64, data []float32) Tensor {
	halves := make([]uint16, len(data))
	for i, f := range data {
		halves[i] = HalfFromFloat32(f)
	}
	return newTensor(name, Float16, dims, halves)
}

// Float64Tensor makes a float64 (ONNX DOUBLE) tensor; see Float32Tensor.
func Float64Tensor(name string, dims []int64, data []float64) Tensor {
	return newTensor(name, Double, dims, data)
}

// Int64Tensor makes an int64 tensor; see Float32Tensor.
func Int64Tensor(name string, dims []int64, data []int64) Tensor {
	return newTensor(name, Int64, dims, data)
}

// Int32Tensor makes an int32 tensor; see Float32Tensor.
func Int32Tensor(name string, dims []int64, data []int32) Tensor {
	return newTensor(name, Int32, dims, data)
}

func newTensor[T float32 | float64 | int32 | int64 | uint16](name string, dt DataType, dims []int64, data []T) Tensor {
	if n := elementCount(dims); n != int64(len(data)) {
		panic(fmt.Sprintf("onnxpb: tensor %q: dims %v hold %d elements, got %d", name, dims, n, len(data)))
	}
	// binary.Append has a fast path for slices of fixed-size numbers: one
	// allocation and a tight loop, which matters for large weights.
	raw, err := binary.Append(nil, binary.LittleEndian, data)
	if err != nil {
		panic("onnxpb: " + err.Error()) // unreachable: T is always fixed-size
	}
	return Tensor{Name: name, DataType: dt, Dims: dims, Raw: raw}
}

// elementCount is the number of elements in a tensor of the given dims;
// a scalar (no dims) has one.
func elementCount(dims []int64) int64 {
	n := int64(1)
	for _, d := range dims {
		if d < 0 {
			panic(fmt.Sprintf("onnxpb: negative tensor dimension in %v", dims))
		}
		n *= d
	}
	return n
}
