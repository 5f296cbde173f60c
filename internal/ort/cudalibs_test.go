package ort

import (
	"debug/elf"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// gpuLibrary is the CUDA build that scripts/install_onnxruntime --cuda installs.
func gpuLibrary(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("the CUDA build exists for linux/amd64 only")
	}
	path := filepath.Join(installDir, "gpu-"+GPUVersion, "libonnxruntime.so")
	if !fileExists(path) {
		t.Fatalf("ONNX Runtime's CUDA build is not installed at %s: run scripts/install_onnxruntime --cuda", path)
	}
	return path
}

// cudaProvider is the real CUDA provider of the CUDA build.
func cudaProvider(t *testing.T) string {
	return filepath.Join(filepath.Dir(gpuLibrary(t)), cudaProviderFile)
}

// cudaLibraryNames are the NVIDIA libraries the CUDA provider of ONNX Runtime 1.29.0 needs.
var cudaLibraryNames = []string{"libcublasLt.so.13", "libcublas.so.13", "libcurand.so.10", "libcudart.so.13",
	"libcuda.so.1", "libcudnn.so.9"}

// stubLibraries puts a real x86-64 shared library (the CUDA build's small provider bridge)
// in dir under each name, so the search finds files the loader would take; it returns dir.
func stubLibraries(t *testing.T, dir string, names ...string) string {
	t.Helper()
	real, err := os.ReadFile(filepath.Join(filepath.Dir(gpuLibrary(t)), "libonnxruntime_providers_shared.so"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(dir, name), real, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// isolateLoaderSearch empties the places the search looks in that a test sets, and skips the
// test on a machine whose loader finds the NVIDIA libraries anyway (its cache or /usr/lib).
func isolateLoaderSearch(t *testing.T) {
	t.Helper()
	t.Setenv("LD_LIBRARY_PATH", "")
	t.Setenv("VIRTUAL_ENV", "")
	t.Setenv("CONDA_PREFIX", "")
	t.Setenv("HOME", t.TempDir())
	needs, err := cudaNeeds(cudaProvider(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, lib := range needs {
		if lib.Path != "" || lib.Wheel != "" {
			t.Skipf("this machine has %s at %s%s", lib.Name, lib.Path, lib.Wheel)
		}
	}
}

func TestCUDANeeds(t *testing.T) {
	isolateLoaderSearch(t)
	needs, err := cudaNeeds(cudaProvider(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(namesOf(needs), " "); got != strings.Join(cudaLibraryNames, " ") {
		t.Errorf("the CUDA provider needs %s, want %s", got, strings.Join(cudaLibraryNames, " "))
	}
	if _, err := cudaNeeds(touch(t, filepath.Join(t.TempDir(), cudaProviderFile))); err == nil ||
		!strings.Contains(err.Error(), "cannot read") {
		t.Errorf("cudaNeeds of a text file: %v, want a 'cannot read' error", err)
	}
}

// TestMissingCUDALibraries checks the one-line reason against where the libraries are: none
// found, some on LD_LIBRARY_PATH, some in a Python environment's NVIDIA wheels, all found.
func TestMissingCUDALibraries(t *testing.T) {
	isolateLoaderSearch(t)
	provider := cudaProvider(t)
	venv := t.TempDir()
	wheel := filepath.Join(venv, "lib", "python3.12", "site-packages", "nvidia", "cudnn", "lib")
	tests := []struct {
		name      string
		ldPath    []string // names placed in a folder on LD_LIBRARY_PATH
		inWheel   []string // names placed in the virtual environment's nvidia/cudnn/lib
		textFiles []string // names placed on LD_LIBRARY_PATH as text files, which the loader skips
		want      []string
		wantNone  bool
	}{
		{name: "nothing installed", want: []string{
			"libonnxruntime_providers_cuda.so needs libcuda.so.1 (the NVIDIA driver), libcublasLt.so.13, libcublas.so.13, " +
				"libcurand.so.10, libcudart.so.13 (CUDA 13) and libcudnn.so.9 (cuDNN 9), which the loader cannot find: " +
				"install the NVIDIA driver, CUDA 13 and cuDNN 9, or add the folder that has them to LD_LIBRARY_PATH"}},
		{name: "the driver a text file, cuDNN missing", ldPath: cudaLibraryNames[:4],
			textFiles: []string{"libcuda.so.1"},
			want:      []string{"needs libcuda.so.1 (the NVIDIA driver) and libcudnn.so.9 (cuDNN 9), which", "install the NVIDIA driver and cuDNN 9,"}},
		{name: "cuDNN in a wheel", ldPath: cudaLibraryNames[:5], inWheel: []string{"libcudnn.so.9"},
			want: []string{"libcudnn.so.9 is only in a Python environment, where the loader does not look: add " + wheel + " to LD_LIBRARY_PATH"}},
		{name: "everything found", ldPath: cudaLibraryNames, wantNone: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := stubLibraries(t, t.TempDir(), tt.ldPath...)
			for _, name := range tt.textFiles {
				touch(t, filepath.Join(dir, name))
			}
			t.Setenv("LD_LIBRARY_PATH", "/nonexistent:"+dir)
			os.RemoveAll(filepath.Join(venv, "lib"))
			stubLibraries(t, wheel, tt.inWheel...)
			t.Setenv("VIRTUAL_ENV", venv)

			got := missingCUDALibraries(provider)
			if tt.wantNone {
				if got != "" {
					t.Fatalf("missingCUDALibraries = %q, want nothing", got)
				}
				return
			}
			for _, part := range tt.want {
				if !strings.Contains(got, part) {
					t.Errorf("missingCUDALibraries =\n%s\nwhich lacks\n%s", got, part)
				}
			}
			if strings.Contains(got, "\n") {
				t.Errorf("the reason spans several lines: %q", got)
			}
		})
	}
}

func TestLoaderFindsSystemLibraries(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("ldconfig is Linux's")
	}
	// The CUDA build's own DT_NEEDED entries besides NVIDIA's are the C and C++ runtimes,
	// which every Linux loader finds, most through its cache.
	isolateLoaderSearch(t)
	if runtime.GOARCH != "amd64" {
		t.Skip("the search below is for x86-64 libraries")
	}
	s := &loaderSearch{elfClass: elf.ELFCLASS64, machine: elf.EM_X86_64}
	for _, name := range []string{"libstdc++.so.6", "libc.so.6", "libm.so.6"} {
		if path := s.find(name); path == "" {
			t.Errorf("the search did not find %s, which the loader loads for every process", name)
		}
	}
	if path := s.find("libcudart.so.13"); path != "" {
		t.Errorf("found libcudart.so.13 at %s", path)
	}
}

func TestParseLoaderCache(t *testing.T) {
	out := "852 libs found in cache `/etc/ld.so.cache'\n" +
		"\tlibz.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libz.so.1\n" +
		"\tlibz.so.1 (libc6) => /lib/i386-linux-gnu/libz.so.1\n" +
		"\tlibcudart.so.13 (libc6,x86-64) => /usr/local/cuda-13.0/targets/x86_64-linux/lib/libcudart.so.13\n" +
		"Cache generated by: ldconfig (GNU libc) stable release version 2.36\n"
	got := parseLoaderCache([]byte(out))
	want := map[string][]string{
		"libz.so.1":       {"/lib/x86_64-linux-gnu/libz.so.1", "/lib/i386-linux-gnu/libz.so.1"},
		"libcudart.so.13": {"/usr/local/cuda-13.0/targets/x86_64-linux/lib/libcudart.so.13"},
	}
	if len(got) != len(want) {
		t.Fatalf("parsed %d names, want %d: %v", len(got), len(want), got)
	}
	for name, paths := range want {
		if strings.Join(got[name], " ") != strings.Join(paths, " ") {
			t.Errorf("%s: %v, want %v", name, got[name], paths)
		}
	}
}

func TestExpandOrigin(t *testing.T) {
	tests := []struct {
		runpath []string
		want    string
	}{
		{nil, ""},
		{[]string{"$ORIGIN"}, "/opt/ort"},
		{[]string{"$ORIGIN/../lib:/usr/local/cuda/lib64"}, "/opt/ort/../lib /usr/local/cuda/lib64"},
		{[]string{"${ORIGIN}/x", "/y"}, "/opt/ort/x /y"},
	}
	for _, tt := range tests {
		if got := strings.Join(expandOrigin(tt.runpath, "/opt/ort"), " "); got != tt.want {
			t.Errorf("expandOrigin(%q) = %q, want %q", tt.runpath, got, tt.want)
		}
	}
}
