package ncnn

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"dream/internal/imagecmp"
	"dream/internal/testenv"
	"dream/internal/upscale"
)

// The PyTorch reference outputs match a correct untiled ×4 run within 1/255, so an exact
// import must land at the same place as the native ONNX exports.
func TestRealModelsMatchReference(t *testing.T) {
	cases := []struct {
		model, reference string
		params           int64 // 0: not pinned
	}{
		{"realesrgan-x4plus", "coffee_crop128.x4plus.png", 16_697_987},
		{"realesrgan-x4fast", "coffee_crop128.general-x4v3.png", 1_213_296},
	}
	src := testenv.SharedImage(t, "images", "coffee_crop128.png")
	for _, c := range cases {
		t.Run(c.model, func(t *testing.T) {
			param, bin := upscaylPair(t, c.model)
			start := time.Now()
			m, stats, err := Import(param, bin)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d parameters, %d layers, imported in %v", c.model, stats.Params, stats.Layers, time.Since(start))
			if c.params != 0 && stats.Params != c.params {
				t.Errorf("parameters = %d, want %d", stats.Params, c.params)
			}
			onnxPath := filepath.Join(t.TempDir(), c.model+".onnx")
			if err := m.WriteFile(onnxPath); err != nil {
				t.Fatal(err)
			}
			up, err := upscale.Load(context.Background(), testRuntime, onnxPath)
			if err != nil {
				t.Fatal(err)
			}
			out, err := up.Upscale(context.Background(), src, upscale.Options{Factor: 4, Strength: 1})
			if err != nil {
				t.Fatal(err)
			}
			d, err := imagecmp.Compare(out, testenv.SharedImage(t, "reference", c.reference))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s vs %s: %v", c.model, c.reference, d)
			if d.PSNR < 50 {
				t.Errorf("want PSNR ≥ 50 dB, got %v", d)
			}
		})
	}
}

func TestImportFileWritesONNX(t *testing.T) {
	param, bin := upscaylPair(t, "realesrgan-x4fast")
	out := filepath.Join(t.TempDir(), "x4fast.onnx")
	if err := ImportFile(param, bin, out); err != nil {
		t.Fatal(err)
	}
	if _, err := upscale.Load(context.Background(), testRuntime, out); err != nil {
		t.Fatal(err)
	}
}
