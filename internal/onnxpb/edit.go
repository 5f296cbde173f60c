package onnxpb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
)

// Editable is a model file decoded far enough to replace some of its graph's nodes: the
// nodes themselves and the constants stored in the file. Everything else (weights, shapes,
// metadata, external data references, fields this package does not know) stays the bytes
// it was, and Marshal copies those bytes into the result unchanged, so a rewritten model
// differs from the original only in the nodes that were replaced.
//
// A diffusers UNet keeps its weights in weights.pb; its model file, the graph and the
// small constants, is a few megabytes, so holding it in memory is cheap.
type Editable struct {
	// Nodes are the graph's nodes in file order, which ONNX requires to be topological.
	Nodes []Node
	// Initializers are the graph's initializers by name. A tensor whose data lies in an
	// external file has External set and no Raw; its bytes are never read.
	Initializers map[string]Tensor
	// Inputs and Outputs are the names of the graph's inputs and outputs. An initializer
	// that is also an input is only a default: the caller may pass another value.
	Inputs, Outputs []string
	// Opsets are the operator sets the model imports, by domain ("" is standard ONNX).
	Opsets map[string]int64
	// HasSubgraphs is set when a node carries a graph attribute (If, Loop, Scan). Such a
	// subgraph may use any value of the outer graph without listing it as a node input.
	HasSubgraphs bool

	model       []byte
	modelFields []rawField // the ModelProto's fields, in file order
	graphFields []rawField // the GraphProto's fields, in file order
}

// rawField is one field of a message as it is encoded, tag included.
type rawField struct {
	num protowire.Number
	raw []byte
}

// Field numbers read here besides the ones encode.go writes.
const (
	attrG               = 6  // AttributeProto.g
	attrGraphs          = 11 // AttributeProto.graphs
	tensorFloatData     = 4  // TensorProto.float_data
	tensorInt64Data     = 7  // TensorProto.int64_data
	kindGraph           = 5  // AttributeProto.AttributeType.GRAPH
	kindGraphs          = 10 // AttributeProto.AttributeType.GRAPHS
	externalLocationKey = "location"
)

// ReadEditable decodes a model file (the bytes of a .onnx file) for editing. The result
// refers to data; it must not change while the Editable is in use.
func ReadEditable(data []byte) (*Editable, error) {
	e := &Editable{model: data, Initializers: map[string]Tensor{}, Opsets: map[string]int64{}}
	graphs := 0
	err := eachField(data, func(f rawField, body []byte) error {
		e.modelFields = append(e.modelFields, f)
		switch f.num {
		case modelGraph:
			graphs++
			return e.readGraph(body)
		case modelOpsetImport:
			domain, version, err := readOpset(body)
			e.Opsets[domain] = version
			return err
		}
		return nil
	})
	if err == nil && graphs != 1 {
		// Protobuf would merge two graph fields; no writer makes them, so none is edited.
		err = fmt.Errorf("%d graph fields", graphs)
	}
	if err != nil {
		return nil, fmt.Errorf("onnxpb: not an ONNX model: %w", err)
	}
	return e, nil
}

func (e *Editable) readGraph(graph []byte) error {
	return eachField(graph, func(f rawField, body []byte) error {
		e.graphFields = append(e.graphFields, f)
		switch f.num {
		case graphNode:
			n, err := e.readNode(body)
			e.Nodes = append(e.Nodes, n)
			return err
		case graphInitializer:
			t, err := readTensor(body)
			e.Initializers[t.Name] = t
			return err
		case graphInput:
			name, err := firstString(body, valueInfoName)
			e.Inputs = append(e.Inputs, name)
			return err
		case graphOutput:
			name, err := firstString(body, valueInfoName)
			e.Outputs = append(e.Outputs, name)
			return err
		}
		return nil
	})
}

func (e *Editable) readNode(node []byte) (Node, error) {
	var n Node
	err := eachField(node, func(f rawField, body []byte) error {
		switch f.num {
		case nodeInput:
			n.Inputs = append(n.Inputs, string(body))
		case nodeOutput:
			n.Outputs = append(n.Outputs, string(body))
		case nodeName:
			n.Name = string(body)
		case nodeOpType:
			n.OpType = string(body)
		case nodeDomain:
			n.Domain = string(body)
		case nodeAttribute:
			a, err := readAttr(body)
			if a.kind == kindGraph || a.kind == kindGraphs {
				e.HasSubgraphs = true
			}
			n.Attrs = append(n.Attrs, a)
			return err
		}
		return nil
	})
	return n, err
}

