package upscale

import (
	"image"
	"math"
)

// A tile is a piece of the output the model computes in one run. The model sees the window,
// which is the core plus context on every side the image has it; only the core's result is
// kept. Every window of a job has the same size, so the runtime reuses one set of buffers and
// the context at the image's edge grows inward instead of shrinking.
type tile struct {
	core, window image.Rectangle
}

// plan cuts a w×h image into tiles whose cores are at most tileSize on a side, as even as
// possible, each with pad pixels of context. tileSize ≤ 0, or a tile that covers the image,
// gives one window over the whole image.
func plan(w, h, tileSize, pad int) (window image.Point, tiles []tile) {
	if tileSize <= 0 {
		tileSize = max(w, h)
	}
	xs, ys := split(w, tileSize), split(h, tileSize)
	window = image.Pt(min(maxSpan(xs)+2*pad, w), min(maxSpan(ys)+2*pad, h))
	for j := 0; j+1 < len(ys); j++ {
		for i := 0; i+1 < len(xs); i++ {
			core := image.Rect(xs[i], ys[j], xs[i+1], ys[j+1])
			wx := clamp(core.Min.X-pad, 0, w-window.X)
			wy := clamp(core.Min.Y-pad, 0, h-window.Y)
			tiles = append(tiles, tile{core: core, window: image.Rect(wx, wy, wx+window.X, wy+window.Y)})
		}
	}
	return window, tiles
}

// split divides [0,n) into the fewest spans of at most size, of nearly equal length, and
// returns their boundaries.
func split(n, size int) []int {
	count := (n + size - 1) / size
	bounds := make([]int, count+1)
	for i := range bounds {
		bounds[i] = i * n / count
	}
	return bounds
}

func maxSpan(bounds []int) int {
	longest := 0
	for i := 0; i+1 < len(bounds); i++ {
		longest = max(longest, bounds[i+1]-bounds[i])
	}
	return longest
}

func clamp(v, lo, hi int) int {
	return max(lo, min(v, hi))
}

// MinTile is the smallest tile the upscaler falls back to when the runtime runs out of memory.
const MinTile = 32

// tileForBudget is the tile size whose window fits the memory budget, or 0 (the whole image)
// when the whole image fits.
func tileForBudget(w, h int, pad int, bytesPerPixel, budget int64) int {
	maxPixels := budget / bytesPerPixel
	if int64(w)*int64(h) <= maxPixels {
		return 0
	}
	side := int(math.Sqrt(float64(maxPixels))) - 2*pad
	side = side / 8 * 8 // multiples of 8 suit the convolution kernels' blocking
	return max(side, MinTile)
}
