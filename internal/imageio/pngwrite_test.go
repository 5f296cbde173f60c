package imageio

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/adler32"
	"image/png"
	"io"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"testing"
)

// Every layout the writer produces decodes, with Go's own decoder, to the same samples.
func TestWritePNGRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, channels := range []int{1, 3, 4} {
		for _, depth := range []int{8, 16} {
			// 150 rows span several bands; odd widths exercise the filters' edges.
			img := New(37, 150, channels, depth)
			for i := range img.W * img.H * channels {
				// Smooth ramps plus noise, so every filter type wins on some row.
				img.Set(i, uint16((i/channels)%img.W*3+rng.IntN(20))<<(depth-8))
			}
			var buf bytes.Buffer
			if err := writePNG(&buf, img, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := png.Decode(bytes.NewReader(buf.Bytes())); err != nil {
				t.Fatalf("%d channels, %d bits: Go cannot decode the PNG: %v", channels, depth, err)
			}
			got, err := Decode(bytes.NewReader(buf.Bytes()), "test.png")
			if err != nil {
				t.Fatal(err)
			}
			if got.Channels != channels || got.Depth != depth {
				t.Fatalf("wrote %d channels at %d bits, read back %d at %d", channels, depth, got.Channels, got.Depth)
			}
			for i := range img.W * img.H * channels {
				if got.At(i) != img.At(i) {
					t.Fatalf("%d channels, %d bits: sample %d is %d, wrote %d", channels, depth, i, got.At(i), img.At(i))
				}
			}
		}
	}
}

// The workers reuse their compressor, scratch rows and output buffers from band to band; the
// file must still be byte for byte what compressing each band alone, with everything new,
// gives, however many workers share the bands out.
func TestWritePNGMatchesBandsCompressedAlone(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, layout := range []struct{ w, h, channels, depth int }{{97, 20*bandRows + 5, 3, 8}, {41, 9 * bandRows, 4, 16}} {
		img := New(layout.w, layout.h, layout.channels, layout.depth)
		for i := range img.Pix {
			// Flat stretches and noise in turn, so the bands compress to very different sizes
			// and a reused buffer is sometimes larger than the band it gets; every other band
			// starts flat, so both ways of compressing a band are used.
			if y := i / (len(img.Pix) / img.H); (y+bandRows/2)/bandRows%2 == 0 {
				img.Pix[i] = byte(rng.IntN(256))
			} else {
				img.Pix[i] = byte(i / 5000)
			}
		}
		want := bandsCompressedAlone(t, img, false)
		for _, procs := range []int{1, 2, 3, 8} {
			old := runtime.GOMAXPROCS(procs)
			var buf bytes.Buffer
			err := writePNG(&buf, img, nil)
			runtime.GOMAXPROCS(old)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%+v with %d workers: the file differs from its bands compressed alone", layout, procs)
			}
		}
	}
}

