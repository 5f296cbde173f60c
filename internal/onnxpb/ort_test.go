package onnxpb

// These tests write models with this package and run them in the real ONNX
// Runtime, comparing outputs exactly with numbers worked out by hand or by
// small reference implementations below. Inputs are chosen so every
// intermediate result is exactly representable, so exact comparison is fair
// whatever order ONNX Runtime sums in.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	ort "github.com/yalue/onnxruntime_go"
)

// ortLib is the path of the ONNX Runtime shared library.
var ortLib string

// TestMain loads ONNX Runtime: $ONNXRUNTIME_LIB, else the library the repository's install
// script puts in place and names. (This package cannot use internal/ort, which imports it.)
// A library that cannot be found or loaded ends the tests: they run the real runtime or fail.
func TestMain(m *testing.M) {
	ortLib = os.Getenv("ONNXRUNTIME_LIB")
	if ortLib == "" {
		out, err := exec.Command("../../scripts/install_onnxruntime").Output()
		if err != nil {
			fmt.Fprintf(os.Stderr, "onnxpb: scripts/install_onnxruntime: %v\n", err)
			os.Exit(1)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		ortLib = lines[len(lines)-1]
	}
	ort.SetSharedLibraryPath(ortLib)
	if err := ort.InitializeEnvironment(); err != nil {
		fmt.Fprintf(os.Stderr, "onnxpb: ONNX Runtime at %s: %v\n", ortLib, err)
		os.Exit(1)
	}
	code := m.Run()
	ort.DestroyEnvironment()
	os.Exit(code)
}

// value is a named test tensor; data is a []float32, []float64, []int32
// or []int64.
type value struct {
	name  string
	shape []int64
	data  any
}

func TestORTRun(t *testing.T) {

	tests := []struct {
		name    string
		model   *Model
		inputs  []value
		outputs []value // expected
	}{
		{
			name:   "add mul 1x3x2x2",
			model:  addMulModel(),
			inputs: []value{{"x", []int64{1, 3, 2, 2}, seq[float32](1, 12)}},
			// (x + bias[c]) * 0.5 with bias = 10, 20, 30.
			outputs: []value{{"y", []int64{1, 3, 2, 2}, []float32{
				5.5, 6, 6.5, 7,
				12.5, 13, 13.5, 14,
				19.5, 20, 20.5, 21,
			}}},
		},
		{
			name:   "add mul with other symbolic H W",
			model:  addMulModel(),
			inputs: []value{{"x", []int64{1, 3, 3, 1}, seq[float32](1, 9)}},
			outputs: []value{{"y", []int64{1, 3, 3, 1}, []float32{
				5.5, 6, 6.5,
				12, 12.5, 13,
				18.5, 19, 19.5,
			}}},
		},
		{
			// The kernel takes 100×centre + 10×below + 1×right, so each
			// decimal digit of the output shows which neighbour was read:
			// a flipped or transposed kernel would give other digits. The
			// zero padding drops the neighbours past the edge.
			name:   "conv 3x3 digits, pads 1",
			model:  convModel(1, 1, 3, 3, []float32{0, 0, 0, 0, 100, 1, 0, 10, 0}, []float32{0.5}),
			inputs: []value{{"x", []int64{1, 1, 3, 3}, seq[float32](1, 9)}},
			outputs: []value{{"y", []int64{1, 1, 3, 3}, []float32{
				142.5, 253.5, 360.5,
				475.5, 586.5, 690.5,
				708.5, 809.5, 900.5,
			}}},
		},
		{
			name:   "conv 2 to 3 channels on 4x5, against reference",
			model:  convModel(2, 3, 4, 5, convWeights(3, 2), []float32{0.25, -1, 2}),
			inputs: []value{{"x", []int64{1, 2, 4, 5}, convInput(2 * 4 * 5)}},
			outputs: []value{{"y", []int64{1, 3, 4, 5},
				conv3x3Pad1(convInput(2*4*5), 2, 4, 5, convWeights(3, 2), []float32{0.25, -1, 2})}},
		},
		{
			name:  "float64 and int64 through Identity, Cast and Add",
			model: castModel(),
			inputs: []value{
				{"d", []int64{2, 3}, []float64{1, 2, 3, 4, 5, 6}},
				{"n", []int64{4}, []int64{-3, 0, 1 << 40, -(1 << 50)}},
			},
			outputs: []value{
				{"d_copy", []int64{2, 3}, []float64{1, 2, 3, 4, 5, 6}},
				// Row 0 + 2^-40, row 1 + 1e10: exact in float64, not in float32.
				{"d_plus", []int64{2, 3}, []float64{1 + 0x1p-40, 2 + 0x1p-40, 3 + 0x1p-40, 4 + 1e10, 5 + 1e10, 6 + 1e10}},
				{"d_int", []int64{2, 3}, []int64{1, 2, 3, 4, 5, 6}},
				{"n_copy", []int64{4}, []int64{-3, 0, 1 << 40, -(1 << 50)}},
				{"n_double", []int64{4}, []float64{-3, 0, 1 << 40, -(1 << 50)}},
				{"n_plus", []int64{4}, []int64{-3 + 1<<33, 1 << 33, 1<<40 + 1<<33, -(1 << 50) + 1<<33}},
				{"k32", []int64{3}, []int32{-7, 0, 1 << 30}},
			},
		},
		{
			name:    "LeakyRelu float attribute",
			model:   leakyReluModel(0.25),
			inputs:  []value{{"x", []int64{5}, []float32{-4, -1, 0, 2, 8}}},
			outputs: []value{{"y", []int64{5}, []float32{-1, -0.25, 0, 2, 8}}},
		},
		{
			name:   "Constant tensor and floats attributes",
			model:  constantModel(),
			inputs: []value{{"x", []int64{2, 2}, []float32{1, 2, 3, 4}}},
			outputs: []value{
				{"from_tensor", []int64{2, 2}, []float32{2.5, 0, 4.5, 2}},   // x + {1.5, -2}
				{"from_floats", []int64{2, 2}, []float32{1.25, 1, 3.75, 2}}, // x * {1.25, 0.5}
			},
		},
		{
			// With 2 output channels and 1x1 input, CRD puts channels
			// 0-3 into the first output channel in order, so the data
			// comes out unchanged; DCR would interleave it (0 2 4 6 1 3 5 7).
			name:    "DepthToSpace CRD, literal",
			model:   depthToSpaceModel(2),
			inputs:  []value{{"x", []int64{1, 8, 1, 1}, seq[float32](0, 7)}},
			outputs: []value{{"y", []int64{1, 2, 2, 2}, seq[float32](0, 7)}},
		},
		{
			name:    "DepthToSpace CRD 8 channels 2x3, against reference",
			model:   depthToSpaceModel(2),
			inputs:  []value{{"x", []int64{1, 8, 2, 3}, seq[float32](0, 47)}},
			outputs: []value{{"y", []int64{1, 2, 4, 6}, depthToSpaceCRD(seq[float32](0, 47), 8, 2, 3, 2)}},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := run(t, tt.model, tt.inputs, tt.outputs)
			for i, want := range tt.outputs {
				checkValue(t, want, got[i])
			}
		})
	}
}

