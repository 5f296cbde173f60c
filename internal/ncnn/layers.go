package ncnn

import (
	"dream/internal/onnxpb"
)

// convParams are a Convolution layer's geometry, with ncnn's defaults applied.
type convParams struct {
	out, kw, kh, dw, dh, sw, sh int
	left, right, top, bottom    int
	bias, weights, act          int
}

func readConvParams(l *layer) (p convParams, err error) {
	get := func(k, def int) int {
		if err != nil {
			return 0
		}
		var v int
		v, err = l.intParam(k, def)
		return v
	}
	p.out = get(0, 0)
	p.kw = get(1, 0)
	p.kh = get(11, p.kw)
	p.dw = get(2, 1)
	p.dh = get(12, p.dw)
	p.sw = get(3, 1)
	p.sh = get(13, p.sw)
	p.left = get(4, 0)
	p.right = get(15, p.left)
	p.top = get(14, p.left)
	p.bottom = get(16, p.top)
	p.bias = get(5, 0)
	p.weights = get(6, 0)
	p.act = get(9, 0)
	int8Scale := get(8, 0)
	dynamic := get(19, 0)
	if err != nil {
		return p, err
	}
	// ONNX Conv pads with zeros only, so another pad value cannot be expressed.
	if padValue, perr := l.floatParam(18, 0); perr != nil || padValue != 0 {
		return p, l.errorf("pad_value other than 0 is not supported")
	}
	if int8Scale != 0 || dynamic != 0 {
		return p, l.errorf("int8 or dynamic-weight convolution is not supported")
	}
	if min(p.out, p.kw, p.kh, p.dw, p.dh, p.sw, p.sh) <= 0 {
		return p, l.errorf("output channels, kernel, dilation and stride must be positive")
	}
	if min(p.left, p.right, p.top, p.bottom) < 0 {
		return p, l.errorf("automatic (SAME) padding %d is not supported", min(p.left, p.right, p.top, p.bottom))
	}
	per := p.out * p.kw * p.kh
	if p.weights <= 0 || p.weights%per != 0 || p.weights/per > 1<<20 {
		return p, l.errorf("weight count %d is not a multiple of %d×%d×%d", p.weights, p.out, p.kh, p.kw)
	}
	return p, nil
}

func (c *converter) convolution(l *layer) error {
	ins, err := c.in(l, 1)
	if err != nil {
		return err
	}
	p, err := readConvParams(l)
	if err != nil {
		return err
	}
	act, err := activation(l, p.act)
	if err != nil {
		return err
	}
	w, err := c.weights(l, func() ([]float32, error) { return c.bin.tagged(p.weights, l.Name+" weights") })
	if err != nil {
		return err
	}
	inCh := p.weights / (p.out * p.kw * p.kh)
	// ncnn stores weights as [out][in][kh][kw], which is ONNX's Conv layout.
	inputs := []string{ins[0], c.constant(l, "weight", []int64{int64(p.out), int64(inCh), int64(p.kh), int64(p.kw)}, w)}
	if p.bias != 0 {
		b, err := c.weights(l, func() ([]float32, error) { return c.bin.raw(p.out, l.Name+" bias") })
		if err != nil {
			return err
		}
		inputs = append(inputs, c.constant(l, "bias", []int64{int64(p.out)}, b))
	}
	attrs := []onnxpb.Attr{
		onnxpb.AttrInts("kernel_shape", int64(p.kh), int64(p.kw)),
		onnxpb.AttrInts("strides", int64(p.sh), int64(p.sw)),
		onnxpb.AttrInts("dilations", int64(p.dh), int64(p.dw)),
		onnxpb.AttrInts("pads", int64(p.top), int64(p.left), int64(p.bottom), int64(p.right)),
	}
	if act == nil {
		out, err := c.out(l)
		if err != nil {
			return err
		}
		c.g.Add("Conv", inputs, out, attrs...)
		return nil
	}
	conv := c.g.Add("Conv", inputs, []string{c.tmp(l, "conv")}, attrs...)
	out, err := c.out(l)
	if err != nil {
		return err
	}
	act(&c.g, conv, out)
	return nil
}

// weights reads from the .bin, counting the values and remembering the error's origin.
func (c *converter) weights(l *layer, read func() ([]float32, error)) ([]float32, error) {
	v, err := read()
	if err != nil {
		c.inBin = true
		return nil, err
	}
	c.params += int64(len(v))
	return v, nil
}

