package imageio

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"maps"
	"reflect"
	"strings"
	"testing"

	"dream/internal/pngmeta"
)

// testProfile stands in for an ICC profile: decoding never looks inside
// one, and distinct bytes show whether parts were joined in order.
func testProfile(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*7 + i/256)
	}
	return p
}

// iccSegment is the body of one APP2 segment carrying part seq of count.
func iccSegment(seq, count byte, part []byte) []byte {
	body := append([]byte(iccHeader), seq, count)
	return append(body, part...)
}

// withSegments inserts segments with the given marker right after SOI, in
// the order given.
func withSegments(jpegData []byte, marker byte, bodies ...[]byte) []byte {
	out := append([]byte{}, jpegData[:2]...)
	for _, body := range bodies {
		out = append(out, 0xff, marker)
		out = binary.BigEndian.AppendUint16(out, uint16(len(body)+2))
		out = append(out, body...)
	}
	return append(out, jpegData[2:]...)
}

func decodeBytes(t *testing.T, data []byte) *Image {
	t.Helper()
	img, err := Decode(bytes.NewReader(data), "test")
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// orientationValueAt is where exifTIFFBlock stores the Orientation value:
// after the 8-byte header, the 2-byte entry count, the 12-byte Make entry
// and the Orientation entry's tag, type and count.
const orientationValueAt = 8 + 2 + 12 + 8

// TestJPEGMetadata: the profile comes back joined in sequence order
// whatever the segment order, and EXIF comes back as it was except that an
// orientation applied to the pixels reads 1 afterwards.
func TestJPEGMetadata(t *testing.T) {
	base := quadrantJPEG(t)
	profile := testProfile(1000)
	first, second := iccSegment(1, 2, profile[:600]), iccSegment(2, 2, profile[600:])
	tests := []struct {
		byteOrder   string
		orientation uint16
		segments    [][]byte
	}{
		{"II", 6, [][]byte{first, second}},
		{"MM", 6, [][]byte{first, second}},
		{"II", 6, [][]byte{second, first}},
		{"MM", 6, [][]byte{second, first}},
		{"II", 1, [][]byte{first, second}},
		{"MM", 1, [][]byte{second, first}},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s/orientation %d/first segment %d", tt.byteOrder, tt.orientation, tt.segments[0][len(iccHeader)])
		t.Run(name, func(t *testing.T) {
			exif := exifTIFFBlock(tt.byteOrder, tt.orientation)
			data := withExif(withSegments(base, markerAPP2, tt.segments...), exif)
			got := decodeBytes(t, data)

			display := [4]color.RGBA{quadA, quadB, quadC, quadD}
			wantW, wantH := 64, 32
			if tt.orientation == 6 { // shown turned 90° clockwise
				display = [4]color.RGBA{quadC, quadA, quadD, quadB}
				wantW, wantH = wantH, wantW
			}
			if got.W != wantW || got.H != wantH {
				t.Fatalf("got %dx%d, want %dx%d", got.W, got.H, wantW, wantH)
			}
			for i, want := range display {
				assertNearColor(t, got, (2*(i%2)+1)*got.W/4, (2*(i/2)+1)*got.H/4, want)
			}

			if !bytes.Equal(got.Meta.ICCProfile, profile) {
				t.Errorf("ICC profile of %d bytes differs from the %d joined", len(got.Meta.ICCProfile), len(profile))
			}
			if o := tiffOrientation(got.Meta.Exif); o != 1 {
				t.Errorf("EXIF orientation after decoding is %d, want 1", o)
			}
			want := bytes.Clone(exif)
			order := binary.ByteOrder(binary.BigEndian)
			if tt.byteOrder == "II" {
				order = binary.LittleEndian
			}
			order.PutUint16(want[orientationValueAt:], 1)
			if !bytes.Equal(got.Meta.Exif, want) {
				t.Errorf("EXIF\n got % x\nwant % x", got.Meta.Exif, want)
			}
			if got.Meta.Text != nil {
				t.Errorf("JPEG has text %q", got.Meta.Text)
			}
		})
	}
}

// TestJPEGMalformedMetadata: sets of ICC segments that do not make a whole
// profile, and EXIF that is not TIFF, are left out; the photo still loads.
func TestJPEGMalformedMetadata(t *testing.T) {
	base := quadrantJPEG(t)
	profile := testProfile(300)
	a, b := profile[:100], profile[100:]
	tests := []struct {
		name     string
		segments [][]byte
		exif     []byte
		want     []byte
	}{
		{"whole set", [][]byte{iccSegment(1, 2, a), iccSegment(2, 2, b)}, nil, profile},
		{"single segment", [][]byte{iccSegment(1, 1, profile)}, nil, profile},
		{"other APP2 ignored", [][]byte{[]byte("FPXR\x00flashpix"), iccSegment(1, 2, a), iccSegment(2, 2, b)}, nil, profile},
		{"part missing", [][]byte{iccSegment(1, 2, a)}, nil, nil},
		{"counts disagree", [][]byte{iccSegment(1, 2, a), iccSegment(2, 3, b)}, nil, nil},
		{"part repeated", [][]byte{iccSegment(1, 2, a), iccSegment(1, 2, b)}, nil, nil},
		{"empty part repeated", [][]byte{iccSegment(1, 2, nil), iccSegment(1, 2, nil), iccSegment(2, 2, b)}, nil, nil},
		{"sequence 0", [][]byte{iccSegment(0, 1, profile)}, nil, nil},
		{"sequence past count", [][]byte{iccSegment(2, 1, profile)}, nil, nil},
		{"count 0", [][]byte{iccSegment(0, 0, profile)}, nil, nil},
		{"no sequence bytes", [][]byte{[]byte(iccHeader)}, nil, nil},
		{"empty profile", [][]byte{iccSegment(1, 1, nil)}, nil, nil},
		{"EXIF not TIFF", nil, []byte("not a TIFF block"), nil},
		{"EXIF header only", nil, []byte("II*\x00"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := withSegments(base, markerAPP2, tt.segments...)
			if tt.exif != nil {
				data = withExif(data, tt.exif)
			}
			got := decodeBytes(t, data)
			if got.W != 64 || got.H != 32 {
				t.Fatalf("got %dx%d, want 64x32", got.W, got.H)
			}
			if !bytes.Equal(got.Meta.ICCProfile, tt.want) {
				t.Errorf("ICC profile of %d bytes, want %d", len(got.Meta.ICCProfile), len(tt.want))
			}
			if got.Meta.Exif != nil {
				t.Errorf("EXIF % x, want none", got.Meta.Exif)
			}
		})
	}
}

// TestMarkUpright: only the Orientation value changes, in both byte orders
// and both types writers use, and a block without one is left alone.
func TestMarkUpright(t *testing.T) {
	longBlock := func(order binary.AppendByteOrder, magic string) []byte {
		b := []byte(magic)
		b = order.AppendUint16(b, 42)
		b = order.AppendUint32(b, 8)
		b = order.AppendUint16(b, 1)
		b = order.AppendUint16(b, tagOrient)
		b = order.AppendUint16(b, tiffLong)
		b = order.AppendUint32(b, 1)
		b = order.AppendUint32(b, 8)
		return order.AppendUint32(b, 0)
	}
	tests := []struct {
		name    string
		tiff    []byte
		valueAt int // -1: nothing may change
		size    int
	}{
		{"SHORT II", exifTIFFBlock("II", 6), orientationValueAt, 2},
		{"SHORT MM", exifTIFFBlock("MM", 6), orientationValueAt, 2},
		{"LONG II", longBlock(binary.LittleEndian, "II"), 18, 4},
		{"LONG MM", longBlock(binary.BigEndian, "MM"), 18, 4},
		{"no orientation", exifTIFFBlock("II", 6)[:10], -1, 0},
		{"not TIFF", []byte("hello, world"), -1, 0},
		{"empty", nil, -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := bytes.Clone(tt.tiff)
			markUpright(got)
			want := bytes.Clone(tt.tiff)
			if tt.valueAt >= 0 {
				order, _ := orientationEntry(want)
				if tt.size == 2 {
					order.PutUint16(want[tt.valueAt:], 1)
				} else {
					order.PutUint32(want[tt.valueAt:], 1)
				}
				if tiffOrientation(got) != 1 || tiffOrientation(tt.tiff) == 1 {
					t.Errorf("orientation %d → %d, want 1", tiffOrientation(tt.tiff), tiffOrientation(got))
				}
			}
			if !bytes.Equal(got, want) {
				t.Errorf("got % x\nwant % x", got, want)
			}
		})
	}
}

