package sd

import (
	"context"
	"fmt"
	"image"
	"math"
	"os"

	onnx "github.com/yalue/onnxruntime_go"
	"golang.org/x/image/draw"

	"dream/internal/imageio"
	"dream/internal/ort"
)

// decode turns a latent [1,4,h,w] into an 8-bit RGB image of 8w×8h pixels, in tiles when
// it is large (see decodeTiling).
func (m *Model) decode(ctx context.Context, latent []float32, h, w int, vae string) (*imageio.Image, error) {
	return m.withDecoder(latent, vae, func(s *ort.Session, scaled []float32) (*imageio.Image, error) {
		if tile, overlap, tiled := m.decodeTiling(h, w); tiled {
			return decodeInTiles(ctx, s, scaled, h, w, tile, overlap)
		}
		return decodeAll(ctx, s, scaled, h, w)
	})
}

// decodeWhole decodes without tiles, whatever the size: what tiles are measured against.
func (m *Model) decodeWhole(ctx context.Context, latent []float32, h, w int) (*imageio.Image, error) {
	return m.withDecoder(latent, FullVAE, func(s *ort.Session, scaled []float32) (*imageio.Image, error) {
		return decodeAll(ctx, s, scaled, h, w)
	})
}

// withDecoder runs decode with the session of the decoder vae names and the latent as that
// decoder takes it: divided by LatentScale for the full VAE, as it is for TAESD. The session
// is closed afterwards unless the policy keeps it.
func (m *Model) withDecoder(latent []float32, vae string, decode func(*ort.Session, []float32) (*imageio.Image, error)) (*imageio.Image, error) {
	scaled := make([]float32, len(latent))
	for i, v := range latent {
		scaled[i] = v / LatentScale
	}
	if vae == TinyVAE {
		copy(scaled, latent)
	}
	s, err := m.rt.Session(m.path(decoderFile(vae)), decoderContract)
	if err != nil {
		return nil, err
	}
	defer m.releaseUnlessKept(s)
	return decode(s, scaled)
}

// CheckVAE refuses, before any work, a decoder the export does not have.
func (m *Model) CheckVAE(vae string) error {
	switch vae {
	case "", FullVAE:
		return nil
	case TinyVAE:
		if _, err := os.Stat(m.path(TinyDecoderFile)); err != nil {
			return fmt.Errorf("--vae tiny: %s has no %s: put TAESD's decoder (madebyollin/taesd, exported to ONNX) there, or use --vae full",
				m.Dir, TinyDecoderFile)
		}
		return nil
	}
	return fmt.Errorf("--vae %s: use full or tiny", vae)
}

// decodeAll runs the decoder once on the whole latent.
func decodeAll(ctx context.Context, s *ort.Session, scaled []float32, h, w int) (*imageio.Image, error) {
	in, err := onnx.NewTensor(onnx.NewShape(1, 4, int64(h), int64(w)), scaled)
	if err != nil {
		return nil, err
	}
	defer in.Destroy()
	out, err := onnx.NewEmptyTensor[float32](onnx.NewShape(1, 3, int64(8*h), int64(8*w)))
	if err != nil {
		return nil, err
	}
	defer out.Destroy()
	if err := s.Run(ctx, []ort.Value{in}, []ort.Value{out}); err != nil {
		return nil, err
	}
	return toImage(out.GetData(), 8*w, 8*h), nil
}

// toImage maps the decoder's planar [-1,1] RGB to 8-bit samples, rounding to nearest.
func toImage(planar []float32, w, h int) *imageio.Image {
	img := imageio.New(w, h, 3, 8)
	plane := w * h
	for c := 0; c < 3; c++ {
		for i, v := range planar[c*plane : (c+1)*plane] {
			u := math.Round(float64(v+1) / 2 * 255)
			img.Pix[3*i+c] = byte(min(max(u, 0), 255)) // 8-bit: one byte a sample
		}
	}
	return img
}

// encode turns an image into the latent img2img starts from, resized to w×h pixels first.
// The result is the mean of the VAE's latent distribution (see openEncoder), scaled by
// LatentScale.
func (m *Model) encode(ctx context.Context, img *imageio.Image, w, h int) ([]float32, error) {
	in, err := onnx.NewTensor(onnx.NewShape(1, 3, int64(h), int64(w)), toPlanar(resize(img, w, h)))
	if err != nil {
		return nil, err
	}
	defer in.Destroy()
	out, err := onnx.NewEmptyTensor[float32](onnx.NewShape(1, 4, int64(h/8), int64(w/8)))
	if err != nil {
		return nil, err
	}
	defer out.Destroy()
	s, err := m.openEncoder()
	if err != nil {
		return nil, err
	}
	defer m.releaseUnlessKept(s)
	if err := s.Run(ctx, []ort.Value{in}, []ort.Value{out}); err != nil {
		return nil, err
	}
	latent := append([]float32(nil), out.GetData()...)
	for i := range latent {
		latent[i] *= LatentScale
	}
	return latent, nil
}

// openEncoder opens the VAE encoder. diffusers exports it with the posterior's sampling
// inside the graph, from a random node ONNX Runtime seeds on its own, so the same line would
// give a different image each time. dream sets that node's scale to 0, which leaves the
// distribution's mean: img2img is then reproducible, and the mean is what the sample is
// centred on anyway.
func (m *Model) openEncoder() (*ort.Session, error) {
	if m.encoder != nil {
		return m.encoder, nil // kept open by the policy
	}
	s, err := m.loadEncoder()
	if err == nil && m.policy.KeepAll {
		m.encoder = s
	}
	return s, err
}

func (m *Model) loadEncoder() (*ort.Session, error) {
	path := m.path(EncoderFile)
	if err := m.CanEncode(); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	data, changed, err := withoutSampling(data)
	if err != nil {
		return nil, err
	}
	if !changed {
		return m.rt.Session(path, encoderContract)
	}
	return m.rt.SessionFromData(path, data, encoderContract)
}

// resize scales img to w×h RGB with Catmull-Rom, dropping alpha and spreading gray.
func resize(img *imageio.Image, w, h int) *image.NRGBA {
	src := image.NewNRGBA(image.Rect(0, 0, img.W, img.H))
	shift := uint(img.Depth - 8)
	for i := 0; i < img.W*img.H; i++ {
		p := i * img.Channels
		r, g, b := img.At(p), img.At(p), img.At(p)
		if img.Channels >= 3 {
			g, b = img.At(p+1), img.At(p+2)
		}
		copy(src.Pix[4*i:], []uint8{uint8(r >> shift), uint8(g >> shift), uint8(b >> shift), 255})
	}
	if img.W == w && img.H == h {
		return src
	}
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
	return dst
}

// toPlanar maps 8-bit RGB to the encoder's planar [-1,1].
func toPlanar(img *image.NRGBA) []float32 {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	plane := w * h
	out := make([]float32, 3*plane)
	for i := 0; i < plane; i++ {
		for c := 0; c < 3; c++ {
			out[c*plane+i] = float32(img.Pix[4*i+c])/127.5 - 1
		}
	}
	return out
}

// CanEncode tells whether the export has the VAE encoder img2img needs, which text-to-image
// exports may leave out.
func (m *Model) CanEncode() error {
	if _, err := os.Stat(m.path(EncoderFile)); err != nil {
		return fmt.Errorf("-I needs the VAE encoder, and %s has no %s: use an export that includes it", m.Dir, EncoderFile)
	}
	return nil
}
