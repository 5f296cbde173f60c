package upscale

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"dream/internal/imagecmp"
	"dream/internal/imageio"
	"dream/internal/onnxpb"
)

// TestFloat16X4plus converts the shared x4plus to float16 as cmd/dream-fp16 does and upscales
// a 128² photo crop ×4 with it, against the float32 model: as dream opens it on CPU (widened
// back to float32, on the half-precision weights), and as a GPU gets it (the float16 graph
// between two casts, whose float16 nodes ONNX Runtime's CPU provider runs between casts of its
// own). Both must stay within 40 dB of the float32 result.
func TestFloat16X4plus(t *testing.T) {
	if testing.Short() {
		t.Skip("three x4plus runs take some 10 s")
	}
	fp32Path := filepath.Join(shared, "models", "realesrgan-x4plus.onnx")
	fp32, err := os.ReadFile(fp32Path)
	if err != nil {
		t.Fatal(err)
	}
	half, err := onnxpb.Retype(fp32, onnxpb.Float, onnxpb.Float16)
	if err != nil {
		t.Fatal(err)
	}
	wrapped, err := onnxpb.CastIO(half, onnxpb.Float16, onnxpb.Float)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	halfPath := filepath.Join(dir, "realesrgan-x4plus.fp16.onnx")
	wrappedPath := filepath.Join(dir, "realesrgan-x4plus.fp16-casts.onnx")
	for path, data := range map[string][]byte{halfPath: half, wrappedPath: wrapped} {
		if err := onnxpb.WriteModelFile(path, data); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("x4plus: %d bytes as float32, %d as float16", len(fp32), len(half))

	src := sharedImage(t, "images", "coffee_crop128.png")
	results := map[string]*imageio.Image{}
	upscale := func(path string) (*Model, time.Duration) {
		m, err := Load(context.Background(), testRuntime, path)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		out, err := m.Upscale(context.Background(), src, Options{Factor: 4, Strength: 1})
		if err != nil {
			t.Fatal(err)
		}
		results[path] = out
		return m, time.Since(start)
	}
	_, d32 := upscale(fp32Path)
	t.Logf("float32: %.1f s", d32.Seconds())
	for _, c := range []struct{ name, path string }{{"float16 widened (dream on CPU)", halfPath},
		{"float16 between casts (as on a GPU)", wrappedPath}} {
		m, took := upscale(c.path)
		d, err := imagecmp.Compare(results[c.path], results[fp32Path])
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s, on %s: %v, %.1f s", c.name, m.Session.Provider, d, took.Seconds())
		if d.PSNR < 40 {
			t.Errorf("%s: %v against float32, want ≥ 40 dB", c.name, d)
		}
	}
}
