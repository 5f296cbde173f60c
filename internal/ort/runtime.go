package ort

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"dream/internal/onnxpb"

	onnx "github.com/yalue/onnxruntime_go"
)

// Value is a tensor handed to or returned by a model run.
type Value = onnx.Value

// Options configure the runtime for the whole process.
type Options struct {
	// Library is the --ort-lib flag; empty means search (see FindLibrary).
	Library string
	// Threads is the number of intra-op threads; 0 means one per CPU Go sees (runtime.NumCPU).
	Threads int
	// Device is "auto" (the accelerator this platform may have, else CPU), "cpu", "cuda",
	// "cuda:N" (the GPU numbered N) or "coreml".
	Device string
	// Notice receives one-line messages for the user: the GPU models run on, or the reason
	// an accelerator cannot be used and the fallback to CPU.
	Notice func(string)
	// AfterAccelerator runs after a session was created with an accelerator: the CUDA provider
	// replaces Go's signal handlers, and the caller re-installs its own here.
	AfterAccelerator func()
	// ReturnMemory makes sessions give their working memory back after every run instead of
	// keeping it in ONNX Runtime's arena for the next one (see Runtime.ReturningMemory).
	ReturnMemory bool
}

// Runtime is the process's ONNX Runtime: one environment and one session per model file.
type Runtime struct {
	opts        Options
	dev         device
	LibraryPath string
	Version     string

	mu       sync.Mutex
	sessions map[string]*Session
	state    *deviceState
}

// deviceState is what a Runtime learned about its accelerators. ReturningMemory's Runtimes
// share it with the one they come from, so the user hears about the device once per process
// rather than once per kind of model.
type deviceState struct {
	mu sync.Mutex
	// unavailable holds the accelerators that failed once, with the reason; they are not
	// tried again, so the fallback is announced once, not once per model.
	unavailable map[string]string
	// runs holds the accelerators a session was opened on; the first such session is
	// announced.
	runs map[string]bool
}

func newDeviceState() *deviceState {
	return &deviceState{unavailable: map[string]string{}, runs: map[string]bool{}}
}

func (s *deviceState) running(provider string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runs[provider]
}

var (
	openMu sync.Mutex
	opened *Runtime
)

// Open finds, checks and initialises the library. ONNX Runtime has one environment per
// process, so a second Open returns the first Runtime.
func Open(opts Options) (*Runtime, error) {
	openMu.Lock()
	defer openMu.Unlock()
	if opened != nil {
		return opened, nil
	}
	opts, dev, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	path, err := chooseLibrary(opts.Library, dev)
	if err != nil {
		return nil, err
	}
	version, err := libraryVersion(path)
	if err != nil {
		return nil, err
	}
	if err := checkVersion(path, version); err != nil {
		return nil, err
	}
	onnx.SetSharedLibraryPath(path)
	if err := onnx.InitializeEnvironment(onnx.WithLogLevelFatal()); err != nil {
		return nil, fmt.Errorf("cannot start ONNX Runtime from %s: %v", path, err)
	}
	if version == "" {
		version = onnx.GetVersion()
	}
	opened = &Runtime{opts: opts, dev: dev, LibraryPath: path, Version: version,
		sessions: map[string]*Session{}, state: newDeviceState()}
	return opened, nil
}

// withDefaults fills in the zero fields and reads the device.
func (opts Options) withDefaults() (Options, device, error) {
	if opts.Device == "" {
		opts.Device = "auto"
	}
	if opts.Notice == nil {
		opts.Notice = func(string) {}
	}
	dev, err := parseDevice(opts.Device)
	return opts, dev, err
}

// WithOptions returns a Runtime on r's environment whose sessions are opened with opts' Device,
// Threads, Notice and AfterAccelerator, since Open keeps the options of its first call for the
// whole process. The library is loaded once per process, so opts.Library must be empty or name
// the loaded file. The new Runtime caches its own sessions: a model opened through both r and it
// is loaded twice.
func (r *Runtime) WithOptions(opts Options) (*Runtime, error) {
	return r.withOptions(opts, newDeviceState())
}

