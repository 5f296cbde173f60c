package imageio

import (
	"bytes"
	"io"
	"testing"
)

// benchImage is a 4096×4096 RGB result, the size an upscaled 1024×1024
// photo reaches; a smooth gradient with some texture, like real output.
func benchImage() *Image {
	const size = 4096
	img := New(size, size, 3, 8)
	for i := range img.Pix {
		p := i / 3
		img.Pix[i] = byte((p%size)/16 + (p/size)/32 + (p*7)%5)
	}
	return img
}

func BenchmarkEncode4096(b *testing.B) {
	img := benchImage()
	for b.Loop() {
		if err := Encode(io.Discard, img); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode4096(b *testing.B) {
	var buf bytes.Buffer
	if err := Encode(&buf, benchImage()); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Decode(bytes.NewReader(buf.Bytes()), "bench.png"); err != nil {
			b.Fatal(err)
		}
	}
}
