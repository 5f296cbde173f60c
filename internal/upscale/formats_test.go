package upscale

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"testing"

	"dream/internal/imageio"
)

// Every kind of input the upscaler accepts, each run through exactly predictable test models
// and compared with the test's own reference result. The expected pixels come from the test's
// own reading of the picture (want), never from the upscaler, and the test first checks that
// imageio decoded the file to those same pixels.
func TestFormats(t *testing.T) {
	const w, h = 7, 5 // odd sides: the ×2 model must be padded
	cases := []struct {
		name string
		// source returns the image handed to the upscaler and the test's own idea of it.
		source func(t *testing.T) (img, want *imageio.Image)
	}{
		{"RGB 8-bit PNG", func(t *testing.T) (*imageio.Image, *imageio.Image) {
			return pngSource(t, noiseNRGBA(w, h, false), 3, 8)
		}},
		{"RGBA 8-bit PNG with alpha", func(t *testing.T) (*imageio.Image, *imageio.Image) {
			return pngSource(t, noiseNRGBA(w, h, true), 4, 8)
		}},
		{"RGBA fully opaque", func(t *testing.T) (*imageio.Image, *imageio.Image) {
			// Go's PNG encoder writes an opaque picture as RGB, so this one is built directly:
			// an RGBA image whose alpha is full everywhere, as a PNG with an alpha channel gives.
			img := noiseImage(w, h, 4, 8, 7)
			for i := 3; i < w*h*4; i += 4 {
				img.Set(i, 255)
			}
			return img, img
		}},
		{"gray 8-bit PNG", func(t *testing.T) (*imageio.Image, *imageio.Image) {
			m := image.NewGray(image.Rect(0, 0, w, h))
			fillRandom(m.Pix, 3)
			return pngSource(t, m, 1, 8)
		}},
		{"gray 16-bit PNG", func(t *testing.T) (*imageio.Image, *imageio.Image) {
			m := image.NewGray16(image.Rect(0, 0, w, h))
			fillRandom(m.Pix, 4)
			m.SetGray16(0, 0, color.Gray16{Y: 12345}) // not a multiple of 257: 8 bits cannot hold it
			return pngSource(t, m, 1, 16)
		}},
		{"RGB 16-bit PNG", func(t *testing.T) (*imageio.Image, *imageio.Image) {
			return pngSource(t, noiseNRGBA64(w, h, false), 3, 16)
		}},
		{"RGBA 16-bit PNG with alpha", func(t *testing.T) (*imageio.Image, *imageio.Image) {
			return pngSource(t, noiseNRGBA64(w, h, true), 4, 16)
		}},
		{"palette PNG, opaque", func(t *testing.T) (*imageio.Image, *imageio.Image) {
			return pngSource(t, noisePaletted(w, h, false), 3, 8)
		}},
		{"palette PNG with transparency", func(t *testing.T) (*imageio.Image, *imageio.Image) {
			return pngSource(t, noisePaletted(w, h, true), 4, 8)
		}},
		{"JPEG with EXIF orientation 6", func(t *testing.T) (*imageio.Image, *imageio.Image) {
			return jpegRotatedSource(t, w, h)
		}},
		{"WebP lossless with alpha", func(t *testing.T) (*imageio.Image, *imageio.Image) {
			return webpSource(t, w, h, true)
		}},
		{"WebP lossless opaque", func(t *testing.T) (*imageio.Image, *imageio.Image) {
			return webpSource(t, w, h, false)
		}},
	}
	// Each model and factor takes a different path: the ×4 network's own output, the affine
	// one (which also shows that an opaque image's alpha pass is skipped: run, it would turn
	// full alpha into luma(0.75, 1, 0.875) = 232), the ×2 network that needs even sides, and
	// ×2 made by halving a ×4 output with Lanczos (float32 sums over 169 taps: one step).
	runs := []struct {
		model  testModel
		factor int
		slack  float64
	}{
		{nearest4, 4, exact},
		{affine4, 4, exact},
		{unshuffle2, 2, exact},
		{affine2, 2, exact},
		{nearest4, 2, 1},
	}
	models := map[string]*Model{}
	for _, r := range runs {
		models[r.model.name] = r.model.load(t)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img, want := c.source(t)
			if err := sameImage(img, want); err != nil {
				t.Fatalf("imageio decoded the file differently from the test: %v", err)
			}
			for _, r := range runs {
				t.Run(fmt.Sprintf("%s to x%d", r.model.name, r.factor), func(t *testing.T) {
					out, err := models[r.model.name].Upscale(context.Background(), img, Options{Factor: float64(r.factor), Strength: 1})
					if err != nil {
						t.Fatal(err)
					}
					compareToReference(t, out, referenceUpscale(want, r.model, r.factor), want.Depth, r.slack)
					if r.model == nearest4 && r.factor == 4 {
						checkSamplesKept(t, want, out)
					}
				})
			}
		})
	}
}

