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
	if det := toOut[0]*toOut[4] - toOut[1]*toOut[3]; det == 0 || math.IsNaN(det) || math.IsInf(det, 0) {
		return image.Rectangle{} // a collapsed or broken alignment covers nothing
	}
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

// The separable filters below run along lines: the rows of a w×h buffer (base y·w, step 1)
// or its columns (base x, step w). The masks are long runs of equal values (1s inside, 0s
// outside) with a thin rim, so on a line only the samples whose windows straddle a change of
// value can differ from what a constant window gives. Those samples are found from the line's
// change points and computed one by one; everything else costs one pass.

// erodeRect is cv2.erode with a k×k square of ones at the default anchor (k/2, k/2), so the
// window covers offsets −k/2 … k−1−k/2 on each axis. Pixels outside the buffer do not take
// part (OpenCV's default border for erosion is +∞). A square erodes separably: rows, then
// columns.
func erodeRect(buf []float32, w, h, k int) {
	if k <= 1 {
		return
	}
	parallelRows(h, func(y0, y1 int) {
		sc := newMinScratch(w, k)
		var changes []int
		for y := y0; y < y1; y++ {
			changes = changePoints(buf[y*w:(y+1)*w], changes[:0])
			sc.filter(buf, y*w, 1, w, k, changes)
		}
	})
	parallelRows(w, func(x0, x1 int) {
		cols := columnChanges(buf, w, h, x0, x1)
		sc := newMinScratch(h, k)
		for x := x0; x < x1; x++ {
			sc.filter(buf, x, w, h, k, cols[x-x0])
		}
	})
}

// minScratch holds one worker's buffers for minimum filters along lines of up to n samples.
type minScratch struct {
	ext, g, h []float32
	res       []float32
	spans     [][2]int
}

func newMinScratch(n, k int) *minScratch {
	return &minScratch{
		ext: make([]float32, n+k-1), g: make([]float32, n+k-1), h: make([]float32, n+k-1),
		res: make([]float32, 0, n),
	}
}

// filter replaces each sample of the n-sample line at buf[base + i·step] with the minimum of
// its k-window, given the line's change points. A window within one run has the sample's own
// value, so only straddling samples are computed, with van Herk / Gil–Werman block minima
// (cost independent of k); results are written back at the end, because later windows still
// read the samples earlier ones replace.
func (sc *minScratch) filter(buf []float32, base, step, n, k int, changes []int) {
	if len(changes) == 0 {
		return
	}
	a := k / 2
	sc.res, sc.spans = sc.res[:0], sc.spans[:0]
	inf := float32(math.Inf(1))
	// The windows of i ∈ [c−(k−1−a), c−1+a] hold both sample c−1 and sample c.
	forStraddlers(changes, k-1-a, a, n, func(s, e int) {
		ext := sc.ext[:e-s+k]
		for i := range ext {
			if j := s - a + i; j >= 0 && j < n {
				ext[i] = buf[base+j*step]
			} else {
				ext[i] = inf
			}
		}
		from := len(sc.res)
		sc.res = sc.res[:from+e-s+1]
		minimaOver(ext, sc.res[from:], sc.g, sc.h, k)
		sc.spans = append(sc.spans, [2]int{s, e})
	})
	i := 0
	for _, sp := range sc.spans {
		for j := sp[0]; j <= sp[1]; j++ {
			buf[base+j*step] = sc.res[i]
			i++
		}
	}
}

// changePoints appends to dst every index i ≥ 1 where v[i] differs from v[i−1].
func changePoints(v []float32, dst []int) []int {
	for i := 1; i < len(v); i++ {
		if v[i] != v[i-1] {
			dst = append(dst, i)
		}
	}
	return dst
}

