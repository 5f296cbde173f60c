package imageio

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"
)

// Test images are built here, byte by byte where it matters, so each test
// controls exactly which PNG colour type, EXIF segment or WebP header the
// decoder sees, and nothing opaque has to be checked in.

// pngChunk is one PNG chunk before its length and CRC are added.
type pngChunk struct {
	name string
	data []byte
}

// rawPNG assembles a PNG from already packed rows (without filter bytes),
// inserting extra chunks (PLTE, tRNS) before the image data.
func rawPNG(t testing.TB, w, h int, bitDepth, colorType byte, rows [][]byte, extra ...pngChunk) []byte {
	t.Helper()
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = bitDepth, colorType

	var raw bytes.Buffer
	for _, row := range rows {
		raw.WriteByte(0) // filter type None
		raw.Write(row)
	}
	var compressed bytes.Buffer
	zw := zlib.NewWriter(&compressed)
	if _, err := zw.Write(raw.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}

	chunks := append([]pngChunk{{"IHDR", ihdr[:]}}, extra...)
	chunks = append(chunks, pngChunk{"IDAT", compressed.Bytes()}, pngChunk{"IEND", nil})
	out := []byte("\x89PNG\r\n\x1a\n")
	for _, c := range chunks {
		out = appendPNGChunk(out, c)
	}
	return out
}

func appendPNGChunk(out []byte, c pngChunk) []byte {
	out = binary.BigEndian.AppendUint32(out, uint32(len(c.data)))
	start := len(out)
	out = append(out, c.name...)
	out = append(out, c.data...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(out[start:]))
}

// packRow packs samples of the given bit depth as PNG stores them:
// big-endian for 16 bits, most significant bits first below 8.
func packRow(samples []uint16, bitDepth int) []byte {
	switch bitDepth {
	case 16:
		out := make([]byte, 0, 2*len(samples))
		for _, s := range samples {
			out = binary.BigEndian.AppendUint16(out, s)
		}
		return out
	case 8:
		out := make([]byte, len(samples))
		for i, s := range samples {
			out[i] = byte(s)
		}
		return out
	}
	perByte := 8 / bitDepth
	out := make([]byte, (len(samples)+perByte-1)/perByte)
	for i, s := range samples {
		shift := 8 - bitDepth*(i%perByte+1)
		out[i/perByte] |= byte(s) << shift
	}
	return out
}

// pngIHDR returns the bit depth and colour type of an encoded PNG.
func pngIHDR(t *testing.T, data []byte) (bitDepth, colorType byte) {
	t.Helper()
	if len(data) < 26 || string(data[12:16]) != "IHDR" {
		t.Fatalf("not a PNG with IHDR first")
	}
	return data[24], data[25]
}

// writeFile puts data in a new file in dir and returns its path.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Quadrant colours of the JPEG orientation test image, chosen far apart
// so JPEG loss cannot blur one into another.
var (
	quadA = color.RGBA{220, 30, 30, 255}  // stored top-left: red
	quadB = color.RGBA{30, 200, 30, 255}  // stored top-right: green
	quadC = color.RGBA{30, 30, 220, 255}  // stored bottom-left: blue
	quadD = color.RGBA{240, 240, 60, 255} // stored bottom-right: yellow
)

// quadrantJPEG encodes a 64×32 image of four flat quadrants A B / C D.
// Quadrant edges fall on 16-pixel boundaries so chroma subsampling keeps
// each quadrant's colour clean.
func quadrantJPEG(t testing.TB) []byte {
	t.Helper()
	const w, h = 64, 32
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := quadA
			switch {
			case x >= w/2 && y < h/2:
				c = quadB
			case x < w/2 && y >= h/2:
				c = quadC
			case x >= w/2 && y >= h/2:
				c = quadD
			}
			m.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// exifTIFFBlock builds a TIFF block whose first IFD holds a Make tag
// (so the reader must skip an entry) and then Orientation;
// byteOrder is "II" (little-endian) or "MM" (big-endian).
func exifTIFFBlock(byteOrder string, orientation uint16) []byte {
	var order binary.AppendByteOrder = binary.BigEndian
	if byteOrder == "II" {
		order = binary.LittleEndian
	}
	b := []byte(byteOrder)
	b = order.AppendUint16(b, 42)
	b = order.AppendUint32(b, 8) // IFD0 right after the header
	b = order.AppendUint16(b, 2) // two entries
	// Make, ASCII, 4 bytes "Go\0\0" stored inline.
	b = order.AppendUint16(b, 0x010f)
	b = order.AppendUint16(b, 2)
	b = order.AppendUint32(b, 4)
	b = append(b, 'G', 'o', 0, 0)
	// Orientation, SHORT, count 1, value left-justified in the 4-byte field.
	b = order.AppendUint16(b, 0x0112)
	b = order.AppendUint16(b, 3)
	b = order.AppendUint32(b, 1)
	b = order.AppendUint16(b, orientation)
	b = order.AppendUint16(b, 0)
	return order.AppendUint32(b, 0) // no next IFD
}

// withExif inserts an APP1 Exif segment holding tiff right after SOI.
func withExif(jpegData, tiff []byte) []byte {
	body := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xff, 0xe1}
	seg = binary.BigEndian.AppendUint16(seg, uint16(len(body)+2))
	seg = append(seg, body...)
	out := append([]byte{}, jpegData[:2]...)
	out = append(out, seg...)
	return append(out, jpegData[2:]...)
}