// pngWithChunks encodes a 2×2 RGBA image with Go's encoder and inserts
// chunks before and after its image data, so the reader is tested against
// files it did not write itself.
func pngWithChunks(t testing.TB, before, after []pngmeta.Chunk) []byte {
	t.Helper()
	m := image.NewNRGBA(image.Rect(0, 0, 2, 2))
	for i := range m.Pix {
		m.Pix[i] = byte(40*i) | 3
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	const afterIHDR = 8 + 8 + 13 + 4
	beforeIEND := len(data) - len(pngEnd)
	out := append([]byte{}, data[:afterIHDR]...)
	out = appendChunks(out, before)
	out = append(out, data[afterIHDR:beforeIEND]...)
	out = appendChunks(out, after)
	return append(out, pngEnd...)
}

func appendChunks(out []byte, chunks []pngmeta.Chunk) []byte {
	for _, c := range chunks {
		out = appendPNGChunk(out, pngChunk{c.Type, c.Data})
	}
	return out
}

// zText is a zTXt chunk; pngmeta writes none but reads them.
func zText(t testing.TB, keyword, value string) pngmeta.Chunk {
	var b bytes.Buffer
	b.WriteString(keyword)
	b.Write([]byte{0, 0}) // separator, compression method 0
	zw := zlib.NewWriter(&b)
	zw.Write([]byte(value))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return pngmeta.Chunk{Type: "zTXt", Data: b.Bytes()}
}

func TestPNGMetadata(t *testing.T) {
	profile := testProfile(3000)
	exif := exifTIFFBlock("MM", 6)
	big := strings.Repeat("x", 9<<20) // two of these exceed maxMetaBytes
	var manyCompressed []pngmeta.Chunk
	for i := range maxPNGCompressed + 3 {
		manyCompressed = append(manyCompressed, zText(t, fmt.Sprint("k", i), "v"))
	}
	manyWant := map[string]string{}
	for i := range maxPNGCompressed {
		manyWant[fmt.Sprint("k", i)] = "v"
	}
	tests := []struct {
		name          string
		before, after []pngmeta.Chunk
		want          Metadata
	}{
		{"none", nil, nil, Metadata{}},
		{
			"all kinds",
			[]pngmeta.Chunk{
				pngmeta.Text("Dream", `"a cat" -s 50`),
				zText(t, "Comment", "zipped"),
				pngmeta.InternationalText("sd-metadata", `{"prompt":"ねこ"}`),
				pngmeta.ICCProfile("sRGB", profile),
				pngmeta.Exif(exif),
			},
			nil,
			Metadata{
				Text:       map[string]string{"Dream": `"a cat" -s 50`, "Comment": "zipped", "sd-metadata": `{"prompt":"ねこ"}`},
				ICCProfile: profile,
				Exif:       exif, // PNG orientation is not applied, so it stays as written
			},
		},
		{
			"text after the image data",
			[]pngmeta.Chunk{pngmeta.Text("a", "1")},
			[]pngmeta.Chunk{pngmeta.Text("b", "2"), pngmeta.Exif(exif)},
			Metadata{Text: map[string]string{"a": "1", "b": "2"}, Exif: exif},
		},
		{
			"first profile and EXIF count",
			[]pngmeta.Chunk{
				pngmeta.ICCProfile("one", profile), pngmeta.ICCProfile("two", []byte("other")),
				pngmeta.Exif(exif), pngmeta.Exif(exifTIFFBlock("II", 3)),
			},
			nil,
			Metadata{ICCProfile: profile, Exif: exif},
		},
		{
			"JPEG's EXIF header dropped",
			[]pngmeta.Chunk{pngmeta.Exif(append([]byte(exifHeader), exif...))},
			nil,
			Metadata{Exif: exif},
		},
		{
			"malformed chunks skipped",
			[]pngmeta.Chunk{
				{Type: "tEXt", Data: []byte("no separator")},
				{Type: "iCCP", Data: []byte("name\x00\x00not zlib")},
				{Type: "iTXt", Data: []byte("k\x00\x01")},
				pngmeta.Exif([]byte("not TIFF at all")),
				pngmeta.Text("kept", "yes"),
				pngmeta.ICCProfile("later", profile),
			},
			nil,
			Metadata{Text: map[string]string{"kept": "yes"}, ICCProfile: profile},
		},
		{
			"text over the bound dropped",
			[]pngmeta.Chunk{zText(t, "a", big), zText(t, "b", big), pngmeta.Text("c", "small")},
			nil,
			Metadata{Text: map[string]string{"a": big, "c": "small"}},
		},
		{"compressed chunks beyond the bound ignored", manyCompressed, nil, Metadata{Text: manyWant}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decodeBytes(t, pngWithChunks(t, tt.before, tt.after))
			if got.W != 2 || got.H != 2 || got.Channels != 4 {
				t.Fatalf("got %dx%d with %d channels, want 2x2 RGBA", got.W, got.H, got.Channels)
			}
			assertSameMeta(t, got.Meta, tt.want)
		})
	}
}

