package ort

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"dream/internal/onnxpb"
)

// device is a --device value read: the providers to try and the GPU to run on.
type device struct {
	// providers are tried best first; the last is always "cpu".
	providers []string
	// gpu is the CUDA device's number, from cuda:N; 0 when not given.
	gpu int
	// auto is --device auto: an accelerator is used where the machine has one, and a machine
	// without one is no surprise.
	auto bool
}

// deviceHint lists the --device values; every "unknown device" message ends with it.
const deviceHint = "use auto, cpu, cuda, cuda:N (the GPU numbered N) or coreml"

// parseDevice reads a --device value.
func parseDevice(value string) (device, error) {
	name, number, numbered := strings.Cut(strings.ToLower(value), ":")
	if numbered && name != "cuda" {
		return device{}, fmt.Errorf("unknown device %q: %s", value, deviceHint)
	}
	switch name {
	case "", "auto":
		if runtime.GOOS == "darwin" {
			return device{providers: []string{"coreml", "cpu"}, auto: true}, nil
		}
		return device{providers: []string{"cuda", "cpu"}, auto: true}, nil
	case "cpu":
		return device{providers: []string{"cpu"}}, nil
	case "coreml":
		return device{providers: []string{"coreml", "cpu"}}, nil
	case "cuda":
		d := device{providers: []string{"cuda", "cpu"}}
		if numbered {
			n, err := strconv.Atoi(number)
			if err != nil || n < 0 {
				return device{}, fmt.Errorf("unknown device %q: %s", value, deviceHint)
			}
			d.gpu = n
		}
		return d, nil
	}
	return device{}, fmt.Errorf("unknown device %q: %s", value, deviceHint)
}

func (d device) wants(provider string) bool {
	for _, p := range d.providers {
		if p == provider {
			return true
		}
	}
	return false
}

// chooseLibrary picks the library to load. --ort-lib and $ONNXRUNTIME_LIB are taken as they
// are. Otherwise a device that may use CUDA gets the CUDA build when it is installed, built
// for this platform, and the loader finds every library its CUDA provider needs; else the CPU
// build (FindLibrary), which starts faster and is newer, and the CUDA build only where there
// is no other.
func chooseLibrary(flag string, dev device) (string, error) {
	if flag != "" || !dev.wants("cuda") || os.Getenv(EnvLibrary) != "" {
		return FindLibrary(flag)
	}
	gpu := GPULibrary()
	if !fileExists(gpu) {
		return FindLibrary("")
	}
	foreign := checkPlatform(gpu)
	if foreign == nil && cudaProblem(gpu) == "" {
		return gpu, nil
	}
	path, err := FindLibrary("")
	switch {
	case err == nil:
		return path, nil
	case foreign != nil:
		// Nothing else was found: the foreign build is the thing to tell about.
		return "", fmt.Errorf("%v: %s", foreign, installHint)
	}
	return gpu, nil
}

// cudaProblem says, in words for the user, why the CUDA provider cannot start with the
// library at lib; "" when nothing stands in its way that can be seen before trying. A library
// without the provider beside it is a CPU build: the reason is then the CUDA build's, if it
// is installed (chooseLibrary passed it over), or that it is not.
func cudaProblem(lib string) string {
	if provider := filepath.Join(filepath.Dir(lib), cudaProviderFile); fileExists(provider) {
		if runtime.GOOS == "windows" {
			return "" // a DLL's imports are not checked: ONNX Runtime names the first one missing
		}
		return missingCUDALibraries(provider)
	}
	gpu := GPULibrary()
	if !fileExists(gpu) {
		return cudaBuildNote(runtime.GOOS, runtime.GOARCH)
	}
	if err := checkPlatform(gpu); err != nil {
		return fmt.Sprintf("the installed CUDA build cannot be used: %v", err)
	}
	if problem := cudaProblem(gpu); problem != "" {
		return problem
	}
	return fmt.Sprintf("ONNX Runtime was loaded from %s, a build without the CUDA provider: the CUDA build is %s (--ort-lib)",
		lib, gpu)
}

