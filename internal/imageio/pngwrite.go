package imageio

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash"
	"hash/adler32"
	"hash/crc32"
	"io"
	"math"
	"runtime"
	"sync/atomic"

	"dream/internal/pngmeta"
)

// The PNG writer below compresses bands of rows on every core at once, the way pigz does for
// gzip: each band is deflated on its own and ended with a sync flush, so the bands concatenate
// into one valid zlib stream. A 4096×4096 result is written in a fraction of the time Go's
// single-threaded encoder takes, straight from Pix without an intermediate image.

// bandRows is the number of rows compressed together; large enough that the compressor's
// window is rarely cut short, small enough to share the work out.
const bandRows = 64

var pngSignature = []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}

// writePNG writes img as a PNG: gray, RGB or RGBA at 8 or 16 bits, as img has them, with the
// metadata chunks between the header and the image data.
func writePNG(w io.Writer, img *Image, meta []pngmeta.Chunk) error {
	if _, err := w.Write(pngSignature); err != nil {
		return err
	}
	if err := writeChunk(w, "IHDR", header(img)); err != nil {
		return err
	}
	for _, c := range meta {
		if err := writeChunk(w, c.Type, c.Data); err != nil {
			return err
		}
	}
	if err := writeImageData(w, img); err != nil {
		return err
	}
	return writeChunk(w, "IEND", nil)
}

func header(img *Image) []byte {
	colourType := map[int]byte{1: 0, 3: 2, 4: 6}[img.Channels]
	h := make([]byte, 13)
	binary.BigEndian.PutUint32(h[0:], uint32(img.W))
	binary.BigEndian.PutUint32(h[4:], uint32(img.H))
	h[8] = byte(img.Depth)
	h[9] = colourType
	return h // compression, filter and interlace methods are all 0
}

func writeChunk(w io.Writer, kind string, data []byte) error {
	var head [8]byte
	binary.BigEndian.PutUint32(head[:4], uint32(len(data)))
	copy(head[4:], kind)
	crc := crc32.NewIEEE()
	crc.Write(head[4:])
	crc.Write(data)
	var tail [4]byte
	binary.BigEndian.PutUint32(tail[:], crc.Sum32())
	for _, part := range [][]byte{head[:], data, tail[:]} {
		if _, err := w.Write(part); err != nil {
			return err
		}
	}
	return nil
}

// band is one compressed run of rows with the checksum of its uncompressed bytes. buf comes
// from writeImageData's free list and goes back to it once the band has been written.
type band struct {
	buf    *bytes.Buffer
	adler  uint32
	length int
}

