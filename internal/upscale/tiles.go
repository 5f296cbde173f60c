package upscale

import (
	"fmt"
	"image"
)

// A tile is a piece of the output the model computes in one run. The model sees the window,
// which is the core plus context on every side the image has it; only the core's result is
// kept. Every window of a job has the same size, so the runtime reuses one set of buffers.
type tile struct {
	core, window image.Rectangle
}

// grid is how many tiles an image is cut into across and down.
type grid struct {
	cols, rows int
	// fixed is the window size an export that declares one needs; a side of 0 is sized to
	// the grid.
	fixed image.Point
}

// whole is the grid of one window over the whole image.
var whole = grid{cols: 1, rows: 1}

// tileGrid is the grid whose cores are at most tileSize on a side (Real-ESRGAN's --tile);
// tileSize ≤ 0 means the whole image.
func tileGrid(w, h, tileSize int) grid {
	if tileSize <= 0 {
		return whole
	}
	return grid{cols: ceilDiv(w, tileSize), rows: ceilDiv(h, tileSize)}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// plan cuts a w×h image into the tiles of tileGrid(w, h, tileSize), each with pad pixels of
// context toward its neighbours.
func plan(w, h, tileSize, pad int) (window image.Point, tiles []tile) {
	return planGrid(w, h, tileGrid(w, h, tileSize), pad)
}

// planGrid cuts a w×h image into g.cols×g.rows tiles. Windows overlap their neighbours by at
// least 2·pad and nothing more than rounding asks, and a window at the image's edge ends at
// the edge: the pixels the model computes twice are only those of the overlaps, so the model
// runs on little more than the image itself. Each core ends halfway through an overlap,
// which leaves it pad pixels of context on every side that has a neighbour.
func planGrid(w, h int, g grid, pad int) (window image.Point, tiles []tile) {
	xw, xs := axisSpans(w, g.cols, pad, g.fixed.X)
	yw, ys := axisSpans(h, g.rows, pad, g.fixed.Y)
	for _, y := range ys {
		for _, x := range xs {
			tiles = append(tiles, tile{
				core:   image.Rect(x.core[0], y.core[0], x.core[1], y.core[1]),
				window: image.Rect(x.start, y.start, x.start+xw, y.start+yw),
			})
		}
	}
	return image.Pt(xw, yw), tiles
}

// span is one tile's extent along one axis: its window starts at start, its core covers
// [core[0], core[1]).
type span struct {
	start int
	core  [2]int
}

// axisSpans cuts [0, n) into count windows of one length that overlap by at least 2·pad, and
// returns that length and the spans. count is lowered to what n allows: windows that would
// start less than a pixel apart would leave cores empty. A fixed length (> 0) is the length
// of every window; one window longer than n runs past the edge, where fill pads it.
func axisSpans(n, count, pad, fixed int) (length int, spans []span) {
	count = max(1, min(count, n))
	if fixed > 0 {
		length = fixed
		if n <= fixed {
			count = 1
		}
	} else {
		length = windowLength(n, count, pad)
		for count > 1 && length+count-1 > n {
			count--
			length = windowLength(n, count, pad)
		}
	}
	starts := make([]int, count)
	for i := range starts {
		if count > 1 {
			starts[i] = i * (n - length) / (count - 1)
		}
	}
	spans = make([]span, count)
	lo := 0
	for i, s := range starts {
		hi := n
		if i+1 < count {
			hi = coreEnd(n, count, pad, i, s+length, starts[i+1])
		}
		spans[i] = span{start: s, core: [2]int{lo, hi}}
		lo = hi
	}
	return length, spans
}

// coreEnd is where core i ends, inside the overlap [next, end) of its window with the next
// one: the even split of [0, n) moved, if need be, so that both cores keep pad pixels of
// context. When the overlap is narrower than that, the windows cover the whole axis, which
// is all the context there is.
func coreEnd(n, count, pad, i, end, next int) int {
	split := (i + 1) * n / count
	if lo, hi := next+pad, end-pad; lo <= hi {
		return max(lo, min(split, hi))
	}
	return split
}

// windowLength is the shortest window length with which count evenly spread windows cover
// [0, n) overlapping by at least 2·pad, or n when that is shorter.
func windowLength(n, count, pad int) int {
	if count <= 1 {
		return n
	}
	length := ceilDiv(n+(count-1)*2*pad, count)
	// Starts are rounded down, so one gap can be a pixel wider than the mean; grow the
	// window until the narrowest overlap still holds 2·pad.
	for length < n && length-ceilDiv(n-length, count-1) < 2*pad {
		length++
	}
	return min(length, n)
}

// sides is the size of the plan's windows.
func (g grid) sides(w, h, pad int) (lx, ly int) {
	return sideLength(w, g.cols, pad, g.fixed.X), sideLength(h, g.rows, pad, g.fixed.Y)
}

func sideLength(n, count, pad, fixed int) int {
	if fixed > 0 {
		return fixed
	}
	return windowLength(n, count, pad)
}

// area is the number of input pixels all windows of a plan hold together: what the model
// computes, against w·h for the image itself.
func (g grid) area(w, h, pad int) int64 {
	lx, ly := g.sides(w, h, pad)
	return int64(g.cols*lx) * int64(g.rows*ly)
}

// windowPixels is the size of one window of the plan.
func (g grid) windowPixels(w, h, pad int) int64 {
	lx, ly := g.sides(w, h, pad)
	return int64(lx) * int64(ly)
}

// fixedGrid is the grid for an export that declares its window size: on a fixed side, the
// fewest windows of that length that overlap by 2·pad; on a free side, the fewest whose
// windows hold at most maxWindow pixels.
func fixedGrid(w, h, pad int, fixed image.Point, maxWindow int64) grid {
	g := grid{cols: fixedCount(w, fixed.X, pad), rows: fixedCount(h, fixed.Y, pad), fixed: fixed}
	if fixed.X == 0 {
		g.cols = freeCount(w, pad, maxWindow/int64(fixed.Y))
	}
	if fixed.Y == 0 {
		g.rows = freeCount(h, pad, maxWindow/int64(fixed.X))
	}
	return g
}

// fixedCount is how many windows of length cover [0, n) overlapping by at least 2·pad.
func fixedCount(n, length, pad int) int {
	if length <= 0 || n <= length {
		return 1
	}
	return 1 + ceilDiv(n-length, length-2*pad)
}

// freeCount is the fewest windows along a free side of n that are at most maxLength long.
func freeCount(n, pad int, maxLength int64) int {
	for count := 1; count < ceilDiv(n, MinTile); count++ {
		if int64(windowLength(n, count, pad)) <= maxLength {
			return count
		}
	}
	return ceilDiv(n, MinTile)
}

// MinTile is the smallest window side the upscaler falls back to when the runtime runs out of
// memory.
const MinTile = 32

// gridFor is the grid whose windows hold at most maxWindow pixels and which, among those, is
// the quickest to run: the fewest pixels computed in all, each costing 1 + slowdown·(window
// pixels) (large windows run slower a pixel, as their activations outgrow the caches; ties go
// to fewer tiles). The whole image is one window when it fits and no grid is quicker. When no
// window is small enough, cores of MinTile pixels are the floor.
func gridFor(w, h, pad int, maxWindow int64, slowdown float64) grid {
	best, bestCost := grid{}, -1.0
	for cols := 1; cols <= ceilDiv(w, MinTile); cols++ {
		first := fewestRows(w, h, cols, pad, maxWindow)
		if first == 0 {
			continue
		}
		for rows := first; rows <= ceilDiv(h, MinTile) && (rows == first || slowdown > 0); rows++ {
			g := grid{cols: cols, rows: rows}
			cost := float64(g.area(w, h, pad)) * (1 + slowdown*float64(g.windowPixels(w, h, pad)))
			if bestCost < 0 || cost < bestCost || (cost == bestCost && cols*rows < best.cols*best.rows) {
				best, bestCost = g, cost
			}
		}
	}
	if bestCost < 0 {
		return tileGrid(w, h, MinTile)
	}
	return best
}

// fewestRows is the fewest rows whose windows, with cols columns, hold at most maxWindow
// pixels; 0 when no number of rows does.
func fewestRows(w, h, cols, pad int, maxWindow int64) int {
	lx := int64(windowLength(w, cols, pad))
	if lx > maxWindow {
		return 0
	}
	for rows := max(1, int(int64(h)*lx/maxWindow)); rows <= h; rows++ {
		if lx*int64(windowLength(h, rows, pad)) <= maxWindow {
			return rows
		}
		if windowLength(h, rows, pad) <= 2*pad+1 {
			return 0 // more rows only add overlap
		}
	}
	return 0
}

// finer is the grid to retry with after the runtime ran out of memory: windows about half as
// wide and high. It returns g itself when the windows are already at MinTile.
func (g grid) finer(w, h, pad int) grid {
	lx, ly := g.sides(w, h, pad)
	next := g
	// A declared window size cannot shrink.
	if g.fixed.X > 0 {
		lx = 0
	}
	if g.fixed.Y > 0 {
		ly = 0
	}
	if lx > MinTile {
		next.cols = min(max(g.cols*2, 2), ceilDiv(w, MinTile))
	}
	if ly > MinTile {
		next.rows = min(max(g.rows*2, 2), ceilDiv(h, MinTile))
	}
	return next
}

func clamp(v, lo, hi int) int {
	return max(lo, min(v, hi))
}

// Cols is the number of tiles across.
func (g grid) Cols() int { return g.cols }

// Rows is the number of tiles down.
func (g grid) Rows() int { return g.rows }

// Window is the size of the plan's windows, "W×H", for reports.
func (g grid) Window(w, h, pad int) string {
	lx, ly := g.sides(w, h, pad)
	return fmt.Sprintf("%d×%d", lx, ly)
}
