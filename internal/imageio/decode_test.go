package imageio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// Odd sizes so that row strides and sub-byte packing are exercised.
const testW, testH = 5, 3

// rawPixel is a deterministic, varied pixel of file samples for pixel p,
// each sample fitting in bitDepth bits.
func rawPixel(p, channels, bitDepth int) []uint16 {
	px := make([]uint16, channels)
	for k := range px {
		v := uint32(p*40503 + k*9973 + p*p*31 + 7)
		px[k] = uint16(v % (1 << bitDepth))
	}
	return px
}

// scaleTo8 widens a 1, 2 or 4-bit gray sample to 8 bits as PNG specifies.
func scaleTo8(v uint16, bitDepth int) uint16 {
	return v * 255 / (1<<bitDepth - 1)
}

// testPalette has 6 entries; tRNS gives only the first 4 an alpha, so the
// rest must default to opaque.
var (
	testPalette  = [][3]byte{{0, 0, 0}, {255, 0, 0}, {0, 255, 0}, {10, 20, 250}, {128, 128, 128}, {255, 255, 255}}
	testPalAlpha = []byte{0, 80, 255, 200}
)

func plteChunk(entries int) pngChunk {
	var data []byte
	for _, c := range testPalette[:entries] {
		data = append(data, c[:]...)
	}
	return pngChunk{"PLTE", data}
}

func paletteColor(index uint16, withAlpha bool) []uint16 {
	c := testPalette[index]
	px := []uint16{uint16(c[0]), uint16(c[1]), uint16(c[2])}
	if !withAlpha {
		return px
	}
	alpha := uint16(255)
	if int(index) < len(testPalAlpha) {
		alpha = uint16(testPalAlpha[index])
	}
	return append(px, alpha)
}

// pngKind is one PNG colour type / bit depth combination and what Load
// must turn it into.
type pngKind struct {
	name         string
	colorType    byte
	bitDepth     int
	fileChannels int
	paletteSize  int        // palette kinds: indices are taken modulo this
	extra        []pngChunk // PLTE, tRNS
	wantChannels int
	wantDepth    int
	want         func(file []uint16) []uint16 // one pixel: file samples → decoded
}

func keep(px []uint16) []uint16 { return px }

// transparentKey is the tRNS colour: pixel 0's own value, so at least one
// pixel becomes transparent.
func transparentKey(channels, bitDepth int) []uint16 { return rawPixel(0, channels, bitDepth) }

func trnsChunk(key []uint16) pngChunk {
	var data []byte
	for _, v := range key {
		data = binary.BigEndian.AppendUint16(data, v)
	}
	return pngChunk{"tRNS", data}
}

// withKeyAlpha appends alpha: transparent where the pixel equals key.
func withKeyAlpha(key []uint16, opaque uint16) func([]uint16) []uint16 {
	return func(px []uint16) []uint16 {
		alpha := opaque
		if slices.Equal(px, key) {
			alpha = 0
		}
		if len(px) == 1 {
			return []uint16{px[0], px[0], px[0], alpha}
		}
		return append(slices.Clone(px), alpha)
	}
}

