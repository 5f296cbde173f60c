package imageio

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image/jpeg"
	"maps"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gen2brain/webp"

	"dream/internal/pngmeta"
)

// testPhoto is the shared 128-pixel crop of a real photograph.
func testPhoto(t testing.TB) *Image {
	t.Helper()
	img, err := Load(filepath.Join("..", "..", "..", "shared", "images", "coffee_crop128.png"))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// psnr is the PSNR in dB between two 8-bit images of one layout; +Inf when equal.
func psnr(t *testing.T, a, b *Image) float64 {
	t.Helper()
	if a.W != b.W || a.H != b.H || a.Channels != b.Channels || a.Depth != 8 || b.Depth != 8 {
		t.Fatalf("layouts differ: %dx%d×%d@%d and %dx%d×%d@%d", a.W, a.H, a.Channels, a.Depth, b.W, b.H, b.Channels, b.Depth)
	}
	var sum float64
	for i := range a.Pix {
		d := float64(a.Pix[i]) - float64(b.Pix[i])
		sum += d * d
	}
	return 10 * math.Log10(255*255/(sum/float64(len(a.Pix))))
}

// encodeDecode writes img as out and reads the file back.
func encodeDecode(t *testing.T, img *Image, out Output, meta []pngmeta.Chunk) ([]byte, *Image) {
	t.Helper()
	var buf bytes.Buffer
	if err := EncodeAs(&buf, img, out, meta); err != nil {
		t.Fatal(err)
	}
	back, err := Decode(bytes.NewReader(buf.Bytes()), "result")
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), back
}

// withDepth16 is img at 16 bits a sample, each 8-bit value v becoming v·257 moved by up to
// 99 (a third of a step) towards the middle, so that the writers' rounding back to 8 bits
// is exercised.
func withDepth16(img *Image) *Image {
	out := New(img.W, img.H, img.Channels, 16)
	for i := range img.sampleCount() {
		v, nudge := uint16(img.At(i))*257, uint16(i%100)
		if v == 0 {
			out.Set(i, v+nudge)
		} else {
			out.Set(i, v-nudge)
		}
	}
	return out
}

// JPEG pixels are exactly Go's encoder's: the writer only adds metadata segments after the
// start-of-image marker. A 16-bit image gives the file its 8-bit rounding gives.
func TestJPEGIsGoEncoderOutput(t *testing.T) {
	photo := testPhoto(t)
	gray := New(photo.W, photo.H, 1, 8)
	for i := range gray.Pix {
		gray.Pix[i] = photo.Pix[3*i+1]
	}
	for _, tc := range []struct {
		name string
		img  *Image
	}{{"RGB", photo}, {"gray", gray}} {
		t.Run(tc.name, func(t *testing.T) {
			meta := []pngmeta.Chunk{pngmeta.Text(pngmeta.KeyDream, "a cat"), pngmeta.Text(pngmeta.KeyParameters, "a cat\nSteps: 5")}
			data, back := encodeDecode(t, tc.img, Output{JPEG, 92}, meta)
			var plain bytes.Buffer
			if err := jpeg.Encode(&plain, jpegImage(tc.img), &jpeg.Options{Quality: 92}); err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(data, []byte{0xff, 0xd8, 0xff, markerAPP1}) || !bytes.HasSuffix(data, plain.Bytes()[2:]) {
				t.Error("the file is not SOI, metadata segments, then Go's encoder's output")
			}
			if back.Channels != tc.img.Channels {
				t.Errorf("%d channels back, want %d", back.Channels, tc.img.Channels)
			}
			wide, _ := encodeDecode(t, withDepth16(tc.img), Output{JPEG, 92}, meta)
			if !bytes.Equal(wide, data) {
				t.Error("a 16-bit image does not give the file of its 8-bit rounding")
			}
		})
	}
}

