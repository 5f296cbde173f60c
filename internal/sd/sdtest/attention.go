package sdtest

import (
	"fmt"
	"math"
	"math/rand/v2"

	"dream/internal/onnxpb"
)

// AttentionBlock describes one CompVis CrossAttention for AddAttention.
type AttentionBlock struct {
	Prefix     string // makes the block's value names unique in its graph
	X          string // the query's input, [batch, tokens, Dim]
	Context    string // the keys' and values' input, [batch, keys, ContextDim]; "" for self-attention
	Dim        int
	ContextDim int // the width of Context; ignored for self-attention
	Heads      int
	HeadDim    int
	Seed       uint64 // the weights are uniform in ±1/sqrt(fan-in), from this seed
}

// AddAttention adds a CompVis CrossAttention (ldm/modules/attention.py, with einsum written
// as bmm, as in the real-size export's sdarch/unet.py) to g, node for node as torch 1.13
// exports it at opset 14 with dynamic shapes: the q, k and v projections, each split into
// heads by Reshape and Transpose with the target shapes computed from Shape, Gather, Div,
// Cast, Unsqueeze and Concat, MatMul(q, kᵀ) times the scale, Softmax, MatMul with v, the
// heads merged back the same way, and the output projection with its bias. It returns the
// name of the block's output, [batch, tokens, Dim].
func AddAttention(g *onnxpb.Graph, b AttentionBlock) string {
	a := &attentionBuilder{g: g, prefix: b.Prefix, heads: int64(b.Heads), rng: rand.New(rand.NewPCG(b.Seed, 12))}
	ctx, ctxDim := b.Context, b.ContextDim
	if ctx == "" {
		ctx, ctxDim = b.X, b.Dim
	}
	inner := b.Heads * b.HeadDim
	q := a.node("MatMul", b.X, a.weight("to_q", b.Dim, inner))
	k := a.node("MatMul", ctx, a.weight("to_k", ctxDim, inner))
	v := a.node("MatMul", ctx, a.weight("to_v", ctxDim, inner))
	q, k, v = a.headsToBatch(q), a.headsToBatch(k), a.headsToBatch(v)
	kT := a.node("Transpose", k, onnxpb.AttrInts("perm", 0, 2, 1))
	scale := float32(math.Pow(float64(b.HeadDim), -0.5))
	sim := a.node("Mul", a.node("MatMul", q, kT), a.constant(onnxpb.Float32Tensor("", nil, []float32{scale})))
	attn := a.node("Softmax", sim, onnxpb.AttrInt("axis", -1))
	out := a.batchToHeads(a.node("MatMul", attn, v))
	bias := g.AddInitializer(onnxpb.Float32Tensor(b.Prefix+"to_out.bias", []int64{int64(b.Dim)}, a.uniform(b.Dim, inner)))
	return a.node("Add", bias, a.node("MatMul", out, a.weight("to_out", inner, b.Dim)))
}

type attentionBuilder struct {
	g      *onnxpb.Graph
	prefix string
	heads  int64
	rng    *rand.Rand
	n      int // values named so far
}

// node adds one node with one output and returns the output's name. Inputs are value names;
// attributes may follow them.
func (a *attentionBuilder) node(op string, args ...any) string {
	var ins []string
	var attrs []onnxpb.Attr
	for _, arg := range args {
		switch arg := arg.(type) {
		case string:
			ins = append(ins, arg)
		case onnxpb.Attr:
			attrs = append(attrs, arg)
		}
	}
	a.n++
	out := fmt.Sprintf("%s%s_%d", a.prefix, op, a.n)
	return a.g.Add(op, ins, []string{out}, attrs...)[0]
}

// constant adds a Constant node, as torch writes the small numbers of a shape computation.
func (a *attentionBuilder) constant(t onnxpb.Tensor) string {
	return a.node("Constant", onnxpb.AttrTensor("value", t))
}

