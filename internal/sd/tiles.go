package sd

import (
	"context"
	"math"

	onnx "github.com/yalue/onnxruntime_go"

	"dream/internal/imageio"
	"dream/internal/ort"
)

// Tiled decoding. The VAE decoder's working memory grows with the image: several GB at
// 512×512 and four times that at 1024×1024. Latents larger than DecodeTile on either side are
// therefore decoded in overlapping tiles, blended with linear ramps across each overlap, so
// the decoder's working set stays that of a 512×512 image whatever the size. Up to DecodeTile
// the latent is decoded whole, exactly as before. Policy.TiledDecode forces tiles of half
// that size, for machines short of memory even at 512×512.
const (
	DecodeTile    = 64 // latent pixels: 512 image pixels
	decodeOverlap = 16 // latent pixels neighbouring tiles share
)

// decodeTiling is the tile and overlap for a latent of h×w, or ok false to decode it whole.
func (m *Model) decodeTiling(h, w int) (tile, overlap int, ok bool) {
	if m.policy.TiledDecode {
		tile, overlap = DecodeTile/2, decodeOverlap/2
	} else {
		tile, overlap = DecodeTile, decodeOverlap
	}
	return tile, overlap, h > tile || w > tile
}

// span is one tile's place along an axis, in latent pixels: [start, start+size).
type span struct{ start, size int }

// spans cuts an axis of n latent pixels into tiles of at most tile pixels that overlap their
// neighbours by at least overlap pixels, spread evenly, the first at 0 and the last at the end.
func spans(n, tile, overlap int) []span {
	if n <= tile {
		return []span{{0, n}}
	}
	stride := tile - overlap
	count := (n-tile+stride-1)/stride + 1
	out := make([]span, count)
	for i := range out {
		out[i] = span{start: int(math.Round(float64(i*(n-tile)) / float64(count-1))), size: tile}
	}
	return out
}

// ramp is the blend weight of pixel x (of size pixels) in a tile: it rises from near 0 to 1
// across the ramp pixels at a side that overlaps a neighbour, and is 1 elsewhere.
func ramp(x, size, ramp int, left, right bool) float32 {
	w := float32(1)
	if left && x < ramp {
		w = min(w, (float32(x)+0.5)/float32(ramp))
	}
	if right && size-1-x < ramp {
		w = min(w, (float32(size-1-x)+0.5)/float32(ramp))
	}
	return w
}

// decodeInTiles decodes a [1,4,h,w] latent (already divided by LatentScale) tile by tile and
// blends the tiles into one image.
func decodeInTiles(ctx context.Context, s *ort.Session, scaled []float32, h, w, tile, overlap int) (*imageio.Image, error) {
	W, H := 8*w, 8*h
	sum := make([]float32, 3*W*H)
	weight := make([]float32, W*H)
	rows, cols := spans(h, tile, overlap), spans(w, tile, overlap)
	for ri, r := range rows {
		for ci, c := range cols {
			pixels, err := decodeTile(ctx, s, scaled, h, w, r, c)
			if err != nil {
				return nil, err
			}
			left, right := ci > 0, ci < len(cols)-1
			top, bottom := ri > 0, ri < len(rows)-1
			accumulate(sum, weight, pixels, W, H, r, c, 8*overlap, left, right, top, bottom)
		}
	}
	for i, wt := range weight {
		for ch := range 3 {
			sum[ch*W*H+i] /= wt
		}
	}
	return toImage(sum, W, H), nil
}

// decodeTile runs the decoder on the latent's rows r and columns c.
func decodeTile(ctx context.Context, s *ort.Session, scaled []float32, h, w int, r, c span) ([]float32, error) {
	part := make([]float32, 4*r.size*c.size)
	for ch := range 4 {
		for y := range r.size {
			src := scaled[ch*h*w+(r.start+y)*w+c.start:][:c.size]
			copy(part[(ch*r.size+y)*c.size:], src)
		}
	}
	in, err := onnx.NewTensor(onnx.NewShape(1, 4, int64(r.size), int64(c.size)), part)
	if err != nil {
		return nil, err
	}
	defer in.Destroy()
	out, err := onnx.NewEmptyTensor[float32](onnx.NewShape(1, 3, int64(8*r.size), int64(8*c.size)))
	if err != nil {
		return nil, err
	}
	defer out.Destroy()
	if err := s.Run(ctx, []ort.Value{in}, []ort.Value{out}); err != nil {
		return nil, err
	}
	return append([]float32(nil), out.GetData()...), nil
}

// accumulate adds a decoded tile, weighted by its ramps, into the image's sums.
func accumulate(sum, weight, pixels []float32, W, H int, r, c span, rampPx int, left, right, top, bottom bool) {
	tw, th := 8*c.size, 8*r.size
	x0, y0 := 8*c.start, 8*r.start
	for y := range th {
		wy := ramp(y, th, rampPx, top, bottom)
		for x := range tw {
			wt := wy * ramp(x, tw, rampPx, left, right)
			i := (y0+y)*W + x0 + x
			weight[i] += wt
			for ch := range 3 {
				sum[ch*W*H+i] += wt * pixels[(ch*th+y)*tw+x]
			}
		}
	}
}
