package imageio

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"os"
	"strings"

	"golang.org/x/image/webp"
)

// Load reads and decodes the PNG, JPEG or WebP file at path; see Decode.
// A missing file gives "no such file: PATH".
func Load(path string) (*Image, error) {
	// OpenRegular refuses a folder (Windows would open it and then answer "Incorrect
	// function" to reading it) and a named pipe, which would wait for a writer forever.
	f, err := OpenRegular(path)
	if err != nil {
		return nil, readError(path, err)
	}
	defer f.Close()
	return Decode(f, path)
}

// Decode reads a whole PNG, JPEG or WebP image from r. name is used only in
// error messages. JPEGs come back turned as their EXIF orientation says.
// Meta holds the file's text, colour profile and EXIF where it has them;
// metadata that cannot be read is left out and never makes Decode fail.
// Every error is one line naming name: "NAME is not a PNG, JPEG or WebP
// image", "NAME is damaged: REASON", "NAME is too large: ...".
func Decode(r io.Reader, name string) (*Image, error) {
	return decode(r, name, MaxPixels)
}

// decode is Decode with the pixel limit as a parameter, so the fuzz test can
// use a small one and not spend its time allocating legal giant images.
func decode(r io.Reader, name string, maxPixels int) (*Image, error) {
	data, f, err := readImage(r, name)
	if err != nil {
		return nil, err
	}
	cfg, err := guarded(func() (image.Config, error) { return f.decodeConfig(bytes.NewReader(data)) })
	if err != nil {
		return nil, decodeError(name, f, data, err)
	}
	if err := checkSize(name, cfg.Width, cfg.Height, maxPixels); err != nil {
		return nil, err
	}
	if f.isAnimated != nil && f.isAnimated(data) {
		return nil, newFileError(errors.ErrUnsupported, "%s is an animated %s, which is not supported", name, f.name)
	}
	m, err := guarded(func() (image.Image, error) { return f.decode(bytes.NewReader(data)) })
	if err != nil {
		return nil, decodeError(name, f, data, err)
	}
	// The decoder's own header check should already agree with cfg; this
	// costs nothing and keeps fromGoImage safe if it ever does not.
	b := m.Bounds()
	if err := checkSize(name, b.Dx(), b.Dy(), maxPixels); err != nil {
		return nil, err
	}
	return f.finish(data, m), nil
}

// imageFormat is one file format Decode understands.
type imageFormat struct {
	name         string // as people know it, for messages
	format       Format
	signature    string // leading bytes; '?' matches any byte
	decodeConfig func(io.Reader) (image.Config, error)
	decode       func(io.Reader) (image.Image, error)
	isAnimated   func(data []byte) bool // nil when the format has no animation
	// isTruncated tells from the file's framing that its end is missing,
	// for decoders that report a cut file as some other format error;
	// nil when the decoder itself reports it as an unexpected EOF.
	isTruncated func(data []byte) bool
	// finish turns the decoded image into an Image, applying what the
	// format stores beside the pixels (JPEG orientation, WebP alpha hint)
	// and reading its metadata.
	finish func(data []byte, m image.Image) *Image
}

// formats is sniffed by signature rather than through image.Decode's
// registry, so another package registering GIF or BMP cannot widen what
// dream accepts.
var formats = []imageFormat{
	{
		name: "PNG", format: PNG, signature: "\x89PNG\r\n\x1a\n",
		decodeConfig: png.DecodeConfig, decode: png.Decode,
		isTruncated: pngIsTruncated,
		finish: func(data []byte, m image.Image) *Image {
			img := fromGoImage(m, 0)
			img.Meta = pngMetadata(data)
			return img
		},
	},
	{
		name: "JPEG", format: JPEG, signature: "\xff\xd8",
		decodeConfig: jpeg.DecodeConfig, decode: jpeg.Decode,
		finish: func(data []byte, m image.Image) *Image {
			o := jpegOrientation(data)
			img := orient(fromGoImage(m, 0), o)
			img.Meta = jpegMetadata(data, o)
			return img
		},
	},
	{
		name: "WebP", format: WebP, signature: "RIFF????WEBP",
		decodeConfig: webp.DecodeConfig, decode: webp.Decode,
		isAnimated: webpIsAnimated, isTruncated: webpIsTruncated,
		finish: func(data []byte, m image.Image) *Image {
			img := webpImage(m, webpChannels(data))
			img.Meta = webpMetadata(data)
			return img
		},
	},
}

