package face

import (
	"image"
	"math"
)

// pasteMask is facexlib's square-parse mask for one face, computed only over a window of the
// output image around the pasted square. Outside the window both masks are zero.
type pasteMask struct {
	rect image.Rectangle
	edge []float32 // inv_mask_erosion: warped ones, eroded by an int(2u) square
	soft []float32 // inv_soft_mask: edge eroded by 2·w_edge, Gaussian-blurred
}

// buildMask computes the masks for an n×n crop placed by toOut (crop → output coordinates)
// into a w×h output u times larger than the detection image, as facexlib does over the whole
// image:
//
//	inv_mask         = warpAffine(ones(n, n), toOut)              bilinear, 0 outside
//	inv_mask_erosion = erode(inv_mask, ones(int(2u), int(2u)))
//	w_edge           = int(sqrt(sum(inv_mask_erosion))) // 20
//	inv_mask_center  = erode(inv_mask_erosion, ones(2·w_edge, 2·w_edge))
//	inv_soft_mask    = GaussianBlur(inv_mask_center, 2·w_edge+1, σ from OpenCV's rule)
//
// The window is the warped square's bounding box plus a margin wider than the blur, so every
// value outside it is zero in the full-image computation too, and the result is the same
// (see padFor). The cost then grows with the face, not with the image.
func buildMask(toOut Affine, u float64, n, w, h int) *pasteMask {
	rect := maskWindow(toOut, n, w, h)
	pm := &pasteMask{rect: rect}
	if rect.Empty() {
		return pm
	}
	ww, wh := rect.Dx(), rect.Dy()
	pm.edge = warpOnes(toOut.Invert(), n, rect)
	k := int(2 * u)
	erodeRect(pm.edge, ww, wh, k)

	var area float64
	for _, v := range pm.edge {
		area += float64(v)
	}
	wEdge := int(math.Sqrt(area)) / 20

	center := append([]float32(nil), pm.edge...)
	k = 2 * wEdge
	if wEdge == 0 {
		// facexlib then passes np.ones((0, 0)) (faces under about 20 px), and OpenCV
		// replaces an empty kernel with its default 3×3 square.
		k = 3
	}
	erodeRect(center, ww, wh, k)
	pm.soft = gaussianBlur(center, ww, wh, 2*wEdge+1)
	return pm
}

// maskWindow is the part of the w×h output the mask can reach: the bounding box of the
// crop's footprint, (−1, n)² in crop coordinates (where a bilinear sample still touches the
// crop), mapped by toOut, plus padFor's margin, clipped to the image.
func maskWindow(toOut Affine, n, w, h int) image.Rectangle {
	lo, hi := -1.0, float64(n)
	minX, minY := math.Inf(1), math.Inf(1)
	maxX, maxY := math.Inf(-1), math.Inf(-1)
	for _, c := range [4]Point{{lo, lo}, {hi, lo}, {lo, hi}, {hi, hi}} {
		p := toOut.Apply(c)
		minX, maxX = min(minX, p.X), max(maxX, p.X)
		minY, maxY = min(minY, p.Y), max(maxY, p.Y)
	}
	if !(minX <= maxX && minY <= maxY) {
		return image.Rectangle{} // NaN in the transform
	}
	// Clamp before converting to int, so a face placed absurdly far away or scaled absurdly
	// large cannot overflow; the window is cut to the image anyway.
	limit := float64(2*(w+h) + n)
	c := func(v float64) float64 { return min(max(v, -limit), limit) }
	bound := image.Rect(0, 0, w, h)
	box := image.Rect(int(math.Floor(c(minX))), int(math.Floor(c(minY))),
		int(math.Ceil(c(maxX)))+1, int(math.Ceil(c(maxY)))+1)
	pad := padFor(box.Intersect(bound))
	return box.Inset(-pad).Intersect(bound)
}

// padFor is the margin around the footprint box that makes the windowed computation equal
// the full-image one, given the part of the box inside the image. The mask is zero outside
// the box, and the erosions only shrink it; the blur spreads it by its radius w_edge, and
// reflecting at a window edge that is not the image's edge must reflect zeros, so the margin
// must exceed w_edge + 1. w_edge is at most sqrt(area)/20, since the eroded mask is at most 1
// and non-zero only on the box's pixels inside the image.
func padFor(inImage image.Rectangle) int {
	return int(math.Sqrt(float64(inImage.Dx())*float64(inImage.Dy())))/20 + 2
}

// warpOnes is cv2.warpAffine of an n×n image of ones into rect with bilinear sampling and
// zero outside. The ones image is separable, so the bilinear value is the product of how
// much of each axis' two-pixel footprint falls on the crop.
func warpOnes(fromOut Affine, n int, rect image.Rectangle) []float32 {
	ww := rect.Dx()
	out := make([]float32, ww*rect.Dy())
	parallelRows(rect.Dy(), func(y0, y1 int) {
		for wy := y0; wy < y1; wy++ {
			y := float64(rect.Min.Y + wy)
			for wx := range ww {
				p := fromOut.Apply(Point{float64(rect.Min.X + wx), y})
				out[wy*ww+wx] = float32(coverage(p.X, n) * coverage(p.Y, n))
			}
		}
	})
	return out
}

