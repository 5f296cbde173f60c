package upscale

import (
	"context"
	"fmt"
	"image"
	"math"
	"testing"

	"dream/internal/imageio"
)

// plan must cut any image into cores that cover every pixel exactly once, no larger than the
// tile and as even as possible, with windows of one size (so the runtime reuses its buffers)
// that lie inside the image, contain their core, and give it pad pixels of context on every
// side where the image has them.
func TestPlan(t *testing.T) {
	sizes := []int{1, 2, 5, 31, 32, 33, 64, 100, 257}
	tiles := []int{0, 1, 3, 8, 32, 50, 64, 1000}
	pads := []int{0, 1, 10, Pad}
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
	if len(tiles) == 0 {
		return fmt.Errorf("no tiles")
	}
	// The fewest cores of at most tileSize on a side (one when tileSize ≤ 0).
	cols, rows := 1, 1
	if tileSize > 0 {
		cols, rows = ceilDiv(w, tileSize), ceilDiv(h, tileSize)
	}
	if len(tiles) != cols*rows {
		return fmt.Errorf("%d tiles, want %d×%d", len(tiles), cols, rows)
	}
	covered := make([]int, w*h)
	bounds := image.Rect(0, 0, w, h)
	minCore, maxCore := image.Pt(w, h), image.Point{}
	for _, t := range tiles {
		c, win := t.core, t.window
		if c.Empty() || !c.In(bounds) {
			return fmt.Errorf("core %v is empty or outside the image", c)
		}
		if tileSize > 0 && (c.Dx() > tileSize || c.Dy() > tileSize) {
			return fmt.Errorf("core %v is larger than the tile", c)
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
		minCore = image.Pt(min(minCore.X, c.Dx()), min(minCore.Y, c.Dy()))
		maxCore = image.Pt(max(maxCore.X, c.Dx()), max(maxCore.Y, c.Dy()))
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
	if maxCore.X-minCore.X > 1 || maxCore.Y-minCore.Y > 1 {
		return fmt.Errorf("cores range from %v to %v: uneven", minCore, maxCore)
	}
	return nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// tileForBudget returns 0 (whole image) exactly when the whole image fits the budget; else the
// largest multiple of 8 whose window (tile plus pad on both sides) fits, but never less than
// MinTile.
func TestTileForBudget(t *testing.T) {
	cases := []struct {
		w, h          int
		bytesPerPixel int64
		budget        int64
	}{
		{128, 128, compactBytesPerPixel, DefaultBudget},
		{600, 550, compactBytesPerPixel, DefaultBudget},
		{1024, 1024, compactBytesPerPixel, DefaultBudget},
		{4000, 3000, compactBytesPerPixel, DefaultBudget},
		{1024, 1024, largeBytesPerPixel, DefaultBudget},
		{1024, 1024, largeBytesPerPixel, 64 << 20},
		{1024, 1024, largeBytesPerPixel, 1 << 20}, // too small for anything: the floor
		{100, 100, 100, 100 * 100 * 100},          // exactly fits
		{100, 100, 100, 100*100*100 - 1},          // one byte short
		{20000, 1, compactBytesPerPixel, DefaultBudget},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%dx%d at %d B/px in %d B", c.w, c.h, c.bytesPerPixel, c.budget), func(t *testing.T) {
			got := tileForBudget(c.w, c.h, Pad, c.bytesPerPixel, c.budget)
			cost := func(tile int) int64 { return int64(tile+2*Pad) * int64(tile+2*Pad) * c.bytesPerPixel }
			fits := int64(c.w)*int64(c.h)*c.bytesPerPixel <= c.budget
			t.Logf("tile %d", got)
			switch {
			case fits:
				if got != 0 {
					t.Errorf("the whole image fits the budget, got tile %d, want 0", got)
				}
			case got == 0:
				t.Errorf("the whole image does not fit the budget, but got 0 (whole)")
			case got%8 != 0 || got < MinTile:
				t.Errorf("tile %d: want a multiple of 8 and at least %d", got, MinTile)
			case got > MinTile && cost(got) > c.budget:
				t.Errorf("tile %d costs %d bytes, over the budget", got, cost(got))
			case cost(got+8) <= c.budget:
				t.Errorf("tile %d is not the largest: %d fits too", got, got+8)
			}
		})
	}
}

// With a model that looks at one pixel only, context changes nothing, so a tiled result must
// equal the whole one exactly: any pixel pasted from the wrong place of the window, or left
// out, shows. Tile sizes include ones that do not divide the image and ones larger than it;
// the ×2-from-×4 path needs 2 pixels of context for its Lanczos taps (±1.5 input pixels), which
// Pad gives.
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
		{affine4, 4, []int{0, 3, Pad}},
		{affine2, 2, []int{0, 3, Pad}},
		{nearest4, 2, []int{2, Pad}},
	}
	tileSizes := []int{3, 7, 16, 25, 64}
	for _, r := range runs {
		m := r.model.load(t)
		for _, im := range images {
			ctx := context.Background()
			opts := Options{Factor: r.factor, Strength: 0.6} // the blend, too, must not see tiles
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
							if total != len(tiles) {
								t.Errorf("progress total %d, want %d tiles", total, len(tiles))
							}
							reported = append(reported, done)
						}
						tiled, err := m.run(ctx, im.img, opts, tileSize, pad)
						if err != nil {
							t.Fatal(err)
						}
						if err := sameImage(tiled, whole); err != nil {
							t.Errorf("tiled result differs from whole: %v", err)
						}
						for i, done := range reported {
							if done != i+1 {
								t.Fatalf("progress reported %v, want 1, 2, … %d", reported, len(tiles))
							}
						}
						if len(reported) != len(tiles) {
							t.Errorf("progress reported %d times, want %d", len(reported), len(tiles))
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
	src := noiseImage(37, 23, 3, 8, 31)
	cases := []struct {
		name      string
		opts      Options
		wantTiles int
	}{
		{"default budget", Options{Factor: 4, Strength: 1}, 1},
		{"tile 16", Options{Factor: 4, Strength: 1, Tile: 16}, 3 * 2},
		{"tile 10", Options{Factor: 4, Strength: 1, Tile: 10}, 4 * 3},
		// A budget too small for the whole image (37·23·1600 B) and for any tile with its
		// context falls to MinTile.
		{"budget of 1 MB", Options{Factor: 4, Strength: 1, Budget: 1 << 20}, ceilDiv(37, MinTile) * ceilDiv(23, MinTile)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			total := -1
			c.opts.Progress = func(_, n int) { total = n }
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
		{"factor 3", x4, Options{Factor: 3, Strength: 1}},
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
