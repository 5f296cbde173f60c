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
// 16-bit stays 16-bit. 8-bit samples above 255 are clamped.
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
func toGoImage(img *Image) image.Image {
	rect := image.Rect(0, 0, img.W, img.H)
	switch {
	case img.Channels == 1 && img.Depth == 8:
		m := image.NewGray(rect)
		for i, v := range img.Pix {
			m.Pix[i] = clamp8(v)
		}
		return m
	case img.Channels == 1:
		m := image.NewGray16(rect)
		for i, v := range img.Pix {
			putBigEndian(m.Pix[2*i:], v)
		}
		return m
	case img.Depth == 8:
		m := image.NewNRGBA(rect)
		fillRGBA(img, m.Pix, 1, func(dst []byte, v uint16) { dst[0] = clamp8(v) }, 0xff)
		return m
	default:
		m := image.NewNRGBA64(rect)
		fillRGBA(img, m.Pix, 2, putBigEndian, 0xffff)
		return m
	}
}

// fillRGBA writes img's 3 or 4 channels as R, G, B, A into pix, each
// sample size bytes wide; 3-channel images get opaque alpha.
func fillRGBA(img *Image, pix []byte, size int, put func([]byte, uint16), opaque uint16) {
	c := img.Channels
	for p, o := 0, 0; p < len(img.Pix); p, o = p+c, o+4*size {
		for k := 0; k < 3; k++ {
			put(pix[o+k*size:], img.Pix[p+k])
		}
		alpha := opaque
		if c == 4 {
			alpha = img.Pix[p+3]
		}
		put(pix[o+3*size:], alpha)
	}
}

func clamp8(v uint16) uint8 {
	return uint8(min(v, 0xff))
}

func putBigEndian(dst []byte, v uint16) {
	dst[0], dst[1] = uint8(v>>8), uint8(v)
}
