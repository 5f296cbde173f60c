package upscale

import (
	"context"
	"path/filepath"
	"testing"

	"dream/internal/imageio"
	"dream/internal/ort"
	"dream/internal/testenv"
)

// shared is the project's folder of real weights, photos and reference outputs.
var shared = testenv.Shared()

var testRuntime *ort.Runtime

func TestMain(m *testing.M) {
	testenv.Run(m, func(rt *ort.Runtime) { testRuntime = rt })
}

// sharedModel loads one of the real Real-ESRGAN models.
func sharedModel(t testing.TB, name string) *Model {
	t.Helper()
	m, err := Load(context.Background(), testRuntime, filepath.Join(shared, "models", name))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func sharedImage(t testing.TB, dir, name string) *imageio.Image {
	t.Helper()
	img, err := imageio.Load(filepath.Join(shared, dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return img
}
