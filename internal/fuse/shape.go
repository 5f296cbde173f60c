package fuse

import (
	"fmt"
	"slices"
	"strings"

	"dream/internal/onnxpb"
)

// size is one integer of a shape computation, written as a product k·f₁·f₂·…, where each
// factor is a dimension of a tensor, "dim(name,i)", or a floor division that did not come
// out even, "(size)/n". The factors are kept sorted, so two sizes computed differently are
// equal exactly when their forms are: torch's b*h, later divided by h, is b again.
type size struct {
	k       int64
	factors []string
}

func constSize(k int64) size { return size{k: k} }

func dimOf(tensor string, i int) size {
	return size{k: 1, factors: []string{fmt.Sprintf("dim(%s,%d)", tensor, i)}}
}

func (s size) isConst() bool { return len(s.factors) == 0 }

func (s size) equal(t size) bool { return s.k == t.k && slices.Equal(s.factors, t.factors) }

func (s size) mul(t size) size {
	f := append(slices.Clone(s.factors), t.factors...)
	slices.Sort(f)
	return size{k: s.k * t.k, factors: f}
}

// div is floor division by n > 0, as ONNX's integer Div does for the positive numbers sizes
// are. It stays a product when n divides the coefficient; otherwise it becomes one factor.
func (s size) div(n int64) size {
	if s.k%n == 0 {
		return size{k: s.k / n, factors: s.factors}
	}
	return size{k: 1, factors: []string{"(" + s.String() + ")/" + fmt.Sprint(n)}}
}

func (s size) String() string {
	parts := append([]string{fmt.Sprint(s.k)}, s.factors...)
	return strings.Join(parts, "*")
}

// shapeValue is an integer tensor of a shape computation: a scalar or a vector of sizes.
// shapeOf is set instead for the output of Shape whose input's rank is not known; only its
// elements can be taken, one at a time.
type shapeValue struct {
	sizes   []size
	scalar  bool
	shapeOf string
}

func equalSizes(a, b []size) bool { return slices.EqualFunc(a, b, size.equal) }

// shapeEval works out the integers that a graph computes from tensor shapes, such as the
// target of a Reshape, from the nodes that compute them: Constant, Shape, Gather, Unsqueeze,
// Concat, Mul, integer Div and Cast to int64, which is all torch's export of t.shape uses.
// Anything else makes the value unknown. It records the nodes it read, which a rewrite
// that no longer needs the value may remove.
type shapeEval struct {
	g *graph
	// known holds the shapes the matcher has established for tensors; the dimensions of
	// any other tensor stay symbolic.
	known map[string][]size
	read  map[int]bool
}

func newShapeEval(g *graph) *shapeEval {
	return &shapeEval{g: g, known: map[string][]size{}, read: map[int]bool{}}
}

// dims returns the i-th dimension of a tensor: the known one, or a symbol.
func (e *shapeEval) dim(tensor string, i int) size {
	if s, ok := e.known[tensor]; ok && i < len(s) {
		return s[i]
	}
	return dimOf(tensor, i)
}

// reshapeTarget evaluates the target shape of a Reshape node, with its zeros (which copy
// the input's dimension unless allowzero is set) resolved. ok is false when the target is
// not worked out or asks Reshape to infer a dimension (-1).
func (e *shapeEval) reshapeTarget(n *onnxpb.Node) ([]size, bool) {
	if n.OpType != "Reshape" || len(n.Inputs) != 2 {
		return nil, false
	}
	v, ok := e.value(n.Inputs[1])
	if !ok || v.scalar || v.shapeOf != "" {
		return nil, false
	}
	allowZero := intAttr(n, "allowzero", 0)
	target := slices.Clone(v.sizes)
	for i, s := range target {
		switch {
		case s.isConst() && s.k == 0 && allowZero == 0:
			target[i] = e.dim(n.Inputs[0], i)
		case s.isConst() && s.k <= 0:
			return nil, false
		}
	}
	return target, true
}

// value evaluates the integer tensor called name.
func (e *shapeEval) value(name string) (shapeValue, bool) {
	if t, ok := e.g.Constant(name); ok {
		if i, node := e.g.producer[name]; node {
			e.read[i] = true
		}
		return constantValue(t)
	}
	i, ok := e.g.producer[name]
	if !ok {
		return shapeValue{}, false
	}
	n := &e.g.Nodes[i]
	if n.Domain != "" || len(n.Outputs) != 1 {
		return shapeValue{}, false
	}
	v, ok := e.evalNode(n)
	if ok {
		e.read[i] = true
	}
	return v, ok
}

