package upscale

import "math"

// taps lists, for every destination index along one axis, the source indices and weights
// that make it. Tables are computed once per axis and job, not per pixel.
type taps struct {
	width  int // taps per destination index
	index  []int32
	weight []float32
}

func (t *taps) at(dst int) ([]int32, []float32) {
	lo := dst * t.width
	return t.index[lo : lo+t.width], t.weight[lo : lo+t.width]
}

// bicubicTaps resizes n source samples to m with Keys' cubic (a = −0.5, the kernel of PIL's
// BICUBIC used by the 2022 tool's strength blend). Upscaling only: four taps, edges clamped.
func bicubicTaps(n, m int) *taps {
	t := &taps{width: 4, index: make([]int32, 4*m), weight: make([]float32, 4*m)}
	ratio := float64(n) / float64(m)
	for dst := 0; dst < m; dst++ {
		centre := (float64(dst)+0.5)*ratio - 0.5
		first := int(math.Floor(centre)) - 1
		index, weight := t.at(dst)
		for k := 0; k < 4; k++ {
			src := first + k
			index[k] = int32(clamp(src, 0, n-1))
			weight[k] = float32(cubic(centre - float64(src)))
		}
	}
	return t
}

func cubic(x float64) float64 {
	const a = -0.5
	x = math.Abs(x)
	switch {
	case x < 1:
		return ((a+2)*x-(a+3))*x*x + 1
	case x < 2:
		return ((a*x-5*a)*x+8*a)*x - 4*a
	}
	return 0
}

// lanczosTaps resizes n samples to m with Lanczos a=3 the way PIL's Image.resize(LANCZOS)
// does, so that dream's sizes match what people compare them with: destination sample dst is
// centred at (dst+0.5)·n/m in a source whose sample i covers [i, i+1); when shrinking, the
// kernel is widened by n/m, which makes it an antialiasing filter, and when enlarging it keeps
// its width. Taps past the edge are dropped and the rest renormalised, so edges are not
// darkened. Every destination gets the same number of taps: the unused ones repeat the last
// source index with weight 0, so the taps stay in order for the row loops.
func lanczosTaps(n, m int) *taps {
	const a = 3
	scale := float64(n) / float64(m)
	stretch := max(scale, 1)
	support := a * stretch
	width := 2*int(math.Ceil(support)) + 1
	t := &taps{width: width, index: make([]int32, width*m), weight: make([]float32, width*m)}
	ws := make([]float64, width)
	for dst := 0; dst < m; dst++ {
		centre := (float64(dst) + 0.5) * scale
		// PIL truncates these bounds, as C's cast does, before clamping them to the image.
		lo := max(int(centre-support+0.5), 0)
		hi := min(int(centre+support+0.5), n)
		sum := 0.0
		for k := range ws {
			ws[k] = 0
			if src := lo + k; src < hi {
				ws[k] = lanczos((float64(src)-centre+0.5)/stretch, a)
				sum += ws[k]
			}
		}
		index, weight := t.at(dst)
		for k := range ws {
			index[k] = int32(min(lo+k, hi-1))
			if sum != 0 {
				weight[k] = float32(ws[k] / sum)
			}
		}
	}
	return t
}

func lanczos(x float64, a float64) float64 {
	if x == 0 {
		return 1
	}
	if math.Abs(x) >= a {
		return 0
	}
	px := math.Pi * x
	return a * math.Sin(px) * math.Sin(px/a) / (px * px)
}
