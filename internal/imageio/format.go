package imageio

import (
	"errors"
	"fmt"
	"io"

	"dream/internal/pngmeta"
)

// Format is a file format dream writes results in.
type Format string

const (
	PNG  Format = "png"
	JPEG Format = "jpg"
	WebP Format = "webp"
)

// Extension is the file name extension of results in the format: ".png", ".jpg" or ".webp".
func (f Format) Extension() string { return "." + string(f) }

// Lossy reports whether the format takes a quality: JPEG and WebP do, PNG does not.
func (f Format) Lossy() bool { return f == JPEG || f == WebP }

// LosslessWebPQuality is the WebP quality that means lossless (VP8L): lossy WebP always
// halves the colour resolution (4:2:0), so the top of the scale could never be close to the
// original, and a separate format name would be one more thing for the stored command to
// carry.
const LosslessWebPQuality = 100

// Output says how a result is written: its format and, for JPEG and WebP, its quality from
// 1 to 100.
type Output struct {
	Format  Format
	Quality int
}

// The largest side each format can hold (JPEG's header has 16 bits for it, WebP's 14).
const (
	maxJPEGSide = 65535
	maxWebPSide = 16383
)

// CheckOutput reports, in one line that names the way out, why a w×h result with the given
// channels cannot be written as out, before any work is spent on it. hasTransparency says
// whether the image has pixels that are not fully opaque (JPEG has no alpha channel).
func CheckOutput(out Output, w, h int, hasTransparency bool) error {
	switch out.Format {
	case PNG:
		return nil
	case JPEG:
		if hasTransparency {
			return errors.New("--format jpg: the image has transparent pixels, which JPEG cannot hold; use --format png or --format webp")
		}
		if w > maxJPEGSide || h > maxJPEGSide {
			return fmt.Errorf("--format jpg: the result would be %dx%d and JPEG holds at most %d pixels a side; use --format png",
				w, h, maxJPEGSide)
		}
	case WebP:
		if w > maxWebPSide || h > maxWebPSide {
			return fmt.Errorf("--format webp: the result would be %dx%d and WebP holds at most %d pixels a side; use --format png or --format jpg",
				w, h, maxWebPSide)
		}
	default:
		return fmt.Errorf("unknown output format %q: use png, jpg or webp", out.Format)
	}
	if out.Quality < 1 || out.Quality > 100 {
		return fmt.Errorf("--quality %d: give a quality from 1 to 100", out.Quality)
	}
	return nil
}

// HasTransparency reports whether any pixel of img is less than fully opaque.
func HasTransparency(img *Image) bool {
	if img.Channels != 4 {
		return false
	}
	full := img.MaxValue()
	for i := 3; i < img.sampleCount(); i += 4 {
		if img.At(i) != full {
			return true
		}
	}
	return false
}

// EncodeAs writes img to w as out says, with the metadata meta: PNG chunks, which PNG
// writes as they are and JPEG and WebP carry as AUTOMATIC1111 and other readers expect
// them there (see encodeMeta). JPEG and WebP hold 8 bits a sample, so 16-bit images are
// rounded to 8 bits; JPEG refuses an image with transparent pixels (CheckOutput).
func EncodeAs(w io.Writer, img *Image, out Output, meta []pngmeta.Chunk) error {
	if err := img.Validate(); err != nil {
		return fmt.Errorf("cannot encode %s: %w", out.Format, err)
	}
	if err := CheckOutput(out, img.W, img.H, out.Format == JPEG && HasTransparency(img)); err != nil {
		return err
	}
	if out.Format == PNG {
		return writePNG(w, img, meta)
	}
	m, err := encodeMeta(meta)
	if err != nil {
		return err
	}
	if out.Format == JPEG {
		return writeJPEG(w, img, out.Quality, m)
	}
	return writeWebP(w, img, out.Quality, m)
}

// FileFormat is the format of the image file at path, from its first bytes; an error when
// it cannot be read or is no PNG, JPEG or WebP.
func FileFormat(path string) (Format, error) {
	f, err := OpenRegular(path)
	if err != nil {
		return "", readError(path, err)
	}
	defer f.Close()
	_, kind, err := sniffStart(f, path)
	if err != nil {
		return "", err
	}
	return kind.format, nil
}