// columnChanges returns the change points of columns x0 … x1−1 of the w×h buffer, found in
// one pass over the rows so memory is read in order.
func columnChanges(buf []float32, w, h, x0, x1 int) [][]int {
	const room = 8 // change points most columns have; more grow their slice
	cols := make([][]int, x1-x0)
	backing := make([]int, room*len(cols))
	for j := range cols {
		cols[j] = backing[j*room : j*room : (j+1)*room]
	}
	for y := 1; y < h; y++ {
		prev, cur := buf[(y-1)*w+x0:(y-1)*w+x1], buf[y*w+x0:y*w+x1]
		for j, v := range cur {
			if v != prev[j] {
				cols[j] = append(cols[j], y)
			}
		}
	}
	return cols
}

// forStraddlers calls fn(s, e) for the merged, sorted ranges [c−before, c−1+after] ∩ [0, n−1]
// over the ascending change points c: the samples whose windows contain a change.
func forStraddlers(changes []int, before, after, n int, fn func(s, e int)) {
	s, e := -1, -2
	for _, c := range changes {
		lo, hi := max(c-before, 0), min(c-1+after, n-1)
		if lo > e+1 {
			if s >= 0 {
				fn(s, e)
			}
			s = lo
		}
		e = max(e, hi)
	}
	if s >= 0 && e >= s {
		fn(s, e)
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
// kernel from gaussianKernel, rows then columns, border BORDER_REFLECT_101. The result
// replaces src, which is returned.
func gaussianBlur(src []float32, w, h, ksize int) []float32 {
	if ksize <= 1 {
		return src
	}
	kern := gaussianKernel(ksize)
	r := ksize / 2
	// A window of equal values v gives v times the kernel's sum, added in the order
	// convolveLine adds, so a run of 1s gives bit for bit what the full sum would.
	var ksum float32
	for _, kv := range kern {
		ksum += kv
	}
	tmp := make([]float32, len(src))
	parallelRows(h, func(y0, y1 int) {
		seg := make([]float32, w+2*r)
		var changes []int
		for y := y0; y < y1; y++ {
			in, out := src[y*w:(y+1)*w], tmp[y*w:(y+1)*w]
			for x, v := range in {
				out[x] = v * ksum
			}
			changes = changePoints(in, changes[:0])
			convolveLine(tmp, src, y*w, 1, w, kern, changes, seg)
		}
	})
	parallelRows(w, func(x0, x1 int) {
		for y := range h {
			for i, v := range tmp[y*w+x0 : y*w+x1] {
				src[y*w+x0+i] = v * ksum
			}
		}
		cols := columnChanges(tmp, w, h, x0, x1)
		seg := make([]float32, h+2*r)
		for x := x0; x < x1; x++ {
			convolveLine(src, tmp, x, w, h, kern, cols[x-x0], seg)
		}
	})
	return src
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

// convolveLine writes into dst the convolution of the n-sample line at src[base + i·step]
// with kern, for the samples whose windows straddle one of the line's change points (the
// others already hold their constant-window value). Indices off the line reflect without
// repeating the end sample (REFLECT_101); that keeps constant windows constant, since the
// reflected part repeats samples from the window's own half. seg is scratch of n+len(kern)−1.
func convolveLine(dst, src []float32, base, step, n int, kern []float32, changes []int, seg []float32) {
	r := len(kern) / 2
	forStraddlers(changes, r, r, n, func(s, e int) {
		sg := seg[:e-s+1+2*r]
		for i := range sg {
			sg[i] = src[base+reflect101(s-r+i, n)*step]
		}
		x := s
		// Four outputs at a time: four independent sums keep the FPU busy instead of waiting
		// on one chain of additions. Each sum still adds in kernel order.
		for ; x+3 <= e; x += 4 {
			win := sg[x-s : x-s+2*r+4]
			var a0, a1, a2, a3 float32
			for j, kv := range kern {
				a0 += kv * win[j]
				a1 += kv * win[j+1]
				a2 += kv * win[j+2]
				a3 += kv * win[j+3]
			}
			dst[base+x*step] = a0
			dst[base+(x+1)*step] = a1
			dst[base+(x+2)*step] = a2
			dst[base+(x+3)*step] = a3
		}
		for ; x <= e; x++ {
			win := sg[x-s : x-s+2*r+1]
			var acc float32
			for j, kv := range kern {
				acc += kv * win[j]
			}
			dst[base+x*step] = acc
		}
	})
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