// sniffLen is how many leading bytes identify any format in formats.
const sniffLen = 12

// readImage reads all of r, but first checks the leading bytes so that
// pointing dream at a large video or archive fails at once instead of
// reading gigabytes into memory.
func readImage(r io.Reader, name string) ([]byte, *imageFormat, error) {
	head, f, err := sniffStart(r, name)
	if err != nil {
		return nil, nil, err
	}
	rest, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, readError(name, err)
	}
	return append(head, rest...), f, nil
}

// sniffStart reads the first sniffLen bytes of r (fewer when r is shorter) and names the
// format they start; head holds the bytes read, which the caller puts back in front of r.
func sniffStart(r io.Reader, name string) (head []byte, f *imageFormat, err error) {
	head = make([]byte, sniffLen)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, nil, readError(name, err)
	}
	head = head[:n]
	f, err = sniff(head, name)
	return head, f, err
}

// sniff names the format head starts with.
func sniff(head []byte, name string) (*imageFormat, error) {
	if len(head) == 0 {
		return nil, newFileError(ErrDamaged, "%s is damaged: file is empty", name)
	}
	for i := range formats {
		sig := formats[i].signature
		if matchesSignature(head, sig) {
			return &formats[i], nil
		}
		if len(head) < len(sig) && matchesSignature(head, sig[:len(head)]) {
			return nil, newFileError(ErrDamaged, "%s is damaged: file is truncated", name)
		}
	}
	return nil, newFileError(ErrNotImage, "%s is not a PNG, JPEG or WebP image", name)
}

func matchesSignature(data []byte, sig string) bool {
	if len(data) < len(sig) {
		return false
	}
	for i := 0; i < len(sig); i++ {
		if sig[i] != '?' && sig[i] != data[i] {
			return false
		}
	}
	return true
}

// checkSize refuses empty images and images over maxPixels.
func checkSize(name string, w, h, maxPixels int) error {
	if w < 1 || h < 1 {
		return newFileError(ErrDamaged, "%s is damaged: image has no pixels (%dx%d)", name, w, h)
	}
	if int64(w)*int64(h) > int64(maxPixels) {
		return newFileError(ErrTooLarge, "%s is too large: %dx%d pixels, the limit is %d megapixels",
			name, w, h, maxPixels/1_000_000)
	}
	return nil
}

// guarded calls a standard-library or x/image decoder and turns a panic into
// an error: dream promises that no input bytes crash it, and that promise
// must not depend on every third-party decoder being bug-free.
func guarded[T any](call func() (T, error)) (result T, err error) {
	defer func() {
		if p := recover(); p != nil {
			var zero T
			result, err = zero, fmt.Errorf("decoder failed: %v", p)
		}
	}()
	return call()
}

// readError describes a failure to open or read name.
func readError(name string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return newFileError(fs.ErrNotExist, "no such file: %s", name)
	}
	return newFileError(err, "cannot read %s: %s", name, osReason(err))
}

// osReason drops the "open PATH:" prefix of os errors, since every message
// here already names the file (and may otherwise show a temp file's name), and
// the full stop Windows ends its sentences with, since the reason ends a message.
func osReason(err error) string {
	var pathErr *fs.PathError
	var linkErr *os.LinkError
	switch {
	case errors.As(err, &pathErr):
		err = pathErr.Err
	case errors.As(err, &linkErr):
		err = linkErr.Err
	}
	return strings.TrimSuffix(err.Error(), ".")
}

