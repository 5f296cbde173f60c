package runtimeinstall

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"dream/internal/ort"
)

// scriptPin is one "VERSION/OS/ARCH) member=… sum=…" case of scripts/install_onnxruntime.
var scriptPin = regexp.MustCompile(`(?m)^\s*([0-9.]+)/(\w+)/(\w+)\)\s+member=(\S+)\s+sum=([0-9a-f]{64})\s*;;`)

// scriptPlatform is Go's name for the script's uname-derived OS/ARCH.
var scriptPlatform = map[string]string{
	"linux/x64": "linux/amd64", "linux/arm64": "linux/arm64",
	"darwin/x64": "darwin/amd64", "darwin/arm64": "darwin/arm64",
	"win32/x64": "windows/amd64", "win32/arm64": "windows/arm64",
}

// The install script and the Go table pin the same members with the same sums for every
// platform both know, so neither can be updated without the other.
func TestPinsMatchTheScript(t *testing.T) {
	script, err := os.ReadFile(filepath.Join("..", "..", "scripts", "install_onnxruntime"))
	if err != nil {
		t.Fatal(err)
	}
	compared := 0
	for _, m := range scriptPin.FindAllStringSubmatch(string(script), -1) {
		version, platform, member, sum := m[1], scriptPlatform[m[2]+"/"+m[3]], m[4], m[5]
		if version != ONNXRuntimeNode.Version {
			continue // another release, for the tests of older libraries
		}
		if platform == "" {
			t.Errorf("the script pins %s/%s, which this test cannot name in Go's terms", m[2], m[3])
			continue
		}
		lib, ok := ONNXRuntimeNode.Libraries[platform]
		if !ok {
			t.Errorf("the script installs %s for %s, the Go table has no library for it", member, platform)
			continue
		}
		if lib.Member != member || lib.SHA256 != sum {
			t.Errorf("%s: the script pins %s %s, the Go table %s %s", platform, member, sum, lib.Member, lib.SHA256)
		}
		compared++
	}
	if compared < 5 {
		t.Errorf("compared %d platforms; the script pins linux/x64, linux/arm64, darwin/arm64, win32/x64 and win32/arm64 for %s: has its layout changed?",
			compared, ONNXRuntimeNode.Version)
	}
}

// The package is the ONNX Runtime release dream wants, and installs into the folder where
// ort.FindLibrary looks for it.
func TestPackageIsTheWantedRelease(t *testing.T) {
	if ONNXRuntimeNode.Version != ort.WantedVersion {
		t.Errorf("the installer fetches onnxruntime-node %s, dream wants ONNX Runtime %s", ONNXRuntimeNode.Version, ort.WantedVersion)
	}
	want := map[string]string{"linux": "libonnxruntime.so.1", "darwin": "libonnxruntime." + ort.WantedVersion + ".dylib",
		"windows": "onnxruntime.dll"}
	for platform, lib := range ONNXRuntimeNode.Libraries {
		goos, _, _ := strings.Cut(platform, "/")
		if lib.FileName() != want[goos] {
			t.Errorf("%s installs as %s, want %s", platform, lib.FileName(), want[goos])
		}
	}
}
