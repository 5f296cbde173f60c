package imageio

import (
	"bytes"
	"encoding/binary"
)

// JPEG markers that matter when looking for metadata segments.
const (
	markerAPP1 = 0xe1 // application segment 1: Exif (or XMP)
	markerAPP2 = 0xe2 // application segment 2: ICC profile (or FlashPix)
	markerSOS  = 0xda // start of scan: metadata always comes before it
	markerEOI  = 0xd9
	tagOrient  = 0x0112 // TIFF/Exif Orientation tag
	tiffShort  = 3      // TIFF field type SHORT (uint16)
	tiffLong   = 4      // TIFF field type LONG (uint32), seen from some writers
)

// exifHeader starts the APP1 segment that holds EXIF; the TIFF block follows it.
const exifHeader = "Exif\x00\x00"

// jpegOrientation returns the EXIF orientation (1..8) of a JPEG, or 1 when
// there is none or it cannot be read: broken metadata must not stop an
// otherwise good photo from loading.
func jpegOrientation(data []byte) int {
	tiff := jpegAPP1(data, exifHeader)
	if tiff == nil {
		return 1
	}
	return tiffOrientation(tiff)
}

// jpegAPP1 returns the body after header of a JPEG's first APP1 segment that starts with
// header (exifHeader: the TIFF block; xmpJPEGHeader: the XMP packet), or nil. It aliases
// data.
func jpegAPP1(data []byte, header string) (body []byte) {
	jpegSegments(data, func(marker byte, segment []byte) bool {
		if marker == markerAPP1 && bytes.HasPrefix(segment, []byte(header)) {
			body = segment[len(header):]
			return false
		}
		return true
	})
	return body
}

// standaloneMarker reports whether a JPEG marker stands alone, without a length field and
// a body: TEM, start of image, and the restart markers RST0..RST7.
func standaloneMarker(marker byte) bool {
	return marker == 0x01 || marker == 0xd8 || (marker >= 0xd0 && marker <= 0xd7)
}

// jpegSegments calls visit with the marker and body of each segment before
// the image data, until visit returns false. It stops quietly at the first
// thing that is not a well-formed segment: whatever follows cannot be
// trusted to be metadata.
func jpegSegments(data []byte, visit func(marker byte, body []byte) bool) {
	p := 2 // skip SOI
	for p+4 <= len(data) {
		if data[p] != 0xff {
			return
		}
		marker := data[p+1]
		switch {
		case marker == 0xff: // fill byte before a marker
			p++
			continue
		case standaloneMarker(marker):
			p += 2
			continue
		case marker == markerSOS || marker == markerEOI:
			return
		}
		length := int(binary.BigEndian.Uint16(data[p+2:])) // includes its own 2 bytes
		if length < 2 || p+2+length > len(data) {
			return
		}
		if !visit(marker, data[p+4:p+2+length]) {
			return
		}
		p += 2 + length
	}
}

// tiffOrientation reads tag 0x0112 from the first IFD of a TIFF block, in
// either byte order ("II" little-endian, "MM" big-endian).
func tiffOrientation(tiff []byte) int {
	order, at := orientationEntry(tiff)
	if at < 0 {
		return 1
	}
	return orientationValue(order, tiff[at:at+12])
}

// orientationEntry finds the 12-byte Orientation entry in the first IFD of
// a TIFF block and returns the block's byte order and the entry's offset,
// or -1 when the block is malformed or has no such entry.
func orientationEntry(tiff []byte) (binary.ByteOrder, int) {
	order := tiffOrder(tiff)
	if order == nil {
		return nil, -1
	}
	ifd := uint64(order.Uint32(tiff[4:]))
	if ifd+2 > uint64(len(tiff)) {
		return nil, -1
	}
	entries := int(order.Uint16(tiff[ifd:]))
	for i := 0; i < entries; i++ {
		start := int(ifd) + 2 + 12*i
		if start+12 > len(tiff) {
			return nil, -1
		}
		if order.Uint16(tiff[start:]) == tagOrient {
			return order, start
		}
	}
	return nil, -1
}

// orientationValue decodes one 12-byte IFD entry: tag, type, count, value.
func orientationValue(order binary.ByteOrder, entry []byte) int {
	if order.Uint32(entry[4:]) != 1 {
		return 1
	}
	var v uint32
	switch order.Uint16(entry[2:]) {
	case tiffShort:
		v = uint32(order.Uint16(entry[8:]))
	case tiffLong:
		v = order.Uint32(entry[8:])
	default:
		return 1
	}
	if v < 1 || v > 8 {
		return 1
	}
	return int(v)
}

// orient returns img turned as EXIF orientation o says it must be shown
// (e.g. 6: the stored picture is shown rotated 90° clockwise). For 5..8
// width and height swap.
func orient(img *Image, o int) *Image {
	if o < 2 || o > 8 {
		return img
	}
	w, h := img.W, img.H
	if o >= 5 {
		w, h = h, w
	}
	out := New(w, h, img.Channels, img.Depth)
	// Pixels move whole, so copy their bytes whatever the depth.
	size := img.Channels * img.bytesPerSample()
	i := 0
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			sx, sy := storedPixel(o, x, y, img.W, img.H)
			s := (sy*img.W + sx) * size
			copy(out.Pix[i:i+size], img.Pix[s:s+size])
			i += size
		}
	}
	return out
}

// storedPixel maps displayed pixel (x, y) to the stored pixel shown there,
// for orientation o of a stored image w×h.
func storedPixel(o, x, y, w, h int) (sx, sy int) {
	switch o {
	case 2: // mirrored left-right
		return w - 1 - x, y
	case 3: // upside down
		return w - 1 - x, h - 1 - y
	case 4: // mirrored top-bottom
		return x, h - 1 - y
	case 5: // mirrored along the main diagonal
		return y, x
	case 6: // shown rotated 90° clockwise
		return y, h - 1 - x
	case 7: // mirrored along the other diagonal
		return w - 1 - y, h - 1 - x
	case 8: // shown rotated 90° counter-clockwise
		return w - 1 - y, x
	}
	return x, y
}
