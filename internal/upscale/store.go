package upscale

import (
	"runtime"
	"sync"
)

// Luma weights of ITU-R BT.601, which OpenCV's RGB-to-gray uses: gray images and alpha come
// back from the network as RGB and are turned into one channel with them.
const lumaR, lumaG, lumaB = 0.299, 0.587, 0.114

// rowWork is one worker's scratch space for a row of output pixels.
type rowWork struct {
	rgb   [3][]float32 // the network's clamped values along the row
	gray  []float32    // their luma, for gray images and alpha
	wide  [3][]float32 // network values summed over Lanczos rows, for a resized output
	plain []float32    // the bicubic enlargement of one source channel, for the blend
	cols  []float32    // source columns summed over bicubic rows
}

func newRowWork(n int) *rowWork {
	w := &rowWork{gray: make([]float32, n), plain: make([]float32, n)}
	for c := range w.rgb {
		w.rgb[c] = make([]float32, n)
	}
	return w
}

// store writes the output pixels of the tile's core from the output tensor into the output
// image. Rows are shared out over every core: the network is idle meanwhile.
func (j *job) store(t tile, set channelSet) {
	x0, x1 := outputSpan(t.core.Min.X, j.src.W, j.dst.W), outputSpan(t.core.Max.X, j.src.W, j.dst.W)
	y0, y1 := outputSpan(t.core.Min.Y, j.src.H, j.dst.H), outputSpan(t.core.Max.Y, j.src.H, j.dst.H)
	if x0 == x1 || y0 == y1 {
		return // no output pixel is centred in this core
	}
	parallelRows(y0, y1, func(y0, y1 int) {
		w := newRowWork(x1 - x0)
		for y := y0; y < y1; y++ {
			if j.resizeX == nil {
				j.networkRow(t, y, x0, w)
			} else {
				j.resizedRow(t, y, x0, w)
			}
			j.writeRow(y, x0, w, set)
		}
	})
}

// outputSpan is the first output index, along an axis of n source and m output samples, whose
// centre lies at or past source position c: the index dst with (dst+0.5)·n/m ≥ c, in integers.
// Cores that tile the source so give spans that tile the output, each pixel made once by the
// tile whose core holds its centre.
func outputSpan(c, n, m int) int {
	return max(0, ceilDiv(2*c*m-n, 2*n))
}

// networkRow reads output row y, columns x0 onwards, from the network at its own scale.
func (j *job) networkRow(t tile, y, x0 int, w *rowWork) {
	s := j.model.Scale
	outW := j.inW * s
	plane := outW * j.inH * s
	start := (y-t.window.Min.Y*s)*outW + x0 - t.window.Min.X*s
	data := j.out.GetData()
	for c := range w.rgb {
		src := data[c*plane+start:][:len(w.rgb[c])]
		for i, v := range src {
			w.rgb[c][i] = clamp01(v)
		}
	}
}

// resizedRow computes output row y from the network's output at its own scale: Lanczos rows
// summed first, then Lanczos columns.
func (j *job) resizedRow(t tile, y, x0 int, w *rowWork) {
	s := j.model.Scale
	outW := j.inW * s
	plane := outW * j.inH * s
	data := j.out.GetData()
	n := len(w.gray)
	first, _ := j.resizeX.at(x0)
	last, _ := j.resizeX.at(x0 + n - 1)
	lo, hi := int(first[0]), int(last[len(last)-1])
	ys, wys := j.resizeY.at(y)
	for c := range w.wide {
		w.wide[c] = resize(w.wide[c], hi-lo+1)
		clear(w.wide[c])
		for a, sy := range ys {
			if wys[a] == 0 {
				continue
			}
			row := data[c*plane+(int(sy)-t.window.Min.Y*s)*outW+lo-t.window.Min.X*s:][:hi-lo+1]
			for i, v := range row {
				w.wide[c][i] += wys[a] * clamp01(v)
			}
		}
		for i := range n {
			xs, wxs := j.resizeX.at(x0 + i)
			var sum float32
			for b, sx := range xs {
				sum += wxs[b] * w.wide[c][int(sx)-lo]
			}
			// Clamped as a resized image is: Lanczos rings past [0,1] at sharp edges.
			w.rgb[c][i] = clamp01(sum)
		}
	}
}

// writeRow blends the row with the plain enlargement when asked, rounds it, and stores it in
// the channels the pass computes.
func (j *job) writeRow(y, x0 int, w *rowWork, set channelSet) {
	dst := j.dst
	row := (y*dst.W + x0) * dst.Channels // the row's first sample
	if set == colour && dst.Channels != 1 {
		for c := range w.rgb {
			j.blendRow(y, x0, c, w.rgb[c], w)
			j.quantiseInto(row+c, dst.Channels, w.rgb[c])
		}
		return
	}
	channel := 0
	if set == alphaChannel {
		channel = 3
	}
	for i := range w.gray {
		w.gray[i] = lumaR*w.rgb[0][i] + lumaG*w.rgb[1][i] + lumaB*w.rgb[2][i]
	}
	j.blendRow(y, x0, channel, w.gray, w)
	j.quantiseInto(row+channel, dst.Channels, w.gray)
}

// blendRow mixes vals with the bicubic enlargement of source channel c:
// (1−s)·bicubic + s·network.
func (j *job) blendRow(y, x0, c int, vals []float32, w *rowWork) {
	if j.blendX == nil {
		return
	}
	src := j.plain
	first, _ := j.blendX.at(x0)
	last, _ := j.blendX.at(x0 + len(vals) - 1)
	lo, hi := int(first[0]), int(last[len(last)-1])
	w.cols = resize(w.cols, hi-lo+1)
	clear(w.cols)
	ys, wys := j.blendY.at(y)
	for a, sy := range ys {
		row := (int(sy)*src.W + lo) * src.Channels
		for i := range w.cols {
			w.cols[i] += wys[a] * float32(src.At(row+i*src.Channels+c))
		}
	}
	scale := 1 / j.maxValue
	for i := range vals {
		xs, wxs := j.blendX.at(x0 + i)
		var sum float32
		for b, sx := range xs {
			sum += wxs[b] * w.cols[int(sx)-lo]
		}
		plain := clamp01(sum * scale)
		vals[i] = (1-j.strength)*plain + j.strength*vals[i]
	}
}

// quantiseInto rounds values in [0,1] to samples of the output image, every stride-th
// sample from sample first on.
func (j *job) quantiseInto(first, stride int, vals []float32) {
	for i, v := range vals {
		j.dst.Set(first+i*stride, uint16(clamp01(v)*j.maxValue+0.5))
	}
}

func clamp01(v float32) float32 {
	return max(0, min(v, 1))
}

func resize(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

// parallelRows runs fn over [lo, hi) split into one run of rows per core.
func parallelRows(lo, hi int, fn func(y0, y1 int)) {
	workers := min(runtime.GOMAXPROCS(0), hi-lo)
	if workers <= 1 {
		fn(lo, hi)
		return
	}
	var wg sync.WaitGroup
	for k := range workers {
		y0, y1 := lo+(hi-lo)*k/workers, lo+(hi-lo)*(k+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(y0, y1)
		}()
	}
	wg.Wait()
}
