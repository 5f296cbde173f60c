package ort

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"dream/internal/onnxpb"
)

func TestSessionCached(t *testing.T) {
	rt := testRuntime(t)
	path := writeModel(t, "double.onnx", doubleModel())
	first, err := rt.Session(path, doubleContract)
	if err != nil {
		t.Fatal(err)
	}
	second, err := rt.Session(path, doubleContract)
	if err != nil {
		t.Fatal(err)
	}
	if first != second {
		t.Fatalf("the same path gave two sessions, %p and %p", first, second)
	}
	// The cache is keyed by absolute path, so a relative name for the same file hits it too.
	t.Chdir(filepath.Dir(path))
	relative, err := rt.Session(filepath.Base(path), doubleContract)
	if err != nil {
		t.Fatal(err)
	}
	if relative != first {
		t.Fatalf("a relative path gave another session, %p and %p", relative, first)
	}
	// Another file is another session.
	other, err := rt.Session(writeModel(t, "double.onnx", doubleModel()), doubleContract)
	if err != nil {
		t.Fatal(err)
	}
	if other == first {
		t.Fatal("two files share one session")
	}

	// One session serves many runs, with inputs of different sizes.
	for i := range 5 {
		xs := make([]float32, 1+i*7)
		for j := range xs {
			xs[j] = float32(i*100 + j)
		}
		runDouble(t, first, xs...)
	}
}

// TestRunAllocatesOutputs leaves the output to ONNX Runtime, as Session.Run allows.
func TestRunAllocatesOutputs(t *testing.T) {
	rt := testRuntime(t)
	s, err := rt.Session(writeModel(t, "double.onnx", doubleModel()), doubleContract)
	if err != nil {
		t.Fatal(err)
	}
	in := newTensor(t, []int64{3}, []float32{1, 2, 3})
	for range 3 {
		outs := []Value{nil}
		if err := s.Run(t.Context(), []Value{in}, outs); err != nil {
			t.Fatal(err)
		}
		if outs[0] == nil {
			t.Fatal("Run left the output nil")
		}
		if got := fmt.Sprint(outs[0].GetShape()); got != "[3]" {
			t.Errorf("output shape %s, want [3]", got)
		}
		outs[0].Destroy()
	}
}

// TestProviders uses the CPU-only library, so every accelerator must fall back to CPU. Each
// case gets its own Runtime from WithOptions, because Open keeps its first options.
func TestProviders(t *testing.T) {
	base := testRuntime(t)
	auto := "CUDA" // what --device auto tries first
	if runtime.GOOS == "darwin" {
		auto = "CoreML"
	}
	tests := []struct {
		device string
		// accelerator is how the fallback notice names the provider; "" means no notice.
		accelerator string
	}{
		{"cpu", ""},
		{"cuda", "CUDA"},
		{"CUDA", "CUDA"},
		{"coreml", "CoreML"},
		{"auto", auto},
	}
	for _, tt := range tests {
		t.Run(tt.device, func(t *testing.T) {
			if runtime.GOOS == "darwin" && tt.accelerator == "CoreML" {
				t.Skip("CoreML may really be there on macOS")
			}
			var (
				mu      sync.Mutex
				notices []string
				after   int
			)
			rt, err := base.WithOptions(Options{
				Device: tt.device,
				Notice: func(s string) { mu.Lock(); notices = append(notices, s); mu.Unlock() },
				// The hook restores Go's signal handlers after an accelerator replaced them;
				// on CPU nothing replaced them.
				AfterAccelerator: func() { mu.Lock(); after++; mu.Unlock() },
			})
			if err != nil {
				t.Fatal(err)
			}
			first := writeModel(t, "first.onnx", doubleModel())
			s, err := rt.Session(first, doubleContract)
			if err != nil {
				t.Fatal(err)
			}
			if s.Provider != "cpu" {
				t.Errorf("Provider = %q, want cpu", s.Provider)
			}
			runDouble(t, s, 1, 2, 3)

			// A second model on the same Runtime does not try the accelerator again, nor
			// repeat the notice.
			s2, err := rt.Session(writeModel(t, "second.onnx", doubleModel()), doubleContract)
			if err != nil {
				t.Fatal(err)
			}
			if s2.Provider != "cpu" {
				t.Errorf("second Provider = %q, want cpu", s2.Provider)
			}
			runDouble(t, s2, 4)

			mu.Lock()
			defer mu.Unlock()
			for _, n := range notices {
				t.Logf("notice: %s", n)
			}
			if after != 0 {
				t.Errorf("AfterAccelerator was called %d times, though every session runs on CPU", after)
			}
			if tt.accelerator == "" {
				if len(notices) != 0 {
					t.Errorf("got notices on CPU: %q", notices)
				}
				return
			}
			if len(notices) != 1 {
				t.Fatalf("got %d notices, want exactly one: %q", len(notices), notices)
			}
			n := notices[0]
			for _, part := range []string{tt.accelerator + " is not available", "first.onnx", "on CPU"} {
				if !strings.Contains(n, part) {
					t.Errorf("notice %q does not contain %q", n, part)
				}
			}
			if strings.Contains(n, "\n") {
				t.Errorf("notice spans several lines: %q", n)
			}
		})
	}
}

