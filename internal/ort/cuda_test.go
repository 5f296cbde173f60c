package ort

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseDevice(t *testing.T) {
	tests := []struct {
		value string
		want  []string // providers; nil for an error
		gpu   int
	}{
		{"cpu", []string{"cpu"}, 0},
		{"cuda", []string{"cuda", "cpu"}, 0},
		{"CUDA", []string{"cuda", "cpu"}, 0},
		{"cuda:1", []string{"cuda", "cpu"}, 1},
		{"cuda:12", []string{"cuda", "cpu"}, 12},
		{"coreml", []string{"coreml", "cpu"}, 0},
		{"cuda:", nil, 0},
		{"cuda:-1", nil, 0},
		{"cuda:x", nil, 0},
		{"cpu:1", nil, 0},
		{"gpu", nil, 0},
	}
	for _, tt := range tests {
		d, err := parseDevice(tt.value)
		if tt.want == nil {
			if err == nil || !strings.Contains(err.Error(), `unknown device "`+tt.value+`": `+deviceHint) {
				t.Errorf("parseDevice(%q) = %v, %v; want the unknown-device error", tt.value, d, err)
			}
			continue
		}
		if err != nil || strings.Join(d.providers, " ") != strings.Join(tt.want, " ") || d.gpu != tt.gpu {
			t.Errorf("parseDevice(%q) = %+v, %v; want %v on GPU %d", tt.value, d, err, tt.want, tt.gpu)
		}
	}
}

// TestChooseLibrary lays out a cache with the CPU build and the CUDA build (the real CUDA
// provider, linked), and checks which library each device gets, with the NVIDIA libraries
// missing and then all found.
func TestChooseLibrary(t *testing.T) {
	isolateLoaderSearch(t)
	provider := cudaProvider(t)
	cache := t.TempDir()
	cpu := touch(t, filepath.Join(cache, "onnxruntime", WantedVersion, libraryFileName()))
	gpuDir := filepath.Join(cache, "onnxruntime", "gpu-"+GPUVersion)
	gpu := touch(t, filepath.Join(gpuDir, "libonnxruntime.so"))
	if err := os.Symlink(provider, filepath.Join(gpuDir, cudaProviderFile)); err != nil {
		t.Fatal(err)
	}
	nvidia := stubLibraries(t, t.TempDir(), cudaLibraryNames...)
	flagLib := touch(t, filepath.Join(t.TempDir(), "libonnxruntime.so"))
	tests := []struct {
		name, device, flag string
		nvidiaFound        bool
		noCPUBuild         bool
		foreignGPU         bool // the CUDA build in the cache is for another CPU
		want               string
	}{
		{name: "cpu", device: "cpu", nvidiaFound: true, want: cpu},
		{name: "cuda, libraries missing", device: "cuda", want: cpu},
		{name: "auto, libraries missing", device: "auto", want: cpu},
		{name: "cuda, libraries found", device: "cuda", nvidiaFound: true, want: gpu},
		{name: "cuda:1, libraries found", device: "cuda:1", nvidiaFound: true, want: gpu},
		{name: "auto, libraries found", device: "auto", nvidiaFound: true, want: gpu},
		{name: "cuda, no CPU build", device: "cuda", noCPUBuild: true, want: gpu},
		{name: "--ort-lib", device: "cuda", flag: flagLib, nvidiaFound: true, want: flagLib},
		{name: "auto, CUDA build for another CPU", device: "auto", nvidiaFound: true, foreignGPU: true, want: cpu},
		{name: "cuda, CUDA build for another CPU, no CPU build", device: "cuda", nvidiaFound: true, foreignGPU: true,
			noCPUBuild: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DREAM_CACHE", cache)
			t.Setenv(EnvLibrary, "")
			if tt.nvidiaFound {
				t.Setenv("LD_LIBRARY_PATH", nvidia)
			}
			if tt.noCPUBuild {
				hidden := cpu + ".hidden"
				if err := os.Rename(cpu, hidden); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { os.Rename(hidden, cpu) })
			}
			if tt.foreignGPU {
				writeFile(t, gpu, headerFor(foreignPlatform()))
				t.Cleanup(func() { touch(t, gpu) })
			}
			dev, err := parseDevice(tt.device)
			if err != nil {
				t.Fatal(err)
			}
			got, err := chooseLibrary(tt.flag, dev)
			if tt.want == "" {
				if err == nil || !strings.Contains(err.Error(), " is a library for "+foreignPlatform().String()) {
					t.Errorf("chooseLibrary(%q, %s) = %q, %v; want the foreign library refused", tt.flag, tt.device, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("chooseLibrary(%q, %s) = %q, %v; want %q", tt.flag, tt.device, got, err, tt.want)
			}
		})
	}
}

