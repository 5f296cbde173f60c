package imageio

import "encoding/binary"

// A WebP file is "RIFF", a 4-byte size, "WEBP", then chunks of a 4-byte
// name, a 4-byte size and the data. Only the first chunk matters here.
const (
	webpFirstChunkName = 12 // offset of the first chunk's name
	webpFirstChunkData = 20 // offset of the first chunk's data

	vp8xICCFlag       = 0x20 // VP8X flags byte: the file has an ICCP chunk
	vp8xAlphaFlag     = 0x10 // VP8X flags byte: the image has alpha
	vp8xExifFlag      = 0x08 // VP8X flags byte: the file has an EXIF chunk
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