// run writes m to a temporary file, loads it in ONNX Runtime and runs it
// on inputs, asking for the outputs named in want.
func run(t *testing.T, m *Model, inputs, want []value) []ort.Value {
	t.Helper()
	path := filepath.Join(t.TempDir(), "model.onnx")
	if err := m.WriteFile(path); err != nil {
		t.Fatal(err)
	}

	var inNames, outNames []string
	var ins []ort.Value
	for _, in := range inputs {
		inNames = append(inNames, in.name)
		ins = append(ins, newORTTensor(t, in))
	}
	for _, out := range want {
		outNames = append(outNames, out.name)
	}

	session, err := ort.NewDynamicAdvancedSession(path, inNames, outNames, nil)
	if err != nil {
		t.Fatalf("loading the written model: %v", err)
	}
	defer session.Destroy()

	outs := make([]ort.Value, len(outNames)) // nil: ONNX Runtime allocates them
	if err := session.Run(ins, outs); err != nil {
		t.Fatalf("running the written model: %v", err)
	}
	t.Cleanup(func() {
		for _, o := range outs {
			o.Destroy()
		}
	})
	return outs
}

func newORTTensor(t *testing.T, v value) ort.Value {
	t.Helper()
	shape := ort.NewShape(v.shape...)
	var tensor ort.Value
	var err error
	switch data := v.data.(type) {
	case []float32:
		tensor, err = ort.NewTensor(shape, data)
	case []float64:
		tensor, err = ort.NewTensor(shape, data)
	case []int32:
		tensor, err = ort.NewTensor(shape, data)
	case []int64:
		tensor, err = ort.NewTensor(shape, data)
	default:
		t.Fatalf("input %s: unsupported data %T", v.name, v.data)
	}
	if err != nil {
		t.Fatalf("input %s: %v", v.name, err)
	}
	t.Cleanup(func() { tensor.Destroy() })
	return tensor
}

