package face

// The face package's tests share one ONNX Runtime (Open keeps its first options for the whole
// process) and the project's real models and photos in ../../../shared.

import (
	"testing"

	"dream/internal/imageio"
	"dream/internal/ort"
	"dream/internal/testenv"
)

// testRuntime is the process's ONNX Runtime, CPU only so results do not depend on the machine.
var testRuntime *ort.Runtime

func TestMain(m *testing.M) {
	testenv.Run(m, func(rt *ort.Runtime) { testRuntime = rt })
}

// sharedImage loads a file from a folder of ../../../shared, such as ("images", "astronaut.png").
func sharedImage(t testing.TB, dir, name string) *imageio.Image {
	t.Helper()
	return testenv.SharedImage(t, dir, name)
}

// sharedModelPath is the path of one of the real models in ../../../shared/models.
func sharedModelPath(name string) string {
	return testenv.Shared("models", name)
}