func (r *Runtime) withOptions(opts Options, state *deviceState) (*Runtime, error) {
	opts, dev, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if opts.Library != "" && !sameFile(opts.Library, r.LibraryPath) {
		return nil, fmt.Errorf("ONNX Runtime is already loaded from %s; cannot switch to %s in the same process",
			r.LibraryPath, opts.Library)
	}
	opts.Library = r.LibraryPath
	return &Runtime{opts: opts, dev: dev, LibraryPath: r.LibraryPath, Version: r.Version,
		sessions: map[string]*Session{}, state: state}, nil
}

// ReturningMemory returns a Runtime on r's environment, with r's options, whose sessions give
// their working memory back after each run. ONNX Runtime's CPU arena otherwise keeps the
// largest working set a session ever needed until the session closes: a model that runs once
// in a while next to a big one that stays loaded (Stable Diffusion's VAE beside its UNet)
// then adds its peak to the other's for good. The cost is allocating the buffers again on
// every run, which is small next to a run of these models. It shares what r learned about
// the device.
func (r *Runtime) ReturningMemory() (*Runtime, error) {
	opts := r.opts
	opts.ReturnMemory = true
	return r.withOptions(opts, r.state)
}

func sameFile(a, b string) bool {
	ia, errA := os.Stat(a)
	ib, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(ia, ib)
}

// Session returns the session for a model file, creating it on first use after checking the
// model's inputs and outputs against want. Later calls with the same file reuse it: creating
// and destroying sessions repeatedly leaks memory in ONNX Runtime.
func (r *Runtime) Session(path string, want Contract) (*Session, error) {
	return r.session(modelSource{path: path}, want)
}

// SessionFromData is Session for a model held in memory, such as one dream rewrote before
// loading; name stands for it in messages and in the cache. Weights the model keeps in an
// external file (a UNet's weights.pb) are found in name's folder, as if it had been loaded
// from name.
func (r *Runtime) SessionFromData(name string, data []byte, want Contract) (*Session, error) {
	return r.session(modelSource{path: name, data: data}, want)
}

// Release closes a session and frees its memory; the next Session call for its file opens it
// again. Callers use it for large models they need only now and then.
func (r *Runtime) Release(s *Session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for key, cached := range r.sessions {
		if cached == s {
			delete(r.sessions, key)
		}
	}
	s.dyn.Destroy()
}

// Loaded reports whether a model file has an open session.
func (r *Runtime) Loaded(path string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.sessions[modelSource{path: path}.key()]
	return ok
}

// LoadedFromData returns the open session SessionFromData made under name, if there is one,
// so a caller that must build a model's data first can skip that when it is already open.
func (r *Runtime) LoadedFromData(name string) (*Session, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.sessions[modelSource{path: name, data: []byte{}}.key()]
	return s, ok
}

// modelSource is a model file, or a model in memory when data is set (path then only names it).
type modelSource struct {
	path string
	data []byte
	// half marks a float16 model that callers use as a float32 one (see forProvider).
	half bool
}

func (src modelSource) key() string {
	if src.data != nil {
		return "memory:" + src.path
	}
	if abs, err := filepath.Abs(src.path); err == nil {
		return abs
	}
	return src.path
}

func (r *Runtime) session(src modelSource, want Contract) (*Session, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.sessions[src.key()]; ok {
		return s, nil
	}
	if src.data == nil && !fileExists(src.path) {
		return nil, fmt.Errorf("model file %s not found", src.path)
	}
	ins, outs, err := r.describe(src)
	if err != nil {
		return nil, err
	}
	inNames, outNames, half, err := matchContract(ins, outs, want)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(src.path), err)
	}
	if half {
		src.half = true
		ins, outs = asFloat32(ins), asFloat32(outs)
	}
	s, err := r.newSession(src, inNames, outNames)
	if err != nil {
		return nil, err
	}
	s.Inputs, s.Outputs = pick(ins, inNames), pick(outs, outNames)
	r.sessions[src.key()] = s
	return s, nil
}

// Describe reads a model's declared inputs and outputs without opening a session, for callers
// that explain a mismatch better than a contract can (a CodeFormer export without its
// fidelity input, say).
func (r *Runtime) Describe(path string) (inputs, outputs []onnx.InputOutputInfo, err error) {
	if !fileExists(path) {
		return nil, nil, fmt.Errorf("model file %s not found", path)
	}
	return r.describe(modelSource{path: path})
}