func checkValue(t *testing.T, want value, got ort.Value) {
	t.Helper()
	switch data := want.data.(type) {
	case []float32:
		checkTensor(t, want.name, got, want.shape, data)
	case []float64:
		checkTensor(t, want.name, got, want.shape, data)
	case []int32:
		checkTensor(t, want.name, got, want.shape, data)
	case []int64:
		checkTensor(t, want.name, got, want.shape, data)
	default:
		t.Fatalf("output %s: unsupported data %T", want.name, want.data)
	}
}

func checkTensor[T float32 | float64 | int32 | int64](t *testing.T, name string, got ort.Value, shape []int64, want []T) {
	t.Helper()
	tensor, ok := got.(*ort.Tensor[T])
	if !ok {
		t.Errorf("output %s: got %T, want %T", name, got, tensor)
		return
	}
	if !slices.Equal(tensor.GetShape(), ort.Shape(shape)) {
		t.Errorf("output %s: shape %v, want %v", name, tensor.GetShape(), shape)
	}
	if !slices.Equal(tensor.GetData(), want) {
		t.Errorf("output %s:\n got %v\nwant %v", name, tensor.GetData(), want)
	}
}

func TestORTInputOutputInfo(t *testing.T) {

	tensor := func(name string, dt ort.TensorElementDataType, dims ...int64) ort.InputOutputInfo {
		return ort.InputOutputInfo{Name: name, OrtValueType: ort.ONNXTypeTensor, Dimensions: dims, DataType: dt}
	}
	tests := []struct {
		name          string
		model         *Model
		inputs, outpt []ort.InputOutputInfo
	}{
		{
			name:   "symbolic H and W",
			model:  addMulModel(),
			inputs: []ort.InputOutputInfo{tensor("x", ort.TensorElementDataTypeFloat, 1, 3, -1, -1)},
			outpt:  []ort.InputOutputInfo{tensor("y", ort.TensorElementDataTypeFloat, 1, 3, -1, -1)},
		},
		{
			name:  "double, int64 and int32",
			model: castModel(),
			inputs: []ort.InputOutputInfo{
				tensor("d", ort.TensorElementDataTypeDouble, 2, -1),
				tensor("n", ort.TensorElementDataTypeInt64, 4),
			},
			outpt: []ort.InputOutputInfo{
				tensor("d_copy", ort.TensorElementDataTypeDouble, 2, -1),
				tensor("d_plus", ort.TensorElementDataTypeDouble, 2, -1),
				tensor("d_int", ort.TensorElementDataTypeInt64, 2, -1),
				tensor("n_copy", ort.TensorElementDataTypeInt64, 4),
				tensor("n_double", ort.TensorElementDataTypeDouble, 4),
				tensor("n_plus", ort.TensorElementDataTypeInt64, 4),
				tensor("k32", ort.TensorElementDataTypeInt32, 3),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "model.onnx")
			if err := tt.model.WriteFile(path); err != nil {
				t.Fatal(err)
			}
			inputs, outputs, err := ort.GetInputOutputInfo(path)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(inputs, tt.inputs) {
				t.Errorf("inputs:\n got %v\nwant %v", inputs, tt.inputs)
			}
			if !reflect.DeepEqual(outputs, tt.outpt) {
				t.Errorf("outputs:\n got %v\nwant %v", outputs, tt.outpt)
			}
		})
	}
}

