package ncnn

import (
	"fmt"
	"os"

	"dream/internal/onnxpb"
)

// Stats describes an imported model.
type Stats struct {
	Params int64 // weights, biases and slopes, counted as values
	Layers int   // layers in the .param file, Input and Split included
}

// Graph value names of the imported model, as internal/upscale expects them.
const (
	InputName  = "input"
	OutputName = "output"
)

// ImportFile converts an ncnn pair to an ONNX file at outONNX.
func ImportFile(param, bin, outONNX string) error {
	m, _, err := Import(param, bin)
	if err != nil {
		return err
	}
	return m.WriteFile(outONNX)
}

// Import converts an ncnn .param/.bin pair to an ONNX model with input "input" float32
// [1,3,h,w] and output "output". Every error is one line naming the file and, where there is
// one, the layer.
func Import(paramPath, binPath string) (*onnxpb.Model, Stats, error) {
	text, err := os.ReadFile(paramPath)
	if err != nil {
		return nil, Stats{}, err
	}
	layers, err := parseParam(text, paramPath)
	if err != nil {
		return nil, Stats{}, err
	}
	data, err := os.ReadFile(binPath)
	if err != nil {
		return nil, Stats{}, err
	}
	c := &converter{bin: &binReader{name: binPath, data: data}, names: map[string]string{}}
	if err := c.convert(layers); err != nil {
		if c.inBin {
			return nil, Stats{}, err // already names the .bin
		}
		return nil, Stats{}, fmt.Errorf("%s: %v", paramPath, err)
	}
	// Leftover bytes mean the layers read fewer weights than were written: the weights we did
	// read are then almost surely misassigned, so this is an error, not a warning.
	if extra := len(data) - c.bin.off; extra > 0 {
		return nil, Stats{}, fmt.Errorf("%s: %d bytes of trailing data after the last weight (at offset %d); .param and .bin do not match",
			binPath, extra, c.bin.off)
	}
	m := &onnxpb.Model{Graph: c.g, Producer: "dream ncnn import"}
	m.Graph.Name = "ncnn"
	return m, Stats{Params: c.params, Layers: len(layers)}, nil
}

// converter turns layers into ONNX nodes, tracking which ONNX value holds each ncnn blob.
type converter struct {
	g      onnxpb.Graph
	bin    *binReader
	names  map[string]string // ncnn blob → ONNX value
	final  string            // the ncnn blob that becomes the graph output
	params int64
	inBin  bool // the last error came from the .bin reader
}

func (c *converter) convert(layers []layer) error {
	final, err := finalBlob(layers)
	if err != nil {
		return err
	}
	c.final = final
	hasInput := false
	for i := range layers {
		l := &layers[i]
		if l.Type == "Input" {
			if hasInput {
				return l.errorf("a second Input layer; only single-input models are supported")
			}
			hasInput = true
		}
		if err := c.layer(l); err != nil {
			return err
		}
	}
	if !hasInput {
		return fmt.Errorf("no Input layer")
	}
	return c.finish()
}

// finalBlob is the one blob nothing consumes: the model's output.
func finalBlob(layers []layer) (string, error) {
	consumed := map[string]bool{}
	for _, l := range layers {
		for _, in := range l.Inputs {
			consumed[in] = true
		}
	}
	var outs []string
	for _, l := range layers {
		for _, o := range l.Outputs {
			if !consumed[o] {
				outs = append(outs, o)
			}
		}
	}
	if len(outs) != 1 {
		return "", fmt.Errorf("want exactly one unconsumed output blob, found %d %q", len(outs), outs)
	}
	return outs[0], nil
}

// finish declares the graph's input and output.
func (c *converter) finish() error {
	out, ok := c.names[c.final]
	if !ok {
		return fmt.Errorf("output blob %q is never produced", c.final)
	}
	if out != OutputName { // e.g. the output is a Split alias
		c.g.Add("Identity", []string{out}, []string{OutputName})
	}
	c.g.Inputs = []onnxpb.ValueInfo{onnxpb.NewValueInfo(InputName, onnxpb.Float,
		onnxpb.Fixed(1), onnxpb.Fixed(3), onnxpb.Sym("height"), onnxpb.Sym("width"))}
	c.g.Outputs = []onnxpb.ValueInfo{onnxpb.NewValueInfo(OutputName, onnxpb.Float,
		onnxpb.Fixed(1), onnxpb.Fixed(3), onnxpb.Sym("out_height"), onnxpb.Sym("out_width"))}
	return nil
}

// in returns the ONNX values for a layer's inputs, checking their count.
func (c *converter) in(l *layer, want int) ([]string, error) {
	if want >= 0 && len(l.Inputs) != want {
		return nil, l.errorf("has %d inputs, want %d", len(l.Inputs), want)
	}
	vals := make([]string, len(l.Inputs))
	for i, b := range l.Inputs {
		v, ok := c.names[b]
		if !ok {
			return nil, l.errorf("input blob %q is not produced by an earlier layer", b)
		}
		vals[i] = v
	}
	return vals, nil
}

// out names a layer's single output blob in ONNX; the graph output keeps its fixed name.
func (c *converter) out(l *layer) ([]string, error) {
	if len(l.Outputs) != 1 {
		return nil, l.errorf("has %d outputs, want 1", len(l.Outputs))
	}
	b := l.Outputs[0]
	if _, dup := c.names[b]; dup {
		return nil, l.errorf("blob %q is produced twice", b)
	}
	v := "blob_" + b // prefixed so no blob can collide with "input"/"output"
	if b == c.final {
		v = OutputName
	}
	c.names[b] = v
	return []string{v}, nil
}

// tmp names an intermediate value; the node count keeps it unique.
func (c *converter) tmp(l *layer, what string) string {
	return fmt.Sprintf("t_%s_%s_%d", l.Name, what, len(c.g.Nodes))
}

// constant stores values as an initializer named after the layer.
func (c *converter) constant(l *layer, suffix string, dims []int64, data []float32) string {
	return c.g.AddInitializer(onnxpb.Float32Tensor(fmt.Sprintf("w_%s_%s_%d", l.Name, suffix, len(c.g.Initializers)), dims, data))
}

func (c *converter) layer(l *layer) error {
	switch l.Type {
	case "Input":
		if len(l.Outputs) != 1 || len(l.Inputs) != 0 {
			return l.errorf("want 0 inputs and 1 output")
		}
		c.names[l.Outputs[0]] = InputName
		return nil
	case "Split":
		return c.split(l)
	case "Convolution":
		return c.convolution(l)
	case "ReLU":
		return c.relu(l)
	case "PReLU":
		return c.prelu(l)
	case "Eltwise":
		return c.eltwise(l)
	case "BinaryOp":
		return c.binaryOp(l)
	case "Concat":
		return c.concat(l)
	case "Interp":
		return c.interp(l)
	case "PixelShuffle":
		return c.pixelShuffle(l)
	}
	return l.errorf("unsupported layer type %q", l.Type)
}

// split fans a blob out; ONNX values can feed any number of nodes, so outputs are aliases.
func (c *converter) split(l *layer) error {
	ins, err := c.in(l, 1)
	if err != nil {
		return err
	}
	for _, o := range l.Outputs {
		c.names[o] = ins[0]
	}
	return nil
}
