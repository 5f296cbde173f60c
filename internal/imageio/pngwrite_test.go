package imageio

import (
	"bytes"
	"hash/adler32"
	"image/png"
	"io"
	"math/rand/v2"
	"path/filepath"
	"testing"
)

// Every layout the writer produces decodes, with Go's own decoder, to the same samples.
func TestWritePNGRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, channels := range []int{1, 3, 4} {
		for _, depth := range []int{8, 16} {
			// 150 rows span several bands; odd widths exercise the filters' edges.
			img := New(37, 150, channels, depth)
			for i := range img.W * img.H * channels {
				// Smooth ramps plus noise, so every filter type wins on some row.
				img.Set(i, uint16((i/channels)%img.W*3+rng.IntN(20))<<(depth-8))
			}
			var buf bytes.Buffer
			if err := writePNG(&buf, img, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := png.Decode(bytes.NewReader(buf.Bytes())); err != nil {
				t.Fatalf("%d channels, %d bits: Go cannot decode the PNG: %v", channels, depth, err)
			}
			got, err := Decode(bytes.NewReader(buf.Bytes()), "test.png")
			if err != nil {
				t.Fatal(err)
			}
			if got.Channels != channels || got.Depth != depth {
				t.Fatalf("wrote %d channels at %d bits, read back %d at %d", channels, depth, got.Channels, got.Depth)
			}
			for i := range img.W * img.H * channels {
				if got.At(i) != img.At(i) {
					t.Fatalf("%d channels, %d bits: sample %d is %d, wrote %d", channels, depth, i, got.At(i), img.At(i))
				}
			}
		}
	}
}

func TestAdler32Combine(t *testing.T) {
	data := make([]byte, 200000)
	for i := range data {
		data[i] = byte(i * 7919 >> 3)
	}
	for _, cut := range []int{0, 1, 5552, 65521, 100000, 200000} {
		got := adler32Combine(adler32.Checksum(data[:cut]), adler32.Checksum(data[cut:]), len(data)-cut)
		if want := adler32.Checksum(data); got != want {
			t.Errorf("cut at %d: %08x, want %08x", cut, got, want)
		}
	}
}

// The parallel writer against Go's encoder on a real photo enlarged to 2048×2048, the size of
// a ×4 result of a 512×512 image.
func BenchmarkPNGWriters(b *testing.B) {
	photo, err := Load(filepath.Join("..", "..", "..", "shared", "images", "astronaut.png"))
	if err != nil {
		b.Skip(err)
	}
	big := enlargeNearest(photo, 4)
	for _, w := range []struct {
		name   string
		encode func(io.Writer, *Image) error
	}{{"parallel", func(w io.Writer, img *Image) error { return writePNG(w, img, nil) }}, {"go", encodeWithGo}} {
		b.Run(w.name, func(b *testing.B) {
			var size int
			for b.Loop() {
				var buf bytes.Buffer
				if err := w.encode(&buf, big); err != nil {
					b.Fatal(err)
				}
				size = buf.Len()
			}
			b.ReportMetric(float64(size)/(1<<20), "MB")
		})
	}
}

func enlargeNearest(img *Image, f int) *Image {
	big := New(img.W*f, img.H*f, img.Channels, img.Depth)
	size := img.Channels * img.bytesPerSample() // bytes per pixel
	for y := 0; y < big.H; y++ {
		for x := 0; x < big.W; x++ {
			copy(big.Pix[(y*big.W+x)*size:][:size], img.Pix[((y/f)*img.W+x/f)*size:])
		}
	}
	return big
}
