package upscale

import (
	"context"
	"testing"

	"dream/internal/imagecmp"
)

// The PyTorch reference outputs match a correct untiled ×4 run at strength 1 within 1/255.
func TestParityWithReference(t *testing.T) {
	cases := []struct{ model, reference string }{
		{"realesrgan-x4plus.onnx", "coffee_crop128.x4plus.png"},
		{"realesr-general-x4v3.onnx", "coffee_crop128.general-x4v3.png"},
	}
	src := sharedImage(t, "images", "coffee_crop128.png")
	for _, c := range cases {
		t.Run(c.model, func(t *testing.T) {
			m := sharedModel(t, c.model)
			out, err := m.Upscale(context.Background(), src, Options{Factor: 4, Strength: 1})
			if err != nil {
				t.Fatal(err)
			}
			d, err := imagecmp.Compare(out, sharedImage(t, "reference", c.reference))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s vs %s: %v", c.model, c.reference, d)
			if d.PSNR < 50 || d.MaxAbs > 2.0/255 {
				t.Errorf("want PSNR ≥ 50 dB and max abs ≤ 2/255, got %v", d)
			}
		})
	}
}