// checkSamplesKept spells out what the identity ×4 model must do: every output pixel holds
// exactly the samples of the input pixel it lies over, at the input's depth (so a 16-bit
// 12345 stays 12345).
func checkSamplesKept(t *testing.T, src, out *imageio.Image) {
	t.Helper()
	for y := range out.H {
		for x := range out.W {
			for c := range src.Channels {
				got := out.At((y*out.W+x)*out.Channels + c)
				want := src.At(((y/4)*src.W+x/4)*src.Channels + c)
				if src.Channels == 4 && c == 3 && isOpaque(src) {
					want = src.MaxValue()
				}
				if got != want {
					t.Fatalf("output (%d,%d) channel %d = %d, want the input's %d", x, y, c, got, want)
				}
			}
		}
	}
}

// pngSource encodes m as a PNG, decodes it with imageio, and returns that with the test's own
// reading of m. wantChannels and wantDepth are the layout imageio must choose.
func pngSource(t *testing.T, m image.Image, wantChannels, wantDepth int) (*imageio.Image, *imageio.Image) {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	// The PNG decoder's result, not m itself, says what the file holds: a palette's colours go
	// through the PLTE and tRNS chunks as 8-bit straight-alpha values.
	decoded, err := png.Decode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	return decodeFile(t, buf.Bytes(), "in.png"), straightImage(decoded, wantChannels, wantDepth)
}

func decodeFile(t *testing.T, data []byte, name string) *imageio.Image {
	t.Helper()
	img, err := imageio.Decode(bytes.NewReader(data), name)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// straightImage reads m as straight-alpha samples of the given depth and keeps the first
// channels of R, G, B, A (gray images have R = G = B).
func straightImage(m image.Image, channels, depth int) *imageio.Image {
	b := m.Bounds()
	var list []uint16
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			var s [4]uint16
			if depth == 16 {
				c := color.NRGBA64Model.Convert(m.At(x, y)).(color.NRGBA64)
				s = [4]uint16{c.R, c.G, c.B, c.A}
			} else {
				c := color.NRGBAModel.Convert(m.At(x, y)).(color.NRGBA)
				s = [4]uint16{uint16(c.R), uint16(c.G), uint16(c.B), uint16(c.A)}
			}
			list = append(list, s[:channels]...)
		}
	}
	return imageOf(b.Dx(), b.Dy(), channels, depth, list)
}

func fillRandom(b []byte, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 2))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
}

// noiseNRGBA is random colour, with random alpha (including 0 and 255) or fully opaque.
func noiseNRGBA(w, h int, alpha bool) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	fillRandom(m.Pix, 5)
	for i := 3; i < len(m.Pix); i += 4 {
		if !alpha {
			m.Pix[i] = 255
		}
	}
	if alpha {
		m.Pix[3], m.Pix[7] = 0, 255
	}
	return m
}

func noiseNRGBA64(w, h int, alpha bool) *image.NRGBA64 {
	m := image.NewNRGBA64(image.Rect(0, 0, w, h))
	fillRandom(m.Pix, 6)
	for i := 6; i < len(m.Pix); i += 8 {
		if !alpha {
			m.Pix[i], m.Pix[i+1] = 0xff, 0xff
		}
	}
	m.SetNRGBA64(0, 0, color.NRGBA64{R: 12345, G: 54321, B: 1, A: 0xffff})
	return m
}

// noisePaletted picks random entries of a small palette; with transparency some entries are
// translucent or clear, and PNG stores them in a tRNS chunk.
func noisePaletted(w, h int, transparent bool) *image.Paletted {
	palette := color.Palette{
		color.NRGBA{200, 30, 40, 255}, color.NRGBA{10, 220, 90, 255},
		color.NRGBA{0, 0, 0, 255}, color.NRGBA{255, 255, 255, 255}, color.NRGBA{17, 99, 201, 255},
	}
	if transparent {
		palette[1] = color.NRGBA{10, 220, 90, 128}
		palette[2] = color.NRGBA{0, 0, 0, 0}
	}
	m := image.NewPaletted(image.Rect(0, 0, w, h), palette)
	r := rand.New(rand.NewPCG(8, 3))
	for i := range m.Pix {
		m.Pix[i] = uint8(r.IntN(len(palette)))
	}
	return m
}

