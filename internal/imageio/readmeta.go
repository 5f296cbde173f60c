package imageio

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"dream/internal/pngmeta"
)

// ReadCommand returns the Dream text of an image dream wrote, PNG, JPEG or WebP: the
// command that made it. Only the metadata is read, not the pixels (a folder of results is
// listed in a moment). An image without one gives an error wrapping pngmeta.ErrNoCommand.
func ReadCommand(path string) (string, error) {
	texts, err := ReadTexts(path)
	if err != nil {
		return "", err
	}
	command, ok := texts[pngmeta.KeyDream]
	if !ok {
		return "", fmt.Errorf("%s %w", path, pngmeta.ErrNoCommand)
	}
	return command, nil
}

// ReadTexts returns the texts of an image as Decode puts them in Metadata.Text, reading no
// pixels: a PNG's text chunks up to its image data, a JPEG's segments up to its image data,
// a WebP's EXIF and XMP chunks (which follow the image data, skipped over).
func ReadTexts(path string) (map[string]string, error) {
	f, err := OpenRegular(path)
	if err != nil {
		return nil, readError(path, err)
	}
	defer f.Close()
	return TextsOf(f, path)
}

// TextsOf is ReadTexts of a file already open (at its start), such as one opened inside an
// os.Root; path names it in errors.
func TextsOf(f *os.File, path string) (map[string]string, error) {
	head, kind, err := sniffStart(f, path)
	if err != nil {
		return nil, err
	}
	rest := io.MultiReader(bytes.NewReader(head), f)
	switch kind.format {
	case JPEG:
		data, err := readJPEGHead(rest)
		if err != nil {
			return nil, damagedMeta(path, err)
		}
		return jpegTexts(data), nil
	case WebP:
		xmp, exif, err := readWebPMeta(f)
		if err != nil {
			return nil, damagedMeta(path, err)
		}
		return formatTexts(xmp, exifBlock(exif)), nil
	}
	info, err := pngmeta.Read(rest)
	if err != nil {
		return nil, damagedMeta(path, err)
	}
	return info.Text, nil
}

// damagedMeta says why a file's metadata could not be read.
func damagedMeta(path string, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return newFileError(ErrDamaged, "%s is damaged: file is truncated", path)
	}
	return newFileError(ErrDamaged, "%s: %v", path, err)
}

// readJPEGHead reads a JPEG from its start up to its first start-of-scan marker: every
// segment metadata can be in, and nothing of the image data. The bytes are a JPEG prefix
// jpegSegments can walk.
func readJPEGHead(r io.Reader) ([]byte, error) {
	in := bufio.NewReader(r)
	var out bytes.Buffer
	if _, err := io.CopyN(&out, in, 2); err != nil { // start of image
		return nil, err
	}
	for out.Len() < maxMetaBytes {
		marker, err := readMarker(in, &out)
		if err != nil {
			return nil, err
		}
		switch {
		case marker == markerSOS || marker == markerEOI:
			return out.Bytes(), nil
		case standaloneMarker(marker):
			continue
		}
		var length [2]byte // counts itself
		if _, err := io.ReadFull(in, length[:]); err != nil {
			return nil, err
		}
		out.Write(length[:])
		if _, err := io.CopyN(&out, in, max(int64(binary.BigEndian.Uint16(length[:]))-2, 0)); err != nil {
			return nil, err
		}
	}
	return out.Bytes(), nil // more segments than metadata ever has: the rest is not read
}

// readMarker reads the 0xFF and the marker byte that start a segment, copying them to out.
// JPEG allows any number of fill bytes (more 0xFF) before the marker byte; they are read
// past, within the bound on what is read, and copied too so that out stays the file's
// prefix.
func readMarker(in *bufio.Reader, out *bytes.Buffer) (byte, error) {
	b, err := in.ReadByte()
	if err != nil {
		return 0, err
	}
	if b != 0xff {
		return 0, errors.New("a segment does not start with a marker")
	}
	for b == 0xff {
		if out.Len() >= maxMetaBytes {
			return 0, errors.New("too many fill bytes before a marker")
		}
		out.WriteByte(b)
		if b, err = in.ReadByte(); err != nil {
			return 0, err
		}
	}
	out.WriteByte(b)
	return b, nil
}

// readWebPMeta reads the XMP and EXIF chunks of an extended WebP that its VP8X flags
// announce (as webpMetadata does), skipping over the others; nil for those it lacks.
func readWebPMeta(f *os.File) (xmp, exif []byte, err error) {
	header := make([]byte, webpFirstChunkData+1)
	if _, err := f.ReadAt(header, 0); err != nil || !webpExtended(header) {
		return nil, nil, err // a simple WebP has no place for metadata
	}
	flags := header[webpFirstChunkData]
	end := int64(binary.LittleEndian.Uint32(header[4:])) + 8
	for at := int64(webpFirstChunkName); at+8 <= end; {
		var head [8]byte
		if _, err := f.ReadAt(head[:], at); err != nil {
			return xmp, exif, err
		}
		size := int64(binary.LittleEndian.Uint32(head[4:]))
		name := string(head[:4])
		wanted := name == "XMP " && flags&vp8xXMPFlag != 0 && xmp == nil ||
			name == "EXIF" && flags&vp8xExifFlag != 0 && exif == nil
		if wanted && size <= maxMetaBytes {
			body := make([]byte, size)
			if _, err := f.ReadAt(body, at+8); err != nil {
				return xmp, exif, err
			}
			if name == "XMP " {
				xmp = body
			} else {
				exif = body
			}
		}
		at += 8 + size + size%2
	}
	return xmp, exif, nil
}
