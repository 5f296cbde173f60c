package face

// The face package's tests share one ONNX Runtime (Open keeps its first options for the whole
// process) and the project's real models and photos in ../../../shared.

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"dream/internal/imageio"
	"dream/internal/ort"
)

// shared is the project's folder of real weights, photos and reference outputs, beside the
// repository in every checkout and in CI.
var shared = filepath.Join("..", "..", "..", "shared")

// testRuntime is the process's ONNX Runtime, CPU only so results do not depend on the machine.
var testRuntime *ort.Runtime

func TestMain(m *testing.M) {
	rt, err := ort.Open(ort.Options{Device: "cpu"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "face tests need ONNX Runtime:", err)
		os.Exit(1)
	}
	testRuntime = rt
	os.Exit(m.Run())
}

// sharedImage loads a file from a folder of ../../../shared, such as ("images", "astronaut.png").
func sharedImage(t testing.TB, dir, name string) *imageio.Image {
	t.Helper()
	img, err := imageio.Load(filepath.Join(shared, dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// sharedModelPath is the path of one of the real models in ../../../shared/models.
func sharedModelPath(name string) string {
	return filepath.Join(shared, "models", name)
}
