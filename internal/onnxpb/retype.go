package onnxpb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// graphValueInfo is GraphProto.value_info: the types and shapes an exporter noted for values
// inside the graph, which are hints a reader may ignore.
const graphValueInfo = 13

// floatOnlyInputs are node inputs that ONNX types as float32 whatever the type of the data
// around them: Resize's roi and scales, Upsample's scales. Their constants stay float32 when
// a model is narrowed to float16.
var floatOnlyInputs = map[string][]int{"Resize": {1, 2}, "Upsample": {1}}

// Retype returns the model with its float tensors of type from made of type to, float32 and
// float16 either way: the initializers and Constant nodes' values (converted, rounding to the
// nearest half when narrowing), the graph's inputs and outputs, and what Cast and the
// random-number nodes produce. Constants that feed inputs ONNX keeps float32
// (floatOnlyInputs) stay as they are. The graph's value infos of type from are dropped: they
// are optional hints, and would contradict the new types. Everything else is copied as it was.
//
// A model with subgraphs (If, Loop) or with weights in an external file is refused: their
// tensors are out of this function's reach.
func Retype(model []byte, from, to DataType) ([]byte, error) {
	if !isFloat(from) || !isFloat(to) {
		return nil, fmt.Errorf("onnxpb: Retype converts between float32 and float16, not %d and %d", from, to)
	}
	e, err := ReadEditable(model)
	if err != nil {
		return nil, err
	}
	if e.HasSubgraphs {
		return nil, errors.New("onnxpb: the model has subgraphs, whose tensors Retype does not convert")
	}
	kept := floatOnlyValues(e)
	node := 0
	return rewriteGraph(model, func(out *encoder, f rawField, body []byte) error {
		switch f.num {
		case graphNode:
			n := e.Nodes[node]
			node++
			return rewriteNode(out, body, nil, func(a Attr) (Attr, bool) { return retypeAttr(n, a, kept, from, to) })
		case graphInitializer:
			t, err := readTensor(body)
			if err != nil || t.DataType != from || kept[t.Name] {
				out.b = append(out.b, f.raw...)
				return err
			}
			if t.External != nil {
				return fmt.Errorf("onnxpb: initializer %q is in an external file, which Retype does not convert", t.Name)
			}
			if t.Raw, err = convertFloats(t.Raw, from, to); err != nil {
				return fmt.Errorf("onnxpb: initializer %q: %w", t.Name, err)
			}
			t.DataType = to
			out.messageField(graphInitializer, func() { out.tensor(&t) })
		case graphInput, graphOutput:
			name, err := firstString(body, valueInfoName)
			if err != nil || kept[name] {
				out.b = append(out.b, f.raw...)
				return err
			}
			return retypeValueInfo(out, f.num, body, from, to)
		case graphValueInfo:
			if t, err := elemType(body); err != nil || t != from {
				out.b = append(out.b, f.raw...)
				return err
			}
		default:
			out.b = append(out.b, f.raw...)
		}
		return nil
	})
}

func isFloat(t DataType) bool { return t == Float || t == Float16 }

// floatOnlyValues are the names of the values that feed floatOnlyInputs.
func floatOnlyValues(e *Editable) map[string]bool {
	kept := map[string]bool{}
	for _, n := range e.Nodes {
		for _, i := range floatOnlyInputs[n.OpType] {
			if i < len(n.Inputs) && n.Inputs[i] != "" {
				kept[n.Inputs[i]] = true
			}
		}
	}
	return kept
}

// retypeAttr converts one attribute of node n: the type a Cast makes (to), the type a
// random-number or EyeLike node makes (dtype), and a tensor of type from, such as a
// Constant's value, unless the Constant feeds a float-only input. ok is false to keep the
// attribute as it was.
func retypeAttr(n Node, a Attr, kept map[string]bool, from, to DataType) (Attr, bool) {
	switch {
	case a.kind == kindInt && DataType(a.i) == from && (a.name == "to" && n.OpType == "Cast" || a.name == "dtype"):
		return AttrInt(a.name, int64(to)), true
	case a.kind == kindTensor && a.t.DataType == from && a.t.External == nil:
		if n.OpType == "Constant" && len(n.Outputs) == 1 && kept[n.Outputs[0]] {
			return a, false
		}
		raw, err := convertFloats(a.t.Raw, from, to)
		if err != nil {
			return a, false // leave a tensor this cannot read as it was; ONNX Runtime will say
		}
		t := a.t
		t.DataType, t.Raw = to, raw
		return AttrTensor(a.name, t), true
	}
	return a, false
}

