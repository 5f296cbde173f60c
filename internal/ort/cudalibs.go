package ort

import (
	"bufio"
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// GPUVersion is the ONNX Runtime release of the CUDA build that scripts/install_onnxruntime
// --cuda installs (the npm packages of onnxruntime-unity); it serves the Go binding's API 24.
const GPUVersion = "1.29.0"

// cudaProviderFile is the CUDA provider, which ONNX Runtime loads from its own folder when a
// session asks for CUDA.
var cudaProviderFile = cudaProviderName(runtime.GOOS)

func cudaProviderName(goos string) string {
	if goos == "windows" {
		return "onnxruntime_providers_cuda.dll"
	}
	return "libonnxruntime_providers_cuda.so"
}

// GPULibrary is where scripts/install_onnxruntime --cuda puts the CUDA build's library, in a
// folder of its own beside the CPU build's, with its providers.
func GPULibrary() string {
	return filepath.Join(CacheDir(), "onnxruntime", "gpu-"+GPUVersion, "libonnxruntime.so")
}

// loadedAtRunTime are libraries the CUDA provider opens with dlopen when it starts rather than
// through its DT_NEEDED entries: cuDNN 9, which no ELF header names.
var loadedAtRunTime = []string{"libcudnn.so.9"}

// neededLibrary is one NVIDIA library the CUDA provider needs, and where it was found.
type neededLibrary struct {
	Name string
	// Path is where the dynamic loader finds it, "" when it does not.
	Path string
	// Wheel is a folder of a Python environment's NVIDIA wheels that holds it, where the
	// loader does not look; set only when Path is empty.
	Wheel string
}

// nvidiaPackage names what a user installs to get a library.
func nvidiaPackage(name string) string {
	switch {
	case strings.HasPrefix(name, "libcuda.so"):
		return "the NVIDIA driver"
	case strings.HasPrefix(name, "libcudnn"):
		return "cuDNN 9"
	}
	return "CUDA 13"
}

// cudaNeeds lists the NVIDIA libraries the provider at path needs (its DT_NEEDED entries
// named libcu* or libnv*, then those it loads at run time) with where each is found. The
// system's own libraries (libc, libstdc++, …) are left out: every machine has them.
func cudaNeeds(provider string) ([]neededLibrary, error) {
	f, err := elf.Open(provider)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", provider, err)
	}
	defer f.Close()
	imported, err := f.ImportedLibraries()
	if err != nil {
		return nil, fmt.Errorf("cannot read the libraries %s needs: %v", provider, err)
	}
	runpath, _ := f.DynString(elf.DT_RUNPATH)
	search := loaderSearch{elfClass: f.Class, machine: f.Machine, runpath: expandOrigin(runpath, filepath.Dir(provider))}
	var needs []neededLibrary
	for _, name := range append(imported, loadedAtRunTime...) {
		if !strings.HasPrefix(name, "libcu") && !strings.HasPrefix(name, "libnv") {
			continue
		}
		lib := neededLibrary{Name: name, Path: search.find(name)}
		if lib.Path == "" {
			lib.Wheel = search.findInWheels(name)
		}
		needs = append(needs, lib)
	}
	return needs, nil
}

// expandOrigin replaces $ORIGIN in DT_RUNPATH entries with the library's folder, as the
// loader does.
func expandOrigin(runpath []string, origin string) []string {
	var dirs []string
	for _, entry := range runpath {
		for _, dir := range filepath.SplitList(entry) {
			dir = strings.ReplaceAll(strings.ReplaceAll(dir, "${ORIGIN}", origin), "$ORIGIN", origin)
			dirs = append(dirs, dir)
		}
	}
	return dirs
}

// loaderSearch finds libraries as the dynamic loader does for a library opened by path that
// has no DT_RPATH (ld.so(8)): LD_LIBRARY_PATH, the library's DT_RUNPATH, the loader's cache
// (ldconfig -p), then the default folders. Like the loader, it skips a file of another ELF
// class or machine than the library's own.
type loaderSearch struct {
	elfClass elf.Class
	machine  elf.Machine
	runpath  []string
	cache    map[string][]string // ldconfig -p, read on first use
}

func (s *loaderSearch) find(name string) string {
	dirs := filepath.SplitList(os.Getenv("LD_LIBRARY_PATH"))
	dirs = append(dirs, s.runpath...)
	for _, dir := range dirs {
		if path := filepath.Join(dir, name); dir != "" && s.fits(path) {
			return path
		}
	}
	if s.cache == nil {
		s.cache = loaderCache()
	}
	for _, path := range s.cache[name] {
		if s.fits(path) {
			return path
		}
	}
	for _, dir := range []string{"/lib64", "/usr/lib64", "/lib", "/usr/lib"} {
		if path := filepath.Join(dir, name); s.fits(path) {
			return path
		}
	}
	return ""
}

// fits reports whether path is a shared library the loader would take for this provider.
func (s *loaderSearch) fits(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	return f.Class == s.elfClass && f.Machine == s.machine
}

// findInWheels looks for name in the nvidia/*/lib folders of Python environments (NVIDIA's
// CUDA and cuDNN wheels put their libraries there), which the loader does not search.
func (s *loaderSearch) findInWheels(name string) string {
	for _, dir := range wheelFolders() {
		if s.fits(filepath.Join(dir, name)) {
			return dir
		}
	}
	return ""
}

