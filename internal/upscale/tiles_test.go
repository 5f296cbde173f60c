package upscale

import (
	"context"
	"fmt"
	"image"
	"math"
	"path/filepath"
	"testing"

	"dream/internal/imageio"
)

// plan must cut any image into cores that cover every pixel exactly once, with windows of one
// size (so the runtime reuses its buffers) that lie inside the image, contain their core, give
// it pad pixels of context on every side where the image has them, and overlap their
// neighbours by no more than that context and rounding ask.
func TestPlan(t *testing.T) {
	sizes := []int{1, 2, 5, 31, 32, 33, 64, 100, 257}
	tiles := []int{0, 1, 3, 8, 32, 50, 64, 1000}
	pads := []int{0, 1, 10, DefaultPad}
	for _, w := range sizes {
		for _, h := range sizes {
			for _, tileSize := range tiles {
				for _, pad := range pads {
					if err := checkPlan(w, h, tileSize, pad); err != nil {
						t.Errorf("plan(%d, %d, tile %d, pad %d): %v", w, h, tileSize, pad, err)
					}
				}
			}
		}
	}
}

func checkPlan(w, h, tileSize, pad int) error {
	window, tiles := plan(w, h, tileSize, pad)
	// At most the cores of tileSize asked for (one when tileSize ≤ 0): fewer only when
	// windows would start less than a pixel apart.
	cols, rows := 1, 1
	if tileSize > 0 {
		cols, rows = ceilDiv(w, tileSize), ceilDiv(h, tileSize)
	}
	if len(tiles) > cols*rows {
		return fmt.Errorf("%d tiles, want at most %d×%d", len(tiles), cols, rows)
	}
	cols, rows = countDistinct(tiles, func(t tile) int { return t.window.Min.X }),
		countDistinct(tiles, func(t tile) int { return t.window.Min.Y })
	if len(tiles) != cols*rows {
		return fmt.Errorf("%d tiles do not form a grid of %d×%d", len(tiles), cols, rows)
	}
	covered := make([]int, w*h)
	bounds := image.Rect(0, 0, w, h)
	for i, t := range tiles {
		c, win := t.core, t.window
		if c.Empty() || !c.In(bounds) {
			return fmt.Errorf("core %v is empty or outside the image", c)
		}
		if tileSize > 0 && ((c.Dx() > tileSize+pad+1 && window.X < w) || (c.Dy() > tileSize+pad+1 && window.Y < h)) {
			return fmt.Errorf("core %v is larger than the tile and its context", c)
		}
		if win.Size() != window {
			return fmt.Errorf("window %v is not %v like the others", win, window)
		}
		if !win.In(bounds) || !c.In(win) {
			return fmt.Errorf("window %v is outside the image or misses its core %v", win, c)
		}
		// Context: pad pixels, or all the image has on that side.
		if c.Min.X-win.Min.X < min(pad, c.Min.X) || c.Min.Y-win.Min.Y < min(pad, c.Min.Y) ||
			win.Max.X-c.Max.X < min(pad, w-c.Max.X) || win.Max.Y-c.Max.Y < min(pad, h-c.Max.Y) {
			return fmt.Errorf("window %v gives core %v less than %d pixels of context", win, c, pad)
		}
		// Overlap with the next window across and down: what the context asks, plus at most
		// a pixel of rounding per window, unless the windows span the whole image anyway.
		for _, next := range []struct {
			j    int
			ok   bool
			over func(a, b image.Rectangle) int
		}{
			{i + 1, (i+1)%cols != 0, func(a, b image.Rectangle) int { return a.Max.X - b.Min.X }},
			{i + cols, i+cols < len(tiles), func(a, b image.Rectangle) int { return a.Max.Y - b.Min.Y }},
		} {
			if !next.ok {
				continue
			}
			span := map[bool]int{true: cols, false: rows}[next.j == i+1]
			full := map[bool]int{true: w, false: h}[next.j == i+1]
			side := map[bool]int{true: window.X, false: window.Y}[next.j == i+1]
			if o := next.over(win, tiles[next.j].window); side < full && o > 2*pad+span {
				return fmt.Errorf("windows %v and %v overlap by %d pixels, want at most %d",
					win, tiles[next.j].window, o, 2*pad+span)
			}
		}
		for y := c.Min.Y; y < c.Max.Y; y++ {
			for x := c.Min.X; x < c.Max.X; x++ {
				covered[y*w+x]++
			}
		}
	}
	for i, n := range covered {
		if n != 1 {
			return fmt.Errorf("pixel (%d,%d) is in %d cores", i%w, i/w, n)
		}
	}
	return nil
}