// jpegRotatedSource stores a w×h noise picture as a JPEG that EXIF orientation 6 says to turn
// 90° clockwise for display. The test turns Go's plain decoding of the stored pixels itself,
// so the upright picture (h wide, w tall) is known without imageio.
func jpegRotatedSource(t *testing.T, w, h int) (*imageio.Image, *imageio.Image) {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, noiseNRGBA(w, h, false), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	stored, err := jpeg.Decode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	storedImg := straightImage(stored, 3, 8)
	// Turned clockwise, the stored bottom-left corner becomes the top-left one: display pixel
	// (x, y) is stored pixel (y, h−1−x).
	want := imageio.New(h, w, 3, 8) // 8-bit: one byte a sample
	for y := range want.H {
		for x := range want.W {
			copy(want.Pix[(y*want.W+x)*3:][:3], storedImg.Pix[((h-1-x)*w+y)*3:][:3])
		}
	}
	return decodeFile(t, withExifOrientation(buf.Bytes(), 6), "photo.jpg"), want
}

// withExifOrientation inserts, right after the JPEG's SOI marker, an APP1 Exif segment whose
// TIFF block (big-endian) holds one IFD entry: Orientation = o.
func withExifOrientation(jpegData []byte, o uint16) []byte {
	be := binary.BigEndian
	tiff := []byte("MM\x00\x2a")
	tiff = be.AppendUint32(tiff, 8) // the IFD follows the header
	tiff = be.AppendUint16(tiff, 1) // one entry
	tiff = be.AppendUint16(tiff, 0x0112)
	tiff = be.AppendUint16(tiff, 3) // SHORT
	tiff = be.AppendUint32(tiff, 1) // count
	tiff = be.AppendUint16(tiff, o)
	tiff = be.AppendUint16(tiff, 0)
	tiff = be.AppendUint32(tiff, 0) // no next IFD
	body := append([]byte("Exif\x00\x00"), tiff...)
	segment := be.AppendUint16([]byte{0xff, 0xe1}, uint16(len(body)+2))
	out := append([]byte{}, jpegData[:2]...)
	out = append(append(out, segment...), body...)
	return append(out, jpegData[2:]...)
}

// webpSource writes a lossless WebP with the smallest encoder that still gives every pixel its
// own value: VP8L with "simple" prefix codes of two symbols for green and alpha (one bit per
// pixel each) and one symbol for red and blue (no bits). Green and alpha follow two different
// patterns, so a pixel out of place shows.
func webpSource(t *testing.T, w, h int, alpha bool) (*imageio.Image, *imageio.Image) {
	t.Helper()
	greens, alphas := [2]uint8{40, 210}, [2]uint8{255, 255}
	if alpha {
		alphas = [2]uint8{0, 170}
	}
	const red, blue = 120, 33
	var bw lsbWriter
	bw.put(0x2f, 8) // VP8L signature
	bw.put(uint32(w-1), 14)
	bw.put(uint32(h-1), 14)
	bw.put(b2u(alpha), 1) // alpha hint
	bw.put(0, 3)          // version
	bw.put(0, 1)          // no transform
	bw.put(0, 1)          // no colour cache
	bw.put(0, 1)          // one prefix-code group
	simpleCode := func(symbols ...uint8) {
		bw.put(1, 1) // simple code
		bw.put(uint32(len(symbols)-1), 1)
		bw.put(1, 1) // symbols are 8 bits wide
		for _, s := range symbols {
			bw.put(uint32(s), 8)
		}
	}
	simpleCode(greens[0], greens[1]) // in increasing order: bit 0 is the first
	simpleCode(red)
	simpleCode(blue)
	if alphas[0] == alphas[1] {
		simpleCode(alphas[0])
	} else {
		simpleCode(alphas[0], alphas[1])
	}
	simpleCode(0) // distances, never used
	channels := 3
	if alpha {
		channels = 4
	}
	var list []uint16
	for y := range h {
		for x := range w {
			g, a := (x+2*y)%3 == 0, (x*y)%2 == 1
			bw.put(b2u(g), 1)
			if alphas[0] != alphas[1] {
				bw.put(b2u(a), 1)
			}
			list = append(list, red, uint16(greens[b2u(g)]), blue, uint16(alphas[b2u(a)]))
			list = list[:len(list)-4+channels]
		}
	}
	stream := bw.bytes()
	body := append([]byte("WEBPVP8L"), binary.LittleEndian.AppendUint32(nil, uint32(len(stream)))...)
	body = append(body, stream...)
	if len(stream)%2 == 1 {
		body = append(body, 0)
	}
	file := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...)
	return decodeFile(t, append(file, body...), "in.webp"), imageOf(w, h, channels, 8, list)
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// lsbWriter packs bits least-significant first, as VP8L reads them. Every code here is one
// bit long, so code order and bit order coincide.
type lsbWriter struct {
	out  []byte
	acc  uint64
	bits uint
}

func (w *lsbWriter) put(v uint32, n uint) {
	w.acc |= uint64(v) << w.bits
	for w.bits += n; w.bits >= 8; w.bits -= 8 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
	}
}

func (w *lsbWriter) bytes() []byte {
	if w.bits > 0 {
		return append(w.out, byte(w.acc))
	}
	return w.out
}
