package pngmeta

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"reflect"
	"strings"
	"testing"
)

// pngWith encodes a 1×1 image with Go's encoder and inserts chunks after IHDR, so the reader
// is tested against files it did not write itself.
func pngWith(t testing.TB, chunks ...Chunk) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	const afterIHDR = 8 + 8 + 13 + 4
	out := append([]byte{}, data[:afterIHDR]...)
	for _, c := range chunks {
		out = append(out, encodeChunk(c)...)
	}
	return append(out, data[afterIHDR:]...)
}

func encodeChunk(c Chunk) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(c.Data)))
	out = append(out, c.Type...)
	out = append(out, c.Data...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(out[4:]))
}

func TestReadBack(t *testing.T) {
	profile := bytes.Repeat([]byte("profile bytes "), 100)
	exif := []byte("II*\x00\x08\x00\x00\x00")
	file := pngWith(t,
		Text("Dream", `"a cat" -s 50 -S 42`),
		Text("accents", "café crème"),
		Text("parameters", "a cat\nSteps: 50"),
		InternationalText("sd-metadata", `{"prompt":"ねこ"}`),
		Text("unicode", "snow ☃ goes to iTXt"),
		ICCProfile("sRGB", profile),
		Exif(exif),
	)
	if _, err := png.Decode(bytes.NewReader(file)); err != nil {
		t.Fatalf("Go's decoder refuses the file: %v", err)
	}
	info, err := Read(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"Dream":       `"a cat" -s 50 -S 42`,
		"accents":     "café crème",
		"parameters":  "a cat\nSteps: 50",
		"sd-metadata": `{"prompt":"ねこ"}`,
		"unicode":     "snow ☃ goes to iTXt",
	}
	if !reflect.DeepEqual(info.Text, want) {
		t.Errorf("text = %q, want %q", info.Text, want)
	}
	if info.ICCName != "sRGB" || !bytes.Equal(info.ICC, profile) {
		t.Errorf("ICC profile %q of %d bytes, want sRGB of %d", info.ICCName, len(info.ICC), len(profile))
	}
	if !bytes.Equal(info.Exif, exif) {
		t.Errorf("EXIF %q, want %q", info.Exif, exif)
	}
}

func TestReadRefusesDamage(t *testing.T) {
	good := pngWith(t, Text("Dream", "x"))
	badCRC := bytes.Clone(good)
	badCRC[8+25+8+5]++ // a byte inside the tEXt chunk's data
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"not a PNG", []byte("GIF89a....."), "not a PNG file"},
		{"bad CRC", badCRC, `PNG chunk "tEXt" has a bad CRC`},
		{"cut short", good[:45], "is cut short"},
		{"ends early", good[:33], "ends before its image data"},
	}
	for _, tt := range tests {
		_, err := Read(bytes.NewReader(tt.data))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}

func FuzzRead(f *testing.F) {
	f.Add(pngWith(f, Text("Dream", "x -U 2"), InternationalText("sd-metadata", "{}")))
	f.Add(pngWith(f, ICCProfile("p", []byte("icc")), Exif([]byte("MM\x00*"))))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := Read(bytes.NewReader(data))
		if err == nil && info.Text == nil {
			t.Fatal("nil text map")
		}
	})
}
