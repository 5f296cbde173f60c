package upscale

import (
	"context"
	"image"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"dream/internal/ort"
)

// A network opened in two parts must compute what it computes whole. The window is larger
// than a tail piece, so the tail runs in 2×2 pieces whose context is all that keeps the seams
// out; the x4plus file is the real one, so its real tail (3×3 convolutions at ×2 and ×4) runs.
func TestSplitNetworkMatchesWhole(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(shared, "models", "realesrgan-x4plus.onnx")
	m := sharedModel(t, "realesrgan-x4plus.onnx")
	if m.Tail == nil {
		t.Fatal("x4plus was opened whole; want it split at its upsampling")
	}
	if m.BytesPerPixel != splitBytesPerPixel {
		t.Errorf("split x4plus costs %d bytes a window pixel, want %d", m.BytesPerPixel, splitBytesPerPixel)
	}
	whole, err := testRuntime.Session(path, Contract)
	if err != nil {
		t.Fatal(err)
	}
	defer testRuntime.Release(whole)

	window := image.Rect(150, 200, 150+tailCore+22, 200+tailCore+12)
	j, err := m.newJob(sharedImage(t, "images", "coffee.png"), Options{Factor: 4, Strength: 1}, window.Size())
	if err != nil {
		t.Fatal(err)
	}
	defer j.destroy()
	j.fill(tile{core: window, window: window}, colour)
	if err := m.runWindow(ctx, j.in, j.out); err != nil {
		t.Fatal(err)
	}
	split := slices.Clone(j.out.GetData())
	if err := whole.Run(ctx, []ort.Value{j.in}, []ort.Value{j.out}); err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for i, v := range j.out.GetData() {
		worst = math.Max(worst, math.Abs(float64(split[i]-v)))
	}
	t.Logf("%v window: largest difference between split and whole %.3g", window.Size(), worst)
	if worst > 1e-5 {
		t.Errorf("split and whole differ by up to %.3g, want at most 1e-5", worst)
	}
}

// general-x4v3 enlarges its own input for its residual: there is no clean cut, and it runs
// whole at its own cost.
func TestCompactNetworkRunsWhole(t *testing.T) {
	m := sharedModel(t, "realesr-general-x4v3.onnx")
	if m.Tail != nil || m.BytesPerPixel != compactBytesPerPixel {
		t.Errorf("general-x4v3: tail %v, %d bytes a pixel; want no tail and %d", m.Tail != nil, m.BytesPerPixel, compactBytesPerPixel)
	}
}