// TestPNGMetadataBadCRC: pngmeta refuses a chunk with a bad CRC; that chunk
// is lost and the others kept. (Decode never gets here with one, since Go's
// decoder refuses the file first.)
func TestPNGMetadataBadCRC(t *testing.T) {
	data := pngWithChunks(t, []pngmeta.Chunk{pngmeta.Text("bad", "x"), pngmeta.Text("good", "y")}, nil)
	const badValue = 8 + 25 + 8 + 4 // the "x" of the first tEXt chunk
	data[badValue]++
	assertSameMeta(t, pngMetadata(data), Metadata{Text: map[string]string{"good": "y"}})
}

func assertSameMeta(t *testing.T, got, want Metadata) {
	t.Helper()
	if !maps.Equal(got.Text, want.Text) || (got.Text == nil) != (want.Text == nil) {
		t.Errorf("text: got %d keys %.100q, want %d keys %.100q", len(got.Text), got.Text, len(want.Text), want.Text)
	}
	if !bytes.Equal(got.ICCProfile, want.ICCProfile) || (got.ICCProfile == nil) != (want.ICCProfile == nil) {
		t.Errorf("ICC profile: got %d bytes, want %d", len(got.ICCProfile), len(want.ICCProfile))
	}
	if !bytes.Equal(got.Exif, want.Exif) || (got.Exif == nil) != (want.Exif == nil) {
		t.Errorf("EXIF: got % x, want % x", got.Exif, want.Exif)
	}
}

