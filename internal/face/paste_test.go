package face

import (
	"image"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"dream/internal/imageio"
)

// faceAt returns the alignment transform of a face whose landmarks are the FFHQ template
// shrunk by s (eye distance 126·s px), turned by deg degrees and moved by (tx, ty).
func faceAt(deg, s, tx, ty float64) Affine {
	return AlignTransform(mapAll(similarity(deg, s, tx, ty), FFHQ512))
}

// referenceToOut is the paste's inverse affine written out on its own: invert, scale the
// whole matrix by u, and add (u−1)/2 to the translation (SPEC §2.2 step 4; facexlib adds 0.5·u
// when u > 1).
func referenceToOut(m Affine, u float64) Affine {
	inv := m.Invert()
	for i := range inv {
		inv[i] *= u
	}
	inv[2] += (u - 1) / 2
	inv[5] += (u - 1) / 2
	return inv
}

// referenceMask is facexlib's square-parse soft mask computed over the whole w×h output the
// plain way, in float64: bilinear warp of ones sampling the four neighbours one by one, a
// k×k erosion looping over the whole kernel, and a Gaussian built from OpenCV's rule.
func referenceMask(toOut Affine, u float64, n, w, h int) (soft, edge []float64) {
	fromOut := toOut.Invert()
	ones := make([]float64, w*h)
	for y := range h {
		for x := range w {
			p := fromOut.Apply(Point{float64(x), float64(y)})
			x0, y0 := math.Floor(p.X), math.Floor(p.Y)
			fx, fy := p.X-x0, p.Y-y0
			for _, nb := range []struct{ dx, dy, w float64 }{
				{0, 0, (1 - fx) * (1 - fy)}, {1, 0, fx * (1 - fy)}, {0, 1, (1 - fx) * fy}, {1, 1, fx * fy},
			} {
				cx, cy := x0+nb.dx, y0+nb.dy
				if cx >= 0 && cx < float64(n) && cy >= 0 && cy < float64(n) {
					ones[y*w+x] += nb.w
				}
			}
		}
	}
	edge = referenceErode(ones, w, h, int(2*u))
	var area float64
	for _, v := range edge {
		area += v
	}
	wEdge := int(math.Sqrt(area)) / 20
	k := 2 * wEdge
	if wEdge == 0 {
		k = 3 // OpenCV's default for np.ones((0, 0))
	}
	return referenceBlur(referenceErode(edge, w, h, k), w, h, 2*wEdge+1), edge
}

// referenceErode is cv2.erode with a k×k kernel of ones, default anchor, pixels outside the
// image ignored.
func referenceErode(src []float64, w, h, k int) []float64 {
	out := make([]float64, len(src))
	a := k / 2
	for y := range h {
		for x := range w {
			v := math.Inf(1)
			for dy := -a; dy < k-a; dy++ {
				for dx := -a; dx < k-a; dx++ {
					if sx, sy := x+dx, y+dy; sx >= 0 && sx < w && sy >= 0 && sy < h {
						v = min(v, src[sy*w+sx])
					}
				}
			}
			out[y*w+x] = v
		}
	}
	return out
}

// referenceBlur is cv2.GaussianBlur(src, (ksize, ksize), 0) with BORDER_REFLECT_101.
func referenceBlur(src []float64, w, h, ksize int) []float64 {
	r := ksize / 2
	var kern []float64
	switch ksize {
	case 1:
		kern = []float64{1}
	case 3:
		kern = []float64{0.25, 0.5, 0.25}
	case 5:
		kern = []float64{1.0 / 16, 4.0 / 16, 6.0 / 16, 4.0 / 16, 1.0 / 16}
	case 7:
		kern = []float64{1.0 / 32, 3.5 / 32, 7.0 / 32, 9.0 / 32, 7.0 / 32, 3.5 / 32, 1.0 / 32}
	default:
		sigma := 0.3*(float64(ksize-1)*0.5-1) + 0.8
		var sum float64
		for i := -r; i <= r; i++ {
			kern = append(kern, math.Exp(-float64(i*i)/(2*sigma*sigma)))
			sum += kern[len(kern)-1]
		}
		for i := range kern {
			kern[i] /= sum
		}
	}
	mirror := func(i, n int) int { // reflect-101 by folding over a period of 2n−2
		if n == 1 {
			return 0
		}
		p := 2*n - 2
		i = ((i % p) + p) % p
		if i >= n {
			i = p - i
		}
		return i
	}
	tmp := make([]float64, len(src))
	for y := range h {
		for x := range w {
			for j := -r; j <= r; j++ {
				tmp[y*w+x] += kern[j+r] * src[y*w+mirror(x+j, w)]
			}
		}
	}
	out := make([]float64, len(src))
	for y := range h {
		for x := range w {
			for j := -r; j <= r; j++ {
				out[y*w+x] += kern[j+r] * tmp[mirror(y+j, h)*w+x]
			}
		}
	}
	return out
}

