package face

import (
	"math"
	"math/rand/v2"
	"testing"

	"dream/internal/imageio"
)

// similarity builds the transform that rotates by deg degrees, scales by s and then
// translates by (tx, ty).
func similarity(deg, s, tx, ty float64) Affine {
	c, n := s*math.Cos(deg*math.Pi/180), s*math.Sin(deg*math.Pi/180)
	return Affine{c, -n, tx, n, c, ty}
}

// mapAll applies m to every landmark.
func mapAll(m Affine, pts [5]Point) [5]Point {
	var out [5]Point
	for i, p := range pts {
		out[i] = m.Apply(p)
	}
	return out
}

func dist(a, b Point) float64 { return math.Hypot(a.X-b.X, a.Y-b.Y) }

// Landmarks that are the template moved by an exact similarity must be carried back onto the
// template exactly: the fit has a zero-residual solution and must find it.
func TestAlignTransformRecoversExactSimilarity(t *testing.T) {
	cases := []struct {
		name           string
		deg, s, tx, ty float64
	}{
		{"rotate 17°, scale 0.4", 17, 0.4, 311.5, -42.25},
		{"identity", 0, 1, 0, 0},
		{"rotate −75°, scale 3.1", -75, 3.1, -900, 1234.5},
		{"upside down, scale 0.05", 180, 0.05, 20, 30},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			landmarks := mapAll(similarity(c.deg, c.s, c.tx, c.ty), FFHQ512)
			m := AlignTransform(landmarks)
			for i, p := range landmarks {
				if d := dist(m.Apply(p), FFHQ512[i]); d > 1e-6 {
					t.Errorf("landmark %d lands %.3g px from the template", i, d)
				}
			}
		})
	}
}

// normalEquationsFit solves the same 4-parameter least-squares problem as AlignTransform the
// textbook way: unknowns (a, b, tx, ty) with x' = a·x − b·y + tx, y' = b·x + a·y + ty, two
// rows per point, AᵀA·θ = Aᵀy by Gaussian elimination with partial pivoting.
func normalEquationsFit(src, dst [5]Point) Affine {
	var ata [4][4]float64
	var aty [4]float64
	addRow := func(row [4]float64, y float64) {
		for i := range 4 {
			for j := range 4 {
				ata[i][j] += row[i] * row[j]
			}
			aty[i] += row[i] * y
		}
	}
	for i, p := range src {
		addRow([4]float64{p.X, -p.Y, 1, 0}, dst[i].X)
		addRow([4]float64{p.Y, p.X, 0, 1}, dst[i].Y)
	}
	theta := solve4(ata, aty)
	a, b, tx, ty := theta[0], theta[1], theta[2], theta[3]
	return Affine{a, -b, tx, b, a, ty}
}

func solve4(m [4][4]float64, v [4]float64) [4]float64 {
	for col := range 4 {
		pivot := col
		for r := col + 1; r < 4; r++ {
			if math.Abs(m[r][col]) > math.Abs(m[pivot][col]) {
				pivot = r
			}
		}
		m[col], m[pivot] = m[pivot], m[col]
		v[col], v[pivot] = v[pivot], v[col]
		for r := col + 1; r < 4; r++ {
			f := m[r][col] / m[col][col]
			for c := col; c < 4; c++ {
				m[r][c] -= f * m[col][c]
			}
			v[r] -= f * v[col]
		}
	}
	var x [4]float64
	for r := 3; r >= 0; r-- {
		s := v[r]
		for c := r + 1; c < 4; c++ {
			s -= m[r][c] * x[c]
		}
		x[r] = s / m[r][r]
	}
	return x
}

// With noisy landmarks there is no exact fit; the closed form must equal the least-squares
// optimum found independently.
func TestAlignTransformIsLeastSquares(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 20 {
		base := similarity(rng.Float64()*360-180, 0.05+rng.Float64()*3, rng.Float64()*2000-1000, rng.Float64()*2000-1000)
		landmarks := mapAll(base, FFHQ512)
		noise := 0.5 + rng.Float64()*20 // up to a few percent of the eye distance and more
		for i := range landmarks {
			landmarks[i].X += rng.NormFloat64() * noise * base[0]
			landmarks[i].Y += rng.NormFloat64() * noise * base[0]
		}
		got := AlignTransform(landmarks)
		want := normalEquationsFit(landmarks, FFHQ512)
		for i := range got {
			// Coefficients are compared relative to their size: translations reach 1e4.
			if d := math.Abs(got[i] - want[i]); d > 1e-9*max(1, math.Abs(want[i])) {
				t.Errorf("trial %d: coefficient %d is %.15g, normal equations give %.15g", trial, i, got[i], want[i])
			}
		}
	}
}

func TestInvertUndoesApply(t *testing.T) {
	transforms := []Affine{
		similarity(17, 0.4, 311.5, -42.25),
		similarity(-120, 7.5, -3, 4),
		{2, 0.5, 10, -0.25, 0.75, -20}, // a general affine, not only similarities
		{1, 0, 0, 0, 1, 0},
	}
	points := []Point{{0, 0}, {511, 511}, {-300.25, 47.5}, {1e4, -2e3}}
	for i, m := range transforms {
		inv := m.Invert()
		for _, p := range points {
			if d := dist(inv.Apply(m.Apply(p)), p); d > 1e-9*max(1, math.Hypot(p.X, p.Y)) {
				t.Errorf("transform %d: inverse∘apply moves %v by %.3g", i, p, d)
			}
			if d := dist(m.Apply(inv.Apply(p)), p); d > 1e-9*max(1, math.Hypot(p.X, p.Y)) {
				t.Errorf("transform %d: apply∘inverse moves %v by %.3g", i, p, d)
			}
		}
	}
	if got := (Affine{}).Invert(); got != (Affine{}) {
		t.Errorf("singular transform inverts to %v, want zeros", got)
	}
}