func readOpset(body []byte) (domain string, version int64, err error) {
	err = eachField(body, func(f rawField, b []byte) error {
		switch f.num {
		case opsetDomain:
			domain = string(b)
		case opsetVersion:
			version = varintOf(f)
		}
		return nil
	})
	return domain, version, err
}

// readAttr decodes the kinds of attribute a rewrite reads: numbers, strings, number lists
// and tensors. Others keep only their name and kind.
func readAttr(body []byte) (Attr, error) {
	var a Attr
	err := eachField(body, func(f rawField, b []byte) error {
		var err error
		switch f.num {
		case attrName:
			a.name = string(b)
		case attrType:
			a.kind = attrKind(varintOf(f))
		case attrF:
			a.f = math.Float32frombits(uint32(fixed32Of(f)))
		case attrI:
			a.i = varintOf(f)
		case attrS:
			a.s = string(b)
		case attrT:
			a.t, err = readTensor(b)
		case attrFloats:
			a.floats, err = appendFloats(a.floats, f, b)
		case attrInts:
			a.ints, err = appendInts(a.ints, f, b)
		case attrG, attrGraphs:
			// Only old writers leave out the type; the graph itself says what it is.
			if a.kind == 0 {
				a.kind = kindGraph
			}
		}
		return err
	})
	return a, err
}

// readTensor decodes a TensorProto. Its data ends up in Raw, little-endian, when the file
// holds it as raw_data, float_data or int64_data (the forms exporters write constants in);
// a tensor in an external file has External set instead, with only its location.
func readTensor(body []byte) (Tensor, error) {
	var t Tensor
	var floats []float32
	var ints []int64
	err := eachField(body, func(f rawField, b []byte) error {
		var err error
		switch f.num {
		case tensorDims:
			t.Dims, err = appendInts(t.Dims, f, b)
		case tensorDataType:
			t.DataType = DataType(varintOf(f))
		case tensorName:
			t.Name = string(b)
		case tensorRawData:
			t.Raw = b
		case tensorFloatData:
			floats, err = appendFloats(floats, f, b)
		case tensorInt64Data:
			ints, err = appendInts(ints, f, b)
		case tensorExternalData:
			if t.External == nil {
				t.External = &ExternalData{}
			}
			key, _ := firstString(b, entryKey)
			if key == externalLocationKey {
				t.External.Location, err = firstString(b, entryValue)
			}
		}
		return err
	})
	switch {
	case t.Raw != nil:
	case floats != nil:
		t.Raw, _ = binary.Append(nil, binary.LittleEndian, floats)
	case ints != nil:
		t.Raw, _ = binary.Append(nil, binary.LittleEndian, ints)
	}
	return t, err
}

// Marshal writes the model with some nodes replaced: replace maps the index of a node in
// Nodes to the nodes that take its place, in order (none to delete it). Opsets are added to
// the model's imports for domains it does not import yet. Every other field is copied as
// it was read.
func (e *Editable) Marshal(replace map[int][]Node, opsets map[string]int64) []byte {
	out := &encoder{b: make([]byte, 0, len(e.model)+1024)}
	for _, f := range e.modelFields {
		if f.num != modelGraph {
			out.b = append(out.b, f.raw...)
			continue
		}
		out.messageField(modelGraph, func() { e.marshalGraph(out, replace) })
	}
	for _, domain := range slices.Sorted(maps.Keys(opsets)) {
		if _, ok := e.Opsets[domain]; ok {
			continue
		}
		out.messageField(modelOpsetImport, func() {
			out.stringField(opsetDomain, domain)
			out.intField(opsetVersion, opsets[domain])
		})
	}
	return out.b
}

func (e *Editable) marshalGraph(out *encoder, replace map[int][]Node) {
	node := 0
	for _, f := range e.graphFields {
		if f.num != graphNode {
			out.b = append(out.b, f.raw...)
			continue
		}
		if nodes, ok := replace[node]; ok {
			for i := range nodes {
				out.messageField(graphNode, func() { out.node(&nodes[i]) })
			}
		} else {
			out.b = append(out.b, f.raw...)
		}
		node++
	}
}

// Attr returns the node's attribute of that name.
func (n *Node) Attr(name string) (Attr, bool) {
	for _, a := range n.Attrs {
		if a.name == name {
			return a, true
		}
	}
	return Attr{}, false
}

// Name is the attribute's name.
func (a Attr) Name() string { return a.name }

// Int is an integer attribute's value; ok is false for any other kind.
func (a Attr) Int() (v int64, ok bool) { return a.i, a.kind == kindInt }

