package face

import (
	"math"
	"runtime"
	"sync"

	"dream/internal/imageio"
)

// FFHQ512 is where the five landmarks (left eye, right eye, nose tip, left and right mouth
// corners) sit in a 512×512 FFHQ-aligned face, the crop GFPGAN and CodeFormer were trained on
// (facexlib's face_template, SPEC §2.2 step 2).
var FFHQ512 = [5]Point{
	{192.98138, 239.94708},
	{318.90277, 240.1936},
	{256.63416, 314.01935},
	{201.26117, 371.41043},
	{313.08905, 371.15118},
}

// AlignTransform returns the similarity transform (rotation, uniform scale, translation) that
// maps the five landmarks onto FFHQ512 with the least total squared error.
//
// This is the least-squares model cv2.estimateAffinePartial2D converges to when every point
// is an inlier; facexlib calls it with its default RANSAC (3 px threshold), which can drop a
// landmark that sits more than 3 template pixels off. We keep all five, as FaceFusion does
// (it passes a 100 px threshold), so one odd landmark cannot swing the crop.
func AlignTransform(landmarks [5]Point) Affine {
	return fitSimilarity(landmarks[:], FFHQ512[:])
}

// fitSimilarity solves min Σ|S(src_i) − dst_i|² over S(x, y) = (a·x − b·y + tx, b·x + a·y + ty).
//
// With both point sets centred on their means the translation drops out and the normal
// equations decouple: a and b are the dot and cross products of the centred sets divided by
// the spread of src. Degenerate input (all src points equal) gives the pure translation that
// moves the src centroid onto the dst centroid.
func fitSimilarity(src, dst []Point) Affine {
	n := float64(len(src))
	var ps, qs Point
	for i := range src {
		ps.X += src[i].X
		ps.Y += src[i].Y
		qs.X += dst[i].X
		qs.Y += dst[i].Y
	}
	ps = Point{ps.X / n, ps.Y / n}
	qs = Point{qs.X / n, qs.Y / n}

	var dot, cross, spread float64
	for i := range src {
		px, py := src[i].X-ps.X, src[i].Y-ps.Y
		qx, qy := dst[i].X-qs.X, dst[i].Y-qs.Y
		dot += px*qx + py*qy
		cross += px*qy - py*qx
		spread += px*px + py*py
	}
	var a, b float64
	if spread > 0 {
		a, b = dot/spread, cross/spread
	}
	return Affine{
		a, -b, qs.X - (a*ps.X - b*ps.Y),
		b, a, qs.Y - (b*ps.X + a*ps.Y),
	}
}

// Invert returns the transform that undoes m (cv2.invertAffineTransform). A singular m
// (zero scale) has no inverse; the result is then all zeros, which maps everything onto the
// origin instead of spreading NaNs through an image.
func (m Affine) Invert() Affine {
	det := m[0]*m[4] - m[1]*m[3]
	if det == 0 {
		return Affine{}
	}
	a, b, d, e := m[4]/det, -m[1]/det, -m[3]/det, m[0]/det
	return Affine{
		a, b, -(a*m[2] + b*m[5]),
		d, e, -(d*m[2] + e*m[5]),
	}
}

// WarpFace cuts the size×size crop that m (image → crop coordinates, e.g. AlignTransform)
// describes: crop(x, y) = img(m⁻¹(x, y)), sampled bilinearly with pixel centres at integer
// coordinates as cv2.warpAffine does. Samples outside the image repeat the nearest edge pixel
// (BORDER_REPLICATE): SPEC §2.2 step 2 prefers that to facexlib's flat gray fill, which the
// restorer would otherwise try to turn into a face border.
//
// The result is RGB planar (3×size×size) float32 in 0..1: gray images give three equal
// planes, alpha is ignored, 16-bit samples are scaled by 1/65535.
func WarpFace(img *imageio.Image, m Affine, size int) []float32 {
	return warp(img, m, size, 1, 1, false)
}

// warp cuts the n×n crop toCrop (image → crop) describes, as planar float32: R, G, B planes,
// or B, G, R when bgr is set, on 0..scale. Each crop pixel averages taps×taps bilinear samples
// spread evenly over its footprint; with one tap that is the single sample at its centre,
// cv2.warpAffine's. Samples outside the image repeat its edge.
func warp(img *imageio.Image, toCrop Affine, n, taps int, scale float32, bgr bool) []float32 {
	out := make([]float32, 3*n*n)
	toImage := toCrop.Invert()
	s := newSampler(img)
	plane := n * n
	red, blue := 0, 2*plane
	if bgr {
		red, blue = blue, red
	}
	weight := scale / float32(taps*taps)
	parallelRows(n, func(y0, y1 int) {
		var rgb [3]float32
		for y := y0; y < y1; y++ {
			for x := range n {
				var r, g, b float32
				for j := range taps {
					for i := range taps {
						p := toImage.Apply(Point{
							float64(x) - 0.5 + (float64(i)+0.5)/float64(taps),
							float64(y) - 0.5 + (float64(j)+0.5)/float64(taps),
						})
						s.replicate(p.X, p.Y, &rgb)
						r, g, b = r+rgb[0], g+rgb[1], b+rgb[2]
					}
				}
				at := y*n + x
				out[red+at], out[plane+at], out[blue+at] = r*weight, g*weight, b*weight
			}
		}
	})
	return out
}

