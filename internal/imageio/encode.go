package imageio

import (
	"fmt"
	"image"
	"image/png"
	"io"

	"dream/internal/pngmeta"
)

// Encode writes img to w as PNG, keeping its channels and depth: gray stays
// gray, 3 channels are written as RGB, 4 as RGBA with straight alpha, and
// 16-bit stays 16-bit.
//
// It deflates at the fastest level, on every core (see writePNG): Go's
// encoder at its default level takes about 15 s for a 4096×4096 result.
func Encode(w io.Writer, img *Image, meta ...pngmeta.Chunk) error {
	if err := img.Validate(); err != nil {
		return fmt.Errorf("cannot encode PNG: %w", err)
	}
	return writePNG(w, img, meta)
}

// encodeWithGo is the standard library's encoder at its fastest level, kept as the baseline
// the parallel writer is measured against.
func encodeWithGo(w io.Writer, img *Image) error {
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	return enc.Encode(w, toGoImage(img))
}

// toGoImage picks the Go image type that makes png.Encoder write the PNG
// colour type and bit depth img has. NRGBA and NRGBA64 hold straight
// alpha, as PNG does, and the encoder drops the alpha channel by itself
// when every pixel is opaque, which is how 3-channel images become RGB.
// Go's 16-bit types store samples big-endian, as Pix does, so every case
// copies bytes.
func toGoImage(img *Image) image.Image {
	rect := image.Rect(0, 0, img.W, img.H)
	switch {
	case img.Channels == 1 && img.Depth == 8:
		m := image.NewGray(rect)
		copy(m.Pix, img.Pix)
		return m
	case img.Channels == 1:
		m := image.NewGray16(rect)
		copy(m.Pix, img.Pix)
		return m
	case img.Depth == 8:
		m := image.NewNRGBA(rect)
		fillRGBA(img, m.Pix)
		return m
	default:
		m := image.NewNRGBA64(rect)
		fillRGBA(img, m.Pix)
		return m
	}
}

// fillRGBA writes img's 3 or 4 channels as R, G, B, A into pix, whose samples are as wide
// as img's. 3-channel images get opaque alpha: every bit set, at either depth.
func fillRGBA(img *Image, pix []byte) {
	size := img.bytesPerSample()
	in, out := img.Channels*size, 4*size
	for p, o := 0, 0; p < len(img.Pix); p, o = p+in, o+out {
		px := pix[o : o+out]
		n := copy(px, img.Pix[p:p+in])
		for k := n; k < out; k++ {
			px[k] = 0xff
		}
	}
}

// GoImage is img as one of Go's image types (a copy), for drawing with the standard
// library, as the web page's thumbnails are.
func GoImage(img *Image) image.Image { return toGoImage(img) }
