// Package fuse rewrites parts of an ONNX graph into the fused operators of ONNX Runtime's
// com.microsoft domain, as ONNX Runtime's own transformer optimizer does offline, so that
// an export made without it runs faster.
package fuse

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"dream/internal/onnxpb"
)

// MicrosoftDomain is the operator set of ONNX Runtime's contrib operators.
const MicrosoftDomain = "com.microsoft"

// Attention replaces each multi-head attention block of a model by one MultiHeadAttention
// node (com.microsoft), which ONNX Runtime's CPU and CUDA providers run as one kernel in
// place of a dozen nodes and the shape arithmetic between them. It returns the new model and how many blocks it
// fused. A block is fused only if it matches the pattern exactly (see matchAttention); any
// other block, and every other node and field of the model, is left as it was. With no
// block fused, the result is model itself.
//
// The pattern is torch's export of CompVis's CrossAttention, which Stable Diffusion 1.x
// UNets have 32 of: the projections q, k and v split into heads (b n (h d) → (b h) n d)
// with Reshape, Transpose, Reshape; softmax(q·kᵀ·scale)·v; the heads merged back the same
// way. The fused node takes the projections and gives the merged heads, so the
// projections and the output projection stay as they are.
func Attention(model []byte) ([]byte, int, error) {
	e, err := onnxpb.ReadEditable(model)
	if err != nil {
		return nil, 0, err
	}
	if e.HasSubgraphs {
		// A subgraph may read any value of the graph without naming it as an input, so
		// nothing can be known to be unused.
		return model, 0, nil
	}
	g := newGraph(e)
	f := &fusion{graph: g, removed: map[int]bool{}, replace: map[int][]onnxpb.Node{}}
	for i := range g.Nodes {
		if g.Nodes[i].OpType != "Softmax" || g.Nodes[i].Domain != "" {
			continue
		}
		if b, ok := f.matchAttention(i); ok {
			f.commit(b)
		}
	}
	if f.fused == 0 {
		return model, 0, nil
	}
	return e.Marshal(f.replace, map[string]int64{MicrosoftDomain: 1}), f.fused, nil
}

// block is one matched attention block.
type block struct {
	query, key, value string // the projections, [batch, tokens, heads·head size]
	heads             int64
	scale             float32
	last              int   // the node that merges the heads: the fused node replaces it
	nodes             []int // every other node of the block, which the fused node makes unused
	shapeNodes        []int // nodes that compute the block's shapes, removed if nothing else uses them
}

// fusion is the state of a rewrite: the nodes removed and replaced so far.
type fusion struct {
	*graph
	// removed holds the nodes whose inputs are no longer read: those deleted, and those
	// replaced by a fused node, which reads other values.
	removed map[int]bool
	replace map[int][]onnxpb.Node
	fused   int
}

// matchAttention matches the block around a Softmax node:
//
//	q' = heads(query), k' = heads(key), v' = heads(value)
//	out = merge(MatMul(Softmax(MatMul(q', Transpose(k', 0 2 1)) · scale), v'))
//
// where heads is Reshape [b, n, h, c/h], Transpose 0 2 1 3, Reshape [b·h, n, c/h], merge
// is Reshape [b, h, n, d], Transpose 0 2 1 3, Reshape [b, n, h·d], and scale is a constant
// multiplied (Mul) or divided (Div) by. The shapes are checked symbolically, from the nodes
// that compute them, so the match holds for any batch, image size and prompt length.
func (f *fusion) matchAttention(softmax int) (block, bool) {
	var b block
	sm := &f.Nodes[softmax]
	if !f.lastAxis(sm) {
		return b, false
	}
	scaled, scores, scale, ok := f.scaling(sm.Inputs[0])
	if !ok {
		return b, false
	}
	qk, qkNode, ok := f.node(scores, "MatMul")
	if !ok || len(qkNode.Inputs) != 2 {
		return b, false
	}
	kT, kTNode, ok := f.node(qkNode.Inputs[1], "Transpose")
	if !ok || !perm(kTNode, 0, 2, 1) {
		return b, false
	}
	av, avNode, ok := f.soleConsumer(sm.Outputs[0], "MatMul")
	if !ok || len(avNode.Inputs) != 2 || avNode.Inputs[0] != sm.Outputs[0] {
		return b, false
	}
	shapes := newShapeEval(f.graph)
	q, ok1 := f.splitHeads(shapes, qkNode.Inputs[0])
	k, ok2 := f.splitHeads(shapes, kTNode.Inputs[0])
	v, ok3 := f.splitHeads(shapes, avNode.Inputs[1])
	if !ok1 || !ok2 || !ok3 || q.heads != k.heads || q.heads != v.heads {
		return b, false
	}
	// The product of the attention and v' is [b·h, n, d]: q's first two sizes, v's last.
	shapes.known[avNode.Outputs[0]] = []size{q.shape[0], q.shape[1], v.shape[2]}
	merge, ok := f.mergeHeads(shapes, avNode.Outputs[0], q, v)
	if !ok {
		return b, false
	}
	b = block{query: q.input, key: k.input, value: v.input, heads: q.heads, scale: scale,
		last: merge[len(merge)-1]}
	b.nodes = slices.Concat([]int{softmax, scaled, qk, kT, av}, q.nodes, k.nodes, v.nodes, merge[:len(merge)-1])
	// The scale may come from a Constant node, which the block then no longer needs.
	for _, in := range f.Nodes[scaled].Inputs {
		if i, _, ok := f.node(in, "Constant"); ok {
			shapes.read[i] = true
		}
	}
	for i := range shapes.read {
		b.shapeNodes = append(b.shapeNodes, i)
	}
	slices.Sort(b.shapeNodes)
	return b, true
}