func (a *attentionBuilder) int64s(v ...int64) string {
	return a.constant(onnxpb.Int64Tensor("", []int64{int64(len(v))}, v))
}

func (a *attentionBuilder) scalar(v int64) string {
	return a.constant(onnxpb.Int64Tensor("", nil, []int64{v}))
}

// dim is t.shape[i] as torch traces it: Shape, then Gather of a scalar index.
func (a *attentionBuilder) dim(t string, i int64) string {
	return a.node("Gather", a.node("Shape", t), a.scalar(i), onnxpb.AttrInt("axis", 0))
}

// shape concatenates 1-element vectors into a Reshape target, as torch builds a shape from
// a list of sizes.
func (a *attentionBuilder) shape(parts ...string) string {
	var args []any
	for _, p := range parts {
		args = append(args, p)
	}
	return a.node("Concat", append(args, onnxpb.AttrInt("axis", 0))...)
}

func (a *attentionBuilder) unsqueeze(s string) string { return a.node("Unsqueeze", s, a.int64s(0)) }

// floorDiv is Python's // on traced sizes: Div, then two casts to int64.
func (a *attentionBuilder) floorDiv(s string, by int64) string {
	to := onnxpb.AttrInt("to", int64(onnxpb.Int64))
	return a.node("Cast", a.node("Cast", a.node("Div", s, a.scalar(by)), to), to)
}

// headsToBatch is 'b n (h d) -> (b h) n d':
// t.reshape(b, n, h, c // h).permute(0, 2, 1, 3).reshape(b * h, n, c // h).
func (a *attentionBuilder) headsToBatch(t string) string {
	b, n, c := a.dim(t, 0), a.dim(t, 1), a.dim(t, 2)
	d := a.floorDiv(c, a.heads)
	split := a.node("Reshape", t, a.shape(a.unsqueeze(b), a.unsqueeze(n), a.int64s(a.heads), a.unsqueeze(d)),
		onnxpb.AttrInt("allowzero", 0))
	perm := a.node("Transpose", split, onnxpb.AttrInts("perm", 0, 2, 1, 3))
	bh := a.node("Mul", b, a.scalar(a.heads))
	return a.node("Reshape", perm, a.shape(a.unsqueeze(bh), a.unsqueeze(n), a.unsqueeze(d)), onnxpb.AttrInt("allowzero", 0))
}

// batchToHeads is '(b h) n d -> b n (h d)':
// t.reshape(bh // h, h, n, d).permute(0, 2, 1, 3).reshape(bh // h, n, h * d).
func (a *attentionBuilder) batchToHeads(t string) string {
	bh, n, d := a.dim(t, 0), a.dim(t, 1), a.dim(t, 2)
	b := a.floorDiv(bh, a.heads)
	split := a.node("Reshape", t, a.shape(a.unsqueeze(b), a.int64s(a.heads), a.unsqueeze(n), a.unsqueeze(d)),
		onnxpb.AttrInt("allowzero", 0))
	perm := a.node("Transpose", split, onnxpb.AttrInts("perm", 0, 2, 1, 3))
	hd := a.node("Mul", d, a.scalar(a.heads))
	return a.node("Reshape", perm, a.shape(a.unsqueeze(b), a.unsqueeze(n), a.unsqueeze(hd)), onnxpb.AttrInt("allowzero", 0))
}

// weight adds a Linear layer's weight as torch exports it for MatMul: [in, out].
func (a *attentionBuilder) weight(name string, in, out int) string {
	return a.g.AddInitializer(onnxpb.Float32Tensor(a.prefix+name+".weight", []int64{int64(in), int64(out)}, a.uniform(in*out, in)))
}

// uniform is n values uniform in ±1/sqrt(fanIn), PyTorch's default for Linear layers.
func (a *attentionBuilder) uniform(n, fanIn int) []float32 {
	bound := 1 / math.Sqrt(float64(fanIn))
	v := make([]float32, n)
	for i := range v {
		v[i] = float32((2*a.rng.Float64() - 1) * bound)
	}
	return v
}
