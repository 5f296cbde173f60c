package imageio

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"slices"
	"strings"
	"testing"

	"dream/internal/pngmeta"
)

// fuzzMaxPixels keeps the fuzzer from spending its time on legal but huge
// images; the size check itself is tested in TestLoadErrors.
const fuzzMaxPixels = 1 << 20

// FuzzDecode: see checkFuzzedDecode and checkFuzzedMeta.
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
	for _, seed := range metadataSeeds(f, jpegData) {
		f.Add(seed)
	}
	f.Add(rawPNGHeaderOnly(30000, 30000))
	f.Add([]byte("not an image"))
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, data []byte) {
		checkFuzzedDecode(t, data)
		// Mutations almost always break a PNG chunk's CRC, and then Go's
		// decoder and pngmeta refuse the file before any metadata is
		// parsed; with the CRCs mended the fuzzer reaches chunk contents.
		if mended := mendPNGCRCs(data); mended != nil {
			checkFuzzedDecode(t, mended)
		}
		// The metadata readers must also survive what the decoders refuse.
		checkFuzzedMeta(t, nil, pngMetadata(data))
		checkFuzzedMeta(t, nil, webpMetadata(data))
		checkFuzzedMeta(t, data, jpegMetadata(data, jpegOrientation(data)))
	})
}

// checkFuzzedDecode: no input bytes may panic Decode, errors are one
// readable line, and whatever decodes is a well-formed Image that Encode
// accepts, with well-formed metadata.
func checkFuzzedDecode(t *testing.T, data []byte) {
	img, err := decode(bytes.NewReader(data), "fuzz.img", fuzzMaxPixels)
	if err != nil {
		msg := err.Error()
		if strings.ContainsAny(msg, "\n\r") || strings.HasSuffix(msg, ".") || !strings.Contains(msg, "fuzz.img") {
			t.Fatalf("badly formed error message %q", msg)
		}
		return
	}
	if err := img.Validate(); err != nil {
		t.Fatalf("decoded a malformed image: %v", err)
	}
	if m := slices.Max(samplesOf(img)); m > img.MaxValue() {
		t.Fatalf("%d-bit image holds sample %d", img.Depth, m)
	}
	if err := Encode(&bytes.Buffer{}, img); err != nil {
		t.Fatalf("cannot encode what was decoded: %v", err)
	}
	checkFuzzedMeta(t, data, img.Meta)
}

// mendPNGCRCs returns a copy of a PNG with every whole chunk's CRC
// recomputed, or nil when data is not a PNG.
func mendPNGCRCs(data []byte) []byte {
	if !bytes.HasPrefix(data, pngSignature) {
		return nil
	}
	out := bytes.Clone(data)
	pngChunks(out, func(_ string, chunk []byte) {
		body := chunk[4 : len(chunk)-4] // type and data
		binary.BigEndian.PutUint32(chunk[len(chunk)-4:], crc32.ChecksumIEEE(body))
	})
	return out
}

// metadataSeeds are files whose metadata takes every path the readers
// have, for the fuzzer to start its mutations from.
func metadataSeeds(f *testing.F, jpegData []byte) [][]byte {
	profile := testProfile(200)
	icc := withSegments(jpegData, markerAPP2, iccSegment(2, 2, profile[100:]), iccSegment(1, 2, profile[:100]))
	pixels := pngChunk{"VP8L", vp8lStream(3, 2, webpPixels, false)}
	return [][]byte{
		withExif(icc, exifTIFFBlock("II", 6)),
		withExif(icc, exifTIFFBlock("MM", 8)),
		pngWithChunks(f, []pngmeta.Chunk{
			pngmeta.Text("Dream", "a cat -U 2"), zText(f, "z", "zipped"),
			pngmeta.InternationalText("i", "ねこ"), pngmeta.ICCProfile("p", profile),
			pngmeta.Exif(exifTIFFBlock("II", 6)),
		}, []pngmeta.Chunk{pngmeta.Text("after", "IDAT")}),
		riffWebP(vp8xChunk(vp8xICCFlag|vp8xExifFlag, 3, 2), pngChunk{"ICCP", profile[:101]},
			pixels, pngChunk{"EXIF", exifTIFFBlock("MM", 6)}),
	}
}

// checkFuzzedMeta: metadata stays within its bounds, absent parts are nil,
// EXIF is a TIFF block, and a JPEG's EXIF never asks for a turn the pixels
// already had.
func checkFuzzedMeta(t *testing.T, data []byte, meta Metadata) {
	if meta.Text != nil && len(meta.Text) == 0 {
		t.Fatal("empty text map instead of nil")
	}
	text := 0
	for k, v := range meta.Text {
		text += len(k) + len(v)
	}
	for name, size := range map[string]int{"text": text, "ICC profile": len(meta.ICCProfile), "EXIF": len(meta.Exif)} {
		if size > maxMetaBytes {
			t.Fatalf("%s of %d bytes", name, size)
		}
	}
	if meta.ICCProfile != nil && len(meta.ICCProfile) == 0 || meta.Exif != nil && len(meta.Exif) == 0 {
		t.Fatal("empty metadata slice instead of nil")
	}
	if meta.Exif != nil && exifBlock(meta.Exif) == nil {
		t.Fatalf("EXIF without a TIFF header: % x", meta.Exif[:min(len(meta.Exif), 16)])
	}
	if bytes.HasPrefix(data, []byte("\xff\xd8")) && tiffOrientation(meta.Exif) != 1 {
		t.Fatalf("JPEG EXIF still says orientation %d", tiffOrientation(meta.Exif))
	}
}