// decodeError describes a decoder failure on name, whose bytes are data.
func decodeError(name string, f *imageFormat, data []byte, err error) error {
	var pngUnsupported png.UnsupportedError
	var jpegUnsupported jpeg.UnsupportedError
	switch {
	case f.isTruncated != nil && f.isTruncated(data):
		// Checked first: a cut-off download is the common case, and
		// "file is truncated" says what to do about it.
		return newFileError(ErrDamaged, "%s is damaged: file is truncated", name)
	case errors.As(err, &pngUnsupported):
		return unsupported(name, f, string(pngUnsupported))
	case errors.As(err, &jpegUnsupported):
		return unsupported(name, f, string(jpegUnsupported))
	}
	return newFileError(ErrDamaged, "%s is damaged: %s", name, damageReason(err))
}

// pngEnd is the IEND chunk every complete PNG ends with; its CRC is fixed.
var pngEnd = []byte("\x00\x00\x00\x00IEND\xae\x42\x60\x82")

// pngIsTruncated: Go's PNG decoder reports a file cut inside the image
// data as "not enough pixel data", the same as a short but complete file.
func pngIsTruncated(data []byte) bool {
	return !bytes.Contains(data, pngEnd)
}

func unsupported(name string, f *imageFormat, feature string) error {
	return newFileError(errors.ErrUnsupported, "%s uses an unsupported %s feature: %s", name, f.name, feature)
}

// decoderPrefixes are the package tags Go's decoders put on their messages;
// people need the reason, not which Go package found it.
var decoderPrefixes = []string{
	"png: ", "invalid format: ", "invalid JPEG format: ",
	"webp: ", "vp8: ", "vp8l: ", "riff: ",
}

// damageReason turns a decoder error into a short lowercase phrase.
func damageReason(err error) string {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "file is truncated"
	}
	reason := err.Error()
	for stripped := true; stripped; {
		stripped = false
		for _, prefix := range decoderPrefixes {
			if strings.HasPrefix(reason, prefix) {
				reason, stripped = strings.TrimPrefix(reason, prefix), true
			}
		}
	}
	if strings.HasPrefix(reason, "short chunk") {
		return "file is truncated"
	}
	reason = strings.Join(strings.Fields(reason), " ") // one line
	reason = strings.TrimRight(reason, ".")
	if reason == "" {
		return "invalid data"
	}
	return strings.ToLower(reason[:1]) + reason[1:]
}

// sampleAt returns one pixel as R, G, B, A with straight alpha, in the
// source's own depth (0..255 or 0..65535). Gray sources put the gray value
// first, which is all a 1-channel Image takes.
type sampleAt func(x, y int) [4]uint16

// fromGoImage copies m into an Image. channels overrides the channel count
// the Go type implies (0 keeps it); WebP needs that because its lossless
// decoder always returns NRGBA, alpha or not.
func fromGoImage(m image.Image, channels int) *Image {
	natural, depth, at := describe(m)
	if channels == 0 {
		channels = natural
	}
	b := m.Bounds()
	img := New(b.Dx(), b.Dy(), channels, depth)
	i := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			px := at(x, y)
			for _, v := range px[:channels] {
				img.Set(i, v)
				i++
			}
		}
	}
	return img
}

