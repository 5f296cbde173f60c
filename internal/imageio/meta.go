package imageio

import (
	"bytes"
	"encoding/binary"
	"io"

	"dream/internal/pngmeta"
)

// Metadata is read only after the pixels decoded, and reading it never
// fails: a photo with an odd profile or a broken EXIF segment still loads,
// without the part that could not be read. Each field is copied out of the
// file's bytes, so an Image never keeps the whole file alive.

// Bounds against hostile files. Real metadata is far smaller: a profile is
// a few kB (rarely a few MB for print profiles), EXIF fits one 64 kB JPEG
// segment, and a prompt is a few kB of text.
const (
	// maxMetaBytes bounds the ICC profile, the EXIF block, and all text
	// together; anything larger is dropped.
	maxMetaBytes = 16 << 20
	// maxPNGCompressed bounds how many zTXt, iTXt and iCCP chunks are
	// inflated. Each may inflate to pngmeta's 16 MB limit, so without a
	// count a small file of many zlib bombs would cost minutes of CPU.
	maxPNGCompressed = 64
)

// owned returns a copy of b, or nil when b is empty or over maxMetaBytes.
func owned(b []byte) []byte {
	if len(b) == 0 || len(b) > maxMetaBytes {
		return nil
	}
	return bytes.Clone(b)
}

// exifBlock returns the TIFF block in b, or nil when b is not one. Some
// writers keep JPEG's "Exif\0\0" in PNG eXIf and WebP EXIF chunks; it is
// dropped so Metadata.Exif is always the bare block. Anything without a
// TIFF header is dropped too: a writer would only copy garbage onward.
func exifBlock(b []byte) []byte {
	b = bytes.TrimPrefix(b, []byte(exifHeader))
	if len(b) < 8 || !(bytes.HasPrefix(b, []byte("II*\x00")) || bytes.HasPrefix(b, []byte("MM\x00*"))) {
		return nil
	}
	return b
}

// markUpright sets the Orientation tag of a TIFF block to 1 in place,
// keeping its type (SHORT or LONG). Decode calls it on its own copy after
// turning the pixels, so a viewer does not turn them a second time.
func markUpright(tiff []byte) {
	order, at := orientationEntry(tiff)
	if at < 0 {
		return
	}
	value := tiff[at+8 : at+12]
	switch order.Uint16(tiff[at+2:]) {
	case tiffShort:
		order.PutUint16(value, 1) // the other two bytes are padding
	case tiffLong:
		order.PutUint32(value, 1)
	}
}

// jpegMetadata reads the EXIF block and ICC profile of a JPEG whose pixels
// were turned by EXIF orientation applied (1 when they were not).
func jpegMetadata(data []byte, applied int) Metadata {
	m := Metadata{ICCProfile: jpegICCProfile(data), Exif: owned(exifBlock(jpegAPP1(data, exifHeader)))}
	if applied != 1 {
		markUpright(m.Exif)
	}
	m.Text = jpegTexts(data)
	return m
}

// jpegTexts are the texts of a JPEG (see formatTexts), from its first XMP and EXIF
// segments.
func jpegTexts(data []byte) map[string]string {
	return formatTexts(jpegAPP1(data, xmpJPEGHeader), exifBlock(jpegAPP1(data, exifHeader)))
}

// formatTexts are the texts a JPEG or WebP carries the way dream writes them (outmeta.go):
// dream's from its XMP namespace, and parameters from EXIF's UserComment, as AUTOMATIC1111
// reads it. nil when there are none; the strings are copies.
func formatTexts(xmp, exif []byte) map[string]string {
	var texts map[string]string
	size := 0
	if len(xmp) <= maxMetaBytes { // the texts are shorter than the packet
		texts = xmpTexts(xmp)
		size = len(xmp)
	}
	parameters := userComment(exif)
	if parameters != "" && size+len(pngmeta.KeyParameters)+len(parameters) <= maxMetaBytes {
		if texts == nil {
			texts = map[string]string{}
		}
		texts[pngmeta.KeyParameters] = parameters
	}
	return texts
}

// iccHeader starts each APP2 segment holding part of an ICC profile; a
// sequence number (from 1) and the number of parts follow it.
const iccHeader = "ICC_PROFILE\x00"

// jpegICCProfile joins the ICC profile a JPEG spreads over APP2 segments
// (each at most 64 kB). Like libjpeg's jpeg_read_icc_profile it takes the
// profile only when the set is whole: every part agrees on the count, and
// each number from 1 to the count appears exactly once. A partial profile
// would be worse than none, since viewers would misread the colours.
func jpegICCProfile(data []byte) []byte {
	var parts [][]byte // parts[i] is the part numbered i+1
	whole := true
	jpegSegments(data, func(marker byte, body []byte) bool {
		if marker != markerAPP2 || !bytes.HasPrefix(body, []byte(iccHeader)) {
			return true
		}
		parts, whole = addICCPart(parts, body[len(iccHeader):])
		return whole
	})
	if !whole {
		return nil
	}
	for _, p := range parts {
		if p == nil { // a number that never came
			return nil
		}
	}
	return owned(bytes.Join(parts, nil))
}

// addICCPart files one APP2 ICC segment (sequence number, count, bytes)
// into parts, and reports false when it cannot belong to a whole set.
func addICCPart(parts [][]byte, segment []byte) ([][]byte, bool) {
	if len(segment) < 2 {
		return parts, false
	}
	seq, count := int(segment[0]), int(segment[1])
	if parts == nil {
		parts = make([][]byte, count)
	}
	if count != len(parts) || seq < 1 || seq > count || parts[seq-1] != nil {
		return parts, false
	}
	parts[seq-1] = segment[2:] // not nil even when empty, so a repeat is caught
	return parts, true
}