func TestWithOptionsErrors(t *testing.T) {
	base := testRuntime(t)
	other := touch(t, filepath.Join(t.TempDir(), "libonnxruntime.so.1"))
	tests := []struct {
		name string
		opts Options
		want string // "" for success
	}{
		{"unknown device", Options{Device: "bogus"}, `unknown device "bogus": use auto, cpu, cuda, cuda:N (the GPU numbered N) or coreml`},
		{"another library", Options{Library: other}, "ONNX Runtime is already loaded from " + base.LibraryPath +
			"; cannot switch to " + other + " in the same process"},
		{"the loaded library", Options{Library: base.LibraryPath, Device: "cpu"}, ""},
		{"defaults", Options{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt, err := base.WithOptions(tt.opts)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if rt == base || rt.LibraryPath != base.LibraryPath || rt.Version != base.Version {
					t.Errorf("WithOptions = %+v, want a new Runtime on %s", rt, base.LibraryPath)
				}
				return
			}
			if err == nil || err.Error() != tt.want {
				t.Fatalf("WithOptions error:\n got %v\nwant %s", err, tt.want)
			}
		})
	}
}

// slowModel multiplies x [rows, n] by an n×n matrix `steps` times: a chain of MatMul nodes
// whose cost grows with rows, and between which ONNX Runtime checks the terminate flag. The
// matrix averages each row, so the values stay finite however long the chain.
func slowModel(n, steps int) *onnxpb.Model {
	var g onnxpb.Graph
	g.Inputs = []onnxpb.ValueInfo{onnxpb.NewValueInfo("x", onnxpb.Float, onnxpb.Sym("rows"), onnxpb.Fixed(int64(n)))}
	g.Outputs = []onnxpb.ValueInfo{onnxpb.NewValueInfo("y", onnxpb.Float, onnxpb.Sym("rows"), onnxpb.Fixed(int64(n)))}
	weights := make([]float32, n*n)
	for i := range weights {
		weights[i] = 1 / float32(n)
	}
	w := g.AddInitializer(onnxpb.Float32Tensor("w", []int64{int64(n), int64(n)}, weights))
	prev := "x"
	for i := range steps {
		next := fmt.Sprintf("h%d", i)
		if i == steps-1 {
			next = "y"
		}
		prev = g.Add("MatMul", []string{prev, w}, []string{next})[0]
	}
	return &onnxpb.Model{Graph: g}
}