// describe tells what m carries (channels and depth) and how to read it.
// The concrete types are the ones Go's PNG and JPEG decoders return, and
// the NRGBA of lossless WebP (webpImage converts lossy WebP's Y'CbCr
// itself); reading them directly avoids an interface allocation per pixel.
func describe(m image.Image) (channels, depth int, at sampleAt) {
	switch m := m.(type) {
	case *image.Gray:
		return 1, 8, func(x, y int) [4]uint16 {
			v := uint16(m.Pix[m.PixOffset(x, y)])
			return [4]uint16{v, v, v, 0xff}
		}
	case *image.Gray16:
		return 1, 16, func(x, y int) [4]uint16 {
			v := m.Gray16At(x, y).Y
			return [4]uint16{v, v, v, 0xffff}
		}
	case *image.Paletted:
		return describePaletted(m)
	case *image.NRGBA:
		return 4, 8, func(x, y int) [4]uint16 {
			p := m.Pix[m.PixOffset(x, y):]
			return [4]uint16{uint16(p[0]), uint16(p[1]), uint16(p[2]), uint16(p[3])}
		}
	case *image.NRGBA64:
		return 4, 16, func(x, y int) [4]uint16 {
			c := m.NRGBA64At(x, y)
			return [4]uint16{c.R, c.G, c.B, c.A}
		}
	case *image.RGBA:
		// Go's PNG decoder uses RGBA only for opaque truecolour; Opaque
		// confirms it so a transparent RGBA from elsewhere keeps its alpha.
		return channelsFor(m.Opaque()), 8, func(x, y int) [4]uint16 {
			c := m.RGBAAt(x, y)
			return unpremultiply([4]uint16{uint16(c.R), uint16(c.G), uint16(c.B), uint16(c.A)}, 0xff)
		}
	case *image.RGBA64:
		return channelsFor(m.Opaque()), 16, func(x, y int) [4]uint16 {
			c := m.RGBA64At(x, y)
			return unpremultiply([4]uint16{c.R, c.G, c.B, c.A}, 0xffff)
		}
	case *image.YCbCr:
		return 3, 8, func(x, y int) [4]uint16 {
			c := m.YCbCrAt(x, y)
			r, g, b := color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
			return [4]uint16{uint16(r), uint16(g), uint16(b), 0xff}
		}
	case *image.CMYK:
		return 3, 8, func(x, y int) [4]uint16 {
			c := m.CMYKAt(x, y)
			r, g, b := color.CMYKToRGB(c.C, c.M, c.Y, c.K)
			return [4]uint16{uint16(r), uint16(g), uint16(b), 0xff}
		}
	}
	// Unknown types: slow but lossless.
	return 4, 16, func(x, y int) [4]uint16 {
		c := color.NRGBA64Model.Convert(m.At(x, y)).(color.NRGBA64)
		return [4]uint16{c.R, c.G, c.B, c.A}
	}
}

// describePaletted reads a palette image as RGB, or as RGBA when any
// palette entry is not fully opaque (PNG tRNS).
func describePaletted(m *image.Paletted) (channels, depth int, at sampleAt) {
	table := make([][4]uint16, len(m.Palette))
	opaque := true
	for i, c := range m.Palette {
		n := color.NRGBAModel.Convert(c).(color.NRGBA)
		table[i] = [4]uint16{uint16(n.R), uint16(n.G), uint16(n.B), uint16(n.A)}
		opaque = opaque && n.A == 0xff
	}
	return channelsFor(opaque), 8, func(x, y int) [4]uint16 {
		index := int(m.ColorIndexAt(x, y))
		if index >= len(table) {
			return [4]uint16{0, 0, 0, 0xff} // out-of-range index: black, as libpng does
		}
		return table[index]
	}
}

func channelsFor(opaque bool) int {
	if opaque {
		return 3
	}
	return 4
}

// unpremultiply converts premultiplied R, G, B to straight alpha; full is
// the largest sample value (0xff or 0xffff).
func unpremultiply(c [4]uint16, full uint32) [4]uint16 {
	a := uint32(c[3])
	switch a {
	case full:
		return c
	case 0:
		return [4]uint16{}
	}
	for i := 0; i < 3; i++ {
		// min: malformed data can have a colour brighter than its alpha.
		c[i] = uint16(min(uint32(c[i])*full/a, full))
	}
	return c
}

// Inspect checks that data is a PNG, JPEG or WebP image within the pixel limit Load has,
// from its header alone, and returns its size. The web page's uploads are checked with it
// before they are stored; its errors are Decode's.
func Inspect(data []byte, name string) (w, h int, err error) {
	f, err := sniff(data[:min(len(data), sniffLen)], name)
	if err != nil {
		return 0, 0, err
	}
	cfg, err := guarded(func() (image.Config, error) { return f.decodeConfig(bytes.NewReader(data)) })
	if err != nil {
		return 0, 0, decodeError(name, f, data, err)
	}
	if err := checkSize(name, cfg.Width, cfg.Height, MaxPixels); err != nil {
		return 0, 0, err
	}
	return cfg.Width, cfg.Height, nil
}
