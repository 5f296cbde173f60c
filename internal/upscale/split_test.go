package upscale

import (
	"context"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"dream/internal/onnxpb"
	"dream/internal/ort"
)

// A network opened in two parts must compute what it computes whole. Each window is larger
// than a tail piece, so the tail runs in several pieces whose context is all that keeps the
// seams out. The x4plus file is the real one, so its real tail (3×3 convolutions at ×2 and
// ×4) runs; the ×2 network is shaped like RealESRGAN_x2plus, whose body computes at half the
// window's size after a pixel-unshuffle.
func TestSplitNetworkMatchesWhole(t *testing.T) {
	cases := []struct {
		name   string
		path   string
		scale  int
		window image.Rectangle
	}{
		{"x4plus", filepath.Join(shared, "models", "realesrgan-x4plus.onnx"), 4,
			image.Rect(150, 200, 150+tailCore+22, 200+tailCore+12)},
		{"unshuffling x2", writeUnshuffleResize(t), 2, image.Rect(10, 30, 10+2*tailCore+40, 30+2*tailCore+60)},
	}
	ctx := context.Background()
	photo := sharedImage(t, "images", "coffee.png")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Load(ctx, testRuntime, c.path)
			if err != nil {
				t.Fatal(err)
			}
			if m.Tail == nil || m.Scale != c.scale {
				t.Fatalf("opened with tail %v and scale %d; want it split, scale %d", m.Tail != nil, m.Scale, c.scale)
			}
			whole, err := testRuntime.Session(c.path, Contract)
			if err != nil {
				t.Fatal(err)
			}
			defer testRuntime.Release(whole)
			j, err := m.newJob(photo, Options{Factor: float64(c.scale), Strength: 1}, c.window.Size())
			if err != nil {
				t.Fatal(err)
			}
			defer j.destroy()
			j.fill(tile{core: c.window, window: c.window}, colour)
			if err := m.runWindow(ctx, j.in, j.out, countRange{}); err != nil {
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
			t.Logf("%v window: largest difference between split and whole %.3g", c.window.Size(), worst)
			if worst > 1e-5 {
				t.Errorf("split and whole differ by up to %.3g, want at most 1e-5", worst)
			}
		})
	}
}

// A second Load of a split network reuses the two open parts instead of reading and cutting
// the file again: here the file is gone by then.
func TestLoadAgainReusesTheSplit(t *testing.T) {
	path := writeUnshuffleResize(t)
	first, err := Load(context.Background(), testRuntime, path)
	if err != nil {
		t.Fatal(err)
	}
	defer testRuntime.Release(first.Session)
	defer testRuntime.Release(first.Tail)
	if first.Tail == nil {
		t.Fatal("the network did not split")
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	again, err := Load(context.Background(), testRuntime, path)
	if err != nil {
		t.Fatalf("second Load read the file again: %v", err)
	}
	if again.Session != first.Session || again.Tail != first.Tail || again.Scale != first.Scale {
		t.Errorf("second Load gave other sessions or scale (%d, first %d)", again.Scale, first.Scale)
	}
}

// writeUnshuffleResize writes a ×2 network with RealESRGAN_x2plus's shape: SpaceToDepth(2),
// a 3×3 convolution at half size (the body), then a ×4 nearest Resize and a 3×3 convolution
// (the tail). Its weights are arbitrary; only split against whole is compared.
func writeUnshuffleResize(t *testing.T) string {
	var g onnxpb.Graph
	g.Inputs = []onnxpb.ValueInfo{onnxpb.NewValueInfo("input", onnxpb.Float,
		onnxpb.Fixed(1), onnxpb.Fixed(3), onnxpb.Sym("height"), onnxpb.Sym("width"))}
	g.Outputs = []onnxpb.ValueInfo{onnxpb.NewValueInfo("output", onnxpb.Float,
		onnxpb.Fixed(1), onnxpb.Fixed(3), onnxpb.Sym("out_height"), onnxpb.Sym("out_width"))}
	weights := func(name string, out, in int) string {
		w := make([]float32, out*in*9)
		for i := range w {
			w[i] = float32(math.Sin(float64(i)*0.7)) / float32(in*9)
		}
		return g.AddInitializer(onnxpb.Float32Tensor(name, []int64{int64(out), int64(in), 3, 3}, w))
	}
	conv := []onnxpb.Attr{onnxpb.AttrInts("kernel_shape", 3, 3), onnxpb.AttrInts("pads", 1, 1, 1, 1)}
	g.Add("SpaceToDepth", []string{"input"}, []string{"unshuffled"}, onnxpb.AttrInt("blocksize", 2))
	g.Add("Conv", []string{"unshuffled", weights("body", 8, 12)}, []string{"features"}, conv...)
	scales := g.AddInitializer(onnxpb.Float32Tensor("scales", []int64{4}, []float32{1, 1, 4, 4}))
	g.Add("Resize", []string{"features", "", scales}, []string{"enlarged"}, onnxpb.AttrString("mode", "nearest"))
	g.Add("Conv", []string{"enlarged", weights("tail", 3, 8)}, []string{"output"}, conv...)
	path := filepath.Join(t.TempDir(), "x2.onnx")
	if err := (&onnxpb.Model{Graph: g}).WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// general-x4v3 enlarges its own input for its residual: there is no clean cut, and it runs
// whole at its own cost.
func TestCompactNetworkRunsWhole(t *testing.T) {
	m := sharedModel(t, "realesr-general-x4v3.onnx")
	if m.Tail != nil || m.BytesPerPixel != compactBytesPerPixel {
		t.Errorf("general-x4v3: tail %v, %d bytes a pixel; want no tail and %d", m.Tail != nil, m.BytesPerPixel, compactBytesPerPixel)
	}
}