// sampler reads RGB in 0..1 from an imageio.Image at fractional positions.
type sampler struct {
	img   *imageio.Image
	scale float32 // 1/255 or 1/65535
}

func newSampler(img *imageio.Image) sampler {
	return sampler{img: img, scale: float32(1 / fullScale(img.Depth))}
}

// fullScale is the sample value of white at the given bit depth.
func fullScale(depth int) float64 {
	if depth == 16 {
		return 65535
	}
	return 255
}

// replicate writes the bilinear RGB value at (x, y) into rgb, clamping each of the four
// neighbours into the image (BORDER_REPLICATE).
func (s sampler) replicate(x, y float64, rgb *[3]float32) {
	img := s.img
	if x >= 0 && y >= 0 && x < float64(img.W-1) && y < float64(img.H-1) {
		s.inside(x, y, rgb)
		return
	}
	x, y = clampCoord(x, img.W), clampCoord(y, img.H)
	x0, y0 := math.Floor(x), math.Floor(y)
	fx, fy := float32(x-x0), float32(y-y0)
	ix, iy := int(x0), int(y0)
	ix0, ix1 := clampInt(ix, img.W-1), clampInt(ix+1, img.W-1)
	iy0, iy1 := clampInt(iy, img.H-1), clampInt(iy+1, img.H-1)
	w00, w01 := (1-fx)*(1-fy), fx*(1-fy)
	w10, w11 := (1-fx)*fy, fx*fy

	c := img.Channels
	r0, r1 := iy0*img.W, iy1*img.W
	// The four neighbours' first samples.
	p00, p01 := (r0+ix0)*c, (r0+ix1)*c
	p10, p11 := (r1+ix0)*c, (r1+ix1)*c
	if c == 1 {
		v := w00*float32(img.At(p00)) + w01*float32(img.At(p01)) + w10*float32(img.At(p10)) + w11*float32(img.At(p11))
		v *= s.scale
		*rgb = [3]float32{v, v, v}
		return
	}
	for ch := range 3 {
		v := w00*float32(img.At(p00+ch)) + w01*float32(img.At(p01+ch)) + w10*float32(img.At(p10+ch)) + w11*float32(img.At(p11+ch))
		rgb[ch] = v * s.scale
	}
}

// inside is replicate for positions whose four neighbours all lie in the image, the common
// case, without the clamping.
func (s sampler) inside(x, y float64, rgb *[3]float32) {
	img := s.img
	ix, iy := int(x), int(y)
	fx, fy := float32(x-float64(ix)), float32(y-float64(iy))
	w00, w01 := (1-fx)*(1-fy), fx*(1-fy)
	w10, w11 := (1-fx)*fy, fx*fy
	c := img.Channels
	p := (iy*img.W + ix) * c // the top-left neighbour's first sample
	q := p + img.W*c         // the one below it
	if c == 1 {
		v := (w00*float32(img.At(p)) + w01*float32(img.At(p+1)) + w10*float32(img.At(q)) + w11*float32(img.At(q+1))) * s.scale
		*rgb = [3]float32{v, v, v}
		return
	}
	for ch := range 3 {
		v := w00*float32(img.At(p+ch)) + w01*float32(img.At(p+c+ch)) + w10*float32(img.At(q+ch)) + w11*float32(img.At(q+c+ch))
		rgb[ch] = v * s.scale
	}
}

// clampCoord limits a sample position to [−1, n], which changes no replicated value (every
// neighbour beyond the edge reads the edge) but keeps the float → int conversion defined for
// positions far outside the image; NaN becomes 0.
func clampCoord(v float64, n int) float64 {
	if v != v {
		return 0
	}
	return min(max(v, -1), float64(n))
}

// clampInt limits v to 0..hi.
func clampInt(v, hi int) int {
	return min(max(v, 0), hi)
}

// parallelRows splits rows 0..n among the machine's cores and waits for all of them. Each
// call of fn gets a disjoint band [y0, y1), so bands may write their rows without locking.
func parallelRows(n int, fn func(y0, y1 int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	// A few bands per worker even out rows that cost different amounts (a face's mask is
	// empty at the window's corners).
	bands := min(n, workers*4)
	var wg sync.WaitGroup
	next := make(chan int, bands)
	for b := range bands {
		next <- b
	}
	close(next)
	for range workers {
		wg.Go(func() {
			for b := range next {
				fn(b*n/bands, (b+1)*n/bands)
			}
		})
	}
	wg.Wait()
}
