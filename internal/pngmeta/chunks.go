// Package pngmeta reads and writes the PNG chunks that carry an image's metadata: text
// (tEXt, zTXt, iTXt), the colour profile (iCCP) and EXIF (eXIf). It only handles chunks; the
// pixels are imageio's.
package pngmeta

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// Chunk is one PNG chunk as written between the header and the image data.
type Chunk struct {
	Type string
	Data []byte
}

// Text returns a tEXt chunk. PNG's tEXt is Latin-1, so text outside it is written as iTXt.
func Text(keyword, value string) Chunk {
	if !isLatin1(value) {
		return InternationalText(keyword, value)
	}
	return Chunk{Type: "tEXt", Data: append(append([]byte(keyword), 0), latin1(value)...)}
}

// InternationalText returns an uncompressed iTXt chunk holding UTF-8 text.
func InternationalText(keyword, value string) Chunk {
	var b bytes.Buffer
	b.WriteString(keyword)
	b.Write([]byte{0, 0, 0}) // separator, not compressed, compression method
	b.WriteByte(0)           // no language tag
	b.WriteByte(0)           // no translated keyword
	b.WriteString(value)
	return Chunk{Type: "iTXt", Data: b.Bytes()}
}

// ICCProfile returns an iCCP chunk holding a colour profile.
func ICCProfile(name string, profile []byte) Chunk {
	if name == "" {
		name = "ICC profile"
	}
	var b bytes.Buffer
	b.WriteString(name)
	b.Write([]byte{0, 0}) // separator, compression method 0 (zlib)
	zw := zlib.NewWriter(&b)
	zw.Write(profile)
	zw.Close()
	return Chunk{Type: "iCCP", Data: b.Bytes()}
}

// Exif returns an eXIf chunk: the TIFF-structured EXIF block, without JPEG's "Exif\0\0".
func Exif(tiff []byte) Chunk {
	return Chunk{Type: "eXIf", Data: tiff}
}

// Info is the metadata read from a PNG.
type Info struct {
	Text    map[string]string // by keyword, from tEXt, zTXt and iTXt
	ICCName string
	ICC     []byte // the uncompressed colour profile
	Exif    []byte
}

// Limits against hostile files: metadata is small, so anything larger is refused.
const (
	maxChunk    = 16 << 20
	maxInflated = 16 << 20
)

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// ErrNotPNG means the data does not start with the PNG signature.
var ErrNotPNG = errors.New("not a PNG file")

// Read returns the metadata of a PNG, reading chunks up to the image data. Chunks with a wrong
// CRC are refused: a damaged file is reported, not half read.
func Read(r io.Reader) (Info, error) {
	info := Info{Text: map[string]string{}}
	sig := make([]byte, len(pngSignature))
	if _, err := io.ReadFull(r, sig); err != nil || !bytes.Equal(sig, pngSignature) {
		return info, ErrNotPNG
	}
	for {
		c, err := readChunk(r)
		if err != nil {
			return info, err
		}
		switch c.Type {
		case "IDAT", "IEND":
			return info, nil
		case "tEXt", "zTXt", "iTXt":
			if key, value, err := parseText(c); err == nil {
				info.Text[key] = value
			}
		case "iCCP":
			info.ICCName, info.ICC, _ = parseICC(c.Data)
		case "eXIf":
			info.Exif = c.Data
		}
	}
}

func readChunk(r io.Reader) (Chunk, error) {
	var head [8]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return Chunk{}, fmt.Errorf("PNG ends before its image data: %w", io.ErrUnexpectedEOF)
	}
	length := binary.BigEndian.Uint32(head[:4])
	kind := string(head[4:])
	if length > maxChunk {
		return Chunk{}, fmt.Errorf("PNG chunk %q is %d bytes, more than metadata ever needs", kind, length)
	}
	body := make([]byte, length+4)
	if _, err := io.ReadFull(r, body); err != nil {
		return Chunk{}, fmt.Errorf("PNG chunk %q is cut short", kind)
	}
	data, stored := body[:length], binary.BigEndian.Uint32(body[length:])
	crc := crc32.NewIEEE()
	crc.Write(head[4:])
	crc.Write(data)
	if crc.Sum32() != stored {
		return Chunk{}, fmt.Errorf("PNG chunk %q has a bad CRC (the file is damaged)", kind)
	}
	return Chunk{Type: kind, Data: data}, nil
}

func parseText(c Chunk) (key, value string, err error) {
	keyword, rest, ok := bytes.Cut(c.Data, []byte{0})
	if !ok {
		return "", "", errors.New("text chunk without keyword")
	}
	key = string(keyword)
	switch c.Type {
	case "tEXt":
		return key, fromLatin1(rest), nil
	case "zTXt":
		if len(rest) < 1 {
			return "", "", errors.New("short zTXt")
		}
		text, err := inflate(rest[1:])
		return key, fromLatin1(text), err
	}
	// iTXt: compression flag, method, language tag\0, translated keyword\0, text.
	if len(rest) < 2 {
		return "", "", errors.New("short iTXt")
	}
	compressed := rest[0] == 1
	rest = rest[2:]
	for range 2 {
		_, after, ok := bytes.Cut(rest, []byte{0})
		if !ok {
			return "", "", errors.New("short iTXt")
		}
		rest = after
	}
	if compressed {
		if rest, err = inflate(rest); err != nil {
			return "", "", err
		}
	}
	if !utf8.Valid(rest) {
		return "", "", errors.New("iTXt text is not UTF-8")
	}
	return key, string(rest), nil
}

func parseICC(data []byte) (string, []byte, error) {
	name, rest, ok := bytes.Cut(data, []byte{0})
	if !ok || len(rest) < 1 {
		return "", nil, errors.New("short iCCP")
	}
	profile, err := inflate(rest[1:])
	if err != nil {
		return "", nil, err // half a profile would misdescribe every colour
	}
	return string(name), profile, nil
}

func inflate(data []byte) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, maxInflated+1))
	if len(out) > maxInflated {
		return nil, errors.New("compressed metadata is too large")
	}
	return out, err
}

func isLatin1(s string) bool {
	for _, r := range s {
		if r > 0xff {
			return false
		}
	}
	return true
}

func latin1(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		out = append(out, byte(r))
	}
	return out
}

func fromLatin1(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		s.WriteRune(rune(c))
	}
	return s.String()
}

// ErrNoCommand means a PNG holds no Dream text: dream did not write it.
var ErrNoCommand = errors.New("holds no dream command (it was not written by dream)")

// ReadCommand returns the Dream text of the PNG at path, reading no further than its image
// data: the command that made the image.
func ReadCommand(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %v", path, err)
	}
	defer f.Close()
	info, err := Read(f)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	command, ok := info.Text[KeyDream]
	if !ok {
		return "", fmt.Errorf("%s %w", path, ErrNoCommand)
	}
	return command, nil
}