// wheelFolders are the nvidia/*/lib folders of the Python environments dream knows where to
// find: the active virtual or conda environment, the user's, the system's and pyenv's.
func wheelFolders() []string {
	home, _ := os.UserHomeDir()
	prefixes := []string{os.Getenv("VIRTUAL_ENV"), os.Getenv("CONDA_PREFIX"), filepath.Join(home, ".local"), "/usr/local", "/usr"}
	if pyenv, err := filepath.Glob(filepath.Join(home, ".pyenv", "versions", "*")); err == nil {
		prefixes = append(prefixes, pyenv...)
	}
	var dirs []string
	for _, prefix := range prefixes {
		if prefix == "" {
			continue
		}
		for _, packages := range []string{"site-packages", "dist-packages"} {
			found, _ := filepath.Glob(filepath.Join(prefix, "lib", "python3*", packages, "nvidia", "*", "lib"))
			dirs = append(dirs, found...)
		}
	}
	return dirs
}

// loaderCache reads the loader's cache of library names and paths from `ldconfig -p`; empty
// when ldconfig cannot be run.
func loaderCache() map[string][]string {
	cache := map[string][]string{}
	ldconfig, err := exec.LookPath("ldconfig")
	if err != nil {
		ldconfig = "/sbin/ldconfig" // outside root's PATH on Debian
	}
	out, err := exec.Command(ldconfig, "-p").Output()
	if err != nil {
		return cache
	}
	return parseLoaderCache(out)
}

// parseLoaderCache reads lines of `ldconfig -p` such as
// "\tlibz.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libz.so.1".
func parseLoaderCache(out []byte) map[string][]string {
	cache := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		left, path, ok := strings.Cut(sc.Text(), " => ")
		fields := strings.Fields(left)
		if !ok || len(fields) == 0 {
			continue
		}
		cache[fields[0]] = append(cache[fields[0]], strings.TrimSpace(path))
	}
	return cache
}

// missingCUDALibraries says, in one line for the user, which libraries the CUDA provider at
// path needs that the loader will not find, and what to do; "" when it finds them all.
func missingCUDALibraries(provider string) string {
	needs, err := cudaNeeds(provider)
	if err != nil {
		return err.Error()
	}
	var missing, inWheels []neededLibrary
	var wheelDirs []string
	for _, lib := range needs {
		switch {
		case lib.Wheel != "":
			inWheels = append(inWheels, lib)
			if !slices.Contains(wheelDirs, lib.Wheel) {
				wheelDirs = append(wheelDirs, lib.Wheel)
			}
		case lib.Path == "":
			missing = append(missing, lib)
		}
	}
	var parts []string
	if len(missing) > 0 {
		parts = append(parts, fmt.Sprintf("%s needs %s, which the loader cannot find: install %s, or add the folder that has them to LD_LIBRARY_PATH",
			filepath.Base(provider), namesByPackage(missing), joinNames(packagesOf(missing))))
	}
	if len(inWheels) > 0 {
		parts = append(parts, fmt.Sprintf("%s only in a Python environment, where the loader does not look: add %s to LD_LIBRARY_PATH",
			joinNames(namesOf(inWheels))+isAre(len(inWheels)), strings.Join(wheelDirs, ":")))
	}
	return strings.Join(parts, "; ")
}

// noDriverReason is why --device auto runs on the CPU of a machine without NVIDIA's driver:
// such a machine (a CPU node, a laptop) has no GPU to set up, and the whole list of libraries
// a GPU would need, which --device cuda gives, would fill every log line it starts.
const noDriverReason = "no NVIDIA driver: libcuda.so.1 is not found; --device cuda lists what a GPU needs"

// withoutNVIDIADriver reports whether the CUDA provider that would serve the library at lib
// (beside it, or the installed CUDA build's) cannot find NVIDIA's driver library.
func withoutNVIDIADriver(lib string) bool {
	for _, dir := range []string{filepath.Dir(lib), filepath.Dir(GPULibrary())} {
		provider := filepath.Join(dir, cudaProviderFile)
		if !fileExists(provider) {
			continue
		}
		needs, err := cudaNeeds(provider)
		if err != nil {
			return false
		}
		for _, need := range needs {
			if nvidiaPackage(need.Name) == "the NVIDIA driver" {
				return need.Path == "" && need.Wheel == ""
			}
		}
		return false
	}
	return false
}

// packageOrder is the order in which messages name what to install: the driver first.
var packageOrder = []string{"the NVIDIA driver", "CUDA 13", "cuDNN 9"}

// packagesOf lists what provides libs, in packageOrder.
func packagesOf(libs []neededLibrary) []string {
	var packages []string
	for _, p := range packageOrder {
		for _, lib := range libs {
			if nvidiaPackage(lib.Name) == p {
				packages = append(packages, p)
				break
			}
		}
	}
	return packages
}

// namesByPackage lists libraries grouped by what provides them:
// "libcuda.so.1 (the NVIDIA driver) and libcudart.so.13, libcublas.so.13 (CUDA 13)".
func namesByPackage(libs []neededLibrary) string {
	var groups []string
	for _, p := range packagesOf(libs) {
		var names []string
		for _, lib := range libs {
			if nvidiaPackage(lib.Name) == p {
				names = append(names, lib.Name)
			}
		}
		groups = append(groups, strings.Join(names, ", ")+" ("+p+")")
	}
	return joinNames(groups)
}

func isAre(n int) string {
	if n == 1 {
		return " is"
	}
	return " are"
}

func namesOf(libs []neededLibrary) []string {
	names := make([]string, len(libs))
	for i, lib := range libs {
		names[i] = lib.Name
	}
	return names
}

// joinNames joins "a", "a and b", "a, b and c".
func joinNames(names []string) string {
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