// maskCase is a face to paste: its alignment in the detection image, the scale u of the
// output, and the output's size.
type maskCase struct {
	name string
	m    Affine
	u    float64
	w, h int
}

var maskCases = []maskCase{
	{"u=1, turned 20°, square ≈240 px", faceAt(20, 0.47, 100, 10), 1, 360, 340},
	{"u=2, turned −35°, square ≈250 px", faceAt(-35, 0.24, 20, 90), 2, 400, 400},
	{"u=4, turned 8°, square ≈245 px", faceAt(8, 0.12, 10, 10), 4, 320, 340},
	{"u=1, cut by the top-left corner", faceAt(-10, 0.5, -90, -110), 1, 260, 240},
	{"u=2, cut by the bottom-right corner", faceAt(30, 0.3, 70, 60), 2, 260, 240},
	{"u=1, small: w_edge 1, OpenCV's 3-tap table", faceAt(0, 0.05, 20, 20), 1, 80, 70},
	{"u=1, tiny: w_edge 0, 3×3 default erosion", faceAt(45, 0.03, 30, 10), 1, 60, 60},
	{"u=4, small: w_edge 3, OpenCV's 7-tap table", faceAt(0, 0.03, 10, 10), 4, 160, 160},
}

// The windowed, separable, float32 mask must equal the plain full-image float64 computation.
func TestSoftMaskMatchesFullImageReference(t *testing.T) {
	for _, c := range maskCases {
		t.Run(c.name, func(t *testing.T) {
			mask, support := SoftMask(c.m, c.u, c.w, c.h)
			want, _ := referenceMask(referenceToOut(c.m, c.u), c.u, templateSize, c.w, c.h)
			var worst float64
			wantSupport := image.Rectangle{}
			for y := range c.h {
				for x := range c.w {
					v := want[y*c.w+x]
					worst = max(worst, math.Abs(float64(mask.At(x, y))-v))
					if v > 0 {
						wantSupport = wantSupport.Union(image.Rect(x, y, x+1, y+1))
					}
				}
			}
			t.Logf("window %v, support %v; max |mask − reference| = %.2g", mask.Rect, support, worst)
			if worst > 0.01 {
				t.Errorf("mask differs from the reference by %.4f", worst)
			}
			if !wantSupport.In(support.Inset(-1)) {
				t.Errorf("support %v misses the reference's %v", support, wantSupport)
			}
		})
	}
}

// PasteFace must composite exactly facexlib's formula, soft·(edge·face) + (1−soft)·image,
// computed here over the whole image in float64 from the reference masks.
func TestPasteFaceMatchesFullImageReference(t *testing.T) {
	const n = templateSize
	face := make([]float32, 3*n*n)
	for i := range face {
		face[i] = float32((i*7919)%1000) / 999 // busy, so a misplaced sample shows
	}
	for _, c := range maskCases[:5] {
		t.Run(c.name, func(t *testing.T) {
			toOut := referenceToOut(c.m, c.u)
			soft, edge := referenceMask(toOut, c.u, n, c.w, c.h)
			fromOut := toOut.Invert()
			dst := noiseImage(c.w, c.h, 3, 8, 9)
			want := cloneImage(dst)
			for y := range c.h {
				for x := range c.w {
					i := y*c.w + x
					if soft[i] <= 0 {
						continue
					}
					p := fromOut.Apply(Point{float64(x), float64(y)})
					var rgb [3]float32
					sampleZero(face, n, p.X, p.Y, &rgb) // checked on its own in TestSampleZero
					for ch := range 3 {
						v := soft[i]*edge[i]*float64(rgb[ch])*255 + (1-soft[i])*float64(dst.At(i*3+ch))
						want.Set(i*3+ch, uint16(math.Round(v)))
					}
				}
			}
			PasteFace(dst, face, c.m, c.u)
			worst := 0
			for i := range c.w * c.h * 3 {
				worst = max(worst, int(dst.At(i))-int(want.At(i)), int(want.At(i))-int(dst.At(i)))
			}
			t.Logf("largest difference from the reference composite: %d/255", worst)
			if worst > 1 {
				t.Errorf("PasteFace differs from the reference by %d/255", worst)
			}
		})
	}
}

