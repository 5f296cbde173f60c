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
	"slices"
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
var installHint = installHintFor(runtime.GOOS)

// installHintFor is the install hint for goos. dream installs the runtime itself on every OS;
// people who build dream from its source tree on Linux know 'make ort' too.
func installHintFor(goos string) string {
	hint := "run 'dream --install-runtime'"
	if goos == "linux" {
		hint += " (or 'make ort' in dream's source tree)"
	}
	return hint + " to install ONNX Runtime " + WantedVersion + ", or pass --ort-lib PATH"
}

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
// --ort-lib flag, $ONNXRUNTIME_LIB, the project's own install in CacheDir, and the places
// this OS's loader searches (see systemSearch). An explicit flag or variable that names a
// missing file, or a library for another OS or CPU, is an error rather than a fallback, so a
// mistake is not silently replaced by another library. A library for another platform that
// the search finds is passed over, and reported only when nothing else is found.
func FindLibrary(flag string) (string, error) {
	if flag != "" {
		return explicitLibrary(flag, "--ort-lib")
	}
	if env := os.Getenv(EnvLibrary); env != "" {
		return explicitLibrary(env, EnvLibrary)
	}
	own := filepath.Join(CacheDir(), "onnxruntime", WantedVersion, libraryFileName())
	search := systemSearch(runtime.GOOS, os.Getenv, executableDir())
	var mismatch error
	for _, path := range append([]string{own}, search.paths(systemLibraryNames())...) {
		if !fileExists(path) {
			continue
		}
		err := checkPlatform(path)
		if err == nil {
			return path, nil
		}
		if mismatch == nil {
			mismatch = err
		}
	}
	if mismatch != nil {
		return "", fmt.Errorf("%v: %s", mismatch, installHint)
	}
	return "", fmt.Errorf("ONNX Runtime library not found (tried --ort-lib, $%s, %s, %s in %s): %s",
		EnvLibrary, own, joinNames(systemLibraryNames()), search.where, installHint)
}

func explicitLibrary(path, from string) (string, error) {
	if !fileExists(path) {
		return "", fmt.Errorf("ONNX Runtime library %s (from %s) does not exist: %s", path, from, installHint)
	}
	if err := checkPlatform(path); err != nil {
		return "", fmt.Errorf("%v (from %s): %s", err, from, installHint)
	}
	return path, nil
}

// librarySearch is where FindLibrary looks after dream's own install: folders in order, and
// how messages name them.
type librarySearch struct {
	dirs  []string
	where string
}

// systemSearch lists the folders goos's loader would search for a library dream names without
// a path; FindLibrary looks in them itself because it wants a path to check and to report.
// getenv and exeDir (the folder of dream's executable) are parameters so that a test on one OS
// can check another's list.
func systemSearch(goos string, getenv func(string) string, exeDir string) librarySearch {
	var s librarySearch
	switch goos {
	case "windows":
		// LoadLibrary searches the executable's folder first and %PATH% last; a release
		// archive unpacks onnxruntime.dll beside dream.exe.
		s.dirs = append([]string{exeDir}, splitPathList(goos, getenv("PATH"))...)
		s.where = "dream's folder and %PATH%"
	case "darwin":
		s.dirs = append(splitPathList(goos, getenv("DYLD_LIBRARY_PATH")), exeDir, "/opt/homebrew/lib", "/usr/local/lib")
		s.where = "$DYLD_LIBRARY_PATH, dream's folder, /opt/homebrew/lib and /usr/local/lib"
	default:
		s.dirs = append(splitPathList(goos, getenv("LD_LIBRARY_PATH")), "/usr/local/lib", "/usr/lib", "/usr/lib64",
			"/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu")
		s.where = "$LD_LIBRARY_PATH and the system's library folders"
	}
	s.dirs = slices.DeleteFunc(s.dirs, func(dir string) bool { return dir == "" })
	return s
}

// paths are the files the search looks at, every folder for the first name, then the next.
func (s librarySearch) paths(names []string) []string {
	var paths []string
	for _, name := range names {
		for _, dir := range s.dirs {
			paths = append(paths, filepath.Join(dir, name))
		}
	}
	return paths
}

// splitPathList splits a list of folders as goos writes it: `C:\a;"C:\b c"` on Windows, where
// a folder may be quoted, and "/a:/b" elsewhere. filepath.SplitList knows only the host's form.
func splitPathList(goos, list string) []string {
	if list == "" {
		return nil
	}
	if goos != "windows" {
		return strings.Split(list, ":")
	}
	var dirs []string
	var dir strings.Builder
	quoted := false
	for _, c := range list + ";" {
		switch {
		case c == '"':
			quoted = !quoted // a quoted folder may hold a ';'
		case c == ';' && !quoted:
			dirs = append(dirs, dir.String())
			dir.Reset()
		default:
			dir.WriteRune(c)
		}
	}
	return dirs
}

// executableDir is the folder of the running dream with links resolved: a link to the binary
// (Homebrew puts one in its bin folder) is not where its library lies. "" when unknown.
func executableDir() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	return filepath.Dir(exe)
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