// describe reads a model's declared inputs and outputs. It reads them from the file itself,
// which takes milliseconds; asking ONNX Runtime means loading the whole model once more
// before the session loads it again, which made opening x4plus take 1.8 s instead of 1.3 s.
// ONNX Runtime is asked only when the file does not settle the answer (see declared), so a
// broken file still gets ONNX Runtime's own error.
func (r *Runtime) describe(src modelSource) ([]onnx.InputOutputInfo, []onnx.InputOutputInfo, error) {
	if ins, outs, ok := declared(src); ok {
		return ins, outs, nil
	}
	return r.describeWithRuntime(src)
}

// declared reads a model's inputs and outputs from its protobuf as ONNX Runtime would report
// them. ok is false when the reader fails or when ONNX Runtime could report something else:
// a value that is not a tensor (the reader describes tensors only), a type left undefined,
// or an output without a shape, which ONNX Runtime fills in by shape inference.
//
// Inference can also turn an output's symbolic dimension into a fixed one; declared keeps
// the symbolic one, which the contract checks accept as any size, so such a model is at
// worst let through to fail on its first run. Inputs are never inferred.
func declared(src modelSource) (ins, outs []onnx.InputOutputInfo, ok bool) {
	var vins, vouts []onnxpb.ValueInfo
	var err error
	if src.data != nil {
		vins, vouts, err = onnxpb.ReadSignatureData(src.data)
	} else {
		vins, vouts, err = onnxpb.ReadSignature(src.path)
	}
	if err != nil {
		return nil, nil, false
	}
	ins, outs = make([]onnx.InputOutputInfo, len(vins)), make([]onnx.InputOutputInfo, len(vouts))
	for i, v := range vins {
		if v.ElemType == 0 {
			return nil, nil, false
		}
		ins[i] = tensorInfo(v)
	}
	for i, v := range vouts {
		if v.ElemType == 0 || v.Dims == nil {
			return nil, nil, false
		}
		outs[i] = tensorInfo(v)
	}
	return ins, outs, true
}

// tensorInfo converts a declared tensor to ONNX Runtime's description: symbolic and unknown
// dimensions become -1, and an input of unspecified shape has no dimensions, as ONNX Runtime
// reports them. ONNX Runtime's element types have the values of ONNX's own enum.
func tensorInfo(v onnxpb.ValueInfo) onnx.InputOutputInfo {
	dims := make(onnx.Shape, len(v.Dims))
	for i, d := range v.Dims {
		dims[i] = d.Value
		if d.Param != "" || d.Value < 0 {
			dims[i] = -1
		}
	}
	return onnx.InputOutputInfo{Name: v.Name, OrtValueType: onnx.ONNXTypeTensor,
		DataType: onnx.TensorElementDataType(v.ElemType), Dimensions: dims}
}

// describeWithRuntime asks ONNX Runtime for a model's inputs and outputs. It loads the model
// without graph optimisation, which is the slow part of opening a session.
func (r *Runtime) describeWithRuntime(src modelSource) ([]onnx.InputOutputInfo, []onnx.InputOutputInfo, error) {
	opts, err := onnx.NewSessionOptions()
	if err != nil {
		return nil, nil, err
	}
	defer opts.Destroy()
	if err := opts.SetGraphOptimizationLevel(onnx.GraphOptimizationLevelDisableAll); err != nil {
		return nil, nil, err
	}
	var ins, outs []onnx.InputOutputInfo
	if src.data != nil {
		ins, outs, err = onnx.GetInputOutputInfoWithONNXData(src.data)
	} else {
		ins, outs, err = onnx.GetInputOutputInfoWithOptions(src.path, opts)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s is not a model ONNX Runtime can load: %s", src.path, shortError(err))
	}
	return ins, outs, nil
}

// newSession creates the session on the first provider that can open it, falling back to
// CPU with one line when an accelerator cannot be used.
func (r *Runtime) newSession(src modelSource, inNames, outNames []string) (*Session, error) {
	for _, provider := range r.dev.providers {
		if !r.usable(provider, src.path) {
			continue
		}
		dyn, err := r.openOn(provider, src, inNames, outNames)
		if err == nil {
			r.started(provider)
			return &Session{Path: src.path, Provider: provider, dyn: dyn, returnMemory: r.opts.ReturnMemory}, nil
		}
		if provider == "cpu" && src.half {
			return nil, fmt.Errorf("%s is a float16 model that ONNX Runtime cannot run on CPU (%s): run it on a GPU with --device cuda, or use its float32 export",
				src.path, shortError(err))
		}
		if provider == "cpu" {
			return nil, fmt.Errorf("cannot open model %s: %s", src.path, shortError(err))
		}
		r.giveUp(provider, shortError(err), src.path)
	}
	return nil, fmt.Errorf("no execution provider could open %s", src.path)
}

