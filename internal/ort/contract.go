package ort

import (
	"fmt"
	"strings"

	onnx "github.com/yalue/onnxruntime_go"
)

// DataType is a tensor element type.
type DataType = onnx.TensorElementDataType

// The element types dream's models use.
const (
	Float32 = onnx.TensorElementDataTypeFloat
	Float64 = onnx.TensorElementDataTypeDouble
	Float16 = onnx.TensorElementDataTypeFloat16
	Int32   = onnx.TensorElementDataTypeInt32
	Int64   = onnx.TensorElementDataTypeInt64
)

// Any marks a dimension of any size in a Tensor spec.
const Any = -1

// Tensor is what a caller needs of one model input or output. An empty Name matches any name
// (exports of the same network name their tensors differently), Dims of Any match any size,
// and a nil Dims matches any rank.
type Tensor struct {
	Name string
	Type DataType
	Dims []int64
	// Types, when set, lists every element type the caller accepts instead of Type alone.
	Types []DataType
}

// Contract lists the inputs and outputs a caller needs, in the order it will pass them.
type Contract struct {
	Inputs, Outputs []Tensor
}

// matchAll pairs every wanted tensor with a distinct declared one and returns the declared
// names in the wanted order. The model must declare exactly as many tensors as wanted.
func matchAll(kind string, declared []onnx.InputOutputInfo, want []Tensor) ([]string, error) {
	if len(declared) != len(want) {
		return nil, fmt.Errorf("model has %d %ss (%s), dream needs %d (%s)",
			len(declared), kind, describeDeclared(declared), len(want), describeWanted(want))
	}
	// A wanted tensor nothing matches is the common mistake (wrong type, rank or size), and
	// naming it is clearer than saying the pairing failed.
	for _, w := range want {
		if !w.matchesAny(declared) {
			return nil, fmt.Errorf("no %s matches what dream needs, %s; the model has %s",
				kind, w, describeDeclared(declared))
		}
	}
	used := make([]bool, len(declared))
	names := make([]string, len(want))
	if !assign(declared, want, used, names) {
		return nil, fmt.Errorf("the model's %ss (%s) cannot be paired one to one with what dream needs (%s)",
			kind, describeDeclared(declared), describeWanted(want))
	}
	return names, nil
}

// assign pairs want[0] and the rest with distinct unused declared tensors, trying every
// candidate in turn: a first pick that takes the tensor a later, stricter want needs (an
// any-shape want before a [1,3,?,?] one) is undone rather than failing the whole match.
// Models have a handful of inputs, so the search is tiny.
func assign(declared []onnx.InputOutputInfo, want []Tensor, used []bool, names []string) bool {
	if len(want) == 0 {
		return true
	}
	for j, d := range declared {
		if used[j] || !want[0].matches(d) {
			continue
		}
		used[j] = true
		names[0] = d.Name
		if assign(declared, want[1:], used, names[1:]) {
			return true
		}
		used[j] = false
	}
	return false
}

func (w Tensor) matchesAny(declared []onnx.InputOutputInfo) bool {
	for _, d := range declared {
		if w.matches(d) {
			return true
		}
	}
	return false
}

func (w Tensor) matches(d onnx.InputOutputInfo) bool {
	if d.OrtValueType != onnx.ONNXTypeTensor {
		return false
	}
	if w.Name != "" && w.Name != d.Name {
		return false
	}
	if !w.acceptsType(d.DataType) {
		return false
	}
	if w.Dims == nil {
		return true
	}
	if len(w.Dims) != len(d.Dimensions) {
		return false
	}
	for i, want := range w.Dims {
		have := d.Dimensions[i]
		// A dynamic dimension in the model (negative) takes whatever size we feed it.
		if want != Any && have >= 0 && have != want {
			return false
		}
	}
	return true
}

func (w Tensor) acceptsType(t DataType) bool {
	if len(w.Types) == 0 {
		return t == w.Type
	}
	for _, ok := range w.Types {
		if t == ok {
			return true
		}
	}
	return false
}

// String describes a wanted tensor: `float32 [1,3,?,?]` or `"weight" float64 [1]`.
func (w Tensor) String() string {
	var b strings.Builder
	if w.Name != "" {
		fmt.Fprintf(&b, "%q ", w.Name)
	}
	types := w.Types
	if len(types) == 0 {
		types = []DataType{w.Type}
	}
	for i, t := range types {
		if i > 0 {
			b.WriteString(" or ")
		}
		b.WriteString(typeName(t))
	}
	if w.Dims != nil {
		b.WriteString(" " + formatDims(w.Dims))
	}
	return b.String()
}

func describeWanted(want []Tensor) string {
	parts := make([]string, len(want))
	for i, w := range want {
		parts[i] = w.String()
	}
	return strings.Join(parts, ", ")
}

func describeDeclared(declared []onnx.InputOutputInfo) string {
	parts := make([]string, len(declared))
	for i, d := range declared {
		if d.OrtValueType != onnx.ONNXTypeTensor {
			parts[i] = fmt.Sprintf("%q %s", d.Name, d.OrtValueType)
			continue
		}
		parts[i] = fmt.Sprintf("%q %s %s", d.Name, typeName(d.DataType), formatDims(d.Dimensions))
	}
	return strings.Join(parts, ", ")
}

func formatDims(dims []int64) string {
	parts := make([]string, len(dims))
	for i, d := range dims {
		if d < 0 {
			parts[i] = "?"
		} else {
			parts[i] = fmt.Sprint(d)
		}
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func typeName(t DataType) string {
	switch t {
	case Float32:
		return "float32"
	case Float64:
		return "float64"
	case Float16:
		return "float16"
	case Int32:
		return "int32"
	case Int64:
		return "int64"
	}
	return strings.ToLower(t.String())
}

func pick(declared []onnx.InputOutputInfo, names []string) []onnx.InputOutputInfo {
	out := make([]onnx.InputOutputInfo, len(names))
	for i, name := range names {
		for _, d := range declared {
			if d.Name == name {
				out[i] = d
			}
		}
	}
	return out
}
