package ort

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// touch creates an empty file (FindLibrary only checks that the file exists) and returns its path.
func touch(t *testing.T, path string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	// Longer than an ELF header, so the loader's complaint is the one a misnamed text file gets.
	text := strings.Repeat("This is a text file, not a shared library.\n", 4)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// installHintParts are what every "not found" message must tell: the ways to get a library.
var installHintParts = []string{"run 'dream --install-runtime'", "to install ONNX Runtime " + WantedVersion,
	"or pass --ort-lib PATH"}

func TestFindLibraryOrder(t *testing.T) {
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	cached := touch(t, filepath.Join(cache, "onnxruntime", WantedVersion, libraryFileName()))
	flagLib := touch(t, filepath.Join(dir, "flag", "libonnxruntime.so"))
	envLib := touch(t, filepath.Join(dir, "env", "libonnxruntime.so"))
	missing := filepath.Join(dir, "nowhere", "libonnxruntime.so")

	tests := []struct {
		name      string
		flag, env string
		want      string   // the path found, when no error is expected
		wantErr   []string // parts of the error, when one is expected
	}{
		{name: "flag beats env and cache", flag: flagLib, env: envLib, want: flagLib},
		{name: "env beats cache", env: envLib, want: envLib},
		{name: "cache install when nothing is given", want: cached},
		// An explicit path that is wrong is an error, not a silent fallback to another library.
		{name: "missing flag path", flag: missing, env: envLib,
			wantErr: append([]string{missing, "(from --ort-lib) does not exist"}, installHintParts...)},
		{name: "missing env path", env: missing,
			wantErr: append([]string{missing, "(from " + EnvLibrary + ") does not exist"}, installHintParts...)},
		{name: "flag naming a directory", flag: dir,
			wantErr: []string{dir + " (from --ort-lib) does not exist"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DREAM_CACHE", cache)
			t.Setenv(EnvLibrary, tt.env)
			got, err := FindLibrary(tt.flag)
			if tt.wantErr == nil {
				if err != nil || got != tt.want {
					t.Fatalf("FindLibrary(%q) = %q, %v; want %q", tt.flag, got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("FindLibrary(%q) = %q, want an error", tt.flag, got)
			}
			for _, part := range tt.wantErr {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not contain %q", err, part)
				}
			}
		})
	}
}

func TestFindLibraryNothingFound(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("DREAM_CACHE", cache)
	t.Setenv(EnvLibrary, "")
	t.Setenv(searchPathVariable(), t.TempDir())
	search := systemSearch(runtime.GOOS, os.Getenv, executableDir())
	for _, path := range search.paths(systemLibraryNames()) {
		if fileExists(path) {
			t.Skipf("this system has ONNX Runtime at %s, so the search cannot come up empty", path)
		}
	}

	got, err := FindLibrary("")
	if err == nil {
		t.Fatalf("FindLibrary found %q in an empty cache", got)
	}
	msg := err.Error()
	want := []string{
		"ONNX Runtime library not found",
		"--ort-lib", "$" + EnvLibrary,
		filepath.Join(cache, "onnxruntime", WantedVersion, libraryFileName()),
		joinNames(systemLibraryNames()) + " in " + search.where,
	}
	want = append(want, installHintParts...)
	for _, part := range want {
		if !strings.Contains(msg, part) {
			t.Errorf("error does not mention %q:\n%s", part, msg)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("error spans several lines:\n%s", msg)
	}
}

// searchPathVariable is the variable of folders the loader of this OS searches.
func searchPathVariable() string {
	switch runtime.GOOS {
	case "windows":
		return "PATH"
	case "darwin":
		return "DYLD_LIBRARY_PATH"
	}
	return "LD_LIBRARY_PATH"
}

// TestFindLibraryForeign puts a library for another CPU where FindLibrary looks: the search
// passes it over for a library that fits, reports it when there is none, and refuses it as
// --ort-lib. The libraries are headers only: FindLibrary loads nothing.
func TestFindLibraryForeign(t *testing.T) {
	cache := t.TempDir()
	foreign := writeFile(t, filepath.Join(cache, "onnxruntime", WantedVersion, libraryFileName()), headerFor(foreignPlatform()))
	wantErr := foreign + " is a library for " + foreignPlatform().String() + "; this dream is " + hostPlatform().String()
	t.Setenv("DREAM_CACHE", cache)
	t.Setenv(EnvLibrary, "")

	system := t.TempDir()
	t.Setenv(searchPathVariable(), system)
	if got, err := FindLibrary(""); err == nil || !strings.Contains(err.Error(), wantErr) {
		t.Errorf("only a foreign library: FindLibrary = %q, %v; want %q", got, err, wantErr)
	}
	fits := writeFile(t, filepath.Join(system, systemLibraryNames()[0]), headerFor(hostPlatform()))
	if got, err := FindLibrary(""); err != nil || got != fits {
		t.Errorf("a foreign library, then one that fits: FindLibrary = %q, %v; want %q", got, err, fits)
	}
	_, err := FindLibrary(foreign)
	for _, part := range append([]string{wantErr + " (from --ort-lib)"}, installHintParts...) {
		if err == nil || !strings.Contains(err.Error(), part) {
			t.Errorf("a foreign --ort-lib: error %v does not contain %q", err, part)
		}
	}
}

// TestSystemSearch checks each OS's list of folders, from Linux as well as on that OS.
func TestSystemSearch(t *testing.T) {
	env := map[string]string{
		"LD_LIBRARY_PATH":   "/opt/ort/lib::/home/me/lib",
		"DYLD_LIBRARY_PATH": "/Users/me/ort",
		"PATH":              `C:\Windows\system32;"C:\Program Files\ORT;1";;D:\tools`,
	}
	tests := []struct {
		goos, exeDir string
		want         []string
		where        string
	}{
		{"linux", "/home/me/dream", []string{"/opt/ort/lib", "/home/me/lib", "/usr/local/lib", "/usr/lib", "/usr/lib64",
			"/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu"}, "$LD_LIBRARY_PATH and the system's library folders"},
		{"darwin", "/Applications/dream", []string{"/Users/me/ort", "/Applications/dream", "/opt/homebrew/lib", "/usr/local/lib"},
			"$DYLD_LIBRARY_PATH, dream's folder, /opt/homebrew/lib and /usr/local/lib"},
		{"windows", `C:\dream`, []string{`C:\dream`, `C:\Windows\system32`, `C:\Program Files\ORT;1`, `D:\tools`},
			"dream's folder and %PATH%"},
		// Where the executable's folder is unknown, the search goes on without it.
		{"windows", "", []string{`C:\Windows\system32`, `C:\Program Files\ORT;1`, `D:\tools`}, "dream's folder and %PATH%"},
	}
	for _, tt := range tests {
		got := systemSearch(tt.goos, func(k string) string { return env[k] }, tt.exeDir)
		if strings.Join(got.dirs, "|") != strings.Join(tt.want, "|") || got.where != tt.where {
			t.Errorf("%s: %q in %q, want %q in %q", tt.goos, got.dirs, got.where, tt.want, tt.where)
		}
	}
}

// TestInstallHint checks that the hint names what each OS's user can run: 'make ort' only
// where people build from the source tree.
func TestInstallHint(t *testing.T) {
	for _, goos := range []string{"linux", "darwin", "windows"} {
		hint := installHintFor(goos)
		for _, part := range installHintParts {
			if !strings.Contains(hint, part) {
				t.Errorf("%s: %q lacks %q", goos, hint, part)
			}
		}
		if got := strings.Contains(hint, "make ort"); got != (goos == "linux") {
			t.Errorf("%s: %q mentions 'make ort': %v", goos, hint, got)
		}
	}
}

func TestCacheDir(t *testing.T) {
	t.Run("DREAM_CACHE", func(t *testing.T) {
		t.Setenv("DREAM_CACHE", "/somewhere/else")
		if got := CacheDir(); got != "/somewhere/else" {
			t.Errorf("CacheDir() = %q", got)
		}
	})
	t.Run("user cache", func(t *testing.T) {
		t.Setenv("DREAM_CACHE", "")
		base, err := os.UserCacheDir()
		if err != nil {
			t.Skip("no user cache directory here:", err)
		}
		if got, want := CacheDir(), filepath.Join(base, "dream"); got != want {
			t.Errorf("CacheDir() = %q, want %q", got, want)
		}
	})
}

func TestVersionLess(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"1.20.1", "1.24.0", true},
		{"1.23.2", "1.24.0", true},
		{"1.24.0", "1.24.0", false},
		{"1.24.1", "1.24.0", false},
		{"1.30.0", "1.24.0", false},
		{"2.0.0", "1.24.0", false},
		{"1.24.0", "1.24.1", true},
		// Numeric, not string, comparison: "1.9" sorts after "1.24" as text.
		{"1.9.0", "1.24.0", true},
		{"1.24.0", "1.9.0", false},
		// A missing patch number counts as 0; a suffix is ignored.
		{"1.24", "1.24.0", false},
		{"1.23", "1.24.0", true},
		{"1.24.0-dev", "1.24.0", false},
		{"1.23.0-rc1", "1.24.0", true},
	}
	for _, tt := range tests {
		if got := versionLess(tt.a, tt.b); got != tt.want {
			t.Errorf("versionLess(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestCheckVersion(t *testing.T) {
	tests := []struct {
		found  string
		tooOld bool
	}{
		{"", false}, // no probe on this platform: let ONNX Runtime judge
		{"1.20.1", true},
		{"1.23.2", true},
		{MinVersion, false},
		{WantedVersion, false},
	}
	for _, tt := range tests {
		err := checkVersion("/x/libonnxruntime.so", tt.found)
		if got := errors.Is(err, ErrTooOld); got != tt.tooOld {
			t.Errorf("checkVersion(%q) = %v, want too old: %v", tt.found, err, tt.tooOld)
		}
		if tt.tooOld {
			for _, part := range append([]string{"/x/libonnxruntime.so", "is version " + tt.found,
				"needs " + MinVersion + " or newer"}, installHintParts...) {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("checkVersion(%q) error %q does not contain %q", tt.found, err, part)
				}
			}
		} else if err != nil {
			t.Errorf("checkVersion(%q) = %v", tt.found, err)
		}
	}
}

// TestLibraryVersion probes real libraries. On Windows it needs onnxruntime.dll where
// goodLibrary looks: under Wine, DREAM_CACHE set to a folder holding onnxruntime/1.30.0/.
func TestLibraryVersion(t *testing.T) {
	text := touch(t, filepath.Join(t.TempDir(), "libonnxruntime.so"))
	tests := []struct {
		name    string
		path    string
		want    string
		wantErr []string
	}{
		{name: "current release", path: goodLibrary(t), want: WantedVersion},
		// dlopen fails: the error names the file and carries the loader's reason.
		{name: "text file", path: text, wantErr: []string{"cannot load ONNX Runtime library " + text}},
		{name: "missing file", path: text + ".gone", wantErr: []string{"cannot load ONNX Runtime library " + text + ".gone"}},
	}
	// A real shared library that is not ONNX Runtime; the loader finds it by its name.
	other := map[string]string{"linux": "libm.so.6", "windows": "kernel32.dll"}[runtime.GOOS]
	if other != "" {
		tests = append(tests, struct {
			name    string
			path    string
			want    string
			wantErr []string
		}{name: "another library", path: other,
			wantErr: append([]string{other + " is not an ONNX Runtime library (it has no OrtGetApiBase)"}, installHintParts...)})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := libraryVersion(tt.path)
			if tt.wantErr == nil {
				if err != nil || got != tt.want {
					t.Fatalf("libraryVersion(%s) = %q, %v; want %q", tt.path, got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("libraryVersion(%s) = %q, want an error", tt.path, got)
			}
			for _, part := range tt.wantErr {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not contain %q", err, part)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans several lines: %q", err)
			}
		})
	}
}

// TestOpenFailures runs each Open in a fresh process (see TestHelperProcess): a failed Open
// may leave a wrong library loaded, and a successful one is cached for the process.
func TestOpenFailures(t *testing.T) {
	text := touch(t, filepath.Join(t.TempDir(), "notalib.so"))
	tests := []struct {
		name    string
		opts    func(t *testing.T) Options
		tooOld  bool
		wantErr []string
	}{
		{
			name:   "library too old",
			opts:   func(t *testing.T) Options { return Options{Library: oldLibrary(t), Device: "cpu"} },
			tooOld: true,
			wantErr: append([]string{"libonnxruntime.so.1.20.1 is version 1.20.1", "needs 1.24.0 or newer",
				"install ONNX Runtime " + WantedVersion}, installHintParts...),
		},
		{
			name:    "text file as --ort-lib",
			opts:    func(t *testing.T) Options { return Options{Library: text, Device: "cpu"} },
			wantErr: []string{"cannot load ONNX Runtime library " + text + ": "},
		},
		{
			// The device is checked before any library is loaded.
			name:    "unknown device",
			opts:    func(t *testing.T) Options { return Options{Library: goodLibrary(t), Device: "bogus"} },
			wantErr: []string{`unknown device "bogus": use auto, cpu, cuda, cuda:N (the GPU numbered N) or coreml`},
		},
		{
			name: "current release",
			opts: func(t *testing.T) Options { return Options{Library: goodLibrary(t), Device: "cpu"} },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := openInSubprocess(t, tt.opts(t))
			if res.Err != "" {
				t.Logf("Open: %s", res.Err)
			}
			if tt.wantErr == nil {
				if res.Err != "" || res.Version != WantedVersion {
					t.Fatalf("Open failed or got version %q: %s", res.Version, res.Err)
				}
				return
			}
			if res.Err == "" {
				t.Fatal("Open succeeded, want an error")
			}
			if res.TooOld != tt.tooOld {
				t.Errorf("errors.Is(err, ErrTooOld) = %v, want %v", res.TooOld, tt.tooOld)
			}
			for _, part := range tt.wantErr {
				if !strings.Contains(res.Err, part) {
					t.Errorf("error does not contain %q:\n%s", part, res.Err)
				}
			}
			if strings.Contains(res.Err, "\n") {
				t.Errorf("error spans several lines:\n%s", res.Err)
			}
		})
	}
}

func TestOpenCaches(t *testing.T) {
	rt := testRuntime(t)
	if rt.Version != WantedVersion {
		t.Errorf("Version = %q, want %q", rt.Version, WantedVersion)
	}
	// ONNX Runtime has one environment per process: a second Open, whatever it asks for,
	// returns the first Runtime rather than loading another library.
	again, err := Open(Options{Library: "/does/not/matter", Device: "cuda"})
	if err != nil || again != rt {
		t.Fatalf("second Open = %p, %v; want the first Runtime %p", again, err, rt)
	}
}