// pngMetadata reads a PNG's text, ICC profile and EXIF with pngmeta, one
// chunk at a time. Decode calls it only after Go's decoder accepted the
// file, and that decoder checks every chunk's CRC up to IEND, so what
// pngmeta can still refuse is a chunk over its 16 MB limit (it skips text
// and profiles it cannot parse by itself). Reading chunk by chunk means a
// refused chunk is skipped and the rest kept, and it lets the bounds above
// apply across chunks. Text chunks are read
// wherever they are, since PNG allows them after the image data too; of
// iCCP and eXIf, which PNG allows once, the first readable one counts, as
// in libpng.
func pngMetadata(data []byte) Metadata {
	var c pngCollector
	pngChunks(data, func(kind string, chunk []byte) {
		if !c.wants(kind) {
			return
		}
		if kind != "tEXt" && kind != "eXIf" {
			c.compressed++
		}
		// pngmeta reads whole files, so the chunk is framed as one; the
		// image data is not needed, IEND ends the reading.
		info, err := pngmeta.Read(io.MultiReader(
			bytes.NewReader(pngSignature), bytes.NewReader(chunk), bytes.NewReader(pngEnd)))
		if err == nil {
			c.add(info)
		}
	})
	return c.meta
}

// pngCollector gathers what pngMetadata reads, within the bounds.
type pngCollector struct {
	meta       Metadata
	textBytes  int // keys and values kept so far
	compressed int // zTXt, iTXt and iCCP chunks read so far
}

// wants reports whether a chunk of this kind is worth reading.
func (c *pngCollector) wants(kind string) bool {
	switch kind {
	case "tEXt":
		return c.textBytes < maxMetaBytes
	case "zTXt", "iTXt": // iTXt may be compressed
		return c.textBytes < maxMetaBytes && c.compressed < maxPNGCompressed
	case "iCCP":
		return c.meta.ICCProfile == nil && c.compressed < maxPNGCompressed
	case "eXIf":
		return c.meta.Exif == nil
	}
	return false
}

// add keeps what pngmeta read from one chunk. A keyword seen again takes
// the later value, as pngmeta does when reading a whole file.
func (c *pngCollector) add(info pngmeta.Info) {
	for key, value := range info.Text {
		size := len(key) + len(value)
		if c.textBytes+size > maxMetaBytes {
			continue
		}
		if c.meta.Text == nil {
			c.meta.Text = map[string]string{}
		}
		c.meta.Text[key] = value
		c.textBytes += size
	}
	if c.meta.ICCProfile == nil {
		c.meta.ICCProfile = owned(info.ICC)
	}
	if c.meta.Exif == nil {
		c.meta.Exif = owned(exifBlock(info.Exif))
	}
}

// pngChunks calls visit with the type and the whole raw chunk (length,
// type, data, CRC) of each chunk after the signature, up to IEND or the
// first chunk that does not fit in data.
func pngChunks(data []byte, visit func(kind string, chunk []byte)) {
	p := uint64(len(pngSignature))
	for p+12 <= uint64(len(data)) {
		end := p + 12 + uint64(binary.BigEndian.Uint32(data[p:]))
		kind := string(data[p+4 : p+8])
		if end > uint64(len(data)) || kind == "IEND" {
			return
		}
		visit(kind, data[p:end])
		p = end
	}
}

// webpMetadata reads the ICCP, EXIF and XMP chunks of an extended (VP8X) WebP.
// Like libwebp's demuxer it takes a chunk only when the VP8X flags announce
// it, so dream shows and keeps the colours other viewers show; the first
// of each counts. Simple WebP files have no place for metadata.
func webpMetadata(data []byte) Metadata {
	if !webpExtended(data) {
		return Metadata{}
	}
	flags := data[webpFirstChunkData]
	var m Metadata
	var xmp []byte
	webpChunks(data, func(name string, body []byte) {
		switch {
		case name == "ICCP" && flags&vp8xICCFlag != 0 && m.ICCProfile == nil:
			m.ICCProfile = owned(body)
		case name == "EXIF" && flags&vp8xExifFlag != 0 && m.Exif == nil:
			m.Exif = owned(exifBlock(body))
		case name == "XMP " && flags&vp8xXMPFlag != 0 && xmp == nil:
			xmp = body
		}
	})
	m.Text = formatTexts(xmp, m.Exif)
	return m
}

// webpChunks calls visit with the name and data of each RIFF chunk of a
// WebP, up to the end the RIFF header gives or the first chunk that does
// not fit. Go's decoder stops at the image data, so the chunks after it
// (where EXIF lives) were never checked and may be cut short.
func webpChunks(data []byte, visit func(name string, body []byte)) {
	end := uint64(len(data))
	if len(data) >= 8 {
		end = min(end, 8+uint64(binary.LittleEndian.Uint32(data[4:])))
	}
	p := uint64(webpFirstChunkName)
	for p+8 <= end {
		size := uint64(binary.LittleEndian.Uint32(data[p+4:]))
		bodyEnd := p + 8 + size
		if bodyEnd > end {
			return
		}
		visit(string(data[p:p+4]), data[p+8:bodyEnd])
		p = bodyEnd + size%2 // chunks are padded to an even length
	}
}