// activation returns the node a fused Convolution activation adds, or nil for none.
func activation(l *layer, kind int) (func(g *onnxpb.Graph, in, out []string), error) {
	switch kind {
	case 0:
		return nil, nil
	case 1:
		return func(g *onnxpb.Graph, in, out []string) { g.Add("Relu", in, out) }, nil
	case 2:
		params, err := l.floatsParam(10)
		if err != nil {
			return nil, err
		}
		var slope float32
		if len(params) > 0 {
			slope = params[0]
		}
		return func(g *onnxpb.Graph, in, out []string) {
			g.Add("LeakyRelu", in, out, onnxpb.AttrFloat("alpha", slope))
		}, nil
	}
	names := map[int]string{3: "clip", 4: "sigmoid", 5: "mish"}
	if n, ok := names[kind]; ok {
		return nil, l.errorf("fused activation %d (%s) is not supported; supported: 0 none, 1 ReLU, 2 LeakyReLU", kind, n)
	}
	return nil, l.errorf("unknown fused activation %d; supported: 0 none, 1 ReLU, 2 LeakyReLU", kind)
}

func (c *converter) relu(l *layer) error {
	ins, err := c.in(l, 1)
	if err != nil {
		return err
	}
	slope, err := l.floatParam(0, 0)
	if err != nil {
		return err
	}
	out, err := c.out(l)
	if err != nil {
		return err
	}
	if slope == 0 {
		c.g.Add("Relu", ins, out)
	} else {
		c.g.Add("LeakyRelu", ins, out, onnxpb.AttrFloat("alpha", slope))
	}
	return nil
}

func (c *converter) prelu(l *layer) error {
	ins, err := c.in(l, 1)
	if err != nil {
		return err
	}
	n, err := l.intParam(0, 0)
	if err != nil {
		return err
	}
	if n <= 0 {
		return l.errorf("slope count %d must be positive", n)
	}
	slopes, err := c.weights(l, func() ([]float32, error) { return c.bin.raw(n, l.Name+" slopes") })
	if err != nil {
		return err
	}
	// [C,1,1] broadcasts per channel against [1,C,H,W]; one slope broadcasts as [1].
	dims := []int64{int64(n), 1, 1}
	if n == 1 {
		dims = []int64{1}
	}
	out, err := c.out(l)
	if err != nil {
		return err
	}
	c.g.Add("PRelu", []string{ins[0], c.constant(l, "slope", dims, slopes)}, out)
	return nil
}

// eltwise: 0 product, 1 (weighted) sum, 2 max. RRDBNet's residual scaling is a sum with
// coefficients [0.2, 1], so coefficients other than 1 must be honoured.
func (c *converter) eltwise(l *layer) error {
	ins, err := c.in(l, -1)
	if err != nil {
		return err
	}
	if len(ins) < 2 {
		return l.errorf("needs at least 2 inputs, has %d", len(ins))
	}
	op, err := l.intParam(0, 1)
	if err != nil {
		return err
	}
	coeffs, err := l.floatsParam(1)
	if err != nil {
		return err
	}
	if len(coeffs) != 0 && len(coeffs) != len(ins) {
		return l.errorf("has %d coefficients for %d inputs", len(coeffs), len(ins))
	}
	onnxOp := map[int]string{0: "Mul", 1: "Sum", 2: "Max"}[op]
	if onnxOp == "" {
		return l.errorf("unknown Eltwise op_type %d (want 0 product, 1 sum, 2 max)", op)
	}
	if len(coeffs) != 0 && op != 1 {
		return l.errorf("coefficients are only meaningful for sum")
	}
	for i, k := range coeffs {
		if k != 1 {
			ins[i] = c.g.Add("Mul", []string{ins[i], c.constant(l, "coeff", nil, []float32{k})},
				[]string{c.tmp(l, "scaled")})[0]
		}
	}
	out, err := c.out(l)
	if err != nil {
		return err
	}
	if onnxOp == "Mul" { // ONNX Mul is binary; chain it
		acc := ins[0]
		for i := 1; i < len(ins)-1; i++ {
			acc = c.g.Add("Mul", []string{acc, ins[i]}, []string{c.tmp(l, "prod")})[0]
		}
		c.g.Add("Mul", []string{acc, ins[len(ins)-1]}, out)
		return nil
	}
	c.g.Add(onnxOp, ins, out)
	return nil
}

