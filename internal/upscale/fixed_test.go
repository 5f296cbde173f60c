package upscale

import (
	"context"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"dream/internal/imagecmp"
	"dream/internal/imageio"
)

// Some published Real-ESRGAN exports were traced at one size (1×3×256×256) and run at no
// other. dream reads the declared size and tiles with exactly that window. On an image at
// least that large every window lies inside it, and the result is the dynamic export's own
// within the tiling's error (TestTiledMatchesWhole). A smaller side is reflect-padded up to
// the window, as Real-ESRGAN's pre_pad does: the network then sees mirrored pixels where a
// whole-image run sees its convolutions' zero padding, so there the reference is the dynamic
// export run on the same padded image, cropped; the distance to the unpadded run is logged.
func TestFixedSizeExportMatchesDynamic(t *testing.T) {
	dynamicPath := filepath.Join(shared, "models", "realesr-general-x4v3.onnx")
	fixedPath := writeWithInputDims(t, dynamicPath, []int64{1, 3, 256, 256})
	fixed, err := Load(context.Background(), testRuntime, fixedPath)
	if err != nil {
		t.Fatal(err)
	}
	if fixed.Fixed != image.Pt(256, 256) || fixed.Tail != nil {
		t.Fatalf("the fixed export loaded with window %v (split %v), want 256×256 whole", fixed.Fixed, fixed.Tail != nil)
	}
	dynamic := sharedModel(t, "realesr-general-x4v3.onnx")
	photo := sharedImage(t, "images", "coffee.png")
	for _, size := range []image.Point{{520, 300}, {256, 340}, {560, 390}, {100, 80}, {300, 200}} {
		t.Run(fmt.Sprintf("%dx%d", size.X, size.Y), func(t *testing.T) {
			src := cropImage(photo, 20, 5, size.X, size.Y)
			opts := Options{Factor: 4, Strength: 1}
			window, tiles := planGrid(src.W, src.H, fixed.Grid(src.W, src.H, opts), fixed.Pad)
			if window != fixed.Fixed {
				t.Fatalf("planned %v windows, want the declared %v", window, fixed.Fixed)
			}
			if n := Tiles(fixedPath, src.W, src.H, opts); n != len(tiles) {
				t.Errorf("Tiles, read off the file for the progress bar, says %d tiles; the plan has %d", n, len(tiles))
			}
			got, err := fixed.Upscale(context.Background(), src, opts)
			if err != nil {
				t.Fatal(err)
			}
			unpadded, err := dynamic.run(context.Background(), src, opts, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			want := unpadded
			padded := size.X < window.X || size.Y < window.Y
			if padded {
				big, err := dynamic.run(context.Background(), reflectPadded(src, window), opts, 0, 0)
				if err != nil {
					t.Fatal(err)
				}
				want = cropImage(big, 0, 0, got.W, got.H)
			}
			d, err := imagecmp.Compare(want, got)
			if err != nil {
				t.Fatal(err)
			}
			edge, err := imagecmp.Compare(unpadded, got)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d tiles of 256×256 (padded %v): %v; against the unpadded whole run %v", len(tiles), padded, d, edge)
			if d.PSNR < 50 {
				t.Errorf("fixed-size export against the dynamic one: %v, want PSNR ≥ 50 dB", d)
			}
			if edge.PSNR < 38 {
				t.Errorf("padded edges differ from the unpadded whole run by %v, want PSNR ≥ 38 dB", edge)
			}
		})
	}
}

// reflectPadded is img grown to at least size, its right and bottom reflect-padded.
func reflectPadded(img *imageio.Image, size image.Point) *imageio.Image {
	w, h := max(img.W, size.X), max(img.H, size.Y)
	out := imageio.New(w, h, img.Channels, img.Depth)
	for y := range h {
		for x := range w {
			for c := range img.Channels {
				out.Set((y*w+x)*img.Channels+c, img.At((reflect(y, img.H)*img.W+reflect(x, img.W))*img.Channels+c))
			}
		}
	}
	return out
}

// Exports whose declared shape cannot be tiled are refused in one line that says why.
func TestFixedSizeExportRefused(t *testing.T) {
	dynamicPath := filepath.Join(shared, "models", "realesr-general-x4v3.onnx")
	for _, tc := range []struct {
		dims []int64
		want string
	}{
		{[]int64{2, 3, 256, 256}, "declares a batch of 2 images"},
		{[]int64{1, 3, 8, 8}, "declares its input as 8×8, too small to tile with"},
	} {
		t.Run(fmt.Sprint(tc.dims), func(t *testing.T) {
			_, err := Load(context.Background(), testRuntime, writeWithInputDims(t, dynamicPath, tc.dims))
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("Load: %v, want one line with %q", err, tc.want)
			}
		})
	}
}

