package imageio

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"unicode/utf16"
)

// An EXIF block is a TIFF structure: a header giving the byte order and the offset of the
// first IFD (IFD0), and IFDs, each a count, 12-byte entries (tag, type, count, then the
// value itself when it fits in 4 bytes or else its offset), and the offset of the next IFD.
// Offsets count from the header. UserComment lives in the Exif sub-IFD, which IFD0's
// ExifIFD entry points to.
const (
	tagExifIFD     = 0x8769
	tagUserComment = 0x9286
	tiffUndefined  = 7 // field type UNDEFINED: bytes
	ifdEntrySize   = 12
	// maxIFDEntries bounds the IFDs read: real ones have tens of entries.
	maxIFDEntries = 1000
)

// unicodeComment starts a UserComment in Unicode (EXIF 2.3, table 9). What follows is
// UTF-16 big-endian, which is what piexif writes whatever the block's byte order, and what
// AUTOMATIC1111 (piexif.helper.UserComment.load) reads.
const (
	unicodeComment = "UNICODE\x00"
	asciiComment   = "ASCII\x00\x00\x00"
)

// userCommentValue is text as a UserComment value: the Unicode prefix, then UTF-16BE.
func userCommentValue(text string) []byte {
	units := utf16.Encode([]rune(text))
	out := make([]byte, len(unicodeComment), len(unicodeComment)+2*len(units))
	copy(out, unicodeComment)
	for _, u := range units {
		out = binary.BigEndian.AppendUint16(out, u)
	}
	return out
}

// withUserComment returns a copy of the TIFF block tiff with its UserComment set to text,
// every other tag kept. Nothing in the block moves: a new Exif IFD, holding the old one's
// entries and the comment, is appended, and IFD0's pointer to it is changed (IFD0 itself is
// appended with a new ExifIFD entry when it had none). Offsets inside the block, a maker
// note's included, stay right. A missing or unreadable block gives a new one holding only
// the comment.
func withUserComment(tiff []byte, text string) []byte {
	if out, ok := mergeUserComment(tiff, userCommentValue(text)); ok {
		return out
	}
	out, _ := mergeUserComment(emptyTIFF(), userCommentValue(text))
	return out
}

// emptyTIFF is a big-endian TIFF block (as piexif writes) with an empty IFD0.
func emptyTIFF() []byte {
	return []byte("MM\x00\x2a\x00\x00\x00\x08" + "\x00\x00" + "\x00\x00\x00\x00")
}

// ifd is an IFD read from a TIFF block: its entries as they are stored and the offset of
// the next IFD.
type ifd struct {
	entries [][]byte // 12 bytes each
	next    uint32
}

// byteOrder is binary.LittleEndian or binary.BigEndian, which read and append.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// tiffOrder reads a TIFF header's byte order, or nil when tiff is not one.
func tiffOrder(tiff []byte) byteOrder {
	if len(tiff) < 8 {
		return nil
	}
	var order byteOrder
	switch string(tiff[:2]) {
	case "II":
		order = binary.LittleEndian
	case "MM":
		order = binary.BigEndian
	default:
		return nil
	}
	if order.Uint16(tiff[2:]) != 42 {
		return nil
	}
	return order
}

// readIFD reads the IFD at offset at, or reports false when it does not fit in tiff.
func readIFD(tiff []byte, order binary.ByteOrder, at uint32) (ifd, bool) {
	start := uint64(at)
	if start+2 > uint64(len(tiff)) {
		return ifd{}, false
	}
	n := uint64(order.Uint16(tiff[start:]))
	end := start + 2 + n*ifdEntrySize
	if n > maxIFDEntries || end+4 > uint64(len(tiff)) {
		return ifd{}, false
	}
	var d ifd
	for p := start + 2; p < end; p += ifdEntrySize {
		d.entries = append(d.entries, tiff[p:p+ifdEntrySize])
	}
	d.next = order.Uint32(tiff[end:])
	return d, true
}

// find returns the index of the entry with tag, or -1.
func (d ifd) find(order binary.ByteOrder, tag uint16) int {
	return slices.IndexFunc(d.entries, func(e []byte) bool { return order.Uint16(e) == tag })
}