// Lossy WebP is libwebp's encoding of dream's own 4:2:0 conversion; it must be as close to
// the photo as libwebp's encoding of the RGBA pixels (its own conversion), the reference.
func TestLossyWebPAgainstLibwebpConversion(t *testing.T) {
	photo := testPhoto(t)
	_, back := encodeDecode(t, photo, Output{WebP, 90}, nil)
	var ref bytes.Buffer
	if err := webp.Encode(&ref, nrgbaImage(photo), webp.Options{Quality: 90, Method: webpMethod}); err != nil {
		t.Fatal(err)
	}
	refBack, err := Decode(bytes.NewReader(ref.Bytes()), "reference")
	if err != nil {
		t.Fatal(err)
	}
	ours, theirs := psnr(t, back, photo), psnr(t, refBack, photo)
	t.Logf("PSNR to the photo at quality 90: dream's conversion %.2f dB, libwebp's %.2f dB", ours, theirs)
	if ours < theirs-0.5 {
		t.Errorf("dream's WebP is %.2f dB, more than 0.5 dB below libwebp's own %.2f dB", ours, theirs)
	}
}

// WebP at quality 100 is lossless: every sample comes back, alpha included, and a 16-bit
// image comes back as its 8-bit rounding.
func TestLosslessWebP(t *testing.T) {
	photo := testPhoto(t)
	rgba := New(photo.W, photo.H, 4, 8)
	for p := range photo.W * photo.H {
		copy(rgba.Pix[4*p:], photo.Pix[3*p:3*p+3])
		rgba.Pix[4*p+3] = byte(p % 256) // every level of transparency, 0 included
	}
	for _, img := range []*Image{photo, rgba} {
		_, back := encodeDecode(t, img, Output{WebP, LosslessWebPQuality}, nil)
		if !bytes.Equal(back.Pix, img.Pix) || back.Channels != img.Channels {
			t.Errorf("%d channels: lossless WebP changed the pixels (PSNR %.1f dB)", img.Channels, psnr(t, back, img))
		}
		_, wide := encodeDecode(t, withDepth16(img), Output{WebP, LosslessWebPQuality}, nil)
		if !bytes.Equal(wide.Pix, img.Pix) {
			t.Errorf("%d channels: a 16-bit image did not come back as its 8-bit rounding", img.Channels)
		}
	}
}

// Lossy WebP keeps transparency (its alpha plane is lossless), and flat grays come back as
// they were, black and white included: the decoder reads WebP's studio-range Y'CbCr.
func TestLossyWebPLevels(t *testing.T) {
	levels := []byte{0, 16, 60, 128, 200, 235, 255}
	img := New(16*len(levels), 16, 4, 8)
	for y := range img.H {
		for x := range img.W {
			p := (y*img.W + x) * 4
			v := levels[x/16]
			copy(img.Pix[p:], []byte{v, v, v, byte(255 - 40*(x/16))})
		}
	}
	_, back := encodeDecode(t, img, Output{WebP, 90}, nil)
	if back.Channels != 4 {
		t.Fatalf("%d channels back, want 4", back.Channels)
	}
	for i, v := range levels {
		p := (8*img.W + 16*i + 8) * 4
		got := back.Pix[p : p+4]
		if diff := int(got[0]) - int(v); diff < -2 || diff > 2 || got[3] != img.Pix[p+3] {
			t.Errorf("gray %d with alpha %d came back as %v", v, img.Pix[p+3], got)
		}
	}
}

// JPEG refuses transparency before writing anything; a fully opaque alpha channel is
// dropped instead. Sizes beyond a format's limit are refused with the way out.
func TestCheckOutput(t *testing.T) {
	tests := []struct {
		out         Output
		w, h        int
		transparent bool
		want        string // "" for no error
	}{
		{Output{PNG, 0}, 100000, 100, true, ""},
		{Output{JPEG, 92}, 100, 100, false, ""},
		{Output{JPEG, 92}, 100, 100, true, "--format jpg: the image has transparent pixels, which JPEG cannot hold; use --format png or --format webp"},
		{Output{JPEG, 92}, 65536, 10, false, "--format jpg: the result would be 65536x10 and JPEG holds at most 65535 pixels a side; use --format png"},
		{Output{WebP, 90}, 16383, 16383, true, ""},
		{Output{WebP, 90}, 16384, 512, false, "--format webp: the result would be 16384x512 and WebP holds at most 16383 pixels a side; use --format png or --format jpg"},
		{Output{WebP, 0}, 10, 10, false, "--quality 0: give a quality from 1 to 100"},
	}
	for _, tt := range tests {
		err := CheckOutput(tt.out, tt.w, tt.h, tt.transparent)
		if got := errorText(err); got != tt.want {
			t.Errorf("CheckOutput(%v, %d, %d, %t) = %q, want %q", tt.out, tt.w, tt.h, tt.transparent, got, tt.want)
		}
	}
	opaque := New(8, 8, 4, 8)
	for i := range opaque.Pix {
		opaque.Pix[i] = 0xff
	}
	if _, back := encodeDecode(t, opaque, Output{JPEG, 92}, nil); back.Channels != 3 {
		t.Errorf("an opaque RGBA image gave a JPEG of %d channels", back.Channels)
	}
	opaque.Pix[7] = 0xfe
	var buf bytes.Buffer
	if err := EncodeAs(&buf, opaque, Output{JPEG, 92}, nil); err == nil || buf.Len() != 0 {
		t.Errorf("JPEG of a transparent image: %v, %d bytes written", err, buf.Len())
	}
}

