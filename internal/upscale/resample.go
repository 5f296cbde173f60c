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

// lanczosHalfTaps shrinks n samples to n/2 with Lanczos a=3 widened by the factor 2 (an
// antialiasing filter, as PIL's LANCZOS does). Taps outside the image are dropped and the
// rest renormalised, so edges are not darkened.
func lanczosHalfTaps(n int) *taps {
	const a, factor = 3, 2
	m := n / factor
	width := 2*a*factor + 1
	t := &taps{width: width, index: make([]int32, width*m), weight: make([]float32, width*m)}
	for dst := 0; dst < m; dst++ {
		centre := (float64(dst)+0.5)*factor - 0.5
		index, weight := t.at(dst)
		first := int(math.Ceil(centre - a*factor))
		sum := 0.0
		for k := 0; k < width; k++ {
			src := first + k
			w := 0.0
			if src >= 0 && src < n {
				w = lanczos((float64(src)-centre)/factor, a)
			}
			index[k] = int32(clamp(src, 0, n-1))
			weight[k] = float32(w)
			sum += w
		}
		for k := range weight {
			weight[k] = float32(float64(weight[k]) / sum)
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