func countDistinct(tiles []tile, key func(tile) int) int {
	seen := map[int]bool{}
	for _, t := range tiles {
		seen[key(t)] = true
	}
	return len(seen)
}

// Without a slowdown, gridFor runs the whole image when it fits; otherwise its windows fit maxWindow and no
// other grid whose windows fit computes fewer pixels. Below MinTile² it falls to MinTile.
func TestGridForWindow(t *testing.T) {
	cases := []struct {
		w, h      int
		maxWindow int64
	}{
		{128, 128, 128 * 128},
		{128, 128, 128*128 - 1},
		{1920, 1350, 280_000},
		{1920, 1350, 600 * 600},
		{1350, 1920, 280_000},
		{1024, 1024, 300_000},
		{4000, 3000, 3_000_000},
		{600, 550, 100},      // too small for anything: the floor
		{20000, 1, 500_000},  // a line
		{257, 33, 50 * 50},   // rows cannot shrink below the image
		{2400, 1600, 40_000}, // many tiles
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%dx%d in %d px", c.w, c.h, c.maxWindow), func(t *testing.T) {
			g := gridFor(c.w, c.h, DefaultPad, c.maxWindow, 0)
			ratio := float64(g.area(c.w, c.h, DefaultPad)) / float64(c.w*c.h)
			t.Logf("grid %d×%d, windows of %d px, %.3f× the image", g.cols, g.rows, g.windowPixels(c.w, c.h, DefaultPad), ratio)
			if int64(c.w)*int64(c.h) <= c.maxWindow {
				if g != whole {
					t.Errorf("the whole image fits, got %v", g)
				}
				return
			}
			if g.windowPixels(c.w, c.h, DefaultPad) > c.maxWindow {
				if g != tileGrid(c.w, c.h, MinTile) {
					t.Errorf("windows of %d px exceed %d", g.windowPixels(c.w, c.h, DefaultPad), c.maxWindow)
				}
				return
			}
			for cols := 1; cols <= min(c.w, 200); cols++ {
				for rows := 1; rows <= min(c.h, 200); rows++ {
					other := grid{cols: cols, rows: rows}
					if other.windowPixels(c.w, c.h, DefaultPad) <= c.maxWindow &&
						other.area(c.w, c.h, DefaultPad) < g.area(c.w, c.h, DefaultPad) {
						t.Fatalf("grid %v computes %d px, fewer than %v's %d", other,
							other.area(c.w, c.h, DefaultPad), g, g.area(c.w, c.h, DefaultPad))
					}
				}
			}
		})
	}
}

// After an allocation failure the windows shrink to about half on each side, down to MinTile.
func TestFinerGrid(t *testing.T) {
	w, h := 1000, 700
	g := whole
	for range 20 {
		next := g.finer(w, h, DefaultPad)
		if next == g {
			break
		}
		if next.windowPixels(w, h, DefaultPad) >= g.windowPixels(w, h, DefaultPad) {
			t.Fatalf("%v → %v: windows did not shrink", g, next)
		}
		g = next
	}
	lx, ly := windowLength(w, g.cols, DefaultPad), windowLength(h, g.rows, DefaultPad)
	if lx > 2*MinTile+2*DefaultPad || ly > 2*MinTile+2*DefaultPad {
		t.Errorf("stopped at %v with %d×%d windows, want them near MinTile", g, lx, ly)
	}
}