// newImage returns a zeroed image of the given layout.
func newImage(w, h, channels, depth int) *imageio.Image {
	return imageio.New(w, h, channels, depth)
}

// gradientImage is an 8-bit RGB image whose channels are affine in x and y, so a bilinear
// sample anywhere equals the affine function at that point: R = 2x+10, G = 3y+5, B = x+y+1.
func gradientImage(w, h int) *imageio.Image {
	img := newImage(w, h, 3, 8)
	for y := range h {
		for x := range w {
			i := (y*w + x) * 3
			img.Set(i, uint16(2*x+10))
			img.Set(i+1, uint16(3*y+5))
			img.Set(i+2, uint16(x+y+1))
		}
	}
	return img
}

func gradientAt(x, y float64) [3]float64 {
	return [3]float64{(2*x + 10) / 255, (3*y + 5) / 255, (x + y + 1) / 255}
}

// cropRGB reads pixel (x, y) of a planar crop.
func cropRGB(crop []float32, size, x, y int) [3]float64 {
	plane, i := size*size, y*size+x
	return [3]float64{float64(crop[i]), float64(crop[plane+i]), float64(crop[2*plane+i])}
}

// On an affine gradient, bilinear sampling is exact, and edge replication equals the
// gradient at the position clamped into the image.
func TestWarpFaceBilinearOnGradient(t *testing.T) {
	const w, h, size = 64, 60, 96
	img := gradientImage(w, h)
	cases := []struct {
		name string
		m    Affine
	}{
		{"inside, rotated and enlarged", similarity(23, 2.2, -20, -15)},
		{"partly outside, shrunk", similarity(-40, 0.9, 30, 40)},
		{"far outside", similarity(5, 1, 500, -300)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			crop := WarpFace(img, c.m, size)
			inv := c.m.Invert()
			var worst float64
			for y := range size {
				for x := range size {
					p := inv.Apply(Point{float64(x), float64(y)})
					want := gradientAt(min(max(p.X, 0), w-1), min(max(p.Y, 0), h-1))
					got := cropRGB(crop, size, x, y)
					for ch := range 3 {
						worst = max(worst, math.Abs(got[ch]-want[ch]))
					}
				}
			}
			t.Logf("largest difference from the analytic value: %.2g", worst)
			if worst > 1e-5 {
				t.Errorf("warp differs from analytic bilinear/replicated values by %.3g", worst)
			}
		})
	}
}

// noiseImage is a random image of the given layout.
func noiseImage(w, h, channels, depth int, seed uint64) *imageio.Image {
	img := newImage(w, h, channels, depth)
	rng := rand.New(rand.NewPCG(seed, 7))
	full := uint32(fullScale(depth))
	for i := range w * h * channels {
		img.Set(i, uint16(rng.Uint32N(full+1)))
	}
	return img
}

// A translation by whole pixels samples exactly one source pixel per crop pixel, for every
// layout WarpFace reads: gray becomes three equal planes, alpha is ignored, 16-bit scales by
// 1/65535.
func TestWarpFaceIntegerTranslationMovesPixelsExactly(t *testing.T) {
	const size, dx, dy = 40, 5, 7
	for _, c := range []struct{ channels, depth int }{{3, 8}, {1, 8}, {4, 8}, {3, 16}, {1, 16}} {
		img := noiseImage(50, 52, c.channels, c.depth, uint64(c.channels*100+c.depth))
		// m maps image → crop, so crop(x, y) = img(x+dx, y+dy).
		crop := WarpFace(img, Affine{1, 0, -dx, 0, 1, -dy}, size)
		full := fullScale(c.depth)
		bad := 0
		for y := range size {
			for x := range size {
				got := cropRGB(crop, size, x, y)
				at := ((y+dy)*img.W + x + dx) * img.Channels
				for ch := range 3 {
					want := img.At(at + min(ch, img.Channels-1)) // gray repeats channel 0
					if v := got[ch] * full; math.Abs(v-float64(want)) > 1e-3*full/255 {
						bad++
					}
				}
			}
		}
		if bad > 0 {
			t.Errorf("%d channels, %d bits: %d samples differ from the translated source", c.channels, c.depth, bad)
		}
	}
}

// Far outside the image every sample repeats the nearest edge pixel.
func TestWarpFaceReplicatesEdges(t *testing.T) {
	img := noiseImage(20, 10, 3, 8, 3)
	const size = 8
	// crop(x, y) = img(x − 100, y + 2): every crop pixel is left of the image, rows 2…9.
	crop := WarpFace(img, Affine{1, 0, 100, 0, 1, -2}, size)
	for y := range size {
		for x := range size {
			got := cropRGB(crop, size, x, y)
			row := min(y+2, img.H-1)
			for ch := range 3 {
				want := float64(img.At(row*img.W*3+ch)) / 255
				if math.Abs(got[ch]-want) > 1e-6 {
					t.Fatalf("crop (%d,%d) channel %d = %.6f, want left edge of row %d = %.6f", x, y, ch, got[ch], row, want)
				}
			}
		}
	}
}
