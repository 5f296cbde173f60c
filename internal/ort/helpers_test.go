package ort

// Shared test helpers: the real ONNX Runtime libraries, a process-wide Runtime, subprocesses
// for the Open calls that must not run in this process, and small models written with onnxpb.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"dream/internal/onnxpb"

	onnx "github.com/yalue/onnxruntime_go"
)

// installDir is where scripts/install_onnxruntime puts the libraries. It is read once, before
// any test points DREAM_CACHE elsewhere.
var installDir = filepath.Join(CacheDir(), "onnxruntime")

// goodLibrary is the ONNX Runtime release dream runs on.
func goodLibrary(t *testing.T) string {
	t.Helper()
	path := filepath.Join(installDir, WantedVersion, libraryFileName())
	if !fileExists(path) {
		t.Fatalf("ONNX Runtime %s is not installed at %s: run scripts/install_onnxruntime", WantedVersion, path)
	}
	return path
}

// oldLibrary is ONNX Runtime 1.20.1, too old for onnxruntime_go v1.27.0. The install script
// only knows its hash for Linux x64.
func oldLibrary(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("scripts/install_onnxruntime 1.20.1 exists only for linux/amd64")
	}
	path := filepath.Join(installDir, "1.20.1", "libonnxruntime.so.1.20.1")
	if !fileExists(path) {
		t.Fatalf("ONNX Runtime 1.20.1 is not installed at %s: run scripts/install_onnxruntime 1.20.1", path)
	}
	return path
}

var (
	sharedOnce sync.Once
	shared     *Runtime
	sharedErr  error
)

// testRuntime is this process's Runtime on the good library, CPU only. Open keeps the first
// call's options for the whole process, so every test shares it; tests that need other options
// derive a Runtime from it with WithOptions.
func testRuntime(t *testing.T) *Runtime {
	t.Helper()
	lib := goodLibrary(t)
	sharedOnce.Do(func() { shared, sharedErr = Open(Options{Library: lib, Device: "cpu"}) })
	if sharedErr != nil {
		t.Fatalf("Open(%s): %v", lib, sharedErr)
	}
	return shared
}

// helperEnv carries the Options a subprocess passes to Open (as JSON); see TestHelperProcess.
const helperEnv = "DREAM_ORT_TEST_OPEN"

// helperPrefix marks the subprocess's result line among whatever else the test binary prints.
const helperPrefix = "open-result: "

// openSpec is the part of Options a subprocess gets: the functions cannot cross.
type openSpec struct {
	Library, Device string
	// Model, when set, is a model file the subprocess opens a session for after Open.
	Model string
	// AppendCUDA makes the subprocess append the CUDA provider to session options, as a
	// session on CUDA does, without dream's check beforehand.
	AppendCUDA bool
}

type openResult struct {
	Err     string // Open's error text, "" on success
	TooOld  bool   // errors.Is(err, ErrTooOld)
	Version string // Runtime.Version on success
	Library string // Runtime.LibraryPath on success
	// Provider and Notices are the model's session's provider and what Open and the
	// session told the user.
	Provider string
	Notices  []string
	// CUDAErr is ONNX Runtime's answer to appending the CUDA provider, "" when it took it.
	CUDAErr string
}

// TestHelperProcess is not a test by itself: openInSubprocess re-executes the test binary to run
// only this function, with the Options in an environment variable. ONNX Runtime's environment
// is per process and Open caches its first result, so an Open that loads a wrong library (or
// must fail before loading one) gets a process of its own instead of poisoning this one.
func TestHelperProcess(t *testing.T) {
	spec := os.Getenv(helperEnv)
	if spec == "" {
		t.Skip("runs only as a subprocess of the tests that need a fresh process")
	}
	var opts openSpec
	if err := json.Unmarshal([]byte(spec), &opts); err != nil {
		t.Fatalf("bad %s: %v", helperEnv, err)
	}
	var res openResult
	rt, err := Open(Options{Library: opts.Library, Device: opts.Device,
		Notice: func(s string) { res.Notices = append(res.Notices, s) }})
	if err != nil {
		res.Err, res.TooOld = err.Error(), errors.Is(err, ErrTooOld)
	} else {
		res.Version, res.Library = rt.Version, rt.LibraryPath
	}
	if err == nil && opts.Model != "" {
		if s, err := rt.Session(opts.Model, doubleContract); err != nil {
			res.Err = err.Error()
		} else {
			res.Provider = s.Provider
		}
	}
	if err == nil && opts.AppendCUDA {
		so, err := onnx.NewSessionOptions()
		if err != nil {
			t.Fatal(err)
		}
		if err := rt.dev.appendCUDA(rt.LibraryPath, so); err != nil {
			res.CUDAErr = err.Error()
		}
		so.Destroy()
	}
	line, _ := json.Marshal(res)
	fmt.Printf("%s%s\n", helperPrefix, line)
}