// lastAxis tells whether a Softmax normalises over the last axis of its 3-D input. Before
// opset 13 Softmax flattened the axes from axis on, which for axis 2 of a 3-D input is the
// same; its default axis was 1 then, and is -1 since.
func (f *fusion) lastAxis(sm *onnxpb.Node) bool {
	if len(sm.Inputs) != 1 || len(sm.Outputs) != 1 {
		return false
	}
	def := int64(-1)
	if f.Opsets[""] < 13 {
		def = 1
	}
	axis := intAttr(sm, "axis", def)
	return axis == -1 || axis == 2
}

// scaling matches the scaled scores: Mul by a scalar float constant (either side), or Div
// by one. It returns the node, the scores' name and the factor.
func (f *fusion) scaling(value string) (node int, scores string, scale float32, ok bool) {
	i, ok := f.producer[value]
	if !ok {
		return 0, "", 0, false
	}
	n := &f.Nodes[i]
	if n.Domain != "" || len(n.Inputs) != 2 || (n.OpType != "Mul" && n.OpType != "Div") {
		return 0, "", 0, false
	}
	if c, ok := f.scalar(n.Inputs[1]); ok && c != 0 {
		if n.OpType == "Div" {
			c = 1 / c
		}
		return i, n.Inputs[0], c, true
	}
	if c, ok := f.scalar(n.Inputs[0]); ok && n.OpType == "Mul" {
		return i, n.Inputs[1], c, true
	}
	return 0, "", 0, false
}

// scalar reads a float32 constant of one element.
func (f *fusion) scalar(name string) (float32, bool) {
	t, ok := f.Constant(name)
	if !ok || len(t.Dims) > 1 {
		return 0, false
	}
	v, err := t.Float32s()
	if err != nil || len(v) != 1 {
		return 0, false
	}
	return v[0], true
}

// heads is the input side of a head split: value is [b, n, c] and becomes [b·h, n, c/h].
type heads struct {
	input string
	heads int64
	shape []size // of the split's result
	nodes []int
}

// splitHeads matches Reshape(Transpose(Reshape(input, [b, n, h, c/h]), 0 2 1 3), [b·h, n, c/h])
// ending in value.
func (f *fusion) splitHeads(shapes *shapeEval, value string) (heads, bool) {
	r2, r2Node, ok := f.node(value, "Reshape")
	if !ok {
		return heads{}, false
	}
	tr, trNode, ok := f.node(r2Node.Inputs[0], "Transpose")
	if !ok || !perm(trNode, 0, 2, 1, 3) {
		return heads{}, false
	}
	r1, r1Node, ok := f.node(trNode.Inputs[0], "Reshape")
	if !ok {
		return heads{}, false
	}
	in := r1Node.Inputs[0]
	split, ok := shapes.reshapeTarget(r1Node)
	if !ok || len(split) != 4 || !split[2].isConst() || split[2].k <= 0 {
		return heads{}, false
	}
	h := split[2]
	b, n, d := dimOf(in, 0), dimOf(in, 1), dimOf(in, 2).div(h.k)
	if !equalSizes(split, []size{b, n, h, d}) {
		return heads{}, false
	}
	shapes.known[trNode.Outputs[0]] = []size{b, h, n, d}
	joined, ok := shapes.reshapeTarget(r2Node)
	if !ok || !equalSizes(joined, []size{b.mul(h), n, d}) {
		return heads{}, false
	}
	shapes.known[r2Node.Outputs[0]] = joined
	return heads{input: in, heads: h.k, shape: joined, nodes: []int{r1, tr, r2}}, true
}