// bitWriter packs bits least-significant first, as VP8L reads them.
type bitWriter struct {
	out  []byte
	acc  uint64
	nacc uint
}

func (w *bitWriter) bits(v uint64, n uint) {
	w.acc |= v << w.nacc
	w.nacc += n
	for w.nacc >= 8 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.nacc -= 8
	}
}

// code writes a prefix code most-significant bit first: VP8L readers walk
// the code tree one bit at a time from the root.
func (w *bitWriter) code(c uint32, length uint) {
	for i := int(length) - 1; i >= 0; i-- {
		w.bits(uint64(c>>uint(i))&1, 1)
	}
}

func (w *bitWriter) flush() []byte {
	if w.nacc > 0 {
		w.out = append(w.out, byte(w.acc))
		w.acc, w.nacc = 0, 0
	}
	return w.out
}

// flatPrefixCode writes a "normal" VP8L prefix code giving literals 0..255
// length 8 and the rest of the alphabet length 0, so literal s has code s.
// It needs only code-length symbols 0 and 8, each given a 1-bit code.
func flatPrefixCode(w *bitWriter, alphabetSize int) {
	w.bits(0, 1) // not a simple code
	codeLengthOrder := []int{17, 18, 0, 1, 2, 3, 4, 5, 16, 6, 7, 8}
	w.bits(uint64(len(codeLengthOrder)-4), 4)
	for _, sym := range codeLengthOrder {
		length := uint64(0)
		if sym == 0 || sym == 8 {
			length = 1
		}
		w.bits(length, 3)
	}
	w.bits(0, 1) // code lengths for the whole alphabet follow
	for s := 0; s < alphabetSize; s++ {
		if s < 256 {
			w.code(1, 1) // canonical: symbol 8 ("length 8") got code 1
		} else {
			w.code(0, 1) // length 0: unused
		}
	}
}

// vp8lStream encodes pixels (R, G, B, A, row-major) as an uncompressed
// VP8L bitstream: no transforms, no colour cache, no backward references.
func vp8lStream(w, h int, pix []color.NRGBA, alphaHint bool) []byte {
	bw := &bitWriter{}
	bw.bits(0x2f, 8)
	bw.bits(uint64(w-1), 14)
	bw.bits(uint64(h-1), 14)
	hint := uint64(0)
	if alphaHint {
		hint = 1
	}
	bw.bits(hint, 1)
	bw.bits(0, 3)              // version
	bw.bits(0, 1)              // no transform
	bw.bits(0, 1)              // no colour cache
	bw.bits(0, 1)              // one prefix-code group for the whole image
	flatPrefixCode(bw, 256+24) // green plus backward-reference lengths
	flatPrefixCode(bw, 256)    // red
	flatPrefixCode(bw, 256)    // blue
	flatPrefixCode(bw, 256)    // alpha
	bw.bits(1, 1)              // distance: simple code ...
	bw.bits(0, 1)              // ... with one symbol ...
	bw.bits(0, 1)              // ... stored in 1 bit ...
	bw.bits(0, 1)              // ... which is 0 (never used)
	for _, p := range pix {
		bw.code(uint32(p.G), 8)
		bw.code(uint32(p.R), 8)
		bw.code(uint32(p.B), 8)
		bw.code(uint32(p.A), 8)
	}
	return bw.flush()
}

// riffWebP wraps chunks into a WebP file.
func riffWebP(chunks ...pngChunk) []byte {
	var body []byte
	body = append(body, "WEBP"...)
	for _, c := range chunks {
		body = append(body, c.name...)
		body = binary.LittleEndian.AppendUint32(body, uint32(len(c.data)))
		body = append(body, c.data...)
		if len(c.data)%2 == 1 {
			body = append(body, 0) // chunks are padded to even length
		}
	}
	out := []byte("RIFF")
	out = binary.LittleEndian.AppendUint32(out, uint32(len(body)))
	return append(out, body...)
}

// vp8xChunk is the extended-format header chunk with the given flags.
func vp8xChunk(flags byte, w, h int) pngChunk {
	data := []byte{flags, 0, 0, 0}
	data = append(data, byte(w-1), byte((w-1)>>8), byte((w-1)>>16))
	data = append(data, byte(h-1), byte((h-1)>>8), byte((h-1)>>16))
	return pngChunk{"VP8X", data}
}

// imageOf builds an image from a list of sample values, so tests can spell pixels out as
// numbers at either depth.
func imageOf(w, h, channels, depth int, samples ...uint16) *Image {
	img := New(w, h, channels, depth)
	for i, v := range samples {
		img.Set(i, v)
	}
	return img
}

// samplesOf returns every sample of img as a number, for comparing against a list.
func samplesOf(img *Image) []uint16 {
	out := make([]uint16, img.W*img.H*img.Channels)
	for i := range out {
		out[i] = img.At(i)
	}
	return out
}