// convertFloats converts little-endian float32 data to float16 or back.
func convertFloats(raw []byte, from, to DataType) ([]byte, error) {
	switch {
	case from == to:
		return raw, nil
	case from == Float && len(raw)%4 == 0:
		out := make([]byte, len(raw)/2)
		for i := range len(raw) / 4 {
			f := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			binary.LittleEndian.PutUint16(out[2*i:], HalfFromFloat32(f))
		}
		return out, nil
	case from == Float16 && len(raw)%2 == 0:
		out := make([]byte, 2*len(raw))
		for i := range len(raw) / 2 {
			f := Float32FromHalf(binary.LittleEndian.Uint16(raw[2*i:]))
			binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(f))
		}
		return out, nil
	}
	return nil, fmt.Errorf("%d bytes are not whole elements", len(raw))
}

// CastIO returns the model with its inputs and outputs of type inner presented as type outer,
// the graph itself unchanged: each such input is declared outer and a Cast to inner, placed
// before every node, hands its value to the nodes that read it, under a new name; each such
// output is produced under a new name and a Cast to outer, after every node, gives it its own.
// A caller then passes and gets outer tensors while the graph computes in inner.
func CastIO(model []byte, inner, outer DataType) ([]byte, error) {
	e, err := ReadEditable(model)
	if err != nil {
		return nil, err
	}
	if e.HasSubgraphs {
		return nil, errors.New("onnxpb: the model has subgraphs, which may read its inputs by name; CastIO does not rename there")
	}
	ins, outs, err := ReadSignatureData(model)
	if err != nil {
		return nil, err
	}
	rename := map[string]string{}
	var before, after []Node
	used := usedNames(e)
	for _, v := range ins {
		if v.ElemType == inner {
			rename[v.Name] = freshName(v.Name, used)
			before = append(before, castNode(v.Name, rename[v.Name], inner))
		}
	}
	for _, v := range outs {
		if v.ElemType == inner {
			rename[v.Name] = freshName(v.Name, used)
			after = append(after, castNode(rename[v.Name], v.Name, outer))
		}
	}
	if len(e.Nodes) == 0 {
		return nil, errors.New("onnxpb: the model has no nodes to cast around")
	}
	node := 0
	return rewriteGraph(model, func(out *encoder, f rawField, body []byte) error {
		switch f.num {
		case graphNode:
			if node == 0 {
				writeNodes(out, before)
			}
			node++
			err := rewriteNode(out, body, rename, nil)
			if node == len(e.Nodes) {
				writeNodes(out, after)
			}
			return err
		case graphInput, graphOutput:
			name, err := firstString(body, valueInfoName)
			if _, ok := rename[name]; err != nil || !ok {
				out.b = append(out.b, f.raw...)
				return err
			}
			return retypeValueInfo(out, f.num, body, inner, outer)
		case graphValueInfo:
			// A hint about a renamed value follows it to its new name.
			name, err := firstString(body, valueInfoName)
			if _, ok := rename[name]; err == nil && ok {
				out.messageField(graphValueInfo, func() { err = renameValueInfo(out, body, rename[name]) })
				return err
			}
			out.b = append(out.b, f.raw...)
			return err
		default:
			out.b = append(out.b, f.raw...)
		}
		return nil
	})
}

func castNode(in, out string, to DataType) Node {
	return Node{OpType: "Cast", Name: "dream_cast_" + out, Inputs: []string{in}, Outputs: []string{out},
		Attrs: []Attr{AttrInt("to", int64(to))}}
}

func writeNodes(out *encoder, nodes []Node) {
	for i := range nodes {
		out.messageField(graphNode, func() { out.node(&nodes[i]) })
	}
}

// usedNames are the value names a graph uses, so a new one can avoid them.
func usedNames(e *Editable) map[string]bool {
	used := map[string]bool{}
	for _, n := range e.Nodes {
		for _, name := range append(append([]string{}, n.Inputs...), n.Outputs...) {
			used[name] = true
		}
	}
	for _, name := range append(append([]string{}, e.Inputs...), e.Outputs...) {
		used[name] = true
	}
	for name := range e.Initializers {
		used[name] = true
	}
	return used
}