func errorText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Every text, the colour profile and the source's EXIF survive a JPEG or WebP, read back by
// Decode and by ReadTexts: Dream, sd-metadata and postprocessing from XMP, parameters from
// EXIF's UserComment, merged into the source's EXIF. The profile is larger than one JPEG
// segment holds.
func TestMetadataRoundTrip(t *testing.T) {
	texts := map[string]string{
		pngmeta.KeyDream:          `"a <red> fox & \"snow\" — 狐" -s 30 -S 7 -W 512 -H 512 -C 7.5 -A k_lms --format jpg`,
		pngmeta.KeySDMetadata:     `{"app_id":"dream","image":{"prompt":"a <red> fox","postprocessing":[]}}`,
		pngmeta.KeyParameters:     "a <red> fox & \"snow\" — 狐\nSteps: 30, Sampler: LMS, CFG scale: 7.5, Seed: 7, Size: 512x512",
		pngmeta.KeyPostprocessing: "Postprocess upscale by: 2, Postprocess upscaler: R-ESRGAN General 4xV3",
	}
	profile := testProfile(2*iccPartSize + 1000)
	exif := exifTIFFBlock("II", 1)
	meta := []pngmeta.Chunk{
		pngmeta.Text(pngmeta.KeyDream, texts[pngmeta.KeyDream]),
		pngmeta.InternationalText(pngmeta.KeySDMetadata, texts[pngmeta.KeySDMetadata]),
		pngmeta.Text(pngmeta.KeyParameters, texts[pngmeta.KeyParameters]),
		pngmeta.Text(pngmeta.KeyPostprocessing, texts[pngmeta.KeyPostprocessing]),
		pngmeta.ICCProfile("camera", profile),
		pngmeta.Exif(exif),
	}
	photo := testPhoto(t)
	for _, out := range []Output{{JPEG, 92}, {WebP, 90}, {WebP, LosslessWebPQuality}, {PNG, 0}} {
		t.Run(fmt.Sprintf("%s at %d", out.Format, out.Quality), func(t *testing.T) {
			data, back := encodeDecode(t, photo, out, meta)
			if !maps.Equal(back.Meta.Text, texts) {
				t.Errorf("texts back:\n%q\nwant\n%q", back.Meta.Text, texts)
			}
			if !bytes.Equal(back.Meta.ICCProfile, profile) {
				t.Errorf("colour profile: %d bytes back, want %d", len(back.Meta.ICCProfile), len(profile))
			}
			if tiffOrientation(back.Meta.Exif) != 1 || !bytes.Equal(tagValue(t, back.Meta.Exif, 0, 0x010f), []byte("Go\x00\x00")) {
				t.Error("the source's EXIF tags were not kept")
			}
			path := writeFile(t, tempDir(t), "result"+out.Format.Extension(), data)
			read, err := ReadTexts(path)
			if err != nil || !maps.Equal(read, texts) {
				t.Errorf("ReadTexts = %q, %v", read, err)
			}
		})
	}
}

