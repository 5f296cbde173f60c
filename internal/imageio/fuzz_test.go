package imageio

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// fuzzMaxPixels keeps the fuzzer from spending its time on legal but huge
// images; the size check itself is tested in TestLoadErrors.
const fuzzMaxPixels = 1 << 20

// FuzzDecode: no input bytes may panic Decode, errors are one readable
// line, and whatever decodes is a well-formed Image that Encode accepts.
func FuzzDecode(f *testing.F) {
	for _, k := range pngKinds() {
		data, _ := k.build(f)
		f.Add(data)
	}
	jpegData := quadrantJPEG(f)
	f.Add(jpegData)
	f.Add(withExif(jpegData, exifTIFFBlock("II", 6)))
	f.Add(withExif(jpegData, exifTIFFBlock("MM", 7)))
	f.Add(jpegData[:len(jpegData)/2])
	f.Add(riffWebP(pngChunk{"VP8L", vp8lStream(3, 2, webpPixels, true)}))
	f.Add(riffWebP(vp8xChunk(0x10, 3, 2), pngChunk{"VP8L", vp8lStream(3, 2, webpPixels, false)}))
	f.Add(rawPNGHeaderOnly(30000, 30000))
	f.Add([]byte("not an image"))
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := decode(bytes.NewReader(data), "fuzz.img", fuzzMaxPixels)
		if err != nil {
			msg := err.Error()
			if strings.ContainsAny(msg, "\n\r") || strings.HasSuffix(msg, ".") || !strings.Contains(msg, "fuzz.img") {
				t.Fatalf("badly formed error message %q", msg)
			}
			return
		}
		if err := img.check(); err != nil {
			t.Fatalf("decoded a malformed image: %v", err)
		}
		if img.Depth == 8 && slices.Max(img.Pix) > 0xff {
			t.Fatalf("8-bit image holds sample %d", slices.Max(img.Pix))
		}
		if err := Encode(&bytes.Buffer{}, img); err != nil {
			t.Fatalf("cannot encode what was decoded: %v", err)
		}
	})
}
