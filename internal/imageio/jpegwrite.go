package imageio

import (
	"encoding/binary"
	"fmt"
	"image"
	"image/jpeg"
	"io"
)

// A JPEG segment's length field counts itself, so a body holds at most 65533 bytes.
const maxSegmentBody = 65535 - 2

// iccPartSize is the most of a colour profile one APP2 segment holds: the body less
// "ICC_PROFILE\0" and the part's number and count (65519, as libjpeg's
// jpeg_write_icc_profile splits it).
const iccPartSize = maxSegmentBody - len(iccHeader) - 2

// writeJPEG writes img as a baseline JPEG at quality (Go's encoder: 4:2:0 chroma), with
// the metadata segments after the start-of-image marker, where readers look: APP1 EXIF
// (first, as EXIF asks), APP1 XMP, then the APP2 ICC profile parts.
func writeJPEG(w io.Writer, img *Image, quality int, m outputMeta) error {
	segments, err := jpegSegmentsOf(m)
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte{0xff, 0xd8}); err != nil {
		return err
	}
	for _, s := range segments {
		if err := writeSegment(w, s.marker, s.body); err != nil {
			return err
		}
	}
	// Go's encoder starts with its own start-of-image marker, already written above.
	return jpeg.Encode(&skipWriter{w: w, skip: 2}, jpegImage(img), &jpeg.Options{Quality: quality})
}

// segment is one JPEG marker segment.
type segment struct {
	marker byte
	body   []byte
}

// jpegSegmentsOf lays the metadata out in segments. XMP too large for one segment (a record
// of hundreds of fixes) is refused rather than cut.
func jpegSegmentsOf(m outputMeta) ([]segment, error) {
	var out []segment
	exif, err := jpegExif(m.exif)
	if err != nil {
		return nil, err
	}
	if exif != nil {
		out = append(out, segment{markerAPP1, append([]byte(exifHeader), exif...)})
	}
	if m.xmp != nil {
		if len(xmpJPEGHeader)+len(m.xmp) > maxSegmentBody {
			return nil, fmt.Errorf("the metadata (%d bytes of XMP) is too long for a JPEG; use --format png or --format webp", len(m.xmp))
		}
		out = append(out, segment{markerAPP1, append([]byte(xmpJPEGHeader), m.xmp...)})
	}
	parts := (len(m.icc) + iccPartSize - 1) / iccPartSize
	if parts > 255 {
		parts = 0 // a profile of over 16 MB cannot be numbered in one byte: left out
	}
	for i := range parts {
		part := m.icc[i*iccPartSize : min((i+1)*iccPartSize, len(m.icc))]
		body := append([]byte(iccHeader), byte(i+1), byte(parts))
		out = append(out, segment{markerAPP2, append(body, part...)})
	}
	return out, nil
}

// jpegExif is the EXIF block as one JPEG segment holds it. A block too large (a source's
// block near the limit, with the parameters added) is replaced by one holding only the
// parameters, or left out (nil) when there are none: the source's tags cannot all be kept.
func jpegExif(exif []byte) ([]byte, error) {
	if len(exifHeader)+len(exif) <= maxSegmentBody {
		return exif, nil
	}
	parameters := userComment(exif)
	if parameters == "" {
		return nil, nil
	}
	exif = withUserComment(nil, parameters)
	if len(exifHeader)+len(exif) > maxSegmentBody {
		return nil, fmt.Errorf("the parameters text (%d bytes of EXIF) is too long for a JPEG; use --format png or --format webp", len(exif))
	}
	return exif, nil
}

// writeSegment writes one marker segment.
func writeSegment(w io.Writer, marker byte, body []byte) error {
	head := []byte{0xff, marker, 0, 0}
	binary.BigEndian.PutUint16(head[2:], uint16(len(body)+2))
	if _, err := w.Write(head); err != nil {
		return err
	}
	_, err := w.Write(body)
	return err
}

// skipWriter drops the first skip bytes written to it.
type skipWriter struct {
	w    io.Writer
	skip int
}

func (s *skipWriter) Write(b []byte) (int, error) {
	n := min(s.skip, len(b))
	s.skip -= n
	if n == len(b) {
		return n, nil
	}
	written, err := s.w.Write(b[n:])
	return n + written, err
}

// jpegImage is img as the Go type Go's JPEG encoder reads fastest, at 8 bits: Gray for a
// gray image, opaque RGBA otherwise (an alpha channel, fully opaque, is dropped).
func jpegImage(img *Image) image.Image {
	rect := image.Rect(0, 0, img.W, img.H)
	if img.Channels == 1 {
		m := image.NewGray(rect)
		fill8(img, m.Pix, 1)
		return m
	}
	m := image.NewRGBA(rect)
	fill8(img, m.Pix, 4)
	return m
}

// fill8 writes img's samples into pix at 8 bits, out samples a pixel: a gray image's one,
// or R, G, B and an opaque alpha (a 4-channel image's own alpha when out is 4 and the image
// has it). 16-bit samples are rounded to the nearest 8-bit value.
func fill8(img *Image, pix []byte, out int) {
	in := img.Channels
	gray := in == 1 && out == 4
	for p, o := 0, 0; o < len(pix); p, o = p+in, o+out {
		for c := range out {
			switch {
			case gray && c < 3:
				pix[o+c] = to8(img, p)
			case c < in:
				pix[o+c] = to8(img, p+c)
			default:
				pix[o+c] = 0xff
			}
		}
	}
}

// to8 is sample i of img at 8 bits.
func to8(img *Image, i int) byte {
	if img.Depth == 8 {
		return img.Pix[i]
	}
	return byte((uint32(img.At(i)) + 128) / 257)
}
