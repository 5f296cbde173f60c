package fuse

import "dream/internal/onnxpb"

// graph indexes a model's nodes by the values they produce and consume.
type graph struct {
	*onnxpb.Editable
	producer  map[string]int   // value name → index of the node that outputs it
	consumers map[string][]int // value name → indexes of the nodes that take it as input
	outputs   map[string]bool  // the graph's outputs
	inputs    map[string]bool  // the graph's inputs
	names     map[string]bool  // node names in use
}

func newGraph(e *onnxpb.Editable) *graph {
	g := &graph{Editable: e, producer: map[string]int{}, consumers: map[string][]int{},
		outputs: map[string]bool{}, inputs: map[string]bool{}, names: map[string]bool{}}
	for i, n := range e.Nodes {
		for _, out := range n.Outputs {
			g.producer[out] = i
		}
		for _, in := range n.Inputs {
			if in != "" {
				g.consumers[in] = append(g.consumers[in], i)
			}
		}
		g.names[n.Name] = true
	}
	for _, out := range e.Outputs {
		g.outputs[out] = true
	}
	for _, in := range e.Inputs {
		g.inputs[in] = true
	}
	return g
}

// node returns the standard-ONNX node of type op that produces value, if that is what
// produces it.
func (g *graph) node(value, op string) (int, *onnxpb.Node, bool) {
	i, ok := g.producer[value]
	if !ok || g.Nodes[i].OpType != op || g.Nodes[i].Domain != "" {
		return 0, nil, false
	}
	return i, &g.Nodes[i], true
}

// soleConsumer returns the one node that takes value as an input, if it is the only one,
// it is a standard-ONNX op, and value is not also a graph output.
func (g *graph) soleConsumer(value, op string) (int, *onnxpb.Node, bool) {
	c := g.consumers[value]
	if len(c) != 1 || g.outputs[value] || g.Nodes[c[0]].OpType != op || g.Nodes[c[0]].Domain != "" {
		return 0, nil, false
	}
	return c[0], &g.Nodes[c[0]], true
}

// Constant returns the value of a constant: an initializer stored in the model file that is
// not also a graph input, or the output of a Constant node with a tensor value.
func (g *graph) Constant(name string) (onnxpb.Tensor, bool) {
	if i, ok := g.producer[name]; ok {
		n := &g.Nodes[i]
		if n.OpType != "Constant" || n.Domain != "" {
			return onnxpb.Tensor{}, false
		}
		a, ok := n.Attr("value")
		if !ok {
			return onnxpb.Tensor{}, false
		}
		t, ok := a.Tensor()
		return t, ok && t.Raw != nil
	}
	t, ok := g.Initializers[name]
	return t, ok && !g.inputs[name] && t.External == nil && t.Raw != nil
}