// mergeHeads matches Reshape(Transpose(Reshape(value, [b, h, n, d]), 0 2 1 3), [b, n, h·d])
// after the attention product value, [b·h, n, d], and returns the three nodes' indexes.
func (f *fusion) mergeHeads(shapes *shapeEval, value string, q, v heads) ([]int, bool) {
	r1, r1Node, ok := f.reshapeOf(value)
	if !ok {
		return nil, false
	}
	tr, trNode, ok := f.soleConsumer(r1Node.Outputs[0], "Transpose")
	if !ok || !perm(trNode, 0, 2, 1, 3) {
		return nil, false
	}
	r2, r2Node, ok := f.soleConsumer(trNode.Outputs[0], "Reshape")
	if !ok || r2Node.Inputs[0] != trNode.Outputs[0] {
		return nil, false
	}
	h := constSize(q.heads)
	b, n, d := dimOf(q.input, 0), dimOf(q.input, 1), v.shape[2]
	split, ok := shapes.reshapeTarget(r1Node)
	if !ok || !equalSizes(split, []size{b, h, n, d}) {
		return nil, false
	}
	shapes.known[trNode.Outputs[0]] = []size{b, n, h, d}
	merged, ok := shapes.reshapeTarget(r2Node)
	if !ok || !equalSizes(merged, []size{b, n, h.mul(d)}) {
		return nil, false
	}
	return []int{r1, tr, r2}, true
}

// reshapeOf finds the Reshape that takes value as its data. Its other consumers may only be
// Shape nodes, which torch adds to read value's sizes for that very Reshape.
func (f *fusion) reshapeOf(value string) (int, *onnxpb.Node, bool) {
	if f.outputs[value] {
		return 0, nil, false
	}
	found := -1
	for _, c := range f.consumers[value] {
		n := &f.Nodes[c]
		switch {
		case n.Domain != "":
			return 0, nil, false
		case n.OpType == "Reshape" && n.Inputs[0] == value && found < 0:
			found = c
		case n.OpType != "Shape":
			return 0, nil, false
		}
	}
	if found < 0 {
		return 0, nil, false
	}
	return found, &f.Nodes[found], true
}

// commit replaces a matched block by the fused node, unless something outside the block
// uses one of the values it removes: then the block is left as it was.
func (f *fusion) commit(b block) {
	// The node that merges the heads stays, as the fused node, but no longer reads what it
	// read before.
	removed := maps.Clone(f.removed)
	removed[b.last] = true
	for _, i := range b.nodes {
		removed[i] = true
	}
	// Shape nodes go once nothing left uses them; they may also feed another block's
	// shapes, and then go with that block.
	for changed := true; changed; {
		changed = false
		for _, i := range b.shapeNodes {
			if !removed[i] && f.unused(i, removed) {
				removed[i], changed = true, true
			}
		}
	}
	for i := range removed {
		if !f.removed[i] && i != b.last && !f.unused(i, removed) {
			return
		}
	}
	for _, in := range []string{b.query, b.key, b.value} {
		if i, ok := f.producer[in]; ok && removed[i] {
			return
		}
	}
	for i := range removed {
		if !f.removed[i] {
			f.replace[i] = nil
		}
	}
	f.removed = removed
	f.replace[b.last] = []onnxpb.Node{f.fusedNode(b)}
	f.fused++
}

// unused tells whether no node outside removed takes any of node i's outputs, and none of
// them is a graph output.
func (f *fusion) unused(i int, removed map[int]bool) bool {
	for _, out := range f.Nodes[i].Outputs {
		if f.outputs[out] {
			return false
		}
		for _, c := range f.consumers[out] {
			if !removed[c] {
				return false
			}
		}
	}
	return true
}

// fusedNode is the MultiHeadAttention that computes the block: it takes the projections
// before the head split and gives the merged heads under the name the block gave them.
// The scale is the export's own, stated even when it is the operator's default 1/√d.
func (f *fusion) fusedNode(b block) onnxpb.Node {
	last := &f.Nodes[b.last]
	return onnxpb.Node{
		OpType:  "MultiHeadAttention",
		Domain:  MicrosoftDomain,
		Name:    f.newName(last.Name),
		Inputs:  []string{b.query, b.key, b.value},
		Outputs: slices.Clone(last.Outputs),
		Attrs:   []onnxpb.Attr{onnxpb.AttrInt("num_heads", b.heads), onnxpb.AttrFloat("scale", b.scale)},
	}
}

// newName names the fused node after the block's path in the model, as torch names nodes
// ("/down_blocks.0/attentions.0/transformer_blocks.0/attn1/Reshape_7" gives
// "/down_blocks.0/attentions.0/transformer_blocks.0/attn1/MultiHeadAttention"), which is
// what ONNX Runtime quotes in errors and profiles.
func (f *fusion) newName(like string) string {
	prefix := like[:strings.LastIndex(like, "/")+1]
	name := prefix + "MultiHeadAttention"
	for i := 1; f.names[name]; i++ {
		name = fmt.Sprintf("%sMultiHeadAttention_%d", prefix, i)
	}
	f.names[name] = true
	return name
}

// perm tells whether a Transpose has exactly this permutation.
func perm(n *onnxpb.Node, want ...int64) bool {
	a, ok := n.Attr("perm")
	if !ok {
		return false
	}
	p, ok := a.Ints()
	return ok && slices.Equal(p, want)
}
