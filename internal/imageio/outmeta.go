package imageio

import (
	"bytes"
	"fmt"

	"dream/internal/pngmeta"
)

// JPEG and WebP have no text chunks: the facts dream writes into a PNG's chunks travel in
// the places readers of those formats look.
//
//   - parameters, AUTOMATIC1111's text, goes into EXIF's UserComment, where A1111 writes it
//     for JPEG and WebP (piexif's "UNICODE\0" then UTF-16 big-endian) and where its readers,
//     and the many tools that follow them, look for it.
//   - Dream, sd-metadata and postprocessing go into XMP, as properties of dream's own
//     namespace (xmp.go): XMP holds any number of named UTF-8 texts, and tools that do not
//     know the namespace keep it when they copy metadata.
//   - The colour profile and the source's EXIF (Orientation already reset to 1 by Decode)
//     are kept, UserComment merged into that EXIF (exif.go).

// outputMeta is the metadata of a JPEG or WebP result.
type outputMeta struct {
	xmp  []byte // the XMP packet, nil when there are no texts for it
	exif []byte // a TIFF block, nil when there is neither EXIF nor parameters
	icc  []byte
}

// xmpKeys are the texts that go into XMP, in the order they are written.
var xmpKeys = []string{pngmeta.KeyDream, pngmeta.KeySDMetadata, pngmeta.KeyPostprocessing}

// encodeMeta reads the PNG chunks dream made for a result and lays their content out for
// JPEG and WebP.
func encodeMeta(chunks []pngmeta.Chunk) (outputMeta, error) {
	info, err := readChunks(chunks)
	if err != nil {
		return outputMeta{}, err
	}
	var m outputMeta
	var texts []xmpText
	for _, key := range xmpKeys {
		if value, ok := info.Text[key]; ok {
			texts = append(texts, xmpText{key, value})
		}
	}
	if len(texts) > 0 {
		m.xmp = xmpPacket(texts)
	}
	m.exif = exifBlock(info.Exif)
	if parameters := info.Text[pngmeta.KeyParameters]; parameters != "" {
		m.exif = withUserComment(m.exif, parameters)
	}
	m.icc = info.ICC
	return m, nil
}

// readChunks reads metadata chunks back with pngmeta, framed as the PNG they will be part
// of, so that there is one reader of what the chunks mean.
func readChunks(chunks []pngmeta.Chunk) (pngmeta.Info, error) {
	var b bytes.Buffer
	b.Write(pngSignature)
	for _, c := range chunks {
		writeChunk(&b, c.Type, c.Data) // a bytes.Buffer does not fail
	}
	b.Write(pngEnd)
	info, err := pngmeta.Read(&b)
	if err != nil {
		return info, fmt.Errorf("cannot write the metadata: %v", err)
	}
	return info, nil
}