func pngKinds() []pngKind {
	gray16Key := transparentKey(1, 16)
	gray8Key := transparentKey(1, 8)
	rgb8Key := transparentKey(3, 8)
	rgb16Key := transparentKey(3, 16)
	grayLow := func(depth int) func([]uint16) []uint16 {
		return func(px []uint16) []uint16 { return []uint16{scaleTo8(px[0], depth)} }
	}
	grayAlpha := func(px []uint16) []uint16 { return []uint16{px[0], px[0], px[0], px[1]} }
	return []pngKind{
		{name: "gray1", colorType: 0, bitDepth: 1, fileChannels: 1, wantChannels: 1, wantDepth: 8, want: grayLow(1)},
		{name: "gray2", colorType: 0, bitDepth: 2, fileChannels: 1, wantChannels: 1, wantDepth: 8, want: grayLow(2)},
		{name: "gray4", colorType: 0, bitDepth: 4, fileChannels: 1, wantChannels: 1, wantDepth: 8, want: grayLow(4)},
		{name: "gray8", colorType: 0, bitDepth: 8, fileChannels: 1, wantChannels: 1, wantDepth: 8, want: keep},
		{name: "gray16", colorType: 0, bitDepth: 16, fileChannels: 1, wantChannels: 1, wantDepth: 16, want: keep},
		{name: "gray8+tRNS", colorType: 0, bitDepth: 8, fileChannels: 1, extra: []pngChunk{trnsChunk(gray8Key)},
			wantChannels: 4, wantDepth: 8, want: withKeyAlpha(gray8Key, 0xff)},
		{name: "gray16+tRNS", colorType: 0, bitDepth: 16, fileChannels: 1, extra: []pngChunk{trnsChunk(gray16Key)},
			wantChannels: 4, wantDepth: 16, want: withKeyAlpha(gray16Key, 0xffff)},
		{name: "gray+alpha8", colorType: 4, bitDepth: 8, fileChannels: 2, wantChannels: 4, wantDepth: 8, want: grayAlpha},
		{name: "gray+alpha16", colorType: 4, bitDepth: 16, fileChannels: 2, wantChannels: 4, wantDepth: 16, want: grayAlpha},
		{name: "rgb8", colorType: 2, bitDepth: 8, fileChannels: 3, wantChannels: 3, wantDepth: 8, want: keep},
		{name: "rgb16", colorType: 2, bitDepth: 16, fileChannels: 3, wantChannels: 3, wantDepth: 16, want: keep},
		{name: "rgb8+tRNS", colorType: 2, bitDepth: 8, fileChannels: 3, extra: []pngChunk{trnsChunk(rgb8Key)},
			wantChannels: 4, wantDepth: 8, want: withKeyAlpha(rgb8Key, 0xff)},
		{name: "rgb16+tRNS", colorType: 2, bitDepth: 16, fileChannels: 3, extra: []pngChunk{trnsChunk(rgb16Key)},
			wantChannels: 4, wantDepth: 16, want: withKeyAlpha(rgb16Key, 0xffff)},
		{name: "rgba8", colorType: 6, bitDepth: 8, fileChannels: 4, wantChannels: 4, wantDepth: 8, want: keep},
		{name: "rgba16", colorType: 6, bitDepth: 16, fileChannels: 4, wantChannels: 4, wantDepth: 16, want: keep},
		{name: "palette2", colorType: 3, bitDepth: 2, fileChannels: 1, paletteSize: 4, extra: []pngChunk{plteChunk(4)},
			wantChannels: 3, wantDepth: 8, want: func(px []uint16) []uint16 { return paletteColor(px[0], false) }},
		{name: "palette8", colorType: 3, bitDepth: 8, fileChannels: 1, paletteSize: 6, extra: []pngChunk{plteChunk(6)},
			wantChannels: 3, wantDepth: 8, want: func(px []uint16) []uint16 { return paletteColor(px[0], false) }},
		{name: "palette8+tRNS", colorType: 3, bitDepth: 8, fileChannels: 1, paletteSize: 6,
			extra:        []pngChunk{plteChunk(6), {"tRNS", testPalAlpha}},
			wantChannels: 4, wantDepth: 8, want: func(px []uint16) []uint16 { return paletteColor(px[0], true) }},
	}
}

// build returns the PNG file for k and the Image Load must return for it.
func (k pngKind) build(t testing.TB) ([]byte, *Image) {
	var wantSamples []uint16
	rows := make([][]byte, testH)
	for y := 0; y < testH; y++ {
		var samples []uint16
		for x := 0; x < testW; x++ {
			px := rawPixel(y*testW+x, k.fileChannels, k.bitDepth)
			if k.paletteSize > 0 {
				px[0] %= uint16(k.paletteSize)
			}
			samples = append(samples, px...)
			wantSamples = append(wantSamples, k.want(px)...)
		}
		rows[y] = packRow(samples, k.bitDepth)
	}
	want := imageOf(testW, testH, k.wantChannels, k.wantDepth, wantSamples...)
	return rawPNG(t, testW, testH, byte(k.bitDepth), k.colorType, rows, k.extra...), want
}

func TestLoadPNGKinds(t *testing.T) {
	for _, k := range pngKinds() {
		t.Run(k.name, func(t *testing.T) {
			data, want := k.build(t)
			path := writeFile(t, tempDir(t), "in.png", data)
			got, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			assertSameImage(t, got, want)
		})
	}
}

