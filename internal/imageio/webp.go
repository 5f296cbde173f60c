package imageio

import (
	"encoding/binary"
	"image"
)

// A WebP file is "RIFF", a 4-byte size, "WEBP", then chunks of a 4-byte
// name, a 4-byte size and the data. Only the first chunk matters here.
const (
	webpFirstChunkName = 12 // offset of the first chunk's name
	webpFirstChunkData = 20 // offset of the first chunk's data

	vp8xICCFlag       = 0x20 // VP8X flags byte: the file has an ICCP chunk
	vp8xAlphaFlag     = 0x10 // VP8X flags byte: the image has alpha
	vp8xExifFlag      = 0x08 // VP8X flags byte: the file has an EXIF chunk
	vp8xXMPFlag       = 0x04 // VP8X flags byte: the file has an XMP chunk
	vp8xAnimationFlag = 0x02 // VP8X flags byte: the file is an animation
	vp8lSignature     = 0x2f // first byte of a lossless stream
	// The lossless header is the signature, then 14 bits width-1, 14 bits
	// height-1, 1 bit alpha_is_used, 3 bits version, little-endian: the
	// alpha bit is bit 4 of the header's fifth byte.
	vp8lAlphaByte = webpFirstChunkData + 4
	vp8lAlphaBit  = 0x10
)

// webpChannels returns 4 when the file declares alpha and 3 otherwise.
// Go's lossless decoder returns NRGBA whether or not the image has alpha,
// so the header is the only place the difference shows: the VP8X alpha
// flag for extended files, the alpha_is_used bit for bare lossless streams.
// A bare lossy (VP8) stream never has alpha.
func webpChannels(data []byte) int {
	if len(data) <= vp8lAlphaByte {
		return 3
	}
	switch string(data[webpFirstChunkName : webpFirstChunkName+4]) {
	case "VP8X":
		if data[webpFirstChunkData]&vp8xAlphaFlag != 0 {
			return 4
		}
	case "VP8L":
		if data[webpFirstChunkData] == vp8lSignature && data[vp8lAlphaByte]&vp8lAlphaBit != 0 {
			return 4
		}
	}
	return 3
}

// webpIsAnimated reports whether the VP8X flags mark an animation. Go's
// decoder skips the animation frames and then reports "invalid format";
// saying "animated" instead tells people what is actually wrong.
func webpIsAnimated(data []byte) bool {
	return webpExtended(data) && data[webpFirstChunkData]&vp8xAnimationFlag != 0
}

// webpExtended reports whether the file starts with a VP8X chunk, so that
// its flags byte can be read.
func webpExtended(data []byte) bool {
	return len(data) > webpFirstChunkData &&
		string(data[webpFirstChunkName:webpFirstChunkName+4]) == "VP8X"
}

// webpIsTruncated reports whether the RIFF header promises more bytes than
// the file has.
func webpIsTruncated(data []byte) bool {
	if len(data) < 8 {
		return true
	}
	return uint64(binary.LittleEndian.Uint32(data[4:]))+8 > uint64(len(data))
}

// webpImage turns a decoded WebP into an Image. A lossy WebP holds Y'CbCr in BT.601's
// studio range (Y' from 16 to 235), as libwebp writes and reads it, but Go's decoder hands
// the planes over as image.YCbCr, whose colour model is JPEG's full range: read that way,
// black comes out as 16 and white as 235. So the planes are converted here with libwebp's
// own formulas (VP8YUVToR/G/B, 14-bit fixed point), chroma taken from the sample covering
// each pixel. Lossless WebP decodes to NRGBA, which needs nothing.
func webpImage(m image.Image, channels int) *Image {
	var planes *image.YCbCr
	var alpha *image.NYCbCrA
	switch m := m.(type) {
	case *image.YCbCr:
		planes = m
	case *image.NYCbCrA:
		planes, alpha = &m.YCbCr, m
	default:
		return fromGoImage(m, channels)
	}
	b := planes.Bounds()
	img := New(b.Dx(), b.Dy(), channels, 8)
	i := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			luma := studioLuma(planes.Y[planes.YOffset(x, y)])
			c := planes.COffset(x, y)
			u, v := int32(planes.Cb[c]), int32(planes.Cr[c])
			img.Pix[i] = clip14(luma + v*26149>>8 - 14234)
			img.Pix[i+1] = clip14(luma - u*6419>>8 - v*13320>>8 + 8708)
			img.Pix[i+2] = clip14(luma + u*33050>>8 - 17685)
			if channels == 4 {
				img.Pix[i+3] = 0xff
				if alpha != nil {
					img.Pix[i+3] = alpha.A[alpha.AOffset(x, y)]
				}
			}
			i += channels
		}
	}
	return img
}

// studioLuma is Y' scaled for the formulas above: Y'·1.164 in 6 fractional bits.
func studioLuma(y byte) int32 { return int32(y) * 19077 >> 8 }

// clip14 turns a value with 6 fractional bits into a byte, clamped to 0..255.
func clip14(v int32) byte {
	return byte(min(max(v>>6, 0), 255))
}