// largestJump is the largest difference between horizontally or vertically adjacent values
// of a w-wide grid read through at.
func largestJump(r image.Rectangle, at func(x, y int) float64) float64 {
	var worst float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			v := at(x, y)
			if x+1 < r.Max.X {
				worst = max(worst, math.Abs(at(x+1, y)-v))
			}
			if y+1 < r.Max.Y {
				worst = max(worst, math.Abs(at(x, y+1)-v))
			}
		}
	}
	return worst
}

// The mask must ramp, not step: users see a box around restored faces otherwise (InvokeAI
// #662, GFPGAN #259).
func TestSoftMaskHasNoHardEdge(t *testing.T) {
	cases := []maskCase{
		{"u=1, square ≈150 px", faceAt(12, 0.3, 40, 30), 1, 260, 240},
		{"u=1, square ≈400 px, straight", faceAt(0, 0.8, 30, 20), 1, 480, 480},
		{"u=2, square ≈160 px", faceAt(-25, 0.16, 30, 30), 2, 260, 260},
		{"u=4, square ≈160 px", faceAt(40, 0.08, 15, 10), 4, 260, 260},
		{"u=4, square ≈600 px", faceAt(3, 0.3, 10, 10), 4, 800, 800},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mask, support := SoftMask(c.m, c.u, c.w, c.h)
			if support.Dx() < 150 {
				t.Fatalf("test face is only %d px wide", support.Dx())
			}
			jump := largestJump(mask.Rect, func(x, y int) float64 { return float64(mask.At(x, y)) })
			t.Logf("pasted square %dx%d px, largest jump between neighbouring mask values %.3f", support.Dx(), support.Dy(), jump)
			if jump > 0.2 {
				t.Errorf("mask jumps by %.3f between neighbours", jump)
			}
		})
	}
}

// loadPhoto reads one of the shared test photos.
func loadPhoto(t testing.TB, name string) *imageio.Image {
	t.Helper()
	img, err := imageio.Load(filepath.Join("..", "..", "..", "shared", "images", name))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func cloneImage(img *imageio.Image) *imageio.Image {
	c := *img
	c.Pix = slices.Clone(img.Pix)
	return &c
}

// psnrIn is the PSNR of b against a over the rectangle r, in dB.
func psnrIn(a, b *imageio.Image, r image.Rectangle) float64 {
	var sum float64
	var n int
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			for c := range a.Channels {
				i := (y*a.W+x)*a.Channels + c
				d := float64(a.At(i)) - float64(b.At(i))
				sum += d * d
				n++
			}
		}
	}
	full := fullScale(a.Depth)
	return 10 * math.Log10(full*full/(sum/float64(n)))
}

// changedOutside counts samples of got that differ from want at pixels where mask is zero.
func changedOutside(want, got *imageio.Image, mask *Mask) int {
	changed := 0
	for y := range want.H {
		for x := range want.W {
			if mask.At(x, y) > 0 {
				continue
			}
			for c := range want.Channels {
				i := (y*want.W+x)*want.Channels + c
				if want.At(i) != got.At(i) {
					changed++
				}
			}
		}
	}
	return changed
}

// astronautFace is a hand-placed alignment for the face in astronaut.png (eyes at about
// (200,102) and (247,103)), and the box around that face.
var (
	astronautFace = AlignTransform([5]Point{{200, 102}, {247, 103}, {224, 128}, {205, 150}, {243, 151}})
	astronautBox  = image.Rect(178, 63, 268, 176)
)

// Pasting the crop itself back (an identity restorer) must reproduce the face and leave
// everything outside the mask bit for bit.
func TestPasteRoundTripKeepsTheFace(t *testing.T) {
	img := loadPhoto(t, "astronaut.png")
	crop := WarpFace(img, astronautFace, templateSize)
	out := cloneImage(img)
	PasteFace(out, crop, astronautFace, 1)

	psnr := psnrIn(img, out, astronautBox)
	t.Logf("u=1: PSNR over the face box %v: %.2f dB", astronautBox, psnr)
	if psnr < 38 {
		t.Errorf("round trip PSNR %.2f dB, want ≥ 38", psnr)
	}
	mask, _ := SoftMask(astronautFace, 1, img.W, img.H)
	if n := changedOutside(img, out, mask); n > 0 {
		t.Errorf("%d samples outside the mask changed", n)
	}
}