// With a model that looks at one pixel only, context changes nothing, so a tiled result must
// equal the whole one exactly: any pixel pasted from the wrong place of the window, or left
// out, shows. Tile sizes include ones that do not divide the image and ones larger than it;
// the ×2-from-×4 path needs 2 pixels of context for its Lanczos taps (±1.5 input pixels), which
// DefaultPad gives.
func TestTiledEqualsWholeOnTestModels(t *testing.T) {
	images := []struct {
		name string
		img  *imageio.Image
	}{
		{"RGB 37×23", noiseImage(37, 23, 3, 8, 21)},
		{"RGBA 30×17", noiseImage(30, 17, 4, 8, 22)},
		{"gray 16-bit 19×26", noiseImage(19, 26, 1, 16, 23)},
		{"RGB 5×3, smaller than every tile", noiseImage(5, 3, 3, 8, 24)},
	}
	runs := []struct {
		model  testModel
		factor int
		pads   []int
	}{
		{affine4, 4, []int{0, 3, DefaultPad}},
		{affine2, 2, []int{0, 3, DefaultPad}},
		{nearest4, 2, []int{2, DefaultPad}},
	}
	tileSizes := []int{3, 7, 16, 25, 64}
	for _, r := range runs {
		m := r.model.load(t)
		for _, im := range images {
			ctx := context.Background()
			opts := Options{Factor: float64(r.factor), Strength: 0.6} // the blend, too, must not see tiles
			whole, err := m.run(ctx, im.img, opts, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, tileSize := range tileSizes {
				for _, pad := range r.pads {
					t.Run(fmt.Sprintf("%s to x%d/%s/tile %d pad %d", r.model.name, r.factor, im.name, tileSize, pad), func(t *testing.T) {
						_, tiles := plan(im.img.W, im.img.H, tileSize, pad)
						var reported []int
						opts := opts
						opts.Progress = func(done, total int) {
							if total != len(tiles)*ProgressPerTile {
								t.Errorf("progress total %d, want %d tiles of %d", total, len(tiles), ProgressPerTile)
							}
							if done%ProgressPerTile == 0 {
								reported = append(reported, done/ProgressPerTile)
							}
						}
						tiled, err := m.run(ctx, im.img, opts, tileSize, pad)
						if err != nil {
							t.Fatal(err)
						}
						if err := sameImage(tiled, whole); err != nil {
							t.Errorf("tiled result differs from whole: %v", err)
						}
						// 0 first, before any tile runs, so a bar shows at once; then each tile's
						// end (and, for slow tiles, estimates between them).
						for i, done := range reported {
							if done != i {
								t.Fatalf("progress reported %v, want 0, 1, … %d", reported, len(tiles))
							}
						}
						if len(reported) != len(tiles)+1 {
							t.Errorf("progress reported %d times, want %d", len(reported), len(tiles)+1)
						}
					})
				}
			}
		}
	}
}

// Upscale itself chooses the tile: a small image runs whole under the default budget, and
// Options.Tile cuts it into the tiles plan gives.
func TestUpscaleChoosesTiles(t *testing.T) {
	m := nearest4.load(t)
	src := noiseImage(150, 90, 3, 8, 31)
	cases := []struct {
		name      string
		opts      Options
		wantTiles int
	}{
		{"default budget", Options{Factor: 4, Strength: 1}, 1},
		{"tile 64", Options{Factor: 4, Strength: 1, Tile: 64}, 3 * 2},
		{"tile 40", Options{Factor: 4, Strength: 1, Tile: 40}, 4 * 3},
		// 1 MB pays for windows of 655 pixels, which cannot give a core its context of DefaultPad:
		// the floor is cores of MinTile.
		{"budget of 1 MB", Options{Factor: 4, Strength: 1, Budget: 1 << 20}, 5 * 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			total := -1
			c.opts.Progress = func(_, n int) { total = n / ProgressPerTile }
			out, err := m.Upscale(context.Background(), src, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if total != c.wantTiles {
				t.Errorf("ran %d tiles, want %d", total, c.wantTiles)
			}
			compareToReference(t, out, referenceUpscale(src, nearest4, 4), 8, exact)
		})
	}
}

// Options that cannot be honoured are refused before any work.
func TestUpscaleRejectsOptions(t *testing.T) {
	x4, x2 := nearest4.load(t), unshuffle2.load(t)
	src := noiseImage(4, 4, 3, 8, 41)
	cases := []struct {
		name  string
		model *Model
		opts  Options
	}{
		{"factor 5, beyond one pass", x4, Options{Factor: 5, Strength: 1}},
		{"factor 0", x4, Options{Strength: 1}},
		{"x4 from a x2 model", x2, Options{Factor: 4, Strength: 1}},
		{"strength above 1", x4, Options{Factor: 4, Strength: 1.5}},
		{"negative strength", x4, Options{Factor: 4, Strength: -0.1}},
		{"NaN strength", x4, Options{Factor: 4, Strength: math.NaN()}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := c.model.Upscale(context.Background(), src, c.opts)
			if err == nil {
				t.Fatalf("got a %dx%d result, want an error", out.W, out.H)
			}
			t.Log(err)
		})
	}
}

