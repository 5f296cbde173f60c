package fuse

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"dream/internal/onnxpb"
	"dream/internal/sd/sdtest"
)

// attentionGraph is SD's pair of attention blocks as torch exports them: self-attention on
// x, then cross-attention from its output to context, 2 heads of 4.
func attentionGraph() *onnxpb.Graph {
	g := &onnxpb.Graph{
		Inputs: []onnxpb.ValueInfo{
			onnxpb.NewValueInfo("x", onnxpb.Float, onnxpb.Sym("batch"), onnxpb.Sym("tokens"), onnxpb.Fixed(4)),
			onnxpb.NewValueInfo("context", onnxpb.Float, onnxpb.Sym("batch"), onnxpb.Sym("keys"), onnxpb.Fixed(16)),
		},
		Outputs: []onnxpb.ValueInfo{onnxpb.NewValueInfo("y", onnxpb.Float, onnxpb.Sym("batch"), onnxpb.Sym("tokens"), onnxpb.Fixed(4))},
	}
	self := sdtest.AddAttention(g, sdtest.AttentionBlock{Prefix: "/attn1/", X: "x", Dim: 4, Heads: 2, HeadDim: 4, Seed: 1})
	cross := sdtest.AddAttention(g, sdtest.AttentionBlock{Prefix: "/attn2/", X: self, Context: "context",
		Dim: 4, ContextDim: 16, Heads: 2, HeadDim: 4, Seed: 2})
	g.Add("Identity", []string{cross}, []string{"y"})
	return g
}

func marshal(g *onnxpb.Graph) []byte { return (&onnxpb.Model{Graph: *g, Opset: 14}).Marshal() }

func TestAttentionFusesBothBlocks(t *testing.T) {
	out, n, err := Attention(marshal(attentionGraph()))
	if err != nil || n != 2 {
		t.Fatalf("fused %d blocks, err %v; want 2", n, err)
	}
	e, err := onnxpb.ReadEditable(out)
	if err != nil {
		t.Fatal(err)
	}
	// Only the projections, the output projections' biases and the fused nodes are left.
	var ops []string
	for _, node := range e.Nodes {
		ops = append(ops, node.OpType)
	}
	want := []string{"MatMul", "MatMul", "MatMul", "MultiHeadAttention", "MatMul", "Add",
		"MatMul", "MatMul", "MatMul", "MultiHeadAttention", "MatMul", "Add", "Identity"}
	if !slices.Equal(ops, want) {
		t.Errorf("nodes after fusing:\n%v\nwant\n%v", ops, want)
	}
	for _, node := range e.Nodes {
		if node.OpType != "MultiHeadAttention" {
			continue
		}
		heads, _ := mustAttr(t, node, "num_heads").Int()
		scale, _ := mustAttr(t, node, "scale").Float()
		if node.Domain != MicrosoftDomain || heads != 2 || scale != 0.5 {
			t.Errorf("%s: domain %q, num_heads %d, scale %g; want %s, 2, 0.5", node.Name, node.Domain, heads, scale, MicrosoftDomain)
		}
		// query, key and value are the projections' outputs.
		for i, in := range node.Inputs {
			if !strings.Contains(in, "MatMul") || len(node.Inputs) != 3 {
				t.Errorf("%s: input %d is %q, not a projection", node.Name, i, in)
			}
		}
	}
	if v := e.Opsets[MicrosoftDomain]; v != 1 {
		t.Errorf("com.microsoft opset %d, want 1", v)
	}
}

func mustAttr(t *testing.T, n onnxpb.Node, name string) onnxpb.Attr {
	t.Helper()
	a, ok := n.Attr(name)
	if !ok {
		t.Fatalf("%s has no attribute %s", n.Name, name)
	}
	return a
}