// mergeUserComment is withUserComment on a block it can read; false when it cannot.
func mergeUserComment(tiff, comment []byte) ([]byte, bool) {
	order := tiffOrder(tiff)
	if order == nil {
		return nil, false
	}
	ifd0At := order.Uint32(tiff[4:])
	ifd0, ok := readIFD(tiff, order, ifd0At)
	if !ok {
		return nil, false
	}
	var exif ifd
	pointer := ifd0.find(order, tagExifIFD)
	if pointer >= 0 {
		if exif, ok = readIFD(tiff, order, order.Uint32(ifd0.entries[pointer][8:])); !ok {
			return nil, false
		}
	}
	out := bytes.Clone(tiff)
	out = padEven(out)
	// The new Exif IFD: the old entries but UserComment, and the new comment after it.
	entries := slices.DeleteFunc(slices.Clone(exif.entries), func(e []byte) bool { return order.Uint16(e) == tagUserComment })
	exifAt := uint32(len(out))
	commentAt := exifAt + uint32(2+(len(entries)+1)*ifdEntrySize+4)
	entries = append(entries, ifdEntry(order, tagUserComment, tiffUndefined, uint32(len(comment)), commentAt))
	out = appendIFD(out, order, entries, exif.next)
	out = padEven(append(out, comment...))
	if pointer >= 0 {
		entry := uint64(ifd0At) + 2 + uint64(pointer)*ifdEntrySize
		order.PutUint32(out[entry+8:], exifAt)
		return out, true
	}
	// IFD0 had no Exif IFD: a copy of it with an entry pointing to the new one becomes IFD0.
	newIFD0 := append(slices.Clone(ifd0.entries), ifdEntry(order, tagExifIFD, tiffLong, 1, exifAt))
	order.PutUint32(out[4:], uint32(len(out)))
	return appendIFD(out, order, newIFD0, ifd0.next), true
}

// ifdEntry is one 12-byte entry whose value (or its offset) is value.
func ifdEntry(order binary.ByteOrder, tag, kind uint16, count, value uint32) []byte {
	e := make([]byte, ifdEntrySize)
	order.PutUint16(e, tag)
	order.PutUint16(e[2:], kind)
	order.PutUint32(e[4:], count)
	order.PutUint32(e[8:], value)
	return e
}

// appendIFD appends an IFD of entries, sorted by tag as TIFF requires, then next.
func appendIFD(out []byte, order byteOrder, entries [][]byte, next uint32) []byte {
	slices.SortStableFunc(entries, func(a, b []byte) int { return int(order.Uint16(a)) - int(order.Uint16(b)) })
	out = order.AppendUint16(out, uint16(len(entries)))
	for _, e := range entries {
		out = append(out, e...)
	}
	return order.AppendUint32(out, next)
}

// padEven pads b to an even length: IFDs and values start on a word boundary.
func padEven(b []byte) []byte {
	if len(b)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// userComment reads the UserComment of a TIFF block as AUTOMATIC1111 does: text after the
// Unicode prefix is UTF-16 big-endian (little-endian when it starts with that byte-order
// mark), after the ASCII prefix it is ASCII (read as UTF-8, as A1111 falls back to), and
// trailing NULs and spaces, which cameras fill the field with, are dropped. "" when there is
// none.
func userComment(tiff []byte) string {
	value := userCommentBytes(tiff)
	var text string
	switch {
	case bytes.HasPrefix(value, []byte(unicodeComment)):
		text = decodeUTF16(value[len(unicodeComment):])
	case bytes.HasPrefix(value, []byte(asciiComment)):
		text = strings.ToValidUTF8(string(value[len(asciiComment):]), "\uFFFD")
	}
	return strings.TrimRight(text, "\x00 ")
}

// decodeUTF16 reads UTF-16 big-endian, or little-endian after its byte-order mark.
func decodeUTF16(b []byte) string {
	var order binary.ByteOrder = binary.BigEndian
	switch {
	case bytes.HasPrefix(b, []byte{0xfe, 0xff}):
		b = b[2:]
	case bytes.HasPrefix(b, []byte{0xff, 0xfe}):
		order, b = binary.LittleEndian, b[2:]
	}
	units := make([]uint16, len(b)/2)
	for i := range units {
		units[i] = order.Uint16(b[2*i:])
	}
	return string(utf16.Decode(units))
}

// userCommentBytes is the value of the UserComment entry in tiff's Exif IFD, or nil.
func userCommentBytes(tiff []byte) []byte {
	order := tiffOrder(tiff)
	if order == nil {
		return nil
	}
	ifd0, ok := readIFD(tiff, order, order.Uint32(tiff[4:]))
	pointer := ifd0.find(order, tagExifIFD)
	if !ok || pointer < 0 {
		return nil
	}
	exif, ok := readIFD(tiff, order, order.Uint32(ifd0.entries[pointer][8:]))
	at := exif.find(order, tagUserComment)
	if !ok || at < 0 {
		return nil
	}
	entry := exif.entries[at]
	count := uint64(order.Uint32(entry[4:]))
	if count <= 4 {
		return entry[8 : 8+count]
	}
	start := uint64(order.Uint32(entry[8:]))
	if start+count > uint64(len(tiff)) {
		return nil
	}
	return tiff[start : start+count]
}
