package imageio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"

	"github.com/gen2brain/webp"
)

// WebP is encoded by libwebp through github.com/gen2brain/webp: libwebp compiled to
// WebAssembly and run by wazero, so no cgo and no system library is needed, on every
// platform dream builds for. (Where a libwebp.so or .dylib is installed the package uses it
// instead, which is faster; the files are as valid either way.)

// webpMethod is libwebp's speed/size trade-off, 0 to 6; 4 is its default and cwebp's.
const webpMethod = 4

// writeWebP writes img as a WebP: lossy at quality, or lossless at LosslessWebPQuality. The
// file is an extended one (VP8X) so that it can carry the metadata: ICCP before the image,
// EXIF and XMP after it, as the container specification orders them.
func writeWebP(w io.Writer, img *Image, quality int, m outputMeta) error {
	var encoded bytes.Buffer
	opts := webp.Options{Quality: quality, Method: webpMethod}
	var pixels image.Image
	if quality == LosslessWebPQuality {
		opts.Lossless, opts.Exact = true, true // exact: keep the colour under transparent pixels
		pixels = nrgbaImage(img)
	} else {
		pixels = yuvImage(img)
	}
	// guarded: a panic in the encoder, or in the WebAssembly runtime under it, must not end
	// dream, as a decoder's must not (see Decode).
	if _, err := guarded(func() (any, error) { return nil, webp.Encode(&encoded, pixels, opts) }); err != nil {
		return fmt.Errorf("cannot encode WebP: %v", err)
	}
	frame, alpha, err := webpFrame(encoded.Bytes())
	if err != nil {
		return err
	}
	return writeWebPContainer(w, img.W, img.H, frame, alpha, m)
}

// webpFrame returns the chunks that hold the image in an encoder's output (ALPH and VP8, or
// VP8 alone, or VP8L) as they are stored, and whether the image has alpha.
func webpFrame(data []byte) (frame []byte, alpha bool, err error) {
	if len(data) < webpFirstChunkData || string(data[8:12]) != "WEBP" {
		return nil, false, errors.New("the WebP encoder wrote no WebP file")
	}
	webpChunks(data, func(name string, body []byte) {
		switch name {
		case "ALPH", "VP8 ", "VP8L":
			frame = appendWebPChunk(frame, name, body)
			alpha = alpha || name == "ALPH" || name == "VP8L" && len(body) > 4 && body[4]&vp8lAlphaBit != 0
		}
	})
	if frame == nil {
		return nil, false, errors.New("the WebP encoder wrote no image")
	}
	return frame, alpha, nil
}

// writeWebPContainer writes the RIFF container: VP8X with the canvas size and the flags of
// what follows, ICCP, the image's chunks, EXIF, XMP.
func writeWebPContainer(w io.Writer, width, height int, frame []byte, alpha bool, m outputMeta) error {
	var flags byte
	var before, after []byte
	if m.icc != nil {
		flags |= vp8xICCFlag
		before = appendWebPChunk(before, "ICCP", m.icc)
	}
	if alpha {
		flags |= vp8xAlphaFlag
	}
	if m.exif != nil {
		flags |= vp8xExifFlag
		after = appendWebPChunk(after, "EXIF", m.exif)
	}
	if m.xmp != nil {
		flags |= vp8xXMPFlag
		after = appendWebPChunk(after, "XMP ", m.xmp)
	}
	vp8x := make([]byte, 10)
	vp8x[0] = flags
	putUint24(vp8x[4:], width-1)
	putUint24(vp8x[7:], height-1)
	body := appendWebPChunk([]byte("WEBP"), "VP8X", vp8x)
	head := binary.LittleEndian.AppendUint32([]byte("RIFF"), uint32(len(body)+len(before)+len(frame)+len(after)))
	for _, part := range [][]byte{head, body, before, frame, after} {
		if _, err := w.Write(part); err != nil {
			return err
		}
	}
	return nil
}

// appendWebPChunk appends a RIFF chunk: name, little-endian size, data, a pad byte when the
// size is odd.
func appendWebPChunk(out []byte, name string, data []byte) []byte {
	out = append(out, name...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(data)))
	out = append(out, data...)
	if len(data)%2 == 1 {
		out = append(out, 0)
	}
	return out
}

func putUint24(b []byte, v int) {
	b[0], b[1], b[2] = byte(v), byte(v>>8), byte(v>>16)
}

// nrgbaImage is img as 8-bit NRGBA, what the lossless encoder takes.
func nrgbaImage(img *Image) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, img.W, img.H))
	fill8(img, m.Pix, 4)
	return m
}

// yuvImage is img in the form lossy WebP stores: Y'CbCr 4:2:0 with BT.601's studio range,
// libwebp's own conversion (VP8RGBToY/U/V, 16-bit fixed point), chroma the mean of each 2×2
// block, plus alpha. Handing libwebp these planes, not RGBA, spares it a 4-byte-a-pixel copy
// of the image and its own conversion: a 48-megapixel result needs a quarter of the memory.
func yuvImage(img *Image) *image.NYCbCrA {
	m := image.NewNYCbCrA(image.Rect(0, 0, img.W, img.H), image.YCbCrSubsampleRatio420)
	rgb := func(x, y int) (r, g, b int32) {
		p := (y*img.W + x) * img.Channels
		if img.Channels < 3 {
			v := int32(to8(img, p))
			return v, v, v
		}
		return int32(to8(img, p)), int32(to8(img, p+1)), int32(to8(img, p+2))
	}
	for y := range img.H {
		for x := range img.W {
			r, g, b := rgb(x, y)
			m.Y[y*m.YStride+x] = byte((16839*r + 33059*g + 6420*b + 16<<16 + 1<<15) >> 16)
			m.A[y*m.AStride+x] = 0xff
			if img.Channels == 4 {
				m.A[y*m.AStride+x] = to8(img, (y*img.W+x)*4+3)
			}
		}
	}
	for cy := range (img.H + 1) / 2 {
		for cx := range (img.W + 1) / 2 {
			var r, g, b int32 // sums over the block; an odd edge repeats its last pixel
			for _, d := range [4][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
				pr, pg, pb := rgb(min(2*cx+d[0], img.W-1), min(2*cy+d[1], img.H-1))
				r, g, b = r+pr, g+pg, b+pb
			}
			i := cy*m.CStride + cx
			m.Cb[i] = chroma(-9719*r - 19081*g + 28800*b)
			m.Cr[i] = chroma(28800*r - 24116*g - 4684*b)
		}
	}
	return m
}

// chroma turns a sum over four pixels of a chroma formula into its 8-bit value, centred
// on 128 and rounded.
func chroma(sum int32) byte {
	v := (sum + 1<<17 + 128<<18) >> 18
	return byte(min(max(v, 0), 255))
}