// Any difference from the pattern leaves the block as it was; the other block is still fused.
func TestAttentionLeavesOtherBlocksAlone(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(t *testing.T, g *onnxpb.Graph)
		fused  int
	}{
		{"softmax over another axis", func(t *testing.T, g *onnxpb.Graph) {
			setAttr(nodeOf(t, g, "/attn1/", "Softmax", 0), onnxpb.AttrInt("axis", 1))
		}, 1},
		{"key transposed otherwise", func(t *testing.T, g *onnxpb.Graph) {
			// The transpose of k' is the fourth of attn2 (after those of the three splits).
			setAttr(nodeOf(t, g, "/attn2/", "Transpose", 3), onnxpb.AttrInts("perm", 0, 1, 2))
		}, 1},
		{"heads not split as b n h d", func(t *testing.T, g *onnxpb.Graph) {
			setAttr(nodeOf(t, g, "/attn1/", "Transpose", 0), onnxpb.AttrInts("perm", 0, 1, 2, 3))
		}, 1},
		{"scale not a constant", func(t *testing.T, g *onnxpb.Graph) {
			g.Inputs = append(g.Inputs, onnxpb.NewValueInfo("s", onnxpb.Float))
			nodeOf(t, g, "/attn1/", "Mul", -1).Inputs[1] = "s" // the last Mul before Softmax
		}, 1},
		{"scale shaped like the scores", func(t *testing.T, g *onnxpb.Graph) {
			scale := g.AddInitializer(onnxpb.Float32Tensor("scale4", []int64{1, 1, 2}, []float32{0.5, 0.5}))
			nodeOf(t, g, "/attn1/", "Mul", -1).Inputs[1] = scale
		}, 1},
		{"query split into other heads than the key", func(t *testing.T, g *onnxpb.Graph) {
			// The head count in q's first Reshape target: the fourth Constant of attn1 holding [2].
			heads := g.AddInitializer(onnxpb.Int64Tensor("four", []int64{1}, []int64{4}))
			nodeOf(t, g, "/attn1/", "Concat", 0).Inputs[2] = heads
		}, 1},
		{"a size inferred by Reshape", func(t *testing.T, g *onnxpb.Graph) {
			target := g.AddInitializer(onnxpb.Int64Tensor("infer", []int64{3}, []int64{0, 0, -1}))
			nodeOf(t, g, "/attn2/", "Reshape", -1).Inputs[1] = target
		}, 1},
		{"the attention weights also an output", func(t *testing.T, g *onnxpb.Graph) {
			sm := nodeOf(t, g, "/attn2/", "Softmax", 0)
			g.Outputs = append(g.Outputs, onnxpb.NewValueInfo(sm.Outputs[0], onnxpb.Float))
		}, 1},
		{"the query's heads also an output", func(t *testing.T, g *onnxpb.Graph) {
			split := nodeOf(t, g, "/attn1/", "Reshape", 1).Outputs[0]
			g.Outputs = append(g.Outputs, onnxpb.NewValueInfo(split, onnxpb.Float))
		}, 1},
		// The shape computations go only where nothing else needs them.
		{"the heads' sizes also an output", func(t *testing.T, g *onnxpb.Graph) {
			sizes := nodeOf(t, g, "/attn1/", "Concat", 0).Outputs[0]
			g.Outputs = append(g.Outputs, onnxpb.NewValueInfo(sizes, onnxpb.Int64))
		}, 2},
		{"neither block", func(t *testing.T, g *onnxpb.Graph) {
			setAttr(nodeOf(t, g, "/attn1/", "Softmax", 0), onnxpb.AttrInt("axis", 0))
			setAttr(nodeOf(t, g, "/attn2/", "Softmax", 0), onnxpb.AttrInt("axis", 0))
		}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := attentionGraph()
			tc.mutate(t, g)
			model := marshal(g)
			out, n, err := Attention(model)
			if err != nil || n != tc.fused {
				t.Fatalf("fused %d blocks, err %v; want %d", n, err, tc.fused)
			}
			if n == 0 && !bytes.Equal(out, model) {
				t.Error("nothing fused, yet the model changed")
			}
		})
	}
}

// nodeOf returns the k-th node (from the end if k < 0) of type op among the nodes whose
// outputs start with prefix.
func nodeOf(t *testing.T, g *onnxpb.Graph, prefix, op string, k int) *onnxpb.Node {
	t.Helper()
	var found []*onnxpb.Node
	for i := range g.Nodes {
		n := &g.Nodes[i]
		if n.OpType == op && strings.HasPrefix(n.Outputs[0], prefix) {
			found = append(found, n)
		}
	}
	if k < 0 {
		k += len(found)
	}
	if k < 0 || k >= len(found) {
		t.Fatalf("no %s number %d under %s", op, k, prefix)
	}
	return found[k]
}

// setAttr replaces or adds an attribute.
func setAttr(n *onnxpb.Node, a onnxpb.Attr) {
	for i := range n.Attrs {
		if n.Attrs[i].Name() == a.Name() {
			n.Attrs[i] = a
			return
		}
	}
	n.Attrs = append(n.Attrs, a)
}

// A model without attention comes back as the very same bytes.
func TestAttentionWithoutPatternIsUnchanged(t *testing.T) {
	var g onnxpb.Graph
	g.Inputs = []onnxpb.ValueInfo{onnxpb.NewValueInfo("x", onnxpb.Float, onnxpb.Sym("n"), onnxpb.Fixed(3))}
	g.Outputs = []onnxpb.ValueInfo{onnxpb.NewValueInfo("y", onnxpb.Float, onnxpb.Sym("n"), onnxpb.Fixed(3))}
	g.Add("Softmax", []string{"x"}, []string{"y"}, onnxpb.AttrInt("axis", -1))
	model := marshal(&g)
	out, n, err := Attention(model)
	if err != nil || n != 0 || &out[0] != &model[0] {
		t.Errorf("fused %d, err %v, same bytes %v", n, err, &out[0] == &model[0])
	}
}

func TestAttentionRejectsGarbage(t *testing.T) {
	if _, _, err := Attention([]byte{0xff, 0xff, 0xff}); err == nil {
		t.Error("no error for a file that is not a model")
	}
}