// writeImageData writes the IDAT chunks: a zlib header, one deflated band per chunk, then the
// final empty block and the Adler-32 of everything, combined from the bands' own checksums.
//
// Everything a band needs is allocated per worker or per save, never per band: a saved 8192×8192
// result has 128 bands, and a new compressor (about 1.2 MB), output buffer and scratch rows for
// each made some 260 MB of garbage, which let the GC double the heap during the save.
func writeImageData(w io.Writer, img *Image) error {
	if err := writeChunk(w, "IDAT", []byte{0x78, 0x01}); err != nil { // zlib: deflate, fastest
		return err
	}
	count := (img.H + bandRows - 1) / bandRows
	results := make([]chan band, count)
	for i := range results {
		results[i] = make(chan band, 1)
	}
	// Workers take band numbers in order; the loop below writes bands in the same order, and
	// the slots keep only a few finished bands waiting in memory.
	workers := runtime.GOMAXPROCS(0)
	slots := make(chan struct{}, 2*workers)
	// Output buffers are shared by the workers: a band takes one when it starts and the loop
	// below gives it back once the band is written, before freeing the band's slot. So no more
	// buffers exist than slots (the send below never blocks), and each keeps its capacity for the
	// next band. One list for all workers, not one each, because a fast worker may hold many
	// finished bands while a slow one holds the band the loop waits for.
	free := make(chan *bytes.Buffer, cap(slots))
	zeros := make([]byte, img.W*img.Channels*img.bytesPerSample()) // read-only, for every worker
	next := make(chan int)
	var failed atomic.Bool // after a write error, workers skip the remaining bands
	go func() {
		for i := range count {
			slots <- struct{}{}
			next <- i
		}
		close(next)
	}()
	for range workers {
		go func() {
			c := newBandCompressor(img, zeros)
			for i := range next {
				if failed.Load() {
					results[i] <- band{}
					continue
				}
				var buf *bytes.Buffer
				select {
				case buf = <-free:
				default: // every buffer is in use by a band in flight
					buf = new(bytes.Buffer)
				}
				results[i] <- c.compress(buf, i*bandRows, min((i+1)*bandRows, img.H))
			}
		}()
	}

	adler := uint32(1)
	var err error
	for i := range results {
		b := <-results[i]
		if err == nil {
			adler = adler32Combine(adler, b.adler, b.length)
			err = writeChunk(w, "IDAT", b.buf.Bytes())
			failed.Store(err != nil)
		}
		if b.buf != nil {
			b.buf.Reset()
			free <- b.buf
		}
		<-slots
	}
	if err != nil {
		return err
	}
	// A final stored block of length 0 ends the deflate stream; the checksum ends zlib's.
	tail := []byte{0x01, 0x00, 0x00, 0xff, 0xff, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(tail[5:], adler)
	return writeChunk(w, "IDAT", tail)
}

// bandCompressor is one worker's state, made once and reused for each band it compresses.
type bandCompressor struct {
	img      *Image
	bpp      int    // bytes per pixel, the distance the filters look left
	rowLen   int    // bytes per row
	zeros    []byte // the row above the first: the filters see zeros there
	huffman  *flate.Writer
	lz       *flate.Writer // nil until a band needs string matching
	sum      hash.Hash32
	filtered []byte // the filter byte and the chosen filter's output
	scratch  [4][]byte
}

// sampleRows is how many of a band's first rows decide how the band is compressed.
const sampleRows = 4

// redundantBits is the entropy, in bits a byte, of a band's Paeth-filtered sample below which
// the band is redundant enough (flat colour, line art, an enlarged pixel-art image, a
// synthetic pattern) that matching repeated strings pays: Huffman coding alone cannot go
// below one bit a byte, while a photograph's bytes carry four or more.
const redundantBits = 2.5

func newBandCompressor(img *Image, zeros []byte) *bandCompressor {
	bpp := img.Channels * img.bytesPerSample()
	rowLen := img.W * bpp
	huffman, _ := flate.NewWriter(nil, flate.HuffmanOnly) // a valid level, so no error
	c := &bandCompressor{img: img, bpp: bpp, rowLen: rowLen, zeros: zeros, huffman: huffman,
		sum: adler32.New(), filtered: make([]byte, 1+rowLen)}
	for i := range c.scratch {
		c.scratch[i] = make([]byte, rowLen)
	}
	return c
}

// compress filters and deflates rows [y0, y1) into out, which must be empty. Photographs
// (what dream mostly writes) compress best and fastest with the Paeth filter and Huffman
// coding alone: string matching finds little in them, and the per-row filter choice costs as
// much as the coding. A band whose first rows look redundant gets each row's best filter and
// string matching instead.
func (c *bandCompressor) compress(out *bytes.Buffer, y0, y1 int) band {
	if c.looksRedundant(y0, y1) {
		if c.lz == nil { // made on first need: a photograph's bands never need it
			c.lz, _ = flate.NewWriter(nil, flate.BestSpeed)
		}
		return c.deflate(out, y0, y1, c.lz, c.adaptiveRow)
	}
	return c.deflate(out, y0, y1, c.huffman, paethRow)
}

// looksRedundant tells whether the band's first rows, filtered with Paeth, carry less than
// redundantBits a byte.
func (c *bandCompressor) looksRedundant(y0, y1 int) bool {
	var counts [256]int
	total := 0
	prev := c.zeros
	if y0 > 0 {
		prev = c.row(y0 - 1)
	}
	for y := y0; y < min(y0+sampleRows, y1); y++ {
		paethRow(c.filtered, c.row(y), prev, c.bpp)
		for _, v := range c.filtered[1:] {
			counts[v]++
		}
		total += len(c.filtered) - 1
		prev = c.row(y)
	}
	return entropy(counts[:], total) < redundantBits
}

// entropy is the Shannon entropy, in bits a symbol, of symbols counted total times.
func entropy(counts []int, total int) float64 {
	bits := 0.0
	for _, n := range counts {
		if n > 0 {
			p := float64(n) / float64(total)
			bits -= p * math.Log2(p)
		}
	}
	return bits
}

// row is row y of the image as PNG stores it (bytes, or big-endian pairs for 16 bits), so the
// filters read rows in place.
func (c *bandCompressor) row(y int) []byte { return c.img.Pix[y*c.rowLen : (y+1)*c.rowLen] }

// deflate filters rows [y0, y1) with filter and compresses them with zw into out.
func (c *bandCompressor) deflate(out *bytes.Buffer, y0, y1 int, zw *flate.Writer, filter func(dst, cur, prev []byte, bpp int)) band {
	// Reset leaves the writer as a new one would be, with no history from the last band, so
	// every band compresses exactly as it would alone.
	zw.Reset(out)
	c.sum.Reset()
	length := 0
	prev := c.zeros
	if y0 > 0 {
		prev = c.row(y0 - 1)
	}
	for y := y0; y < y1; y++ {
		cur := c.row(y)
		filter(c.filtered, cur, prev, c.bpp)
		zw.Write(c.filtered)
		c.sum.Write(c.filtered)
		length += len(c.filtered)
		prev = cur
	}
	zw.Flush() // a sync flush: byte-aligned and not final, so the next band can follow
	return band{buf: out, adler: c.sum.Sum32(), length: length}
}

func (c *bandCompressor) adaptiveRow(dst, cur, prev []byte, bpp int) {
	filterRow(dst, cur, prev, bpp, &c.scratch)
}

// paethRow writes the filter byte and the row filtered with Paeth, the filter that predicts a
// photograph's pixels best.
func paethRow(dst, cur, prev []byte, bpp int) {
	dst[0] = 4
	out := dst[1:]
	for i := 0; i < bpp && i < len(cur); i++ {
		out[i] = cur[i] - prev[i] // no left neighbour: Paeth predicts the pixel above
	}
	for i := bpp; i < len(cur); i++ {
		out[i] = cur[i] - paeth(cur[i-bpp], prev[i], prev[i-bpp])
	}
}

// filterRow picks, per row, the PNG filter whose output has the smallest sum of absolute
// values (the heuristic libpng and Go use), and writes the filter byte and filtered row into
// dst. All five filters are computed in one pass over the row; scratch holds four rows.
func filterRow(dst, cur, prev []byte, bpp int, scratch *[4][]byte) {
	n := len(cur)
	prev = prev[:n]
	sub, up, avg, pth := scratch[0][:n], scratch[1][:n], scratch[2][:n], scratch[3][:n]
	var sums [5]int
	// The first pixel has no left neighbour: a and c are 0, so Sub is None and Paeth is Up.
	for i := 0; i < bpp && i < n; i++ {
		x, b := cur[i], prev[i]
		sub[i], up[i], avg[i], pth[i] = x, x-b, x-b/2, x-b
		sums[0] += absSigned(x)
		sums[1] += absSigned(x)
		sums[2] += absSigned(x - b)
		sums[3] += absSigned(x - b/2)
		sums[4] += absSigned(x - b)
	}
	for i := bpp; i < n; i++ {
		x, a, b, c := cur[i], cur[i-bpp], prev[i], prev[i-bpp]
		s, u, v, p := x-a, x-b, x-byte((int(a)+int(b))>>1), x-paeth(a, b, c)
		sub[i], up[i], avg[i], pth[i] = s, u, v, p
		sums[0] += absSigned(x)
		sums[1] += absSigned(s)
		sums[2] += absSigned(u)
		sums[3] += absSigned(v)
		sums[4] += absSigned(p)
	}
	best := 0
	for kind := 1; kind < 5; kind++ {
		if sums[kind] < sums[best] {
			best = kind
		}
	}
	dst[0] = byte(best)
	copy(dst[1:], [5][]byte{cur, sub, up, avg, pth}[best])
}

// absSigned is |b| with b read as a signed byte, the measure the filter heuristic sums.
func absSigned(b byte) int {
	v := int(int8(b))
	if v < 0 {
		return -v
	}
	return v
}

func paeth(a, b, c byte) byte {
	// p = a + b − c; the distances |p−a|, |p−b|, |p−c| simplify to these. The choice is
	// made with masks, not branches: on a photograph it is a coin toss the processor
	// mispredicts, and the masks make the writer's filtering nearly twice as fast.
	ia, ib, ic := int32(a), int32(b), int32(c)
	pa, pb := abs32(ib-ic), abs32(ia-ic)
	pc := abs32(ia + ib - 2*ic)
	notA := (pb-pa)>>31 | (pc-pa)>>31 // all ones when b or c is strictly nearer than a
	cOverB := (pc - pb) >> 31         // all ones when c is strictly nearer than b
	bc := ib&^cOverB | ic&cOverB
	return byte(ia&^notA | bc&notA)
}

// abs32 is |x| without a branch.
func abs32(x int32) int32 {
	sign := x >> 31
	return x ^ sign - sign
}

// adler32Combine returns the Adler-32 of two byte runs from the checksum of the first, the
// checksum of the second on its own, and the second's length: the sums A add up (less the
// second run's starting 1), and B gains the first run's A once for each byte of the second.
func adler32Combine(first, second uint32, secondLen int) uint32 {
	const mod = 65521
	a1, b1 := uint64(first&0xffff), uint64(first>>16)
	a2, b2 := uint64(second&0xffff), uint64(second>>16)
	n := uint64(secondLen) % mod
	a := (a1 + a2 + mod - 1) % mod
	b := (b1 + b2 + n*((a1+mod-1)%mod)) % mod
	return uint32(b<<16 | a)
}