// binaryOp: 0 add, 1 sub, 2 mul, 3 div, on two blobs or a blob and scalar 2=b when 1=with_scalar.
func (c *converter) binaryOp(l *layer) error {
	op, err := l.intParam(0, 0)
	if err != nil {
		return err
	}
	onnxOp := map[int]string{0: "Add", 1: "Sub", 2: "Mul", 3: "Div"}[op]
	if onnxOp == "" {
		return l.errorf("BinaryOp op_type %d is not supported (want 0 add, 1 sub, 2 mul, 3 div)", op)
	}
	withScalar, err := l.intParam(1, 0)
	if err != nil {
		return err
	}
	var ins []string
	if withScalar != 0 {
		if ins, err = c.in(l, 1); err != nil {
			return err
		}
		b, err := l.floatParam(2, 0)
		if err != nil {
			return err
		}
		ins = append(ins, c.constant(l, "b", nil, []float32{b}))
	} else if ins, err = c.in(l, 2); err != nil {
		return err
	}
	out, err := c.out(l)
	if err != nil {
		return err
	}
	c.g.Add(onnxOp, ins, out)
	return nil
}

// concat: ncnn's axis counts from the channel axis of an unbatched blob; ONNX adds batch.
func (c *converter) concat(l *layer) error {
	ins, err := c.in(l, -1)
	if err != nil {
		return err
	}
	axis, err := l.intParam(0, 0)
	if err != nil {
		return err
	}
	if axis < -3 || axis > 2 {
		return l.errorf("axis %d out of range for a C×H×W blob", axis)
	}
	if axis >= 0 {
		axis++ // negative axes count from the end in both formats
	}
	out, err := c.out(l)
	if err != nil {
		return err
	}
	c.g.Add("Concat", ins, out, onnxpb.AttrInt("axis", int64(axis)))
	return nil
}

// interp: 1 nearest, 2 bilinear, by scale factors 1=height 2=width.
func (c *converter) interp(l *layer) error {
	ins, err := c.in(l, 1)
	if err != nil {
		return err
	}
	kind, err := l.intParam(0, 0)
	if err != nil {
		return err
	}
	hs, err := l.floatParam(1, 1)
	if err != nil {
		return err
	}
	ws, err := l.floatParam(2, 1)
	if err != nil {
		return err
	}
	oh, _ := l.intParam(3, 0)
	ow, _ := l.intParam(4, 0)
	if oh != 0 || ow != 0 {
		return l.errorf("a fixed output size (%dx%d) is not supported, only scale factors", ow, oh)
	}
	if !(hs > 0 && ws > 0) {
		return l.errorf("scales %gx%g must be positive", ws, hs)
	}
	alignCorner, _ := l.intParam(6, 0)
	var attrs []onnxpb.Attr
	switch kind {
	case 1: // ncnn nearest samples floor(dst/scale), i.e. asymmetric + floor
		attrs = []onnxpb.Attr{onnxpb.AttrString("mode", "nearest"),
			onnxpb.AttrString("coordinate_transformation_mode", "asymmetric"),
			onnxpb.AttrString("nearest_mode", "floor")}
	case 2:
		ctm := "half_pixel"
		if alignCorner != 0 {
			ctm = "align_corners"
		}
		attrs = []onnxpb.Attr{onnxpb.AttrString("mode", "linear"),
			onnxpb.AttrString("coordinate_transformation_mode", ctm)}
	default:
		return l.errorf("resize_type %d is not supported (want 1 nearest, 2 bilinear)", kind)
	}
	scales := c.constant(l, "scales", []int64{4}, []float32{1, 1, hs, ws})
	out, err := c.out(l)
	if err != nil {
		return err
	}
	c.g.Add("Resize", []string{ins[0], "", scales}, out, attrs...)
	return nil
}

// pixelShuffle is PyTorch's PixelShuffle, which is DepthToSpace in CRD mode.
func (c *converter) pixelShuffle(l *layer) error {
	ins, err := c.in(l, 1)
	if err != nil {
		return err
	}
	r, err := l.intParam(0, 1)
	if err != nil {
		return err
	}
	mode, err := l.intParam(1, 0)
	if err != nil {
		return err
	}
	if r <= 0 || mode != 0 {
		return l.errorf("upscale_factor %d / mode %d not supported (want factor > 0, mode 0)", r, mode)
	}
	out, err := c.out(l)
	if err != nil {
		return err
	}
	c.g.Add("DepthToSpace", ins, out, onnxpb.AttrInt("blocksize", int64(r)), onnxpb.AttrString("mode", "CRD"))
	return nil
}