// With a slowdown, gridFor's plan is the quickest one whose windows fit, by the same cost it
// claims to minimise, and a large image that fits whole may still be cut when its window is
// slow enough.
func TestGridForSlowdown(t *testing.T) {
	cases := []struct {
		w, h      int
		maxWindow int64
		slowdown  float64
	}{
		{1920, 1350, 1_000_000, 2e-7},
		{1920, 1350, 4_000_000, 2e-7}, // fits whole, but a window of 2.6 Mpx is slow
		{1024, 1024, 300_000, 1e-6},
		{600, 400, 1_000_000, 1e-8}, // small: whole
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%dx%d in %d px at %g", c.w, c.h, c.maxWindow, c.slowdown), func(t *testing.T) {
			g := gridFor(c.w, c.h, DefaultPad, c.maxWindow, c.slowdown)
			cost := func(g grid) float64 {
				return float64(g.area(c.w, c.h, DefaultPad)) * (1 + c.slowdown*float64(g.windowPixels(c.w, c.h, DefaultPad)))
			}
			t.Logf("grid %d×%d, windows of %d px, cost %.0f", g.cols, g.rows, g.windowPixels(c.w, c.h, DefaultPad), cost(g))
			if g.windowPixels(c.w, c.h, DefaultPad) > c.maxWindow {
				t.Fatalf("windows exceed %d px", c.maxWindow)
			}
			for cols := 1; cols <= 60; cols++ {
				for rows := 1; rows <= 60; rows++ {
					other := grid{cols: cols, rows: rows}
					if other.windowPixels(c.w, c.h, DefaultPad) <= c.maxWindow && cost(other) < cost(g) {
						t.Fatalf("grid %v costs %.0f, less than %.0f", other, cost(other), cost(g))
					}
				}
			}
		})
	}
}

// Tiles, known before the model loads, is the count Upscale then reports.
func TestTilesBeforeLoading(t *testing.T) {
	src := noiseImage(150, 90, 3, 8, 32)
	for _, opts := range []Options{
		{Factor: 4, Strength: 1},
		{Factor: 4, Strength: 1, Tile: 40},
		{Factor: 4, Strength: 1, Budget: 1 << 20},
	} {
		m := sharedModel(t, "realesr-general-x4v3.onnx")
		want := Tiles(m.Session.Path, src.W, src.H, opts)
		got := -1
		opts.Progress = func(_, total int) { got = total / ProgressPerTile }
		if _, err := m.Upscale(context.Background(), src, opts); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("tile %d, budget %d: Tiles said %d, Upscale ran %d", opts.Tile, opts.Budget, want, got)
		}
	}
}

// WorkingSet is what the model's window costs for an image: a small image's whole window,
// far below the budget, and for a large one the largest window the budget allows.
func TestWorkingSet(t *testing.T) {
	for _, name := range []string{"realesr-general-x4v3.onnx", "realesrgan-x4plus.onnx"} {
		path := filepath.Join(shared, "models", name)
		m := planned(path)
		const budget = 512 << 20
		opts := Options{Factor: 4, Strength: 1, Budget: budget}
		small := WorkingSet(path, 64, 48, opts)
		if g := m.Grid(64, 48, opts); small != g.windowPixels(64, 48, m.Pad)*m.BytesPerPixel || small >= budget/8 {
			t.Errorf("%s: a 64×48 image's working set is %d bytes, want its one window's, far below %d", name, small, budget)
		}
		if large := WorkingSet(path, 4000, 3000, opts); large > budget || large < budget/4 {
			t.Errorf("%s: a 4000×3000 image's working set is %d bytes, want most of the budget %d and no more", name, large, budget)
		}
	}
}