// enlarge4 is a ×4 bicubic enlargement (OpenCV's a = −0.75, pixel centres aligned, edges
// clamped), standing in for an upscaler whose output is geometrically exact.
func enlarge(img *imageio.Image, u int) *imageio.Image {
	cubic := func(x float64) float64 {
		const a = -0.75
		x = math.Abs(x)
		switch {
		case x <= 1:
			return ((a+2)*x-(a+3))*x*x + 1
		case x < 2:
			return ((a*x-5*a)*x+8*a)*x - 4*a
		}
		return 0
	}
	// taps[d] lists the four source indices and weights for output coordinate d.
	taps := func(n int) ([][4]int, [][4]float64) {
		idx, wts := make([][4]int, n*u), make([][4]float64, n*u)
		for d := range n * u {
			s := (float64(d)+0.5)/float64(u) - 0.5
			s0 := math.Floor(s)
			for k := range 4 {
				p := s0 - 1 + float64(k)
				idx[d][k] = clampInt(int(p), n-1)
				wts[d][k] = cubic(s - p)
			}
		}
		return idx, wts
	}
	xi, xw := taps(img.W)
	yi, yw := taps(img.H)
	c := img.Channels
	out := newImage(img.W*u, img.H*u, c, img.Depth)
	full := fullScale(img.Depth)
	for y := range out.H {
		for x := range out.W {
			for ch := range c {
				var v float64
				for j := range 4 {
					row := yi[y][j] * img.W
					for i := range 4 {
						v += yw[y][j] * xw[x][i] * float64(img.At((row+xi[x][i])*c+ch))
					}
				}
				out.Set((y*out.W+x)*c+ch, uint16(min(max(math.Round(v), 0), full)))
			}
		}
	}
	return out
}

// Detect and crop on the small image, paste onto the enlarged one (SPEC §2.2 step 6): the
// face must land where the enlargement has it, which a PSNR over the face box measures.
//
// The exact translation is (u−1)/2: detection pixel x covers output pixels u·x … u·x+u−1,
// centred on u·x + (u−1)/2, for this bicubic enlargement as for Real-ESRGAN's
// nearest-upsampling and pixel-shuffle networks. The test asserts that PasteFace is that
// paste, and that it beats by a clear margin facexlib's 0.5·u (half an output pixel further:
// ≈2.7 dB lower at u=4, ≈6.4 dB at u=2) and no offset at all, so a wrong offset fails here.
func TestPasteOntoEnlargementLandsInPlace(t *testing.T) {
	// A wrong offset must cost at least this much; the measured margins are 2.7 dB and more.
	const margin = 1.5
	img := loadPhoto(t, "astronaut.png")
	crop := WarpFace(img, astronautFace, templateSize)
	for _, u := range []int{2, 4} {
		big := enlarge(img, u)
		box := image.Rect(astronautBox.Min.X*u, astronautBox.Min.Y*u, astronautBox.Max.X*u, astronautBox.Max.Y*u)
		psnrWith := func(offset float64) (float64, *imageio.Image) {
			o := cloneImage(big)
			pasteWith(o, crop, templateSize, scaledInverse(astronautFace, float64(u), offset), float64(u))
			return psnrIn(big, o, box), o
		}
		exact, viaExact := psnrWith(float64(u-1) / 2)
		facexlib, _ := psnrWith(0.5 * float64(u))
		none, _ := psnrWith(0)

		out := cloneImage(big)
		PasteFace(out, crop, astronautFace, float64(u))
		psnr := psnrIn(big, out, box)
		t.Logf("u=%d, box %v: PasteFace %.2f dB; offset (u−1)/2 = %.1f: %.2f dB, 0.5·u = %.1f: %.2f dB, none: %.2f dB",
			u, box, psnr, float64(u-1)/2, exact, 0.5*float64(u), facexlib, none)

		if psnr < 38 {
			t.Errorf("u=%d: PasteFace's PSNR is %.2f dB, want ≥ 38", u, psnr)
		}
		for _, wrong := range []struct {
			name string
			psnr float64
		}{{"facexlib's 0.5·u", facexlib}, {"no offset", none}} {
			if psnr < wrong.psnr+margin {
				t.Errorf("u=%d: PasteFace's %.2f dB is not %.1f dB above the %.2f dB of %s", u, psnr, margin, wrong.psnr, wrong.name)
			}
		}
		if !slices.Equal(out.Pix, viaExact.Pix) {
			t.Errorf("u=%d: PasteFace differs from the paste with the exact offset (u−1)/2", u)
		}
		mask, _ := SoftMask(astronautFace, float64(u), big.W, big.H)
		if n := changedOutside(big, out, mask); n > 0 {
			t.Errorf("u=%d: %d samples outside the mask changed", u, n)
		}
	}
}