// cudaBuildNote says how to get ONNX Runtime's CUDA build on goos/goarch. The CUDA build dream
// installs (scripts/install_onnxruntime --cuda) exists for Linux x64 only; elsewhere the user
// brings one.
func cudaBuildNote(goos, goarch string) string {
	switch {
	case goos == "linux" && goarch == "amd64":
		return "ONNX Runtime's CUDA build is not installed: run 'make ort CUDA=1' (or scripts/install_onnxruntime --cuda)"
	case goos == "darwin":
		return "ONNX Runtime has no CUDA build for macOS: use --device coreml or cpu"
	case goos == "windows":
		return "the ONNX Runtime loaded has no " + cudaProviderName(goos) + " beside it: dream installs ONNX Runtime's " +
			"CUDA build on Linux x64 only; give the CUDA build of ONNX Runtime for Windows with --ort-lib"
	}
	return "dream installs ONNX Runtime's CUDA build on Linux x64 only: give a CUDA build of ONNX Runtime for " +
		goos + "/" + goarch + " with --ort-lib"
}

// GPU is the CUDA device the sessions run on, as its driver describes it.
type GPU struct {
	Number      int
	Name        string
	Total, Free uint64 // bytes
}

// String is "GPU 0, NVIDIA H200, 139.8 GiB (138.9 GiB free)".
func (g GPU) String() string {
	return fmt.Sprintf("GPU %d, %s, %.1f GiB (%.1f GiB free)", g.Number, g.Name,
		float64(g.Total)/(1<<30), float64(g.Free)/(1<<30))
}

// GPU asks the NVIDIA driver about the GPU this Runtime's CUDA sessions run on, its free
// memory included, which changes as models load; an error when none runs on CUDA.
func (r *Runtime) GPU() (GPU, error) {
	if !r.state.running("cuda") {
		return GPU{}, fmt.Errorf("no model runs on CUDA")
	}
	return gpuInfo(r.dev.gpu)
}

// deviceProbe is a model of one Identity node: opening it shows which provider a model gets.
var deviceProbe = func() []byte {
	var g onnxpb.Graph
	g.Inputs = []onnxpb.ValueInfo{onnxpb.NewValueInfo("x", onnxpb.Float, onnxpb.Fixed(1))}
	g.Outputs = []onnxpb.ValueInfo{onnxpb.NewValueInfo("y", onnxpb.Float, onnxpb.Fixed(1))}
	g.Add("Identity", []string{"x"}, []string{"y"})
	return (&onnxpb.Model{Graph: g}).Marshal()
}()

// DeviceLine says in one line where models run, for --models-list: "device: CUDA, GPU 0,
// NVIDIA H200, 139.8 GiB (138.9 GiB free), ONNX Runtime 1.29.0 from PATH", or "device: CPU,
// ONNX Runtime 1.30.0 from PATH; CUDA is not available (REASON)". It opens a one-node model
// the way a job opens its models, so an accelerator that cannot start is found out as a job
// would find it.
func (r *Runtime) DeviceLine() string {
	library := fmt.Sprintf("ONNX Runtime %s from %s", r.Version, r.LibraryPath)
	want := Contract{Inputs: []Tensor{{Type: Float32}}, Outputs: []Tensor{{Type: Float32}}}
	s, err := r.SessionFromData("dream-device-probe.onnx", deviceProbe, want)
	if err != nil {
		return fmt.Sprintf("device: none, %s: %v", library, err)
	}
	line := "device: " + r.deviceName(s.Provider) + ", " + library
	r.state.mu.Lock()
	defer r.state.mu.Unlock()
	for _, p := range r.dev.providers {
		if reason, failed := r.state.unavailable[p]; failed {
			line += fmt.Sprintf("; %s is not available (%s)", providerNames[p], reason)
		}
	}
	return line
}

// CheckDevice checks a --device value before anything is loaded.
func CheckDevice(value string) error {
	_, err := parseDevice(value)
	return err
}
