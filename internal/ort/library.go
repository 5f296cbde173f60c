// Package ort is dream's layer over ONNX Runtime: it finds the shared library, initialises the
// environment once, opens one cached session per model file, checks each model's inputs and
// outputs against what the caller needs, picks an execution provider with a fallback to CPU,
// and runs models so that a cancelled context stops them.
package ort

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// WantedVersion is the ONNX Runtime release the install script fetches.
const WantedVersion = "1.30.0"

// MinVersion is the oldest library that serves the C API version onnxruntime_go v1.27.0 asks
// for (API 24, first shipped in ONNX Runtime 1.24).
const MinVersion = "1.24.0"

// EnvLibrary names the environment variable that points at the shared library.
const EnvLibrary = "ONNXRUNTIME_LIB"

// installHint tells people how to get the library; every "not found" message ends with it.
const installHint = "run 'make ort' (or scripts/install_onnxruntime) to install ONNX Runtime " + WantedVersion +
	", or pass --ort-lib PATH"

// CacheDir is where dream keeps what it downloads: $DREAM_CACHE, else ~/.cache/dream.
func CacheDir() string {
	if dir := os.Getenv("DREAM_CACHE"); dir != "" {
		return dir
	}
	if dir, err := os.UserCacheDir(); err == nil {
		return filepath.Join(dir, "dream")
	}
	return filepath.Join(os.TempDir(), "dream-cache")
}

// libraryFileName is the library's name inside onnxruntime-node for this OS.
func libraryFileName() string {
	switch runtime.GOOS {
	case "darwin":
		return "libonnxruntime." + WantedVersion + ".dylib"
	case "windows":
		return "onnxruntime.dll"
	default:
		return "libonnxruntime.so.1"
	}
}

// systemLibraryNames are the names a system-wide install uses; the dynamic loader searches
// its usual directories for them.
func systemLibraryNames() []string {
	switch runtime.GOOS {
	case "darwin":
		return []string{"libonnxruntime.dylib"}
	case "windows":
		return []string{"onnxruntime.dll"}
	default:
		return []string{"libonnxruntime.so", "libonnxruntime.so.1"}
	}
}

// FindLibrary returns the path of the ONNX Runtime library to load. It tries, in order, the
// --ort-lib flag, $ONNXRUNTIME_LIB, the project's own install in CacheDir, and the system.
// An explicit flag or variable that names a missing file is an error rather than a fallback,
// so a typo is not silently replaced by another library.
func FindLibrary(flag string) (string, error) {
	if flag != "" {
		return explicitLibrary(flag, "--ort-lib")
	}
	if env := os.Getenv(EnvLibrary); env != "" {
		return explicitLibrary(env, EnvLibrary)
	}
	tried := []string{}
	own := filepath.Join(CacheDir(), "onnxruntime", WantedVersion, libraryFileName())
	if fileExists(own) {
		return own, nil
	}
	tried = append(tried, own)
	for _, name := range systemLibraryNames() {
		if path, ok := findOnSystem(name); ok {
			return path, nil
		}
		tried = append(tried, name+" in the system library path")
	}
	return "", fmt.Errorf("ONNX Runtime library not found (tried --ort-lib, $%s, %s): %s",
		EnvLibrary, strings.Join(tried, ", "), installHint)
}

func explicitLibrary(path, from string) (string, error) {
	if !fileExists(path) {
		return "", fmt.Errorf("ONNX Runtime library %s (from %s) does not exist: %s", path, from, installHint)
	}
	return path, nil
}

// findOnSystem looks for a library name in the directories the dynamic loader searches by
// default; the loader would find it there too, but we want a path to report.
func findOnSystem(name string) (string, bool) {
	dirs := filepath.SplitList(os.Getenv("LD_LIBRARY_PATH"))
	dirs = append(dirs, "/usr/local/lib", "/usr/lib", "/usr/lib64", "/usr/lib/x86_64-linux-gnu",
		"/usr/lib/aarch64-linux-gnu", "/opt/homebrew/lib")
	for _, dir := range dirs {
		if dir == "" {
			continue
		}
		path := filepath.Join(dir, name)
		if fileExists(path) {
			return path, true
		}
	}
	return "", false
}

func fileExists(path string) bool {
	info, err := os.Stat(path)
	return err == nil && !info.IsDir()
}

// ErrTooOld reports a library older than MinVersion.
var ErrTooOld = errors.New("ONNX Runtime library too old")

// checkVersion refuses a library older than MinVersion with a message that names both versions.
func checkVersion(path, found string) error {
	if found == "" {
		return nil // the probe is not available on this platform; ORT itself will complain
	}
	if versionLess(found, MinVersion) {
		return fmt.Errorf("%w: %s is version %s, dream needs %s or newer: %s",
			ErrTooOld, path, found, MinVersion, installHint)
	}
	return nil
}

// versionLess compares dotted version numbers ("1.20.1" < "1.24.0"); a suffix such as
// "-dev" is ignored.
func versionLess(a, b string) bool {
	pa, pb := versionParts(a), versionParts(b)
	for i := 0; i < 3; i++ {
		if pa[i] != pb[i] {
			return pa[i] < pb[i]
		}
	}
	return false
}

func versionParts(v string) [3]int {
	var parts [3]int
	v, _, _ = strings.Cut(v, "-")
	for i, field := range strings.SplitN(v, ".", 3) {
		n, _ := strconv.Atoi(field)
		parts[i] = n
	}
	return parts
}