// ReadCommand finds the Dream text in every format and says when there is none.
func TestReadCommand(t *testing.T) {
	photo := testPhoto(t)
	dir := tempDir(t)
	for _, out := range []Output{{PNG, 0}, {JPEG, 92}, {WebP, 90}} {
		var with, without bytes.Buffer
		if err := EncodeAs(&with, photo, out, []pngmeta.Chunk{pngmeta.Text(pngmeta.KeyDream, "a cat -S 1")}); err != nil {
			t.Fatal(err)
		}
		if err := EncodeAs(&without, photo, out, []pngmeta.Chunk{pngmeta.Text(pngmeta.KeyParameters, "a cat")}); err != nil {
			t.Fatal(err)
		}
		command, err := ReadCommand(writeFile(t, dir, "with"+out.Format.Extension(), with.Bytes()))
		if err != nil || command != "a cat -S 1" {
			t.Errorf("%s: ReadCommand = %q, %v", out.Format, command, err)
		}
		path := writeFile(t, dir, "without"+out.Format.Extension(), without.Bytes())
		if _, err := ReadCommand(path); err == nil || err.Error() != path+" holds no dream command (it was not written by dream)" {
			t.Errorf("%s without a command: %v", out.Format, err)
		}
	}
	if _, err := ReadCommand(writeFile(t, dir, "notes.txt", []byte("hello"))); err == nil || !strings.Contains(err.Error(), "is not a PNG, JPEG or WebP image") {
		t.Errorf("a text file: %v", err)
	}
}

// JPEG allows fill bytes (more 0xFF) before any marker: ReadTexts and ReadCommand step over
// them as Decode does, in front of the first segment, the EXIF and the XMP dream writes.
func TestReadTextsFillBytes(t *testing.T) {
	texts := map[string]string{pngmeta.KeyDream: "a cat -S 1", pngmeta.KeyParameters: "a cat\nSeed: 1"}
	var written bytes.Buffer
	meta := []pngmeta.Chunk{pngmeta.Text(pngmeta.KeyDream, texts[pngmeta.KeyDream]),
		pngmeta.Text(pngmeta.KeyParameters, texts[pngmeta.KeyParameters])}
	if err := EncodeAs(&written, testPhoto(t), Output{JPEG, 92}, meta); err != nil {
		t.Fatal(err)
	}
	data := written.Bytes()
	// markerAt is where the marker of the APP1 segment whose body starts with header is.
	markerAt := func(header string) int { return bytes.Index(data, []byte(header)) - 4 }
	tests := []struct {
		name  string
		at    int // where the fill bytes go: before the marker there
		count int
	}{
		{"one before the XMP", markerAt(xmpJPEGHeader), 1},
		{"three before the EXIF", markerAt(exifHeader), 3},
		{"one before the first segment", 2, 1},
	}
	dir := tempDir(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if data[tt.at] != 0xff {
				t.Fatalf("no marker at %d", tt.at)
			}
			filled := append(bytes.Clone(data[:tt.at]), bytes.Repeat([]byte{0xff}, tt.count)...)
			filled = append(filled, data[tt.at:]...)
			path := writeFile(t, dir, "filled.jpg", filled)
			if read, err := ReadTexts(path); err != nil || !maps.Equal(read, texts) {
				t.Errorf("ReadTexts = %q, %v", read, err)
			}
			if command, err := ReadCommand(path); err != nil || command != texts[pngmeta.KeyDream] {
				t.Errorf("ReadCommand = %q, %v", command, err)
			}
			if back := decodeBytes(t, filled); !maps.Equal(back.Meta.Text, texts) {
				t.Errorf("Decode texts = %q", back.Meta.Text)
			}
		})
	}
}

// An EXIF block too large for a JPEG segment gives way to one holding only the parameters,
// and is left out when it holds none, rather than written as a block with an empty comment.
func TestJPEGOversizedExif(t *testing.T) {
	big := append(exifTIFFBlock("II", 1), make([]byte, maxSegmentBody)...)
	tests := []struct {
		name string
		exif []byte
		want string // the parameters of the segment written; "" when none is
	}{
		{"without parameters", big, ""},
		{"with parameters", withUserComment(big, "a cat"), "a cat"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			segments, err := jpegSegmentsOf(outputMeta{exif: tt.exif})
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == "" {
				if len(segments) != 0 {
					t.Errorf("%d segments written, want none", len(segments))
				}
				return
			}
			if len(segments) != 1 || len(segments[0].body) > maxSegmentBody ||
				userComment(exifBlock(segments[0].body)) != tt.want {
				t.Errorf("segments %d, want one EXIF segment holding %q", len(segments), tt.want)
			}
		})
	}
}

