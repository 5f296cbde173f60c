package ort

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dream/internal/onnxpb"
)

// smallUpscaler is a network of the upscaler's kinds of node at type elem: a 3×3 Conv from 3 to
// 4 channels, LeakyRelu, a nearest ×2 Resize (whose scales ONNX keeps float32), a Mul by a
// constant and a 3×3 Conv back to 3 channels.
func smallUpscaler(elem onnxpb.DataType) *onnxpb.Model {
	tensor := onnxpb.Float32Tensor
	if elem == onnxpb.Float16 {
		tensor = onnxpb.Float16Tensor
	}
	weights := func(n int, seed float32) []float32 {
		w := make([]float32, n)
		for i := range w {
			w[i] = float32(math.Sin(float64(seed)+float64(i)*0.7)) * 0.3
		}
		return w
	}
	var g onnxpb.Graph
	g.Inputs = []onnxpb.ValueInfo{image("x", elem)}
	g.Outputs = []onnxpb.ValueInfo{onnxpb.NewValueInfo("y", elem, onnxpb.Fixed(1), onnxpb.Fixed(3), onnxpb.Sym("h2"), onnxpb.Sym("w2"))}
	w1 := g.AddInitializer(tensor("w1", []int64{4, 3, 3, 3}, weights(108, 1)))
	b1 := g.AddInitializer(tensor("b1", []int64{4}, weights(4, 2)))
	w2 := g.AddInitializer(tensor("w2", []int64{3, 4, 3, 3}, weights(108, 3)))
	b2 := g.AddInitializer(tensor("b2", []int64{3}, weights(3, 4)))
	scales := g.AddInitializer(onnxpb.Float32Tensor("scales", []int64{4}, []float32{1, 1, 2, 2}))
	gain := g.AddInitializer(tensor("gain", nil, []float32{0.75}))
	pads := []onnxpb.Attr{onnxpb.AttrInts("kernel_shape", 3, 3), onnxpb.AttrInts("pads", 1, 1, 1, 1)}
	h := g.Add("Conv", []string{"x", w1, b1}, []string{"c1"}, pads...)
	h = g.Add("LeakyRelu", h, []string{"r1"}, onnxpb.AttrFloat("alpha", 0.2))
	h = g.Add("Resize", []string{h[0], "", scales}, []string{"up"}, onnxpb.AttrString("mode", "nearest"))
	h = g.Add("Mul", []string{h[0], gain}, []string{"m"})
	g.Add("Conv", []string{h[0], w2, b2}, []string{"y"}, pads...)
	return &onnxpb.Model{Graph: g}
}

// runImage runs an image session on a 1×3×h×w ramp and returns the output.
func runImage(t *testing.T, s *Session, h, w int) []float32 {
	t.Helper()
	x := make([]float32, 3*h*w)
	for i := range x {
		x[i] = float32(i%97) / 97
	}
	in := newTensor(t, []int64{1, 3, int64(h), int64(w)}, x)
	out := newTensor(t, []int64{1, 3, int64(2 * h), int64(2 * w)}, make([]float32, 12*h*w))
	if err := s.Run(t.Context(), []Value{in}, []Value{out}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	return out.GetData()
}

func maxDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

// TestFloat16Model opens float16 exports of a small upscaler as float32 models and compares
// their results with the float32 network's: on CPU widened (float32 arithmetic on weights
// rounded to half: a few 1e-4 at most), wrapped in casts as on a GPU (ONNX Runtime's CPU
// provider then runs the float16 nodes between casts of its own), and with its weights in an
// external file, which only the casts can handle.
func TestFloat16Model(t *testing.T) {
	rt := testRuntime(t)
	want := runImage(t, mustSession(t, rt, writeModel(t, "fp32.onnx", smallUpscaler(onnxpb.Float))), 8, 6)
	half := smallUpscaler(onnxpb.Float16)
	halfPath := writeModel(t, "fp16.onnx", half)
	data, err := os.ReadFile(halfPath)
	if err != nil {
		t.Fatal(err)
	}
	wrapped, err := onnxpb.CastIO(data, onnxpb.Float16, onnxpb.Float)
	if err != nil {
		t.Fatal(err)
	}
	external := filepath.Join(t.TempDir(), "fp16_external.onnx")
	if err := half.WriteWithExternalData(external, "weights.pb"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		open func() (*Session, error)
		tol  float64
	}{
		{"widened on CPU", func() (*Session, error) { return rt.Session(halfPath, imageContract) }, 1e-3},
		{"wrapped in casts", func() (*Session, error) { return rt.SessionFromData("wrapped.onnx", wrapped, imageContract) }, 1e-2},
		{"external weights", func() (*Session, error) { return rt.Session(external, imageContract) }, 1e-2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := tt.open()
			if err != nil {
				t.Fatal(err)
			}
			if s.Inputs[0].DataType != Float32 || s.Outputs[0].DataType != Float32 {
				t.Errorf("callers see %v → %v, want float32", s.Inputs[0].DataType, s.Outputs[0].DataType)
			}
			got := runImage(t, s, 8, 6)
			d := maxDiff(got, want)
			t.Logf("largest difference from float32: %.2g", d)
			if d > tt.tol || d == 0 {
				t.Errorf("largest difference from the float32 network %.3g, want in (0, %g]", d, tt.tol)
			}
		})
	}
}

func mustSession(t *testing.T, rt *Runtime, path string) *Session {
	t.Helper()
	s, err := rt.Session(path, imageContract)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestFloat16ModelOnCPUFails checks the message for a float16 model ONNX Runtime cannot open
// on CPU: one line that keeps ONNX Runtime's reason and says what to do. The model's weights
// are in an external file, so it reaches ONNX Runtime as float16 (wrapped, not widened), and
// its Add reads a value nothing makes.
func TestFloat16ModelOnCPUFails(t *testing.T) {
	rt := testRuntime(t)
	var g onnxpb.Graph
	g.Inputs = []onnxpb.ValueInfo{image("x", onnxpb.Float16)}
	g.Outputs = []onnxpb.ValueInfo{image("y", onnxpb.Float16)}
	w := g.AddInitializer(onnxpb.Float16Tensor("w", []int64{1024}, make([]float32, 1024)))
	g.Add("Add", []string{"x", "nowhere"}, []string{"s"})
	g.Add("Add", []string{"s", w}, []string{"y"})
	path := filepath.Join(t.TempDir(), "broken_fp16.onnx")
	if err := (&onnxpb.Model{Graph: g}).WriteWithExternalData(path, "weights.pb"); err != nil {
		t.Fatal(err)
	}
	_, err := rt.Session(path, imageContract)
	if err == nil {
		t.Fatal("a float16 model whose Add reads a missing value opened")
	}
	for _, part := range []string{path + " is a float16 model that ONNX Runtime cannot run on CPU (", "nowhere",
		"): run it on a GPU with --device cuda, or use its float32 export"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q lacks %q", err, part)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("the error spans lines: %q", err)
	}
}