// TestPNGRoundTrip: decode → Encode → decode gives the same pixels,
// channels and depth, and the written PNG has the matching colour type.
func TestPNGRoundTrip(t *testing.T) {
	wantColorType := map[int]byte{1: 0, 3: 2, 4: 6}
	for _, k := range pngKinds() {
		t.Run(k.name, func(t *testing.T) {
			data, _ := k.build(t)
			first, err := Decode(bytes.NewReader(data), "in.png")
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := Encode(&out, first); err != nil {
				t.Fatal(err)
			}
			depth, colorType := pngIHDR(t, out.Bytes())
			if int(depth) != first.Depth || colorType != wantColorType[first.Channels] {
				t.Errorf("written as depth %d colour type %d, want depth %d colour type %d",
					depth, colorType, first.Depth, wantColorType[first.Channels])
			}
			second, err := Decode(bytes.NewReader(out.Bytes()), "out.png")
			if err != nil {
				t.Fatal(err)
			}
			assertSameImage(t, second, first)
		})
	}
}

func assertSameImage(t *testing.T, got, want *Image) {
	t.Helper()
	if got.W != want.W || got.H != want.H || got.Channels != want.Channels || got.Depth != want.Depth {
		t.Fatalf("got %dx%d %d channels depth %d, want %dx%d %d channels depth %d",
			got.W, got.H, got.Channels, got.Depth, want.W, want.H, want.Channels, want.Depth)
	}
	if !slices.Equal(got.Pix, want.Pix) {
		t.Fatalf("pixels differ:\n got %v\nwant %v", samplesOf(got), samplesOf(want))
	}
}

func TestPaletteTransparencyBecomesRGBA(t *testing.T) {
	// One row holding every palette index once.
	indices := []uint16{0, 1, 2, 3, 4, 5}
	data := rawPNG(t, len(indices), 1, 8, 3, [][]byte{packRow(indices, 8)},
		plteChunk(6), pngChunk{"tRNS", testPalAlpha})
	got, err := Decode(bytes.NewReader(data), "p.png")
	if err != nil {
		t.Fatal(err)
	}
	if got.Channels != 4 {
		t.Fatalf("channels = %d, want 4", got.Channels)
	}
	wantAlpha := []uint16{0, 80, 255, 200, 255, 255}
	for i, a := range wantAlpha {
		if got.At(4*i+3) != a {
			t.Errorf("index %d: alpha %d, want %d", i, got.At(4*i+3), a)
		}
	}
}

// TestJPEGOrientation checks each EXIF orientation by where the stored
// quadrants A B / C D end up on display.
func TestJPEGOrientation(t *testing.T) {
	base := quadrantJPEG(t)
	tests := []struct {
		orientation uint16
		swapped     bool
		display     [4]color.RGBA // top-left, top-right, bottom-left, bottom-right
	}{
		{1, false, [4]color.RGBA{quadA, quadB, quadC, quadD}},
		{2, false, [4]color.RGBA{quadB, quadA, quadD, quadC}}, // mirrored
		{3, false, [4]color.RGBA{quadD, quadC, quadB, quadA}}, // 180°
		{4, false, [4]color.RGBA{quadC, quadD, quadA, quadB}}, // flipped
		{5, true, [4]color.RGBA{quadA, quadC, quadB, quadD}},  // transposed
		{6, true, [4]color.RGBA{quadC, quadA, quadD, quadB}},  // 90° clockwise
		{7, true, [4]color.RGBA{quadD, quadB, quadC, quadA}},  // transversed
		{8, true, [4]color.RGBA{quadB, quadD, quadA, quadC}},  // 90° counter-clockwise
	}
	for _, byteOrder := range []string{"II", "MM"} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/%d", byteOrder, tt.orientation), func(t *testing.T) {
				data := withExif(base, exifTIFFBlock(byteOrder, tt.orientation))
				path := writeFile(t, tempDir(t), "photo.jpg", data)
				got, err := Load(path)
				if err != nil {
					t.Fatal(err)
				}
				wantW, wantH := 64, 32
				if tt.swapped {
					wantW, wantH = wantH, wantW
				}
				if got.W != wantW || got.H != wantH || got.Channels != 3 || got.Depth != 8 {
					t.Fatalf("got %dx%d %d channels depth %d, want %dx%d RGB 8-bit",
						got.W, got.H, got.Channels, got.Depth, wantW, wantH)
				}
				for i, want := range tt.display {
					x := (2*(i%2) + 1) * got.W / 4 // centre of the display quadrant
					y := (2*(i/2) + 1) * got.H / 4
					assertNearColor(t, got, x, y, want)
				}
			})
		}
	}
}