// tagValue reads the value of tag from IFD0 (ifd 0) or the Exif IFD (ifd 1) of a TIFF block.
func tagValue(t *testing.T, tiff []byte, ifdIndex int, tag uint16) []byte {
	t.Helper()
	order := tiffOrder(tiff)
	if order == nil {
		t.Fatal("not a TIFF block")
	}
	d, ok := readIFD(tiff, order, order.Uint32(tiff[4:]))
	if ok && ifdIndex == 1 {
		at := d.find(order, tagExifIFD)
		if at < 0 {
			t.Fatal("no Exif IFD")
		}
		d, ok = readIFD(tiff, order, order.Uint32(d.entries[at][8:]))
	}
	at := d.find(order, tag)
	if !ok || at < 0 {
		return nil
	}
	sizes := map[uint16]uint32{1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 9: 4, 10: 8}
	e := d.entries[at]
	n := sizes[order.Uint16(e[2:])] * order.Uint32(e[4:])
	if n <= 4 {
		return e[8 : 8+n]
	}
	start := order.Uint32(e[8:])
	return tiff[start : start+n]
}

// cameraTIFF is a camera-like EXIF block: IFD0 with Make, Orientation and the Exif IFD
// pointer, then a thumbnail IFD (IFD1), an Exif IFD with DateTimeOriginal and an ASCII
// UserComment, and their values stored past the IFDs.
func cameraTIFF(order binary.AppendByteOrder, mark string) []byte {
	const ifd1At, exifAt, dataAt = 8 + 2 + 3*12 + 4, 50 + 2 + 12 + 4, 68 + 2 + 2*12 + 4
	date := "2024:01:02 03:04:05\x00"
	comment := asciiComment + "old text"
	b := order.AppendUint32(order.AppendUint16([]byte(mark), 42), 8)
	entry := func(tag, kind uint16, count uint32, value []byte) {
		b = order.AppendUint32(order.AppendUint16(order.AppendUint16(b, tag), kind), count)
		b = append(b, value...)
	}
	short := func(v uint16) []byte { return order.AppendUint16(order.AppendUint16(nil, v), 0) }
	long := func(v uint32) []byte { return order.AppendUint32(nil, v) }
	b = order.AppendUint16(b, 3) // IFD0
	entry(0x010f, 2, 4, []byte("Go\x00\x00"))
	entry(tagOrient, tiffShort, 1, short(1))
	entry(tagExifIFD, tiffLong, 1, long(exifAt))
	b = order.AppendUint32(b, ifd1At)
	b = order.AppendUint16(b, 1)          // IFD1
	entry(0x0103, tiffShort, 1, short(6)) // Compression: a JPEG thumbnail
	b = order.AppendUint32(b, 0)
	b = order.AppendUint16(b, 2) // the Exif IFD
	entry(0x9003, 2, uint32(len(date)), long(dataAt))
	entry(tagUserComment, tiffUndefined, uint32(len(comment)), long(dataAt+uint32(len(date))))
	b = order.AppendUint32(b, 0)
	return append(append(b, date...), comment...)
}