// Windows of a declared length cover every pixel of the side once by their cores, start
// inside it, and overlap by at least 2·pad wherever there are several.
func TestFixedSpansCoverTheSide(t *testing.T) {
	for _, n := range []int{1, 17, 255, 256, 257, 300, 511, 512, 1000, 4097} {
		for _, length := range []int{16, 64, 256} {
			pad := padFor(image.Pt(length, length), 20)
			count := fixedCount(n, length, pad)
			got, spans := axisSpans(n, count, pad, length)
			if got != length || len(spans) != count {
				t.Fatalf("n=%d length=%d: %d spans of %d, want %d of %d", n, length, len(spans), got, count, length)
			}
			next := 0
			for i, s := range spans {
				if s.core[0] != next || s.core[1] <= s.core[0] || s.start < 0 || s.start >= n {
					t.Fatalf("n=%d length=%d: span %d is %+v after core end %d", n, length, i, s, next)
				}
				if s.core[0] < s.start || s.core[1] > s.start+length {
					t.Fatalf("n=%d length=%d: core of span %d lies outside its window: %+v", n, length, i, s)
				}
				if i > 0 && spans[i-1].start+length-s.start < 2*pad {
					t.Fatalf("n=%d length=%d: spans %d and %d overlap by less than %d", n, length, i-1, i, 2*pad)
				}
				next = s.core[1]
			}
			if next != n {
				t.Fatalf("n=%d length=%d: cores end at %d", n, length, next)
			}
		}
	}
}

func TestReflectPadsAnyLength(t *testing.T) {
	for _, tc := range []struct{ n, i, want int }{
		{5, 4, 4}, {5, 5, 3}, {5, 8, 0}, {5, 9, 1}, {5, 13, 3}, {1, 7, 0}, {2, 2, 0}, {2, 3, 1},
	} {
		if got := reflect(tc.i, tc.n); got != tc.want {
			t.Errorf("reflect(%d, %d) = %d, want %d", tc.i, tc.n, got, tc.want)
		}
	}
}

// writeWithInputDims copies the model at path with its one graph input declared as dims, as a
// model traced at one size is, and returns the copy's path.
func writeWithInputDims(t *testing.T, path string, dims []int64) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	model, err := rewriteField(data, 7, func(graph []byte) ([]byte, error) { // ModelProto.graph
		return rewriteField(graph, 11, func(input []byte) ([]byte, error) { // GraphProto.input
			return rewriteField(input, 2, func(typ []byte) ([]byte, error) { // ValueInfoProto.type
				return rewriteField(typ, 1, func(tensor []byte) ([]byte, error) { // TypeProto.tensor_type
					return rewriteField(tensor, 2, func([]byte) ([]byte, error) { // Tensor.shape
						return shapeOf(dims), nil
					})
				})
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "fixed.onnx")
	if err := os.WriteFile(out, model, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// rewriteField replaces the body of every length-delimited field num of msg by edit's result.
func rewriteField(msg []byte, num protowire.Number, edit func([]byte) ([]byte, error)) ([]byte, error) {
	var out []byte
	for len(msg) > 0 {
		n, typ, tagLen := protowire.ConsumeTag(msg)
		if tagLen < 0 {
			return nil, protowire.ParseError(tagLen)
		}
		valLen := protowire.ConsumeFieldValue(n, typ, msg[tagLen:])
		if valLen < 0 {
			return nil, protowire.ParseError(valLen)
		}
		field := msg[:tagLen+valLen]
		msg = msg[tagLen+valLen:]
		if n != num || typ != protowire.BytesType {
			out = append(out, field...)
			continue
		}
		body, _ := protowire.ConsumeBytes(field[tagLen:])
		edited, err := edit(body)
		if err != nil {
			return nil, err
		}
		out = protowire.AppendTag(out, num, protowire.BytesType)
		out = protowire.AppendBytes(out, edited)
	}
	return out, nil
}

// shapeOf encodes a TensorShapeProto of fixed dimensions.
func shapeOf(dims []int64) []byte {
	var shape []byte
	for _, d := range dims {
		var dim []byte
		dim = protowire.AppendTag(dim, 1, protowire.VarintType) // Dimension.dim_value
		dim = protowire.AppendVarint(dim, uint64(d))
		shape = protowire.AppendTag(shape, 1, protowire.BytesType) // TensorShapeProto.dim
		shape = protowire.AppendBytes(shape, dim)
	}
	return shape
}