func TestRunCancel(t *testing.T) {
	const n, steps = 1024, 30
	base := testRuntime(t)
	// One thread makes the run's length depend on one core's speed, not on how many cores
	// the machine has.
	rt, err := base.WithOptions(Options{Device: "cpu", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	s, err := rt.Session(writeModel(t, "slow.onnx", slowModel(n, steps)), Contract{
		Inputs:  []Tensor{{Type: Float32, Dims: []int64{Any, n}}},
		Outputs: []Tensor{{Type: Float32, Dims: []int64{Any, n}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	run := func(ctx context.Context, rows int) (time.Duration, error) {
		x := newTensor(t, []int64{int64(rows), n}, make([]float32, rows*n))
		y := newTensor(t, []int64{int64(rows), n}, make([]float32, rows*n))
		start := time.Now()
		err := s.Run(ctx, []Value{x}, []Value{y})
		return time.Since(start), err
	}

	t.Run("already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		outs := []Value{nil}
		x := newTensor(t, []int64{n, n}, make([]float32, n*n))
		start := time.Now()
		err := s.Run(ctx, []Value{x}, outs)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v, want context.Canceled", err)
		}
		// Had the model run, ONNX Runtime would have allocated the output.
		if outs[0] != nil {
			t.Error("Run produced an output")
		}
		t.Logf("returned in %v", time.Since(start))
	})

	t.Run("cancelled while running", func(t *testing.T) {
		// The run's cost is proportional to its rows: time a small run, then size the real
		// one to take about 2.5 s on this machine, whatever its speed. The first run pays for
		// the arena's first allocations, so it is only a warm-up.
		const probeRows = 512
		var probe time.Duration
		for range 2 {
			if probe, err = run(t.Context(), probeRows); err != nil {
				t.Fatal(err)
			}
		}
		rows := int(float64(probeRows) * float64(2500*time.Millisecond) / float64(probe))
		rows = min(max(rows, probeRows), 32*n) // at most 128 MB per tensor
		full, err := run(t.Context(), rows)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("uncancelled run of %d×%d through %d MatMuls: %v", rows, n, steps, full)
		if full < 2*time.Second {
			t.Logf("note: the run took less than 2 s, so the check below proves less")
		}

		ctx, cancel := context.WithCancel(t.Context())
		cancelled := make(chan time.Time, 1)
		timer := time.AfterFunc(300*time.Millisecond, func() { cancelled <- time.Now(); cancel() })
		defer timer.Stop()
		took, err := run(ctx, rows)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v after %v, want context.Canceled", err, took)
		}
		afterCancel := time.Since(<-cancelled)
		t.Logf("cancelled run returned %v after the cancel (%v in all)", afterCancel, took)
		if afterCancel > 1500*time.Millisecond {
			t.Errorf("Run returned %v after the cancel, want < 1.5 s", afterCancel)
		}
		if took >= full {
			t.Errorf("the cancelled run took %v, no less than a whole run (%v)", took, full)
		}

		// Terminating one run does not stick to the session: the next runs normally.
		if _, err := run(t.Context(), 2); err != nil {
			t.Fatalf("run after a cancelled one: %v", err)
		}
	})
}

// hugeModel makes a float32 tensor of the shape it is given: asked for 2^46 elements (2^48
// bytes, more than the address space a process gets), any machine fails to allocate it.
func hugeModel() *onnxpb.Model {
	var g onnxpb.Graph
	g.Inputs = []onnxpb.ValueInfo{onnxpb.NewValueInfo("shape", onnxpb.Int64, onnxpb.Fixed(2))}
	g.Outputs = []onnxpb.ValueInfo{onnxpb.NewValueInfo("y", onnxpb.Float, onnxpb.Sym("a"), onnxpb.Sym("b"))}
	g.Add("ConstantOfShape", []string{"shape"}, []string{"y"},
		onnxpb.AttrTensor("value", onnxpb.Float32Tensor("value", []int64{1}, []float32{0})))
	return &onnxpb.Model{Graph: g}
}

func TestIsAllocationFailure(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"cancelled", context.Canceled, false},
		{"cancelled, wrapped", fmt.Errorf("upscaling: %w", context.Canceled), false},
		// A cancel wins even when memory also ran out: the user asked to stop, not to retry.
		{"cancelled and out of memory", errors.Join(context.Canceled, errors.New("out of memory")), false},
		{"deadline", context.DeadlineExceeded, false},
		{"ORT arena", errors.New("x4.onnx: Failed to allocate memory for requested buffer of size 1073741824"), true},
		{"C++ bad_alloc", errors.New("x4.onnx: std::bad_alloc"), true},
		{"CUDA", errors.New("x4.onnx: CUDA failure 2: out of memory ; GPU=0"), true},
		{"CUDA, capitals", errors.New("CUDA error: OUT OF MEMORY"), true},
		{"errno ENOMEM", errors.New("mmap: cannot allocate memory"), true},
		{"wrapped", fmt.Errorf("tile 3: %w", errors.New("std::bad_alloc")), true},
		{"shape mismatch", errors.New("x4.onnx: Got invalid dimensions for input: x"), false},
		{"io", io.ErrUnexpectedEOF, false},
		{"missing file", os.ErrNotExist, false},
	}
	for _, tt := range tests {
		if got := IsAllocationFailure(tt.err); got != tt.want {
			t.Errorf("%s: IsAllocationFailure(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

// TestAllocationFailureFromORT checks IsAllocationFailure against the message ONNX Runtime
// really gives when an allocation fails, not only against the strings we expect.
func TestAllocationFailureFromORT(t *testing.T) {
	rt := testRuntime(t)
	s, err := rt.Session(writeModel(t, "huge.onnx", hugeModel()), Contract{
		Inputs:  []Tensor{{Type: Int64, Dims: []int64{2}}},
		Outputs: []Tensor{{Type: Float32, Dims: []int64{Any, Any}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	shape := newTensor(t, []int64{2}, []int64{1 << 23, 1 << 23})
	outs := []Value{nil}
	err = s.Run(t.Context(), []Value{shape}, outs)
	if outs[0] != nil {
		outs[0].Destroy()
	}
	if err == nil {
		t.Fatal("a 2^48-byte tensor was allocated")
	}
	t.Logf("Run: %v", err)
	if !IsAllocationFailure(err) {
		t.Errorf("IsAllocationFailure(%q) = false", err)
	}
	if !strings.HasPrefix(err.Error(), "huge.onnx: ") {
		t.Errorf("error %q does not start with the model's name", err)
	}
}

// Sessions leave the cores to the rest of dream between operators: their threads do not spin.
func TestSessionsDoNotSpin(t *testing.T) {
	rt := testRuntime(t)
	opts, err := rt.sessionOptions("cpu", modelSource{path: "model.onnx"})
	if err != nil {
		t.Fatal(err)
	}
	defer opts.Destroy()
	if got, err := opts.GetSessionConfigEntry(spinningKey); err != nil || got != "0" {
		t.Errorf("%s = %q (%v), want \"0\"", spinningKey, got, err)
	}
}