// freshName is name with a suffix no value in used has, which it then takes.
func freshName(name string, used map[string]bool) string {
	fresh := name + "_cast"
	for i := 2; used[fresh]; i++ {
		fresh = fmt.Sprintf("%s_cast%d", name, i)
	}
	used[fresh] = true
	return fresh
}

// rewriteGraph returns the model with each of its graph's fields passed through edit, which
// appends the field's replacement, or nothing, to out. The model's other fields are copied.
func rewriteGraph(model []byte, edit func(out *encoder, f rawField, body []byte) error) ([]byte, error) {
	out := &encoder{b: make([]byte, 0, len(model)+1024)}
	err := eachField(model, func(f rawField, body []byte) error {
		if f.num != modelGraph {
			out.b = append(out.b, f.raw...)
			return nil
		}
		var err error
		out.messageField(modelGraph, func() {
			err = eachField(body, func(f rawField, body []byte) error { return edit(out, f, body) })
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("onnxpb: %w", err)
	}
	return out.b, nil
}

// rewriteNode copies a NodeProto with its input and output names renamed as rename says and
// its attributes passed through attr (nil keeps them all), which returns a replacement and
// true, or false to keep the attribute's bytes as they were.
func rewriteNode(out *encoder, node []byte, rename map[string]string, attr func(Attr) (Attr, bool)) error {
	var err error
	out.messageField(graphNode, func() {
		err = eachField(node, func(f rawField, body []byte) error {
			switch f.num {
			case nodeInput, nodeOutput:
				if name, ok := rename[string(body)]; ok {
					out.stringField(f.num, name)
					return nil
				}
			case nodeAttribute:
				if attr == nil {
					break
				}
				a, err := readAttr(body)
				if err != nil {
					return err
				}
				if a, ok := attr(a); ok {
					out.messageField(nodeAttribute, func() { out.attr(&a) })
					return nil
				}
			}
			out.b = append(out.b, f.raw...)
			return nil
		})
	})
	return err
}

// retypeValueInfo writes a graph input or output (field num) with its element type changed
// from from to to: ValueInfoProto.type.tensor_type.elem_type, every other byte kept.
func retypeValueInfo(out *encoder, num protowire.Number, body []byte, from, to DataType) error {
	var err error
	out.messageField(num, func() {
		err = eachNested(out, body, []protowire.Number{valueInfoType, typeTensorType}, func(f rawField, _ []byte) bool {
			if f.num == tensorTypeElemType && DataType(varintOf(f)) == from {
				out.intField(tensorTypeElemType, int64(to))
				return true
			}
			return false
		})
	})
	return err
}

// renameValueInfo writes the fields of a ValueInfoProto with its name replaced.
func renameValueInfo(out *encoder, body []byte, name string) error {
	return eachField(body, func(f rawField, _ []byte) error {
		if f.num == valueInfoName {
			out.stringField(valueInfoName, name)
		} else {
			out.b = append(out.b, f.raw...)
		}
		return nil
	})
}

// eachNested copies msg's fields to out, descending into the message fields that path names
// one level after another; at the end of the path, replace may write a field's replacement
// and return true, or return false to have it copied.
func eachNested(out *encoder, msg []byte, path []protowire.Number, replace func(f rawField, body []byte) bool) error {
	return eachField(msg, func(f rawField, body []byte) error {
		if len(path) > 0 && f.num == path[0] && body != nil {
			var err error
			out.messageField(f.num, func() { err = eachNested(out, body, path[1:], replace) })
			return err
		}
		if len(path) == 0 && replace(f, body) {
			return nil
		}
		out.b = append(out.b, f.raw...)
		return nil
	})
}

// elemType is a ValueInfoProto's tensor element type, 0 when it has none.
func elemType(valueInfo []byte) (DataType, error) {
	var t DataType
	err := eachNested(&encoder{}, valueInfo, []protowire.Number{valueInfoType, typeTensorType}, func(f rawField, _ []byte) bool {
		if f.num == tensorTypeElemType {
			t = DataType(varintOf(f))
		}
		return false
	})
	return t, err
}