// assertNearColor allows for JPEG loss, which stays far below the
// distance between the quadrant colours.
func assertNearColor(t *testing.T, img *Image, x, y int, want color.RGBA) {
	t.Helper()
	const tolerance = 12
	i := (y*img.W + x) * img.Channels
	got := samplesOf(img)[i : i+3]
	for k, w := range []uint8{want.R, want.G, want.B} {
		if d := int(got[k]) - int(w); d > tolerance || d < -tolerance {
			t.Errorf("pixel (%d,%d) = %v, want about %v", x, y, got, want)
			return
		}
	}
}

func TestTIFFOrientationRobustness(t *testing.T) {
	longEntry := func() []byte { // Orientation stored as LONG, as some writers do
		b := []byte("MM\x00\x2a\x00\x00\x00\x08\x00\x01")
		b = append(b, 0x01, 0x12, 0x00, 0x04, 0, 0, 0, 1, 0, 0, 0, 6)
		return append(b, 0, 0, 0, 0)
	}
	tests := []struct {
		name string
		tiff []byte
		want int
	}{
		{"empty", nil, 1},
		{"bad byte order", []byte("XX\x2a\x00\x08\x00\x00\x00"), 1},
		{"bad magic", []byte("II\x2b\x00\x08\x00\x00\x00"), 1},
		{"IFD offset past end", []byte("II\x2a\x00\xff\xff\xff\xff"), 1},
		{"entry count past end", []byte("II\x2a\x00\x08\x00\x00\x00\x09\x00"), 1},
		{"orientation 9", exifTIFFBlock("II", 9), 1},
		{"orientation 0", exifTIFFBlock("MM", 0), 1},
		{"orientation 6 II", exifTIFFBlock("II", 6), 6},
		{"orientation 8 MM", exifTIFFBlock("MM", 8), 8},
		{"LONG type", longEntry(), 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tiffOrientation(tt.tiff); got != tt.want {
				t.Errorf("tiffOrientation = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestJPEGWithoutExifAndGray(t *testing.T) {
	gray := image.NewGray(image.Rect(0, 0, 16, 8))
	for i := range gray.Pix {
		gray.Pix[i] = 200
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, gray, nil); err != nil {
		t.Fatal(err)
	}
	got, err := Decode(&buf, "g.jpg")
	if err != nil {
		t.Fatal(err)
	}
	if got.W != 16 || got.H != 8 || got.Channels != 1 || got.Depth != 8 {
		t.Fatalf("got %dx%d %d channels depth %d, want 16x8 gray 8-bit", got.W, got.H, got.Channels, got.Depth)
	}
	if d := int(got.At(0)) - 200; d > 2 || d < -2 {
		t.Errorf("gray value %d, want about 200", got.At(0))
	}
}

// webpPixels is a 3×2 test image with varied colours and alphas.
var webpPixels = []color.NRGBA{
	{255, 0, 0, 255}, {0, 255, 0, 128}, {0, 0, 255, 0},
	{10, 20, 30, 255}, {200, 100, 50, 1}, {255, 255, 255, 254},
}

func TestLoadWebP(t *testing.T) {
	opaque := slices.Clone(webpPixels)
	for i := range opaque {
		opaque[i].A = 255
	}
	tests := []struct {
		name         string
		data         []byte
		pixels       []color.NRGBA
		wantChannels int
	}{
		{"lossless with alpha", riffWebP(pngChunk{"VP8L", vp8lStream(3, 2, webpPixels, true)}), webpPixels, 4},
		{"lossless opaque", riffWebP(pngChunk{"VP8L", vp8lStream(3, 2, opaque, false)}), opaque, 3},
		{"extended with alpha flag", riffWebP(vp8xChunk(0x10, 3, 2), pngChunk{"VP8L", vp8lStream(3, 2, webpPixels, false)}), webpPixels, 4},
		{"extended without alpha flag", riffWebP(vp8xChunk(0, 3, 2), pngChunk{"VP8L", vp8lStream(3, 2, opaque, false)}), opaque, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tempDir(t), "in.webp", tt.data)
			got, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			var samples []uint16
			for _, p := range tt.pixels {
				samples = append(samples, []uint16{uint16(p.R), uint16(p.G), uint16(p.B), uint16(p.A)}[:tt.wantChannels]...)
			}
			want := imageOf(3, 2, tt.wantChannels, 8, samples...)
			assertSameImage(t, got, want)
		})
	}
}

func TestLoadErrors(t *testing.T) {
	dir := tempDir(t)
	goodPNG, _ := pngKinds()[9].build(t) // rgb8
	bigPNG := bigNoisePNG(t)
	jpegData := quadrantJPEG(t)
	webpData := riffWebP(pngChunk{"VP8L", vp8lStream(3, 2, webpPixels, true)})
	hugeHeader := rawPNGHeaderOnly(30000, 30000)
	animated := riffWebP(vp8xChunk(0x02, 3, 2), pngChunk{"ANIM", make([]byte, 6)})
	tests := []struct {
		name    string
		path    string
		wantMsg string // %s is the path
		wantIs  error
	}{
		{"missing", filepath.Join(dir, "nope.png"), "no such file: %s", fs.ErrNotExist},
		{"text", writeFile(t, dir, "notes.txt", []byte("hello, this is text\n")),
			"%s is not a PNG, JPEG or WebP image", ErrNotImage},
		{"truncated PNG", writeFile(t, dir, "half.png", bigPNG[:len(bigPNG)/2]),
			"%s is damaged: file is truncated", ErrDamaged},
		{"PNG cut inside signature", writeFile(t, dir, "sig.png", goodPNG[:5]),
			"%s is damaged: file is truncated", ErrDamaged},
		{"truncated JPEG", writeFile(t, dir, "half.jpg", jpegData[:len(jpegData)/2]),
			"%s is damaged: file is truncated", ErrDamaged},
		{"truncated WebP", writeFile(t, dir, "half.webp", webpData[:len(webpData)/2]),
			"%s is damaged: file is truncated", ErrDamaged},
		{"empty", writeFile(t, dir, "empty.jpg", nil), "%s is damaged: file is empty", ErrDamaged},
		{"bad CRC", writeFile(t, dir, "crc.png", corruptByte(goodPNG, 30)),
			"%s is damaged: invalid checksum", ErrDamaged},
		{"too large", writeFile(t, dir, "huge.png", hugeHeader),
			"%s is too large: 30000x30000 pixels, the limit is 400 megapixels", ErrTooLarge},
		{"animated WebP", writeFile(t, dir, "anim.webp", animated),
			"%s is an animated WebP, which is not supported", errors.ErrUnsupported},
		{"directory", dir, "cannot read %s: is a directory", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := Load(tt.path)
			if err == nil {
				t.Fatalf("Load succeeded (%dx%d), want an error", img.W, img.H)
			}
			if want := fmt.Sprintf(tt.wantMsg, tt.path); err.Error() != want {
				t.Errorf("error\n got %q\nwant %q", err, want)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(err, %v) = false", tt.wantIs)
			}
		})
	}
}

// bigNoisePNG is large enough that cutting it in half lands inside the
// image data, the way an interrupted download does.
func bigNoisePNG(t *testing.T) []byte {
	m := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for i := range m.Pix {
		m.Pix[i] = byte(i*7919 + i/3)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rawPNGHeaderOnly is a PNG that claims w×h pixels but holds no data: the
// size check must reject it before any pixel memory is allocated.
func rawPNGHeaderOnly(w, h int) []byte {
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, 2
	return appendPNGChunk([]byte("\x89PNG\r\n\x1a\n"), pngChunk{"IHDR", ihdr[:]})
}

func corruptByte(data []byte, at int) []byte {
	out := slices.Clone(data)
	out[at] ^= 0xff
	return out
}

// TestErrorMessagesAreOneLine guards the message style for every kind of
// bad input: one line, no trailing period.
func TestErrorMessagesAreOneLine(t *testing.T) {
	inputs := [][]byte{nil, []byte("GIF89a"), []byte("\x89PNG\r\n\x1a\nxxxx"), []byte("\xff\xd8\xff\xe0"), []byte("RIFF\x00\x00\x00\x00WEBPVP8 ")}
	for _, in := range inputs {
		_, err := Decode(bytes.NewReader(in), "x.img")
		if err == nil {
			t.Errorf("Decode(%q) succeeded", in)
			continue
		}
		msg := err.Error()
		if strings.ContainsAny(msg, "\n\r") || strings.HasSuffix(msg, ".") || !strings.HasPrefix(msg, "x.img ") {
			t.Errorf("Decode(%q): badly formed message %q", in, msg)
		}
	}
}

func TestLoadUnreadable(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("on Windows chmod sets only the read-only attribute: a file cannot be made unreadable that way")
	}
	if os.Getuid() == 0 {
		t.Skip("root can read anything")
	}
	path := writeFile(t, tempDir(t), "locked.png", []byte("x"))
	if err := os.Chmod(path, 0); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if want := "cannot read " + path + ": permission denied"; err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}