// TestCUDAProblem checks the reason given for a library that cannot run CUDA.
func TestCUDAProblem(t *testing.T) {
	isolateLoaderSearch(t)
	provider := cudaProvider(t)
	cache := t.TempDir()
	t.Setenv("DREAM_CACHE", cache)
	cpu := touch(t, filepath.Join(cache, "onnxruntime", WantedVersion, libraryFileName()))
	if got := cudaProblem(cpu); !strings.Contains(got, "CUDA build is not installed: run 'make ort CUDA=1'") {
		t.Errorf("without the CUDA build: %q", got)
	}
	gpuDir := filepath.Join(cache, "onnxruntime", "gpu-"+GPUVersion)
	gpu := touch(t, filepath.Join(gpuDir, "libonnxruntime.so"))
	if err := os.Symlink(provider, filepath.Join(gpuDir, cudaProviderFile)); err != nil {
		t.Fatal(err)
	}
	// The CPU build was loaded because the CUDA build misses libraries: those are the reason.
	if got := cudaProblem(cpu); !strings.Contains(got, "needs libcuda.so.1 (the NVIDIA driver)") {
		t.Errorf("with the CUDA build missing libraries: %q", got)
	}
	if got := cudaProblem(gpu); !strings.Contains(got, "needs libcuda.so.1 (the NVIDIA driver)") {
		t.Errorf("the CUDA build missing libraries: %q", got)
	}
	t.Setenv("LD_LIBRARY_PATH", stubLibraries(t, t.TempDir(), cudaLibraryNames...))
	if got := cudaProblem(gpu); got != "" {
		t.Errorf("the CUDA build with every library: %q", got)
	}
	if got := cudaProblem(cpu); !strings.Contains(got, "a build without the CUDA provider: the CUDA build is "+gpu) {
		t.Errorf("the CPU build loaded though the CUDA build could run: %q", got)
	}
	writeFile(t, gpu, headerFor(foreignPlatform()))
	want := "the installed CUDA build cannot be used: " + gpu + " is a library for " + foreignPlatform().String()
	if got := cudaProblem(cpu); !strings.Contains(got, want) {
		t.Errorf("the CUDA build for another CPU: %q, want %q", got, want)
	}
}

// TestCUDABuildNote checks what each platform's user is told to do for CUDA: 'make ort CUDA=1'
// only where dream installs the CUDA build, --ort-lib elsewhere.
func TestCUDABuildNote(t *testing.T) {
	tests := []struct {
		goos, goarch string
		want         []string
	}{
		{"linux", "amd64", []string{"CUDA build is not installed: run 'make ort CUDA=1'"}},
		{"linux", "arm64", []string{"Linux x64 only", "CUDA build of ONNX Runtime for linux/arm64 with --ort-lib"}},
		{"windows", "amd64", []string{"onnxruntime_providers_cuda.dll", "CUDA build of ONNX Runtime for Windows with --ort-lib"}},
		{"darwin", "arm64", []string{"no CUDA build for macOS", "--device coreml"}},
	}
	for _, tt := range tests {
		note := cudaBuildNote(tt.goos, tt.goarch)
		for _, part := range tt.want {
			if !strings.Contains(note, part) {
				t.Errorf("%s/%s: %q lacks %q", tt.goos, tt.goarch, note, part)
			}
		}
		if tt.goarch != "amd64" || tt.goos != "linux" {
			if strings.Contains(note, "make ort") {
				t.Errorf("%s/%s: %q tells to run make ort", tt.goos, tt.goarch, note)
			}
		}
	}
}