// coverage is the bilinear weight that a sample at s puts on pixels 0..n−1 of one axis.
func coverage(s float64, n int) float64 {
	switch last := float64(n - 1); {
	case s <= -1 || s >= last+1:
		return 0
	case s < 0:
		return s + 1
	case s > last:
		return last + 1 - s
	}
	return 1
}

// erodeRect is cv2.erode with a k×k square of ones at the default anchor (k/2, k/2), so the
// window covers offsets −k/2 … k−1−k/2 on each axis. Pixels outside the buffer do not take
// part (OpenCV's default border for erosion is +∞). A square erodes separably: rows, then
// columns.
func erodeRect(buf []float32, w, h, k int) {
	if k <= 1 {
		return
	}
	minFilterRows(buf, w, h, k)
	t := transpose(buf, w, h)
	minFilterRows(t, h, w, k)
	transposeInto(buf, t, h, w)
}

// minFilterRows replaces each row of buf with its running minimum over k samples (anchor
// k/2). A sample whose window lies in one run of equal values (the mask's interior of 1s, its
// margins of 0s) keeps its value; the rest, the few samples near the mask's rim, take van
// Herk / Gil–Werman block minima, so the cost grows neither with k nor with the window.
func minFilterRows(buf []float32, w, h, k int) {
	a := k / 2
	parallelRows(h, func(y0, y1 int) {
		runEnd := make([]int32, w)
		orig := make([]float32, w)
		ext := make([]float32, w+k-1)
		g := make([]float32, w+k-1)
		hh := make([]float32, w+k-1)
		for y := y0; y < y1; y++ {
			row := buf[y*w : (y+1)*w]
			markRuns(row, runEnd)
			if runEnd[0] == int32(w-1) {
				continue // a constant row stays as it is
			}
			copy(orig, row) // row is overwritten while later windows still read it
			for x := 0; x < w; {
				if windowInRun(runEnd, x-a, x-a+k-1) {
					x++ // the window's minimum is row[x] itself
					continue
				}
				e := x + 1
				for e < w && !windowInRun(runEnd, e-a, e-a+k-1) {
					e++
				}
				// Samples x … e−1 need their minima; their windows span x−a … e−1−a+k−1.
				n := e - x + k - 1
				fillPadded(ext[:n], orig, x-a)
				minimaOver(ext[:n], row[x:e], g, hh, k)
				x = e
			}
		}
	})
}

// windowInRun reports whether the samples lo … hi, clipped to the row, are all in one run.
func windowInRun(runEnd []int32, lo, hi int) bool {
	lo, hi = max(lo, 0), min(hi, len(runEnd)-1)
	return int(runEnd[lo]) >= hi
}

// fillPadded copies row[from : from+len(dst)] into dst with +∞ where the range leaves the
// row: OpenCV erodes as if the image were surrounded by +∞, so the border never erodes.
func fillPadded(dst, row []float32, from int) {
	inf := float32(math.Inf(1))
	for i := range dst {
		if j := from + i; j >= 0 && j < len(row) {
			dst[i] = row[j]
		} else {
			dst[i] = inf
		}
	}
}

// markRuns sets runEnd[i] to the last index of the run of equal values that contains i.
func markRuns(v []float32, runEnd []int32) {
	n := len(v)
	runEnd[n-1] = int32(n - 1)
	for i := n - 2; i >= 0; i-- {
		runEnd[i] = int32(i)
		if v[i] == v[i+1] {
			runEnd[i] = runEnd[i+1]
		}
	}
}

// minimaOver writes into out[i] the minimum of ext[i : i+k] for every i, len(ext) being
// len(out)+k−1, using g and h (at least len(ext) long) as scratch.
func minimaOver(ext, out, g, h []float32, k int) {
	g, h = g[:len(ext)], h[:len(ext)]
	blockMinima(ext, g, h, k)
	for i := range out {
		out[i] = min(h[i], g[i+k-1])
	}
}

// blockMinima fills g with prefix minima and h with suffix minima inside consecutive blocks
// of k samples; the minimum over any k-window [i, i+k−1] is then min(h[i], g[i+k−1]).
func blockMinima(ext, g, h []float32, k int) {
	n := len(ext)
	for b := 0; b < n; b += k {
		e := min(b+k, n)
		g[b] = ext[b]
		for t := b + 1; t < e; t++ {
			g[t] = min(g[t-1], ext[t])
		}
		h[e-1] = ext[e-1]
		for t := e - 2; t >= b; t-- {
			h[t] = min(h[t+1], ext[t])
		}
	}
}

// gaussianBlur is cv2.GaussianBlur(src, (ksize, ksize), 0) on a float32 image: a separable
// kernel from gaussianKernel, rows first, border BORDER_REFLECT_101.
func gaussianBlur(src []float32, w, h, ksize int) []float32 {
	if ksize <= 1 {
		return src
	}
	kern := gaussianKernel(ksize)
	tmp := make([]float32, len(src))
	convolveRows(src, tmp, w, h, kern)
	t := transpose(tmp, w, h)
	convolveRows(t, tmp[:len(t)], h, w, kern)
	return transposeInto(src, tmp, h, w)
}