// A restorer that returns a flat colour: the composite over a flat background must ramp
// without a visible step, in every output layout, and leave alpha alone.
func TestPasteFlatFaceHasNoHardEdge(t *testing.T) {
	const n = templateSize
	colour := [3]float32{1, 0.9, 0.8}
	face := make([]float32, 3*n*n)
	for c := range 3 {
		for i := range n * n {
			face[c*n*n+i] = colour[c]
		}
	}
	m := faceAt(15, 0.3, 40, 30)
	for _, c := range []struct{ channels, depth int }{{3, 8}, {1, 8}, {4, 8}, {3, 16}, {1, 16}} {
		dst := newImage(260, 240, c.channels, c.depth)
		if c.channels == 4 {
			for i := 3; i < dst.W*dst.H*4; i += 4 {
				dst.Set(i, uint16(i%251)) // a pattern the paste must not touch
			}
		}
		before := cloneImage(dst)
		PasteFace(dst, face, m, 1)

		full := fullScale(c.depth)
		jump := largestJump(image.Rect(0, 0, dst.W, dst.H), func(x, y int) float64 {
			return float64(dst.At((y*dst.W+x)*dst.Channels)) / full
		})
		t.Logf("%d channels, %d bits: largest jump in the composite %.3f of full scale", c.channels, c.depth, jump)
		if jump > 0.2 {
			t.Errorf("%d channels, %d bits: composite jumps by %.3f", c.channels, c.depth, jump)
		}

		centre := m.Invert().Apply(Point{n / 2, n / 2})
		at := (int(centre.Y)*dst.W + int(centre.X)) * dst.Channels
		want := float64(colour[0])
		if c.channels == 1 {
			want = 0.299*float64(colour[0]) + 0.587*float64(colour[1]) + 0.114*float64(colour[2])
		}
		if got := dst.At(at); got != uint16(math.Round(want*full)) {
			t.Errorf("%d channels, %d bits: face centre is %d, want %.0f", c.channels, c.depth, got, want*full)
		}
		if c.channels == 4 {
			for i := 3; i < dst.W*dst.H*4; i += 4 {
				if dst.At(i) != before.At(i) {
					t.Fatalf("alpha changed at sample %d", i)
				}
			}
		}
	}
}

func TestBlend(t *testing.T) {
	before := noiseImage(30, 20, 3, 8, 11)
	pasted := cloneImage(before)
	for i := range 300 { // a "face" on the first rows
		pasted.Set(i, 255-before.At(i))
	}
	for _, s := range []float64{0, 0.25, 0.5, 1} {
		got := Blend(before, cloneImage(pasted), s)
		for i := range got.W * got.H * got.Channels {
			want := uint16(math.Round((1-s)*float64(before.At(i)) + s*float64(pasted.At(i))))
			if i >= 300 {
				want = before.At(i)
			}
			if d := int(got.At(i)) - int(want); d < -1 || d > 1 || (i >= 300 && d != 0) {
				t.Fatalf("s=%g: sample %d is %d, want %d", s, i, got.At(i), want)
			}
		}
	}
}

// BenchmarkFaceWarpAndPaste is the non-model work for one face on a 1024×1024 output: the
// crop, the soft mask and the composite. Target: under 50 ms on two cores.
func BenchmarkFaceWarpAndPaste(b *testing.B) {
	for _, c := range []struct {
		name string
		u    float64
		det  int // detection image side
		m    Affine
	}{
		{"u=1, square 400 px", 1, 1024, faceAt(10, 0.78, 300, 250)},
		{"u=2, square 400 px", 2, 512, faceAt(10, 0.39, 150, 125)},
		{"u=4, square 600 px", 4, 256, faceAt(10, 0.29, 60, 50)},
	} {
		b.Run(c.name, func(b *testing.B) {
			src := noiseImage(c.det, c.det, 3, 8, 5)
			dst := noiseImage(1024, 1024, 3, 8, 6)
			for b.Loop() {
				crop := WarpFace(src, c.m, templateSize)
				PasteFace(dst, crop, c.m, c.u)
			}
		})
	}
}

