// Package imageio reads the images dream upscales and writes the results.
//
// It decodes PNG, JPEG and WebP into one plain in-memory form, Image, so the
// upscaler never has to switch on Go's many image types, and it writes PNG
// files atomically so an interrupted job never leaves half a file behind.
package imageio

import (
	"errors"
	"fmt"
)

// MaxPixels is the largest width×height Load and Decode accept
// (20000×20000). The size is checked from the file header before any pixel
// is decoded, so a small file that claims a huge canvas cannot exhaust memory.
const MaxPixels = 20000 * 20000

// Image is a decoded picture in the one layout the upscaler works with.
//
// Pix holds W*H*Channels samples, row-major, channels interleaved
// (gray; or R,G,B; or R,G,B,A). Alpha is straight (not premultiplied).
// A sample is one byte (0..255) when Depth is 8 and two bytes, big-endian
// (0..65535), when Depth is 16. Bytes rather than one uint16 per sample
// because an upscaled result is large: an 8192×8192 RGB image takes 201 MB
// instead of 402 MB. Big-endian because that is how PNG stores 16-bit
// samples, so rows go into a PNG file without conversion. At and Set read
// and write a sample at either depth.
//
// Channels says what the source really carries:
//   - 1: grayscale PNG, grayscale JPEG;
//   - 3: RGB, opaque palettes, colour JPEG, WebP without alpha;
//   - 4: anything with an alpha channel or transparency: RGBA, gray+alpha
//     (expanded to RGBA with R=G=B), palettes or gray/RGB with a tRNS chunk,
//     WebP with alpha.
//
// Alpha is kept whenever the file carries it, even if every pixel happens to
// be opaque, so RGBA in gives RGBA out.
type Image struct {
	W, H     int
	Channels int // 1 gray, 3 RGB, 4 RGBA
	Depth    int // bits per sample: 8 or 16
	Pix      []byte
	// Meta is what the source file said about itself beyond its pixels; results made from
	// the image carry it over. Images made in memory have none.
	Meta Metadata
}

// Metadata is the part of a file's metadata dream keeps: its text, its colour profile, and
// its EXIF block. A field the file does not have is nil, so a file without metadata gives
// the zero Metadata.
type Metadata struct {
	// Text holds a PNG's text chunks (tEXt, zTXt, iTXt) by keyword.
	Text map[string]string
	// ICCProfile is the embedded colour profile, uncompressed (PNG iCCP, JPEG APP2
	// ICC_PROFILE segments joined in order, WebP ICCP).
	ICCProfile []byte
	// Exif is the TIFF-structured EXIF block (PNG eXIf, JPEG APP1 after "Exif\0\0", WebP
	// EXIF). When Decode applied an orientation to the pixels, the block's Orientation tag is
	// set to 1 so no viewer turns the image twice.
	Exif []byte
}

// Errors returned by Load and Decode wrap one of these (or fs.ErrNotExist,
// or errors.ErrUnsupported), so callers can tell the cases apart with
// errors.Is; the error text itself is a single line meant for people.
var (
	ErrNotImage = errors.New("not a PNG, JPEG or WebP image")
	ErrDamaged  = errors.New("damaged image")
	ErrTooLarge = errors.New("image too large")
)

// fileError carries a finished, human-readable message plus a sentinel for
// errors.Is; the message is built once so it never repeats Go's
// "open x: ..." prefixes.
type fileError struct {
	msg  string
	kind error
}

func (e *fileError) Error() string { return e.msg }
func (e *fileError) Unwrap() error { return e.kind }

func newFileError(kind error, format string, args ...any) error {
	return &fileError{msg: fmt.Sprintf(format, args...), kind: kind}
}

// New returns a black (and fully transparent, with 4 channels) w×h image with Pix allocated
// for its channels and depth (8 or 16).
func New(w, h, channels, depth int) *Image {
	img := &Image{W: w, H: h, Channels: channels, Depth: depth}
	img.Pix = make([]byte, img.sampleCount()*img.bytesPerSample())
	return img
}

// At returns sample i (counted in samples, not bytes): 0..255 at depth 8, 0..65535 at 16.
// It is small enough to inline, so per-pixel loops may call it.
func (img *Image) At(i int) uint16 {
	if img.Depth == 8 {
		return uint16(img.Pix[i])
	}
	return uint16(img.Pix[2*i])<<8 | uint16(img.Pix[2*i+1])
}

// Set stores v as sample i; v must already be in range for the depth (at most MaxValue).
func (img *Image) Set(i int, v uint16) {
	if img.Depth == 8 {
		img.Pix[i] = byte(v)
		return
	}
	img.Pix[2*i], img.Pix[2*i+1] = byte(v>>8), byte(v)
}

// MaxValue is the sample value of white, or of full opacity: 255 or 65535.
func (img *Image) MaxValue() uint16 {
	if img.Depth == 16 {
		return 0xffff
	}
	return 0xff
}

// sampleCount returns W*H*Channels, the number of samples in Pix.
func (img *Image) sampleCount() int {
	return img.W * img.H * img.Channels
}

// bytesPerSample is 1 at depth 8 and 2 at depth 16.
func (img *Image) bytesPerSample() int {
	if img.Depth == 16 {
		return 2
	}
	return 1
}

// Validate reports why img is not a well-formed image, or nil; code that indexes Pix calls it
// on images it did not decode itself.
func (img *Image) Validate() error {
	switch {
	case img == nil:
		return errors.New("no image")
	case img.W < 1 || img.H < 1:
		return fmt.Errorf("image has no pixels (%dx%d)", img.W, img.H)
	case img.Channels != 1 && img.Channels != 3 && img.Channels != 4:
		return fmt.Errorf("image has %d channels, want 1, 3 or 4", img.Channels)
	case img.Depth != 8 && img.Depth != 16:
		return fmt.Errorf("image depth is %d bits, want 8 or 16", img.Depth)
	case len(img.Pix) != img.sampleCount()*img.bytesPerSample():
		return fmt.Errorf("image has %d bytes, want %d for %dx%d with %d channels of %d bits",
			len(img.Pix), img.sampleCount()*img.bytesPerSample(), img.W, img.H, img.Channels, img.Depth)
	}
	return nil
}
