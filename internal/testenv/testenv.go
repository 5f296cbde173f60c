// Package testenv gives tests the real parts they run on: the ONNX Runtime, and the shared
// folder of weights, photos and reference outputs that sits beside the repository in every
// checkout and in CI. Only tests import it.
package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"dream/internal/imageio"
	"dream/internal/ort"
)

// Shared returns a path inside ../shared, e.g. Shared("images", "astronaut.png").
func Shared(elem ...string) string {
	_, file, _, _ := runtime.Caller(0) // this file: <repo>/internal/testenv/testenv.go
	repo := filepath.Join(filepath.Dir(file), "..", "..")
	return filepath.Join(append([]string{repo, "..", "shared"}, elem...)...)
}

// SharedImage loads an image from the shared folder.
func SharedImage(t testing.TB, elem ...string) *imageio.Image {
	t.Helper()
	img, err := imageio.Load(Shared(elem...))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// Run opens ONNX Runtime for a test binary, on CPU so results do not depend on the machine,
// hands it to use, and runs the tests. A missing library ends the binary with the reason:
// the tests run the real runtime or not at all.
func Run(m *testing.M, use func(*ort.Runtime)) {
	rt, err := ort.Open(ort.Options{Device: "cpu"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "these tests need ONNX Runtime:", err)
		os.Exit(1)
	}
	use(rt)
	os.Exit(m.Run())
}

// CopyFile copies the file from to the path to.
func CopyFile(t testing.TB, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err == nil {
		err = os.WriteFile(to, data, 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
}