// TestGPUBuildWithoutNVIDIALibraries opens the real CUDA build in fresh processes on a machine
// whose loader lacks the NVIDIA libraries: --device cuda runs on the CPU build with one line
// naming every missing library, the CUDA build passed as --ort-lib runs on its own CPU
// provider with the same line, and ONNX Runtime itself, given the CUDA provider the way a
// session on CUDA gets it (appendCUDA), loads the provider and fails on a library that line
// names: dream's check agrees with the loader, and appendCUDA reaches the provider.
func TestGPUBuildWithoutNVIDIALibraries(t *testing.T) {
	gpu := gpuLibrary(t)
	cpu := goodLibrary(t)
	isolateLoaderSearch(t)
	t.Setenv("DREAM_CACHE", filepath.Dir(installDir))
	t.Setenv(EnvLibrary, "")
	model := writeModel(t, "double.onnx", doubleModel())
	tests := []struct {
		name                  string
		spec                  openSpec
		library, version      string
		wantNotice, wantORTOn bool
		wantShort             bool // the notice says only that the driver is missing
	}{
		{name: "--device cuda", spec: openSpec{Device: "cuda", Model: model}, library: cpu, version: WantedVersion,
			wantNotice: true},
		{name: "--device cuda:1", spec: openSpec{Device: "cuda:1", Model: model}, library: cpu, version: WantedVersion,
			wantNotice: true},
		{name: "--device auto", spec: openSpec{Device: "auto", Model: model}, library: cpu, version: WantedVersion,
			wantNotice: true, wantShort: true},
		{name: "--device cpu", spec: openSpec{Device: "cpu", Model: model}, library: cpu, version: WantedVersion},
		{name: "the CUDA build as --ort-lib", spec: openSpec{Library: gpu, Device: "cuda", Model: model}, library: gpu,
			version: GPUVersion, wantNotice: true},
		{name: "ONNX Runtime's own answer", spec: openSpec{Library: gpu, Device: "cpu", AppendCUDA: true}, library: gpu,
			version: GPUVersion, wantORTOn: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := openSpecInSubprocess(t, tt.spec)
			if res.Err != "" || res.Library != tt.library || res.Version != tt.version {
				t.Fatalf("Open: library %s, version %s, error %q; want %s, %s", res.Library, res.Version, res.Err,
					tt.library, tt.version)
			}
			if tt.spec.Model != "" && res.Provider != "cpu" {
				t.Errorf("the model runs on %q, want cpu", res.Provider)
			}
			for _, n := range res.Notices {
				t.Logf("notice: %s", n)
			}
			if !tt.wantNotice && len(res.Notices) > 0 {
				t.Errorf("got notices %q, want none", res.Notices)
			}
			if tt.wantNotice {
				if len(res.Notices) != 1 {
					t.Fatalf("got %d notices, want one: %q", len(res.Notices), res.Notices)
				}
				parts := append([]string{"CUDA is not available (", "on CPU"}, cudaLibraryNames...)
				if tt.wantShort {
					// A machine without NVIDIA's driver: one short line on every CPU node's log.
					parts = []string{"CUDA is not available (no NVIDIA driver: libcuda.so.1 is not found; --device cuda lists", "on CPU"}
					if len(res.Notices[0]) > 160 {
						t.Errorf("the notice is %d characters long, want at most 160", len(res.Notices[0]))
					}
				}
				for _, part := range parts {
					if !strings.Contains(res.Notices[0], part) {
						t.Errorf("the notice lacks %q", part)
					}
				}
			}
			if tt.wantORTOn {
				t.Logf("ONNX Runtime: %s", res.CUDAErr)
				named := false
				for _, name := range cudaLibraryNames {
					named = named || strings.Contains(res.CUDAErr, name)
				}
				if !named {
					t.Errorf("ONNX Runtime's error names none of %v: %q", cudaLibraryNames, res.CUDAErr)
				}
			}
		})
	}
}

// TestGPUInfoWithoutDriver asks the NVIDIA driver about a GPU where there is none; with a
// GPU it checks what the driver says.
func TestGPUInfoWithoutDriver(t *testing.T) {
	if got := (GPU{Number: 1, Name: "NVIDIA H200", Total: 150 << 30, Free: 3 << 29}).String(); got != "GPU 1, NVIDIA H200, 150.0 GiB (1.5 GiB free)" {
		t.Errorf("GPU.String() = %q", got)
	}
	gpu, err := gpuInfo(0)
	if err == nil {
		if gpu.Name == "" || gpu.Total == 0 || gpu.Free > gpu.Total {
			t.Errorf("the driver describes GPU 0 as %+v", gpu)
		}
		t.Skipf("this machine has %s", gpu)
	}
	if !strings.Contains(err.Error(), "cannot ask the NVIDIA driver about GPU 0: libcuda.so.1") {
		t.Errorf("gpuInfo(0) error %q does not name the driver's library", err)
	}
}

func TestDeviceLine(t *testing.T) {
	base := testRuntime(t)
	library := "ONNX Runtime " + base.Version + " from " + base.LibraryPath
	tests := []struct {
		device string
		want   string
		prefix bool // want is the line's start: the reason after it depends on the machine
	}{
		{device: "cpu", want: "device: CPU, " + library},
		{device: "cuda", want: "device: CPU, " + library + "; CUDA is not available (", prefix: true},
	}
	for _, tt := range tests {
		rt, err := base.WithOptions(Options{Device: tt.device})
		if err != nil {
			t.Fatal(err)
		}
		got := rt.DeviceLine()
		if !tt.prefix && got != tt.want || !strings.HasPrefix(got, tt.want) || strings.Contains(got, "\n") {
			t.Errorf("--device %s: %q, want %q", tt.device, got, tt.want)
		}
	}
}
