package upscale

import (
	"context"
	"testing"

	"dream/internal/imagecmp"
	"dream/internal/imageio"
)

// Tiles must be indistinguishable from one whole-image run: a 256² crop of a photo cut into
// 2×2 tiles at each model's own pad stays within 4/255 of the whole run everywhere, and ≥ 50 dB
// over the image. (Model.Pad's comment lists what smaller pads give.)
func TestTiledMatchesWhole(t *testing.T) {
	src := cropImage(sharedImage(t, "images", "coffee.png"), 172, 72, 256, 256)
	for _, name := range []string{"realesrgan-x4plus.onnx", "realesr-general-x4v3.onnx"} {
		t.Run(name, func(t *testing.T) {
			m := sharedModel(t, name)
			opts := Options{Factor: 4, Strength: 1}
			whole, err := m.run(context.Background(), src, opts, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			_, tiles := plan(src.W, src.H, 128, m.Pad)
			if len(tiles) < 4 {
				t.Fatalf("128-pixel tiles cut the crop into %d tiles, want at least 4", len(tiles))
			}
			tiled, err := m.run(context.Background(), src, opts, 128, m.Pad)
			if err != nil {
				t.Fatal(err)
			}
			d, err := imagecmp.Compare(whole, tiled)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s, %d tiles with pad %d vs whole image: %v", name, len(tiles), m.Pad, d)
			if d.PSNR < 50 || d.MaxAbs > 4.0/255 {
				t.Errorf("tiled result differs from the whole-image result: %v, want PSNR ≥ 50 dB and max abs ≤ 4/255", d)
			}
		})
	}
}

// cropImage copies a w×h piece of img from (x0, y0).
func cropImage(img *imageio.Image, x0, y0, w, h int) *imageio.Image {
	out := imageio.New(w, h, img.Channels, img.Depth)
	px := img.Channels * img.Depth / 8
	for y := range h {
		copy(out.Pix[y*w*px:(y+1)*w*px], img.Pix[((y0+y)*img.W+x0)*px:])
	}
	return out
}