// gaussianKernel is cv2.getGaussianKernel(n, 0) in float32: for n ≤ 7 OpenCV's fixed
// binomial-like tables, otherwise exp(−x²/2σ²) with σ = 0.3·((n−1)/2 − 1) + 0.8, normalised
// to sum 1. (SPEC §2.2 step 4 writes σ = 0.3·(w_edge−1)+0.8, the same rule for n = 2·w_edge+1,
// but does not mention the tables, which replace it for w_edge ≤ 3.)
func gaussianKernel(n int) []float32 {
	small := [][]float32{
		{1},
		{0.25, 0.5, 0.25},
		{0.0625, 0.25, 0.375, 0.25, 0.0625},
		{0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125},
	}
	if n%2 == 1 && n <= 7 {
		return append([]float32(nil), small[n/2]...)
	}
	sigma := 0.3*(float64(n-1)*0.5-1) + 0.8
	k := make([]float32, n)
	var sum float64
	for i := range k {
		x := float64(i) - float64(n-1)*0.5
		k[i] = float32(math.Exp(-x * x / (2 * sigma * sigma)))
		sum += float64(k[i])
	}
	for i := range k {
		k[i] = float32(float64(k[i]) / sum)
	}
	return k
}

// convolveRows filters each row of src into dst with the odd-length kernel kern centred on
// each sample, reflecting at the row ends without repeating the edge sample (REFLECT_101).
//
// The eroded mask is mostly long runs of exact 0s and 1s with a thin fractional rim, so two
// shortcuts carry most of the work: a row is only filtered between its first and last
// non-zero sample widened by the radius, and a sample whose whole window lies in one run of
// equal values gets that value times the kernel's sum (summed in the same order as
// convolveAt, so a run of 1s gives bit for bit what the full sum would).
func convolveRows(src, dst []float32, w, h int, kern []float32) {
	r := len(kern) / 2
	var ksum float32
	for _, kv := range kern {
		ksum += kv
	}
	parallelRows(h, func(y0, y1 int) {
		runEnd := make([]int32, w)
		for y := y0; y < y1; y++ {
			in, out := src[y*w:(y+1)*w], dst[y*w:(y+1)*w]
			clear(out)
			lo, hi := nonZeroSpan(in)
			if lo > hi {
				continue
			}
			from, to := max(lo-r, 0), min(hi+r, w-1)
			markRuns(in[from:to+1], runEnd[from:to+1])
			for x := from; x <= to; x++ {
				// runEnd is relative to from.
				if x-r >= from && x+r <= to && int(runEnd[x-r])+from >= x+r {
					out[x] = in[x] * ksum
					continue
				}
				out[x] = convolveAt(in, x, kern, r)
			}
		}
	})
}

// convolveAt is the kernel applied at in[x], reflecting indices that fall off either end.
func convolveAt(in []float32, x int, kern []float32, r int) float32 {
	var acc float32
	if x >= r && x+r < len(in) {
		win := in[x-r : x+r+1]
		for j, kv := range kern {
			acc += kv * win[j]
		}
		return acc
	}
	for j, kv := range kern {
		acc += kv * in[reflect101(x+j-r, len(in))]
	}
	return acc
}

// nonZeroSpan returns the first and last index of a non-zero value (lo > hi when none).
func nonZeroSpan(v []float32) (lo, hi int) {
	lo, hi = len(v), -1
	for i, x := range v {
		if x != 0 {
			lo = i
			break
		}
	}
	for i := len(v) - 1; i >= lo; i-- {
		if v[i] != 0 {
			hi = i
			break
		}
	}
	return lo, hi
}

// reflect101 maps an index outside 0..n−1 back inside by mirroring about the end samples
// (… 2 1 | 0 1 2 … n−2 n−1 | n−2 …), OpenCV's borderInterpolate for BORDER_REFLECT_101.
func reflect101(i, n int) int {
	if n == 1 {
		return 0
	}
	for i < 0 || i >= n {
		if i < 0 {
			i = -i
		} else {
			i = 2*(n-1) - i
		}
	}
	return i
}

// transpose returns the transpose of a w-wide, h-tall buffer: an h-wide, w-tall one.
func transpose(src []float32, w, h int) []float32 {
	return transposeInto(make([]float32, len(src)), src, w, h)
}

// transposeInto writes the transpose of the w-wide, h-tall src into dst and returns dst.
// It walks 16×16 tiles so both sides stay in cache.
func transposeInto(dst, src []float32, w, h int) []float32 {
	const tile = 16
	for by := 0; by < h; by += tile {
		ey := min(by+tile, h)
		for bx := 0; bx < w; bx += tile {
			ex := min(bx+tile, w)
			for y := by; y < ey; y++ {
				for i, v := range src[y*w+bx : y*w+ex] {
					dst[(bx+i)*h+y] = v
				}
			}
		}
	}
	return dst
}
