package upscale

import (
	"context"
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

var testRuntime *ort.Runtime

func TestMain(m *testing.M) {
	rt, err := ort.Open(ort.Options{Device: "cpu"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "upscale tests need ONNX Runtime:", err)
		os.Exit(1)
	}
	testRuntime = rt
	os.Exit(m.Run())
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