// openInSubprocess runs Open(opts) in a fresh test process and returns what it reported.
func openInSubprocess(t *testing.T, opts Options) openResult {
	t.Helper()
	return openSpecInSubprocess(t, openSpec{Library: opts.Library, Device: opts.Device})
}

// openSpecInSubprocess runs Open, and what else spec asks, in a fresh test process.
func openSpecInSubprocess(t *testing.T, s openSpec) openResult {
	t.Helper()
	spec, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	// A race-enabled binary sleeps a second before exiting unless told not to.
	cmd.Env = append(os.Environ(), helperEnv+"="+string(spec),
		"GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("subprocess failed: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.Bytes())
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), helperPrefix); ok {
			var res openResult
			if err := json.Unmarshal([]byte(rest), &res); err != nil {
				t.Fatalf("subprocess result %q: %v", rest, err)
			}
			return res
		}
	}
	t.Fatalf("subprocess printed no result line:\n%s\nstderr:\n%s", out, stderr.Bytes())
	return openResult{}
}

// writeModel writes m as name in a fresh temporary directory and returns its path.
func writeModel(t *testing.T, name string, m *onnxpb.Model) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := m.WriteFile(path); err != nil {
		t.Fatalf("writing %s: %v", name, err)
	}
	return path
}

// doubleModel is y = 2x for a float32 x of any length.
func doubleModel() *onnxpb.Model {
	var g onnxpb.Graph
	g.Inputs = []onnxpb.ValueInfo{onnxpb.NewValueInfo("x", onnxpb.Float, onnxpb.Sym("n"))}
	g.Outputs = []onnxpb.ValueInfo{onnxpb.NewValueInfo("y", onnxpb.Float, onnxpb.Sym("n"))}
	two := g.AddInitializer(onnxpb.Float32Tensor("two", nil, []float32{2}))
	g.Add("Mul", []string{"x", two}, []string{"y"})
	return &onnxpb.Model{Graph: g}
}

// doubleContract is what a caller of doubleModel needs.
var doubleContract = Contract{
	Inputs:  []Tensor{{Type: Float32, Dims: []int64{Any}}},
	Outputs: []Tensor{{Type: Float32, Dims: []int64{Any}}},
}

// runDouble runs a doubleModel session on xs and checks the result.
func runDouble(t *testing.T, s *Session, xs ...float32) {
	t.Helper()
	in := newTensor(t, []int64{int64(len(xs))}, xs)
	out := newTensor(t, []int64{int64(len(xs))}, make([]float32, len(xs)))
	if err := s.Run(t.Context(), []Value{in}, []Value{out}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	for i, y := range out.GetData() {
		if y != 2*xs[i] {
			t.Fatalf("y[%d] = %v, want %v", i, y, 2*xs[i])
		}
	}
}

// newTensor makes an input or output tensor that is destroyed when the test ends.
func newTensor[T onnx.TensorData](t *testing.T, shape []int64, data []T) *onnx.Tensor[T] {
	t.Helper()
	v, err := onnx.NewTensor(onnx.NewShape(shape...), data)
	if err != nil {
		t.Fatalf("NewTensor%v: %v", shape, err)
	}
	t.Cleanup(func() { v.Destroy() })
	return v
}
