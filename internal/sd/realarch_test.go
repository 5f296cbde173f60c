package sd

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"dream/internal/sd/sdtest"
)

// The real architectures at a small width, from tools/sdgen (seeded random weights): an
// LCM-distilled SD 1.5 UNet, which takes timestep_cond, and TAESD's decoder at its real size.
const (
	lcmSmallUNet = "testdata/lcm-small-unet.onnx"
	taesdDecoder = "testdata/taesd-small-decoder.onnx"
)

// copyFile copies src to dst, making dst's folder.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
}

// Every line of the few-step path runs on the real architectures: an LCM-distilled UNet
// (its guidance embedding fed), the lcm sampler with fresh noise between steps, and TAESD's
// decoder. The networks' weights are random, so the image is noise; what the test holds
// the path to is a whole image of the asked size, the same bytes from the same seed, and
// another image from another guidance (which reaches the UNet only through timestep_cond).
func TestLCMAndTAESDRealArchitectures(t *testing.T) {
	dir := t.TempDir()
	if err := (sdtest.Export{Mean: oneLatent}).Write(dir); err != nil {
		t.Fatal(err)
	}
	if err := sdtest.WriteTokenizer(dir, sharedMerges()); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, UNetWeightsFile))
	copyFile(t, lcmSmallUNet, filepath.Join(dir, UNetFile))
	copyFile(t, taesdDecoder, filepath.Join(dir, TinyDecoderFile))
	m, err := Open(testRuntime, dir, Policy{KeepAll: true})
	if err != nil {
		t.Fatal(err)
	}
	req := Request{Prompt: "a fox in the snow", Width: 128, Height: 64, Steps: 4, CFGScale: 1, Sampler: "lcm", VAE: TinyVAE}
	first := generateOne(t, m, req, 5)
	if first.W != 128 || first.H != 64 {
		t.Fatalf("image is %dx%d, want 128x64", first.W, first.H)
	}
	if m.shape.timestepCond != 256 {
		t.Errorf("the UNet's timestep_cond width read as %d, want 256", m.shape.timestepCond)
	}
	again := generateOne(t, m, req, 5)
	if !bytes.Equal(first.Pix, again.Pix) {
		t.Error("the same seed gave another image")
	}
	req.CFGScale = 8.5
	if bytes.Equal(first.Pix, generateOne(t, m, req, 5).Pix) {
		t.Error("-C 8.5 gave the image of -C 1: the guidance embedding does not reach the UNet")
	}
	spread := 0
	for _, v := range first.Pix {
		spread = max(spread, int(v)-int(first.Pix[0]), int(first.Pix[0])-int(v))
	}
	if spread == 0 {
		t.Error("the image is one flat colour")
	}
}
