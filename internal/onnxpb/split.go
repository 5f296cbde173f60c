package onnxpb

import (
	"fmt"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
)

// Split cuts the model in two at the value cut: head computes cut from the model's inputs,
// and tail computes the model's outputs from cut alone. The tail starts at the first node
// that reads cut, and every node from there on may read only cut, the values the tail makes
// and the model's constants; a model that does not cut cleanly there is an error. cut is
// declared an output of head and the input of tail as a float tensor of the given dims.
//
// Each part keeps only the initializers its nodes read, so together they are no larger than
// the model. Everything else of the model (opsets, metadata) is copied into both.
func (e *Editable) Split(cut string, elemType DataType, dims ...Dim) (head, tail []byte, err error) {
	if e.HasSubgraphs {
		return nil, nil, fmt.Errorf("onnxpb: cannot split a model with subgraphs")
	}
	first, err := e.tailStart(cut)
	if err != nil {
		return nil, nil, err
	}
	cutInfo := NewValueInfo(cut, elemType, dims...)
	headReads := readNames(e.Nodes[:first])
	tailReads := readNames(e.Nodes[first:])
	part := func(isHead bool) []byte {
		out := &encoder{b: make([]byte, 0, len(e.model)+1024)}
		for _, f := range e.modelFields {
			if f.num != modelGraph {
				out.b = append(out.b, f.raw...)
				continue
			}
			out.messageField(modelGraph, func() {
				e.marshalPart(out, first, isHead, headReads, tailReads, cutInfo)
			})
		}
		return out.b
	}
	return part(true), part(false), nil
}

// tailStart is the index of the first node that reads cut, checked to begin a tail that
// needs nothing of the head but cut.
func (e *Editable) tailStart(cut string) (int, error) {
	first := -1
	for i, n := range e.Nodes {
		if first < 0 && slices.Contains(n.Inputs, cut) {
			first = i
		}
	}
	if first < 0 {
		return 0, fmt.Errorf("onnxpb: no node reads %q", cut)
	}
	made := map[string]bool{cut: true, "": true}
	for name := range e.Initializers {
		made[name] = true
	}
	for _, n := range e.Nodes[first:] {
		for _, in := range n.Inputs {
			if !made[in] {
				return 0, fmt.Errorf("onnxpb: the part after %q also reads %q", cut, in)
			}
		}
		for _, out := range n.Outputs {
			made[out] = true
		}
	}
	return first, nil
}

// marshalPart writes one part's graph: its nodes, the initializers they read, and its inputs
// and outputs. value_info entries are left out, as they may name values of the other part.
func (e *Editable) marshalPart(out *encoder, first int, isHead bool, headReads, tailReads map[string]bool, cut ValueInfo) {
	reads := tailReads
	if isHead {
		reads = headReads
	}
	node := 0
	for _, f := range e.graphFields {
		body := fieldBody(f)
		switch f.num {
		case graphNode:
			if (node < first) == isHead {
				out.b = append(out.b, f.raw...)
			}
			node++
		case graphInitializer:
			if name, _ := firstString(body, tensorName); reads[name] {
				out.b = append(out.b, f.raw...)
			}
		case graphInput:
			name, _ := firstString(body, valueInfoName)
			_, constant := e.Initializers[name]
			if (isHead && !constant) || (constant && reads[name]) {
				out.b = append(out.b, f.raw...)
			}
		case graphOutput:
			if !isHead {
				out.b = append(out.b, f.raw...)
			}
		case graphValueInfo:
		default:
			out.b = append(out.b, f.raw...)
		}
	}
	if isHead {
		out.messageField(graphOutput, func() { out.valueInfo(&cut) })
	} else {
		out.messageField(graphInput, func() { out.valueInfo(&cut) })
	}
}

// readNames is the set of values the nodes read.
func readNames(nodes []Node) map[string]bool {
	names := map[string]bool{}
	for _, n := range nodes {
		for _, in := range n.Inputs {
			names[in] = true
		}
	}
	return names
}

// fieldBody is a length-delimited field's contents, nil for a field of another wire type.
func fieldBody(f rawField) []byte {
	_, typ, n := protowire.ConsumeTag(f.raw)
	if typ != protowire.BytesType {
		return nil
	}
	body, _ := protowire.ConsumeBytes(f.raw[n:])
	return body
}