// UserComment is merged into whatever EXIF the source had: every other tag keeps its value
// (an offset value too), the old comment is replaced, the thumbnail IFD stays linked; a
// block that cannot be read is replaced by one holding the comment alone.
func TestWithUserComment(t *testing.T) {
	text := "a fox in snow — 狐\nSteps: 20"
	tests := []struct {
		name   string
		tiff   []byte
		kept   map[[2]int][]byte // (IFD, tag) → value that must survive
		nextAt bool              // IFD0 must still point to the same next IFD
	}{
		{"none", nil, nil, false},
		{"not TIFF", []byte("garbage, not an EXIF block"), nil, false},
		{"IFD0 cut short", exifTIFFBlock("MM", 6)[:20], nil, false},
		{"IFD0 without Exif IFD, little-endian", exifTIFFBlock("II", 1),
			map[[2]int][]byte{{0, 0x010f}: []byte("Go\x00\x00"), {0, tagOrient}: {1, 0}}, false},
		{"camera, big-endian", cameraTIFF(binary.BigEndian, "MM"),
			map[[2]int][]byte{{0, 0x010f}: []byte("Go\x00\x00"), {0, tagOrient}: {0, 1}, {1, 0x9003}: []byte("2024:01:02 03:04:05\x00")}, true},
		{"camera, little-endian", cameraTIFF(binary.LittleEndian, "II"),
			map[[2]int][]byte{{0, 0x010f}: []byte("Go\x00\x00"), {0, tagOrient}: {1, 0}, {1, 0x9003}: []byte("2024:01:02 03:04:05\x00")}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			source := bytes.Clone(tt.tiff)
			out := withUserComment(tt.tiff, text)
			if !bytes.Equal(tt.tiff, source) {
				t.Error("the source block was changed")
			}
			if got := userComment(out); got != text {
				t.Errorf("UserComment = %q, want %q", got, text)
			}
			if !bytes.HasPrefix(tagValue(t, out, 1, tagUserComment), []byte(unicodeComment)) {
				t.Error("UserComment does not start with the Unicode prefix")
			}
			for key, want := range tt.kept {
				if got := tagValue(t, out, key[0], uint16(key[1])); !bytes.Equal(got, want) {
					t.Errorf("IFD %d tag %#x = %q, want %q", key[0], key[1], got, want)
				}
			}
			if tt.nextAt {
				order := tiffOrder(out)
				ifd0, _ := readIFD(out, order, order.Uint32(out[4:]))
				if ifd1, ok := readIFD(out, order, ifd0.next); !ok || len(ifd1.entries) != 1 || order.Uint16(ifd1.entries[0]) != 0x0103 {
					t.Error("the thumbnail IFD is no longer linked from IFD0")
				}
			}
		})
	}
}

// UserComment is read as AUTOMATIC1111 reads it, whatever the camera filled it with.
func TestUserCommentEncodings(t *testing.T) {
	le := []byte(unicodeComment + "\xff\xfe")
	for _, r := range "hé" {
		le = binary.LittleEndian.AppendUint16(le, uint16(r))
	}
	tests := []struct {
		name  string
		value []byte
		want  string
	}{
		{"unicode, big-endian as piexif writes", userCommentValue("a cat, 猫"), "a cat, 猫"},
		{"unicode after a little-endian mark", le, "hé"},
		{"ASCII padded with spaces", []byte(asciiComment + "a cat      "), "a cat"},
		{"undefined, zeros", make([]byte, 40), ""},
		{"too short", []byte("UNI"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tiff := withUserComment(nil, "x")
			order := tiffOrder(tiff)
			// Replace the comment by appending the test value and pointing the entry at it.
			exifAt := order.Uint32(tiff[len(tiff)-4-12+8:])
			entry := exifAt + 2
			order.PutUint32(tiff[entry+4:], uint32(len(tt.value)))
			order.PutUint32(tiff[entry+8:], uint32(len(tiff)))
			tiff = append(tiff, tt.value...)
			if got := userComment(tiff); got != tt.want {
				t.Errorf("userComment = %q, want %q", got, tt.want)
			}
		})
	}
}

// XMP texts are read back whether a tool keeps them as elements or rewrites them as
// attributes; other namespaces and other names of dream's are ignored.
func TestXMPTexts(t *testing.T) {
	packet := xmpPacket([]xmpText{{"Dream", "a <b> & \"c\"\nline two"}, {"sd-metadata", `{"a":1}`}})
	if got := xmpTexts(packet); !maps.Equal(got, map[string]string{"Dream": "a <b> & \"c\"\nline two", "sd-metadata": `{"a":1}`}) {
		t.Errorf("elements: %q", got)
	}
	attributes := []byte(`<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="` + rdfNamespace + `">` +
		`<rdf:Description rdf:about="" xmlns:d="` + xmpNamespace + `" xmlns:o="http://other/" d:Dream="a cat" o:Dream="no" d:Other="no"/>` +
		`</rdf:RDF></x:xmpmeta>`)
	if got := xmpTexts(attributes); !maps.Equal(got, map[string]string{"Dream": "a cat"}) {
		t.Errorf("attributes: %q", got)
	}
	if got := xmpTexts([]byte("<x:xmpmeta><unclosed")); got != nil {
		t.Errorf("broken XML: %q", got)
	}
}