func TestORTMetadata(t *testing.T) {

	g := Graph{Name: "meta_graph"}
	g.Inputs = []ValueInfo{NewValueInfo("x", Float, Fixed(1))}
	g.Outputs = []ValueInfo{NewValueInfo("y", Float, Fixed(1))}
	g.Add("Identity", []string{"x"}, []string{"y"})
	m := &Model{
		Graph:    g,
		Producer: "onnxpb-test",
		Metadata: map[string]string{
			"scale":   "4",
			"unicode": "ünïcödé ✓",
			"empty":   "",
			"json":    `{"a": [1, 2]}`,
		},
	}
	path := filepath.Join(t.TempDir(), "model.onnx")
	if err := m.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	meta, err := ort.GetModelMetadata(path)
	if err != nil {
		t.Fatal(err)
	}
	defer meta.Destroy()

	tests := []struct {
		key    string
		want   string
		wantOK bool
	}{
		{"scale", "4", true},
		{"unicode", "ünïcödé ✓", true},
		{"empty", "", true},
		{"json", `{"a": [1, 2]}`, true},
		{"missing", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			got, ok, err := meta.LookupCustomMetadataMap(tt.key)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("got %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}

	keys, err := meta.GetCustomMetadataMapKeys()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	if want := []string{"empty", "json", "scale", "unicode"}; !slices.Equal(keys, want) {
		t.Errorf("metadata keys %q, want %q", keys, want)
	}
	if producer, err := meta.GetProducerName(); err != nil || producer != "onnxpb-test" {
		t.Errorf("producer %q, %v; want onnxpb-test", producer, err)
	}
	if graph, err := meta.GetGraphName(); err != nil || graph != "meta_graph" {
		t.Errorf("graph name %q, %v; want meta_graph", graph, err)
	}
}

// addMulModel computes y = (x + bias) * scale for x of shape
// [1, 3, height, width], with a per-channel bias {10, 20, 30} (broadcast
// from [1, 3, 1, 1]) and a scalar scale 0.5.
func addMulModel() *Model {
	var g Graph
	dims := []Dim{Fixed(1), Fixed(3), Sym("height"), Sym("width")}
	g.Inputs = []ValueInfo{NewValueInfo("x", Float, dims...)}
	g.Outputs = []ValueInfo{NewValueInfo("y", Float, dims...)}
	bias := g.AddInitializer(Float32Tensor("bias", []int64{1, 3, 1, 1}, []float32{10, 20, 30}))
	scale := g.AddInitializer(Float32Tensor("scale", nil, []float32{0.5}))
	sum := g.Add("Add", []string{"x", bias}, []string{"sum"})
	g.Add("Mul", append(sum, scale), []string{"y"})
	return &Model{Graph: g}
}

// convModel is a 3x3 convolution, stride 1, zero padding 1, from inC to
// outC channels on an h×w image. weights are [outC, inC, 3, 3].
func convModel(inC, outC, h, w int64, weights, bias []float32) *Model {
	var g Graph
	g.Inputs = []ValueInfo{NewValueInfo("x", Float, Fixed(1), Fixed(inC), Fixed(h), Fixed(w))}
	g.Outputs = []ValueInfo{NewValueInfo("y", Float, Fixed(1), Fixed(outC), Fixed(h), Fixed(w))}
	wName := g.AddInitializer(Float32Tensor("weight", []int64{outC, inC, 3, 3}, weights))
	bName := g.AddInitializer(Float32Tensor("bias", []int64{outC}, bias))
	g.Add("Conv", []string{"x", wName, bName}, []string{"y"},
		AttrInts("kernel_shape", 3, 3),
		AttrInts("pads", 1, 1, 1, 1),
		AttrInts("strides", 1, 1),
		AttrInt("group", 1),
	)
	return &Model{Graph: g}
}

// convInput and convWeights are small integers, so every product and sum
// in the convolution is exact in float32.
func convInput(n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(i%7) - 3
	}
	return x
}

func convWeights(outC, inC int) []float32 {
	w := make([]float32, outC*inC*9)
	for i := range w {
		w[i] = float32(i%5) - 2
	}
	return w
}

// conv3x3Pad1 is the reference: ONNX Conv is a cross-correlation,
// y[o][i][j] = bias[o] + Σ_c Σ_ky Σ_kx w[o][c][ky][kx] · x[c][i+ky-1][j+kx-1],
// with x zero outside the image.
func conv3x3Pad1(x []float32, inC, h, w int, weights, bias []float32) []float32 {
	outC := len(bias)
	y := make([]float32, outC*h*w)
	for o := range outC {
		for i := range h {
			for j := range w {
				sum := bias[o]
				for c := range inC {
					for ky := range 3 {
						for kx := range 3 {
							yy, xx := i+ky-1, j+kx-1
							if yy < 0 || yy >= h || xx < 0 || xx >= w {
								continue
							}
							sum += weights[((o*inC+c)*3+ky)*3+kx] * x[(c*h+yy)*w+xx]
						}
					}
				}
				y[(o*h+i)*w+j] = sum
			}
		}
	}
	return y
}

// castModel exercises float64, int64 and int32 data: inputs d (float64,
// [2, cols]) and n (int64, [4]); initializers of each of those types.
func castModel() *Model {
	var g Graph
	g.Inputs = []ValueInfo{
		NewValueInfo("d", Double, Fixed(2), Sym("cols")),
		NewValueInfo("n", Int64, Fixed(4)),
	}
	g.Outputs = []ValueInfo{
		NewValueInfo("d_copy", Double, Fixed(2), Sym("cols")),
		NewValueInfo("d_plus", Double, Fixed(2), Sym("cols")),
		NewValueInfo("d_int", Int64, Fixed(2), Sym("cols")),
		NewValueInfo("n_copy", Int64, Fixed(4)),
		NewValueInfo("n_double", Double, Fixed(4)),
		NewValueInfo("n_plus", Int64, Fixed(4)),
		NewValueInfo("k32", Int32, Fixed(3)),
	}
	// c64 is [2, 1] so it broadcasts over any number of columns; a [3]
	// constant would pin "cols" to 3 and ORT would report it as fixed.
	c64 := g.AddInitializer(Float64Tensor("c64", []int64{2, 1}, []float64{0x1p-40, 1e10}))
	k64 := g.AddInitializer(Int64Tensor("k64", nil, []int64{1 << 33}))
	k32 := g.AddInitializer(Int32Tensor("k32_const", []int64{3}, []int32{-7, 0, 1 << 30}))

	g.Add("Identity", []string{"d"}, []string{"d_copy"})
	g.Add("Add", []string{"d", c64}, []string{"d_plus"})
	g.Add("Cast", []string{"d"}, []string{"d_int"}, AttrInt("to", int64(Int64)))
	g.Add("Identity", []string{"n"}, []string{"n_copy"})
	g.Add("Cast", []string{"n"}, []string{"n_double"}, AttrInt("to", int64(Double)))
	g.Add("Add", []string{"n", k64}, []string{"n_plus"})
	g.Add("Identity", []string{k32}, []string{"k32"})
	return &Model{Graph: g}
}

func leakyReluModel(alpha float32) *Model {
	var g Graph
	g.Inputs = []ValueInfo{NewValueInfo("x", Float, Sym("n"))}
	g.Outputs = []ValueInfo{NewValueInfo("y", Float, Sym("n"))}
	g.Add("LeakyRelu", []string{"x"}, []string{"y"}, AttrFloat("alpha", alpha))
	return &Model{Graph: g}
}

// constantModel adds x to a Constant given as a tensor attribute, and
// multiplies it by one given as a float-list attribute; both broadcast
// along the last axis.
func constantModel() *Model {
	var g Graph
	g.Inputs = []ValueInfo{NewValueInfo("x", Float, Fixed(2), Fixed(2))}
	g.Outputs = []ValueInfo{
		NewValueInfo("from_tensor", Float, Fixed(2), Fixed(2)),
		NewValueInfo("from_floats", Float, Fixed(2), Fixed(2)),
	}
	t := g.Add("Constant", nil, []string{"t"}, AttrTensor("value", Float32Tensor("", []int64{2}, []float32{1.5, -2})))
	f := g.Add("Constant", nil, []string{"f"}, AttrFloats("value_floats", 1.25, 0.5))
	g.Add("Add", []string{"x", t[0]}, []string{"from_tensor"})
	g.Add("Mul", []string{"x", f[0]}, []string{"from_floats"})
	return &Model{Graph: g}
}

func depthToSpaceModel(block int64) *Model {
	var g Graph
	g.Inputs = []ValueInfo{NewValueInfo("x", Float, Fixed(1), Sym("c"), Sym("h"), Sym("w"))}
	g.Outputs = []ValueInfo{NewValueInfo("y", Float, Fixed(1), Sym("c_out"), Sym("h_out"), Sym("w_out"))}
	g.Add("DepthToSpace", []string{"x"}, []string{"y"},
		AttrInt("blocksize", block),
		AttrString("mode", "CRD"),
	)
	return &Model{Graph: g}
}

// depthToSpaceCRD is the reference for DepthToSpace in CRD mode:
// y[c][h·b+i][w·b+j] = x[c·b·b + i·b + j][h][w].
func depthToSpaceCRD(x []float32, inC, h, w, b int) []float32 {
	outC := inC / (b * b)
	y := make([]float32, len(x))
	for c := range outC {
		for i := range b {
			for j := range b {
				for yy := range h {
					for xx := range w {
						src := ((c*b*b+i*b+j)*h+yy)*w + xx
						dst := (c*h*b+yy*b+i)*w*b + xx*b + j
						y[dst] = x[src]
					}
				}
			}
		}
	}
	return y
}

// seq returns from, from+1, ..., to.
func seq[T float32 | float64](from, to int) []T {
	s := make([]T, 0, to-from+1)
	for v := from; v <= to; v++ {
		s = append(s, T(v))
	}
	return s
}