func TestWebPMetadata(t *testing.T) {
	profile := testProfile(301) // odd, so the chunk after it is padded
	exif := exifTIFFBlock("II", 6)
	pixels := pngChunk{"VP8L", vp8lStream(3, 2, webpPixels, true)}
	iccp, exifChunk := pngChunk{"ICCP", profile}, pngChunk{"EXIF", exif}
	const both = vp8xICCFlag | vp8xExifFlag | vp8xAlphaFlag
	tests := []struct {
		name string
		data []byte
		want Metadata
	}{
		{"simple lossless", riffWebP(pixels), Metadata{}},
		{"extended, no metadata", riffWebP(vp8xChunk(vp8xAlphaFlag, 3, 2), pixels), Metadata{}},
		{
			"ICCP and EXIF",
			riffWebP(vp8xChunk(both, 3, 2), iccp, pixels, exifChunk),
			Metadata{ICCProfile: profile, Exif: exif}, // WebP orientation is not applied
		},
		{
			"JPEG's EXIF header dropped",
			riffWebP(vp8xChunk(both, 3, 2), pixels, pngChunk{"EXIF", append([]byte(exifHeader), exif...)}),
			Metadata{Exif: exif},
		},
		{
			"chunks the flags do not announce ignored",
			riffWebP(vp8xChunk(vp8xAlphaFlag, 3, 2), iccp, pixels, exifChunk),
			Metadata{},
		},
		{
			"EXIF not TIFF",
			riffWebP(vp8xChunk(both, 3, 2), iccp, pixels, pngChunk{"EXIF", []byte("garbage!")}),
			Metadata{ICCProfile: profile},
		},
		{
			"EXIF cut short",
			cutLastChunk(riffWebP(vp8xChunk(both, 3, 2), iccp, pixels, exifChunk), 5),
			Metadata{ICCProfile: profile},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decodeBytes(t, tt.data)
			if got.W != 3 || got.H != 2 || got.Channels != 4 {
				t.Fatalf("got %dx%d with %d channels, want 3x2 RGBA", got.W, got.H, got.Channels)
			}
			assertSameMeta(t, got.Meta, tt.want)
		})
	}
}