// openOn creates a session for the model on one provider.
func (r *Runtime) openOn(provider string, src modelSource, inNames, outNames []string) (*onnx.DynamicAdvancedSession, error) {
	src, err := forProvider(provider, src)
	if err != nil {
		return nil, err
	}
	opts, err := r.sessionOptions(provider, src)
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()
	if src.data != nil {
		return onnx.NewDynamicAdvancedSessionWithONNXData(src.data, inNames, outNames, opts)
	}
	return onnx.NewDynamicAdvancedSession(src.path, inNames, outNames, opts)
}

// usable reports whether a provider is worth trying for the model at path. CUDA is checked
// first for what can be seen without ONNX Runtime (a CPU build, a library the loader will not
// find): ONNX Runtime would name only the first missing library, dream names them all.
func (r *Runtime) usable(provider, path string) bool {
	r.state.mu.Lock()
	_, failed := r.state.unavailable[provider]
	tried := failed || r.state.runs[provider]
	r.state.mu.Unlock()
	if failed {
		return false
	}
	if provider == "cuda" && !tried {
		if problem := cudaProblem(r.LibraryPath); problem != "" {
			if r.dev.auto && withoutNVIDIADriver(r.LibraryPath) {
				problem = noDriverReason
			}
			r.giveUp(provider, problem, path)
			return false
		}
	}
	return true
}

// giveUp marks an accelerator unavailable for this Runtime and tells the user why, once.
func (r *Runtime) giveUp(provider, reason, path string) {
	r.state.mu.Lock()
	r.state.unavailable[provider] = reason
	r.state.mu.Unlock()
	r.opts.Notice(fmt.Sprintf("%s is not available (%s); running %s and later models on CPU",
		providerNames[provider], reason, filepath.Base(path)))
}

// started is called after a session was opened on provider. The first session on CUDA says
// which GPU runs it. An accelerator replaced Go's signal handlers, which the caller restores.
func (r *Runtime) started(provider string) {
	if provider == "cpu" {
		return
	}
	r.state.mu.Lock()
	first := !r.state.runs[provider]
	r.state.runs[provider] = true
	r.state.mu.Unlock()
	if r.opts.AfterAccelerator != nil {
		r.opts.AfterAccelerator()
	}
	if first {
		r.opts.Notice("running on " + r.deviceName(provider))
	}
}

// deviceName describes an accelerator in use: "CUDA, GPU 0, NVIDIA H200, 139.8 GiB (…)".
func (r *Runtime) deviceName(provider string) string {
	name := providerNames[provider]
	if provider != "cuda" {
		return name
	}
	gpu, err := r.GPU()
	if err != nil {
		return fmt.Sprintf("%s, GPU %d (%v)", name, r.dev.gpu, err)
	}
	return name + ", " + gpu.String()
}

// externalDataFolderKey is ONNX Runtime's session option for where the external data of a
// model loaded from memory lies (kOrtSessionOptionsModelExternalInitializersFileFolderPath).
const externalDataFolderKey = "session.model_external_initializers_file_folder_path"

// Providers lists the execution providers the next session will be tried on, best first:
// those of the device, less the ones that failed before. The last is always "cpu".
func (r *Runtime) Providers() []string {
	r.state.mu.Lock()
	defer r.state.mu.Unlock()
	var left []string
	for _, p := range r.dev.providers {
		if _, failed := r.state.unavailable[p]; !failed {
			left = append(left, p)
		}
	}
	return left
}

var providerNames = map[string]string{"cuda": "CUDA", "coreml": "CoreML", "cpu": "CPU"}

func (r *Runtime) sessionOptions(provider string, src modelSource) (*onnx.SessionOptions, error) {
	opts, err := onnx.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	err = r.configure(opts, provider)
	if err == nil && src.data != nil {
		// Without a folder, ONNX Runtime looks for the external data files of a model that
		// comes from memory relative to the working directory.
		err = opts.AddSessionConfigEntry(externalDataFolderKey, filepath.Dir(src.path))
	}
	if err != nil {
		opts.Destroy()
		return nil, err
	}
	return opts, nil
}