// Float is a float attribute's value; ok is false for any other kind.
func (a Attr) Float() (v float32, ok bool) { return a.f, a.kind == kindFloat }

// Tensor is a tensor attribute's value; ok is false for any other kind.
func (a Attr) Tensor() (t Tensor, ok bool) { return a.t, a.kind == kindTensor }

// Ints is an integer-list attribute's value; ok is false for any other kind.
func (a Attr) Ints() (v []int64, ok bool) { return a.ints, a.kind == kindInts }

// Int64s returns an int64 tensor's elements.
func (t Tensor) Int64s() ([]int64, error) {
	if t.DataType != Int64 || len(t.Raw)%8 != 0 || int64(len(t.Raw)/8) != elementCount(t.Dims) {
		return nil, fmt.Errorf("tensor %q is not int64 data of shape %v", t.Name, t.Dims)
	}
	v := make([]int64, len(t.Raw)/8)
	for i := range v {
		v[i] = int64(binary.LittleEndian.Uint64(t.Raw[8*i:]))
	}
	return v, nil
}

// Float32s returns a float32 tensor's elements.
func (t Tensor) Float32s() ([]float32, error) {
	if t.DataType != Float || len(t.Raw)%4 != 0 || int64(len(t.Raw)/4) != elementCount(t.Dims) {
		return nil, fmt.Errorf("tensor %q is not float32 data of shape %v", t.Name, t.Dims)
	}
	v := make([]float32, len(t.Raw)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Raw[4*i:]))
	}
	return v, nil
}

// eachField calls visit with every field of a message, and, for a length-delimited field,
// its contents.
func eachField(msg []byte, visit func(f rawField, body []byte) error) error {
	for at := 0; at < len(msg); {
		num, typ, tagLen := protowire.ConsumeTag(msg[at:])
		if tagLen < 0 {
			return fmt.Errorf("byte %d: %w", at, protowire.ParseError(tagLen))
		}
		valueLen := protowire.ConsumeFieldValue(num, typ, msg[at+tagLen:])
		if valueLen < 0 {
			return fmt.Errorf("byte %d: %w", at, protowire.ParseError(valueLen))
		}
		f := rawField{num: num, raw: msg[at : at+tagLen+valueLen]}
		var body []byte
		if typ == protowire.BytesType {
			body, _ = protowire.ConsumeBytes(f.raw[tagLen:])
		}
		if err := visit(f, body); err != nil {
			return err
		}
		at += tagLen + valueLen
	}
	return nil
}

// varintOf is a varint field's value, 0 for a field of another wire type.
func varintOf(f rawField) int64 {
	_, typ, n := protowire.ConsumeTag(f.raw)
	if typ != protowire.VarintType {
		return 0
	}
	v, _ := protowire.ConsumeVarint(f.raw[n:])
	return int64(v)
}

// fixed32Of is a 32-bit field's bits, 0 for a field of another wire type.
func fixed32Of(f rawField) uint32 {
	_, typ, n := protowire.ConsumeTag(f.raw)
	if typ != protowire.Fixed32Type {
		return 0
	}
	v, _ := protowire.ConsumeFixed32(f.raw[n:])
	return v
}

// appendInts appends a repeated integer field's values: one value, or a packed run of them.
func appendInts(v []int64, f rawField, body []byte) ([]int64, error) {
	if body == nil {
		return append(v, varintOf(f)), nil
	}
	for len(body) > 0 {
		x, n := protowire.ConsumeVarint(body)
		if n < 0 {
			return v, protowire.ParseError(n)
		}
		v, body = append(v, int64(x)), body[n:]
	}
	return v, nil
}

// appendFloats appends a repeated float field's values: one value, or a packed run of them.
func appendFloats(v []float32, f rawField, body []byte) ([]float32, error) {
	if body == nil {
		return append(v, math.Float32frombits(fixed32Of(f))), nil
	}
	if len(body)%4 != 0 {
		return v, errors.New("packed floats of " + strconv.Itoa(len(body)) + " bytes")
	}
	for ; len(body) > 0; body = body[4:] {
		v = append(v, math.Float32frombits(binary.LittleEndian.Uint32(body)))
	}
	return v, nil
}

// firstString is the first string field numbered num of a message.
func firstString(msg []byte, num protowire.Number) (string, error) {
	var s string
	found := false
	err := eachField(msg, func(f rawField, body []byte) error {
		if f.num == num && body != nil && !found {
			s, found = string(body), true
		}
		return nil
	})
	return s, err
}