// bandsCompressedAlone writes img as writePNG must, one band after another, each with a new
// compressor, checksum and rows: Paeth and Huffman coding alone, or, for a band whose first
// rows look redundant, each row's best filter and string matching. With thorough, every band
// is compressed the latter way, as the writer did before.
func bandsCompressedAlone(t *testing.T, img *Image, thorough bool) []byte {
	var file bytes.Buffer
	file.Write(pngSignature)
	writeChunk(&file, "IHDR", header(img))
	writeChunk(&file, "IDAT", []byte{0x78, 0x01})
	bpp := img.Channels * img.bytesPerSample()
	rowLen := img.W * bpp
	adler := uint32(1)
	for y0 := 0; y0 < img.H; y0 += bandRows {
		compressed, raw := bandAlone(t, img, y0, flate.HuffmanOnly, func(dst, cur, prev []byte) { paethRow(dst, cur, prev, bpp) })
		if thorough || newBandCompressor(img, make([]byte, rowLen)).looksRedundant(y0, min(y0+bandRows, img.H)) {
			var scratch [4][]byte
			for i := range scratch {
				scratch[i] = make([]byte, rowLen)
			}
			compressed, raw = bandAlone(t, img, y0, flate.BestSpeed, func(dst, cur, prev []byte) { filterRow(dst, cur, prev, bpp, &scratch) })
		}
		adler = adler32Combine(adler, adler32.Checksum(raw), len(raw))
		writeChunk(&file, "IDAT", compressed)
	}
	tail := []byte{0x01, 0x00, 0x00, 0xff, 0xff, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(tail[5:], adler)
	writeChunk(&file, "IDAT", tail)
	writeChunk(&file, "IEND", nil)
	return file.Bytes()
}

// bandAlone filters and compresses the band that starts at row y0 with a new compressor of
// the level, and returns the compressed and the filtered bytes.
func bandAlone(t *testing.T, img *Image, y0, level int, filter func(dst, cur, prev []byte)) (compressed, raw []byte) {
	rowLen := img.W * img.Channels * img.bytesPerSample()
	var out bytes.Buffer
	zw, err := flate.NewWriter(&out, level)
	if err != nil {
		t.Fatal(err)
	}
	prev := make([]byte, rowLen)
	if y0 > 0 {
		prev = img.Pix[(y0-1)*rowLen : y0*rowLen]
	}
	for y := y0; y < min(y0+bandRows, img.H); y++ {
		cur := img.Pix[y*rowLen : (y+1)*rowLen]
		filtered := make([]byte, 1+rowLen)
		filter(filtered, cur, prev)
		zw.Write(filtered)
		raw = append(raw, filtered...)
		prev = cur
	}
	zw.Flush()
	return out.Bytes(), raw
}

// The writer's files against the same bands all compressed the thorough way (each row's
// best filter and string matching, as the writer did before it tried Huffman coding alone):
// smaller on photographs, the same on flat and drawn images, where Huffman coding alone
// would be several times larger.
func TestWritePNGSize(t *testing.T) {
	photo, err := Load(filepath.Join("..", "..", "..", "shared", "images", "coffee.png"))
	if err != nil {
		t.Fatal(err)
	}
	flat := New(512, 512, 3, 8)
	for i := range flat.Pix {
		flat.Pix[i] = byte(200 + (i/(3*512*64))%2*30) // two grays in bands of 64 rows
	}
	drawn := New(512, 512, 4, 8)
	for y := range 512 {
		for x := range 512 {
			if (x/32+y/32)%2 == 0 || x == y {
				copy(drawn.Pix[(y*512+x)*4:], []byte{20, 40, 200, 255})
			}
		}
	}
	for _, c := range []struct {
		name string
		img  *Image
		most float64 // the largest size allowed, as a share of the thorough way's
	}{{"photo", photo, 0.99}, {"flat", flat, 1}, {"drawn", drawn, 1}} {
		var ours bytes.Buffer
		if err := writePNG(&ours, c.img, nil); err != nil {
			t.Fatal(err)
		}
		thorough := len(bandsCompressedAlone(t, c.img, true))
		t.Logf("%s: %d bytes, %d the thorough way", c.name, ours.Len(), thorough)
		if float64(ours.Len()) > c.most*float64(thorough) {
			t.Errorf("%s: %d bytes, more than %.2f× the thorough way's %d", c.name, ours.Len(), c.most, thorough)
		}
	}
}

// What the writer allocates depends on the workers, not on the number of bands: a compressor
// and scratch rows per worker, and at most one output buffer per slot. A new compressor per
// band (about 1.2 MB each) once made the garbage of a large save several times the image.
func TestWritePNGAllocatesPerWorkerNotPerBand(t *testing.T) {
	const workers = 2
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(workers))
	img := New(512, 64*bandRows, 3, 8) // 64 bands
	for i := range img.Pix {
		img.Pix[i] = byte(i*7919>>5) ^ byte(i/3000)
	}
	rawBand := bandRows * (1 + img.W*3)
	// Per worker: two compressors (under 2 MB each: Huffman coding alone, and string
	// matching for redundant bands) and rows; per slot: a buffer that deflate's worst case
	// keeps a little above the raw band, and the doubling growth of bytes.Buffer may leave
	// garbage as large again.
	budget := workers*(2*(2<<20)+6*img.W*3) + 2*workers*4*rawBand
	writePNG(io.Discard, img, nil) // let the runtime settle its own one-off allocations
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := writePNG(io.Discard, img, nil); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > uint64(budget) {
		t.Errorf("writing %d bands allocated %.1f MB, want at most %.1f MB", img.H/bandRows,
			float64(got)/(1<<20), float64(budget)/(1<<20))
	}
}

func TestAdler32Combine(t *testing.T) {
	data := make([]byte, 200000)
	for i := range data {
		data[i] = byte(i * 7919 >> 3)
	}
	for _, cut := range []int{0, 1, 5552, 65521, 100000, 200000} {
		got := adler32Combine(adler32.Checksum(data[:cut]), adler32.Checksum(data[cut:]), len(data)-cut)
		if want := adler32.Checksum(data); got != want {
			t.Errorf("cut at %d: %08x, want %08x", cut, got, want)
		}
	}
}

// The parallel writer against Go's encoder on a real photo enlarged to 2048×2048, the size of
// a ×4 result of a 512×512 image.
func BenchmarkPNGWriters(b *testing.B) {
	photo, err := Load(filepath.Join("..", "..", "..", "shared", "images", "astronaut.png"))
	if err != nil {
		b.Skip(err)
	}
	big := enlargeNearest(photo, 4)
	for _, w := range []struct {
		name   string
		encode func(io.Writer, *Image) error
	}{{"parallel", func(w io.Writer, img *Image) error { return writePNG(w, img, nil) }}, {"go", encodeWithGo}} {
		b.Run(w.name, func(b *testing.B) {
			var size int
			for b.Loop() {
				var buf bytes.Buffer
				if err := w.encode(&buf, big); err != nil {
					b.Fatal(err)
				}
				size = buf.Len()
			}
			b.ReportMetric(float64(size)/(1<<20), "MB")
		})
	}
}

func enlargeNearest(img *Image, f int) *Image {
	big := New(img.W*f, img.H*f, img.Channels, img.Depth)
	size := img.Channels * img.bytesPerSample() // bytes per pixel
	for y := 0; y < big.H; y++ {
		for x := 0; x < big.W; x++ {
			copy(big.Pix[(y*big.W+x)*size:][:size], img.Pix[((y/f)*img.W+x/f)*size:])
		}
	}
	return big
}

// paeth is the predictor of the PNG specification (section 9.4) for every a, b and c.
func TestPaethEveryInput(t *testing.T) {
	for a := range 256 {
		for b := range 256 {
			for c := range 256 {
				p := a + b - c
				pa, pb, pc := max(p-a, a-p), max(p-b, b-p), max(p-c, c-p)
				want := c
				switch {
				case pa <= pb && pa <= pc:
					want = a
				case pb <= pc:
					want = b
				}
				if got := paeth(byte(a), byte(b), byte(c)); got != byte(want) {
					t.Fatalf("paeth(%d, %d, %d) = %d, want %d", a, b, c, got, want)
				}
			}
		}
	}
}