func (e *shapeEval) evalNode(n *onnxpb.Node) (shapeValue, bool) {
	args := make([]shapeValue, 0, len(n.Inputs))
	if n.OpType != "Shape" {
		for _, in := range n.Inputs {
			v, ok := e.value(in)
			if !ok {
				return shapeValue{}, false
			}
			args = append(args, v)
		}
	}
	switch n.OpType {
	case "Shape":
		// start and end (opset 15) would take a slice of the shape; torch does not use them.
		if len(n.Inputs) != 1 || len(n.Attrs) != 0 {
			return shapeValue{}, false
		}
		if s, ok := e.known[n.Inputs[0]]; ok {
			return shapeValue{sizes: s}, true
		}
		return shapeValue{shapeOf: n.Inputs[0]}, true
	case "Gather":
		return e.gather(n, args)
	case "Unsqueeze":
		return unsqueeze(n, args)
	case "Concat":
		return concat(n, args)
	case "Mul", "Div":
		return arithmetic(n.OpType, args)
	case "Cast":
		if len(args) == 1 && intAttr(n, "to", 0) == int64(onnxpb.Int64) && args[0].shapeOf == "" {
			return args[0], true
		}
	}
	return shapeValue{}, false
}

// gather takes one element of a shape, by a constant index, as t.shape[i] does.
func (e *shapeEval) gather(n *onnxpb.Node, args []shapeValue) (shapeValue, bool) {
	if len(args) != 2 || intAttr(n, "axis", 0) != 0 {
		return shapeValue{}, false
	}
	data, index := args[0], args[1]
	if len(index.sizes) != 1 || !index.sizes[0].isConst() || data.scalar {
		return shapeValue{}, false
	}
	i := index.sizes[0].k
	var s size
	switch {
	case data.shapeOf != "" && i >= 0:
		s = e.dim(data.shapeOf, int(i))
	case data.shapeOf == "" && i >= 0 && i < int64(len(data.sizes)):
		s = data.sizes[i]
	default:
		return shapeValue{}, false // a negative index needs the rank
	}
	return shapeValue{sizes: []size{s}, scalar: index.scalar}, true
}

// unsqueeze turns a scalar into a one-element vector; the axes are an input from opset 13
// on and an attribute before.
func unsqueeze(n *onnxpb.Node, args []shapeValue) (shapeValue, bool) {
	if len(args) == 0 || !args[0].scalar {
		return shapeValue{}, false
	}
	axes, ok := []int64(nil), false
	if len(args) == 2 && args[1].shapeOf == "" && constants(args[1].sizes) {
		axes, ok = []int64{args[1].sizes[0].k}, len(args[1].sizes) == 1
	} else if a, found := n.Attr("axes"); found && len(args) == 1 {
		axes, ok = a.Ints()
	}
	if !ok || !slices.Equal(axes, []int64{0}) {
		return shapeValue{}, false
	}
	return shapeValue{sizes: args[0].sizes}, true
}

func concat(n *onnxpb.Node, args []shapeValue) (shapeValue, bool) {
	if intAttr(n, "axis", -1) != 0 {
		return shapeValue{}, false
	}
	var out shapeValue
	for _, a := range args {
		if a.scalar || a.shapeOf != "" {
			return shapeValue{}, false
		}
		out.sizes = append(out.sizes, a.sizes...)
	}
	return out, true
}

// arithmetic multiplies two one-element values, or divides one by a positive constant.
func arithmetic(op string, args []shapeValue) (shapeValue, bool) {
	if len(args) != 2 {
		return shapeValue{}, false
	}
	a, b := args[0], args[1]
	if len(a.sizes) != 1 || len(b.sizes) != 1 || a.shapeOf != "" || b.shapeOf != "" {
		return shapeValue{}, false
	}
	out := shapeValue{scalar: a.scalar && b.scalar}
	switch {
	case op == "Mul":
		out.sizes = []size{a.sizes[0].mul(b.sizes[0])}
	case b.sizes[0].isConst() && b.sizes[0].k > 0:
		out.sizes = []size{a.sizes[0].div(b.sizes[0].k)}
	default:
		return shapeValue{}, false
	}
	return out, true
}

// constantValue reads an int64 constant of at most one dimension.
func constantValue(t onnxpb.Tensor) (shapeValue, bool) {
	v, err := t.Int64s()
	if err != nil || len(t.Dims) > 1 {
		return shapeValue{}, false
	}
	out := shapeValue{scalar: len(t.Dims) == 0}
	for _, k := range v {
		out.sizes = append(out.sizes, constSize(k))
	}
	return out, true
}

func constants(s []size) bool {
	for _, x := range s {
		if !x.isConst() {
			return false
		}
	}
	return len(s) > 0
}

// intAttr is an integer attribute's value, or def when the node does not set it.
func intAttr(n *onnxpb.Node, name string, def int64) int64 {
	if a, ok := n.Attr(name); ok {
		if v, ok := a.Int(); ok {
			return v
		}
		return -1 << 62 // set, but not an integer: matches no value a caller wants
	}
	return def
}