// cutLastChunk drops the last n bytes of a WebP and fixes up the RIFF size,
// so the file looks whole but its last chunk claims more than is there.
func cutLastChunk(data []byte, n int) []byte {
	out := bytes.Clone(data[:len(data)-n])
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out
}

// TestMetaDoesNotAliasFile: Meta is copied out, so keeping an Image does
// not keep the file's bytes alive, and changing them changes nothing.
func TestMetaDoesNotAliasFile(t *testing.T) {
	exif := exifTIFFBlock("MM", 3)
	files := map[string][]byte{
		"JPEG": withExif(withSegments(quadrantJPEG(t), markerAPP2, iccSegment(1, 1, testProfile(50))), exif),
		"WebP": riffWebP(vp8xChunk(vp8xICCFlag|vp8xExifFlag, 3, 2), pngChunk{"ICCP", testProfile(50)},
			pngChunk{"VP8L", vp8lStream(3, 2, webpPixels, false)}, pngChunk{"EXIF", exif}),
		"PNG": pngWithChunks(t, []pngmeta.Chunk{pngmeta.ICCProfile("p", testProfile(50)), pngmeta.Exif(exif)}, nil),
	}
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			var meta Metadata
			for _, f := range formats {
				if matchesSignature(data, f.signature) {
					meta = f.finish(data, image.NewGray(image.Rect(0, 0, 1, 1))).Meta
				}
			}
			if meta.ICCProfile == nil || meta.Exif == nil {
				t.Fatalf("metadata missing: %d bytes of profile, %d of EXIF", len(meta.ICCProfile), len(meta.Exif))
			}
			before := cloneMeta(meta)
			for i := range data {
				data[i] = 0xa5
			}
			if !reflect.DeepEqual(meta, before) {
				t.Error("metadata changed with the file's bytes")
			}
		})
	}
}

func cloneMeta(m Metadata) Metadata {
	return Metadata{Text: maps.Clone(m.Text), ICCProfile: bytes.Clone(m.ICCProfile), Exif: bytes.Clone(m.Exif)}
}
