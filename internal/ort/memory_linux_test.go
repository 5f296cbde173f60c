package ort

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	onnx "github.com/yalue/onnxruntime_go"
)

// residentBytes is this process's resident set now, from /proc.
func residentBytes(t *testing.T) int64 {
	t.Helper()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// A session of a ReturningMemory runtime gives a run's working memory back when the run ends;
// one with the arena keeps it. The upscaler on a 512² input works in several hundred MB.
func TestReturningMemoryGivesWorkingMemoryBack(t *testing.T) {
	model := filepath.Join("..", "..", "..", "shared", "models", "realesr-general-x4v3.onnx")
	lean, err := testRuntime(t).ReturningMemory()
	if err != nil {
		t.Fatal(err)
	}
	growth := func(rt *Runtime) int64 {
		s, err := rt.Session(model, Contract{Inputs: []Tensor{{Type: Float32, Dims: []int64{1, 3, -1, -1}}},
			Outputs: []Tensor{{Type: Float32, Dims: []int64{1, 3, -1, -1}}}})
		if err != nil {
			t.Fatal(err)
		}
		defer rt.Release(s)
		in, _ := onnx.NewEmptyTensor[float32](onnx.NewShape(1, 3, 512, 512))
		out, _ := onnx.NewEmptyTensor[float32](onnx.NewShape(1, 3, 2048, 2048))
		defer in.Destroy()
		defer out.Destroy()
		before := residentBytes(t)
		if err := s.Run(context.Background(), []Value{in}, []Value{out}); err != nil {
			t.Fatal(err)
		}
		return residentBytes(t) - before
	}
	kept, returned := growth(testRuntime(t)), growth(lean)
	t.Logf("resident set after a run grew by %d MB with the arena, %d MB without", kept>>20, returned>>20)
	if returned > 64<<20 || kept < 4*returned+128<<20 {
		t.Errorf("after a run the resident set grew by %d MB with the arena and %d MB without; want the run's memory given back",
			kept>>20, returned>>20)
	}
}
