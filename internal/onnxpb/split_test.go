package onnxpb

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	ort "github.com/yalue/onnxruntime_go"
)

// chainModel computes y = ((x·2 + 1)·3) + (x·2 + 1): a head that makes h = x·2 + 1 and a
// tail that reads h twice. Every value is exact in float32.
func chainModel() *Model {
	var g Graph
	dims := []Dim{Fixed(1), Fixed(2)}
	g.Inputs = []ValueInfo{NewValueInfo("x", Float, dims...)}
	g.Outputs = []ValueInfo{NewValueInfo("y", Float, dims...)}
	two := g.AddInitializer(Float32Tensor("two", nil, []float32{2}))
	one := g.AddInitializer(Float32Tensor("one", nil, []float32{1}))
	three := g.AddInitializer(Float32Tensor("three", nil, []float32{3}))
	doubled := g.Add("Mul", []string{"x", two}, []string{"doubled"})
	h := g.Add("Add", append(doubled, one), []string{"h"})
	tripled := g.Add("Mul", append(h, three), []string{"tripled"})
	g.Add("Add", append(tripled, h...), []string{"y"})
	return &Model{Graph: g}
}

func TestSplitPartsComposeToTheModel(t *testing.T) {
	e := mustRead(t, chainModel().Marshal())
	head, tail, err := e.Split("h", Float, Fixed(1), Fixed(2))
	if err != nil {
		t.Fatal(err)
	}
	// Each part keeps only the constants its own nodes read.
	for _, part := range []struct {
		name   string
		data   []byte
		consts []string
	}{{"head", head, []string{"one", "two"}}, {"tail", tail, []string{"three"}}} {
		got := slices.Sorted(func(yield func(string) bool) {
			for name := range mustRead(t, part.data).Initializers {
				yield(name)
			}
		})
		if !slices.Equal(got, part.consts) {
			t.Errorf("%s keeps the constants %v, want %v", part.name, got, part.consts)
		}
	}
	x := []float32{1.5, -4}
	h := runBytes(t, head, "x", "h", x)
	if want := []float32{4, -7}; !slices.Equal(h, want) {
		t.Errorf("head gave h = %v, want %v", h, want)
	}
	if y, want := runBytes(t, tail, "h", "y", h), []float32{16, -28}; !slices.Equal(y, want) {
		t.Errorf("tail gave y = %v, want %v", y, want)
	}
}

func TestSplitRefusesATailThatReadsTheHead(t *testing.T) {
	e := mustRead(t, chainModel().Marshal())
	// Cut at "tripled", the last Add would still read h, which the head makes.
	_, _, err := e.Split("tripled", Float, Fixed(1), Fixed(2))
	if err == nil || !strings.Contains(err.Error(), `also reads "h"`) {
		t.Errorf("Split at tripled: error %v, want one naming h", err)
	}
	if _, _, err := e.Split("nothing", Float); err == nil {
		t.Error("Split at a value no node reads gave no error")
	}
}

// runBytes runs a model file's bytes on one float32 input of shape [1, len(x)].
func runBytes(t *testing.T, model []byte, in, out string, x []float32) []float32 {
	t.Helper()
	path := filepath.Join(t.TempDir(), "part.onnx")
	if err := WriteModelFile(path, model); err != nil {
		t.Fatal(err)
	}
	session, err := ort.NewDynamicAdvancedSession(path, []string{in}, []string{out}, nil)
	if err != nil {
		t.Fatalf("loading the part: %v", err)
	}
	defer session.Destroy()
	input, err := ort.NewTensor(ort.NewShape(1, int64(len(x))), x)
	if err != nil {
		t.Fatal(err)
	}
	defer input.Destroy()
	outputs := []ort.Value{nil}
	if err := session.Run([]ort.Value{input}, outputs); err != nil {
		t.Fatalf("running the part: %v", err)
	}
	defer outputs[0].Destroy()
	return slices.Clone(outputs[0].(*ort.Tensor[float32]).GetData())
}