// The face is sampled with zero outside the crop, including on its one-pixel rim where only
// some of the four neighbours exist.
func TestSampleZero(t *testing.T) {
	const n = 5
	face := make([]float32, 3*n*n)
	for i := range face {
		face[i] = float32(i%17) / 16
	}
	at := func(c, x, y int) float64 {
		if x < 0 || x >= n || y < 0 || y >= n {
			return 0
		}
		return float64(face[c*n*n+y*n+x])
	}
	for _, p := range []Point{{2.25, 1.5}, {-0.5, 2}, {-0.75, -0.25}, {4.5, 3.25}, {3.5, 4.75}, {4.2, 4.9}, {-1, 2}, {5, 0}, {0, 0}, {4, 4}} {
		var got [3]float32
		sampleZero(face, n, p.X, p.Y, &got)
		x0, y0 := math.Floor(p.X), math.Floor(p.Y)
		fx, fy := p.X-x0, p.Y-y0
		ix, iy := int(x0), int(y0)
		for c := range 3 {
			want := (1-fx)*(1-fy)*at(c, ix, iy) + fx*(1-fy)*at(c, ix+1, iy) +
				(1-fx)*fy*at(c, ix, iy+1) + fx*fy*at(c, ix+1, iy+1)
			if math.Abs(float64(got[c])-want) > 1e-6 {
				t.Errorf("at %v channel %d: %.6f, want %.6f", p, c, got[c], want)
			}
		}
	}
}

// Faces placed off the image, larger than the image, or by a broken transform must neither
// panic nor touch pixels they do not cover.
func TestPasteFaceOddPlacements(t *testing.T) {
	const n = templateSize
	face := make([]float32, 3*n*n)
	for i := range face {
		face[i] = 1
	}
	nan := math.NaN()
	cases := []struct {
		name    string
		m       Affine
		changed bool // whether the image centre must change
	}{
		{"entirely off the image", faceAt(0, 0.2, 5000, -3000), false},
		{"far larger than the image", faceAt(0, 40, -9000, -9000), true},
		{"collapsed (zero scale)", Affine{}, false},
		{"NaN", Affine{nan, 0, 0, 0, nan, 0}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dst := newImage(64, 48, 3, 8)
			PasteFace(dst, face, c.m, 1)
			centre := dst.At((24*64 + 32) * 3)
			if c.changed && centre != 255 {
				t.Errorf("image centre is %d, want the face's 255", centre)
			}
			if !c.changed && slices.ContainsFunc(dst.Pix, func(v byte) bool { return v != 0 }) {
				t.Errorf("pixels changed")
			}
		})
	}
}

// randomRuns is n samples in runs of 0s, 1s and fractional values of random lengths, like a
// mask's interior, margin and rim.
func randomRuns(rng *rand.Rand, n int) []float32 {
	row := make([]float32, 0, n)
	for len(row) < n {
		v := rng.Float32()
		switch rng.IntN(3) {
		case 0:
			v = 0
		case 1:
			v = 1
		}
		for range min(1+rng.IntN(12), n-len(row)) {
			row = append(row, v)
		}
	}
	return row
}

// The erosion, which only recomputes samples near a change of value, must equal the plain
// minimum over each k×k window, with pixels outside the image ignored as OpenCV's +∞ border
// does.
func TestErodeRect(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for trial := range 300 {
		w, h, k := 1+rng.IntN(30), 1+rng.IntN(30), 2+rng.IntN(9)
		src := randomRuns(rng, w*h)
		got := slices.Clone(src)
		erodeRect(got, w, h, k)
		want := referenceErode(toFloat64(src), w, h, k)
		for i := range got {
			if float64(got[i]) != want[i] {
				t.Fatalf("trial %d, %dx%d, k=%d, pixel (%d,%d): %v, want %v", trial, w, h, k, i%w, i/w, got[i], want[i])
			}
		}
	}
}

// The blur, which only convolves samples near a change of value, must equal the plain
// separable sum with reflect-101 at the borders.
func TestGaussianBlur(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 300 {
		w, h := 1+rng.IntN(30), 1+rng.IntN(30)
		ksize := []int{3, 5, 7, 9, 11, 21}[rng.IntN(6)]
		src := randomRuns(rng, w*h)
		want := referenceBlur(toFloat64(src), w, h, ksize)
		got := gaussianBlur(slices.Clone(src), w, h, ksize)
		for i := range got {
			if math.Abs(float64(got[i])-want[i]) > 1e-6 {
				t.Fatalf("trial %d, %dx%d, ksize %d, pixel (%d,%d): %v, want %v", trial, w, h, ksize, i%w, i/w, got[i], want[i])
			}
		}
	}
}

func toFloat64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