func (r *Runtime) configure(opts *onnx.SessionOptions, provider string) error {
	// Every core unless told otherwise: ONNX Runtime's own default counts the physical cores
	// as it sees them, which on a 2-CPU virtual machine was one, leaving half the machine idle
	// (x4plus on a 256² image: 20.5 s, against 12.7 s on both).
	threads := r.opts.Threads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	if err := opts.SetIntraOpNumThreads(threads); err != nil {
		return err
	}
	// The memory pattern pre-plans one block per input shape on top of the arena's chunks:
	// measured on realesr-general-x4v3 at 512×512 it raises the peak from 380 MB to 550 MB
	// and buys no speed, so it is off.
	if err := opts.SetMemPattern(false); err != nil {
		return err
	}
	// ONNX Runtime's threads spin between operators by default, so a run holds every core
	// even while one thread finishes an operator alone. A batch encodes the last image while
	// the model runs the next, and the spinning took the cores it needed: 19 small images
	// ran 4% faster with it off (10.4–10.8 s against 11.0–11.2 s, alternating runs). Lone
	// runs of x4plus and general-x4v3 measured the same either way, within this machine's
	// noise of a few per cent.
	if err := opts.AddSessionConfigEntry(spinningKey, "0"); err != nil {
		return err
	}
	if r.opts.ReturnMemory {
		if err := opts.SetCpuMemArena(false); err != nil {
			return err
		}
	}
	switch provider {
	case "cuda":
		return r.dev.appendCUDA(r.LibraryPath, opts)
	case "coreml":
		return opts.AppendExecutionProviderCoreMLV2(map[string]string{"ModelFormat": "MLProgram"})
	}
	return nil
}

// spinningKey is ONNX Runtime's session option for whether idle intra-op threads spin
// (kOrtSessionOptionsConfigAllowIntraOpSpinning).
const spinningKey = "session.intra_op.allow_spinning"

// Session is one loaded model. Inputs and Outputs are the model's declared tensors in the order
// of the contract it was opened with; Run takes values in that order.
type Session struct {
	Path     string
	Provider string
	Inputs   []onnx.InputOutputInfo
	Outputs  []onnx.InputOutputInfo
	dyn      *onnx.DynamicAdvancedSession
	// returnMemory is set for sessions without an arena: their freed buffers are handed back
	// to the system after each run.
	returnMemory bool
}

// Run runs the model once. Outputs left nil are allocated by ONNX Runtime and must be
// destroyed by the caller. When ctx is cancelled the run is terminated through its run
// options and Run returns ctx.Err().
func (s *Session) Run(ctx context.Context, inputs, outputs []Value) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	runOpts, err := onnx.NewRunOptions()
	if err != nil {
		return err
	}
	defer runOpts.Destroy()
	done := make(chan struct{})
	watcherDone := make(chan struct{})
	go func() {
		defer close(watcherDone)
		select {
		case <-ctx.Done():
			runOpts.Terminate()
		case <-done:
		}
	}()
	err = s.dyn.RunWithOptions(inputs, outputs, runOpts)
	close(done)
	<-watcherDone // runOpts must outlive the watcher's Terminate call
	if s.returnMemory {
		trimHeap()
	}
	if err == nil {
		return nil // a run that finished counts, even if the cancel came at its very end
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("%s: %s", filepath.Base(s.Path), shortError(err))
}

// IsAllocationFailure tells whether a run failed because memory ran out, which a caller can
// answer with a smaller piece of work.
func IsAllocationFailure(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	msg := strings.ToLower(err.Error())
	for _, sign := range []string{"failed to allocate", "bad_alloc", "out of memory", "cannot allocate memory"} {
		if strings.Contains(msg, sign) {
			return true
		}
	}
	return false
}

// shortError keeps ONNX Runtime's message but drops the wrapper's prefixes and line breaks,
// so it fits in the one line the user sees.
func shortError(err error) string {
	if err == nil {
		return "unknown error"
	}
	msg := err.Error()
	for _, prefix := range []string{"Error running network: ", "Error creating C session from file: ",
		"Error loading temporary session: ", "Error creating session: "} {
		msg = strings.ReplaceAll(msg, prefix, "")
	}
	return strings.Join(strings.Fields(msg), " ")
}
