package face

import (
	"fmt"
	"image"
	"math"

	"dream/internal/imageio"
)

// templateSize is the side of the crop FFHQ512 describes, and so of the mask of ones facexlib
// warps back.
const templateSize = 512

// Mask is a soft paste mask, 0 (keep the image) to 1 (take the face), over a window of the
// output image. It is zero everywhere outside Rect.
type Mask struct {
	Rect image.Rectangle
	Pix  []float32 // row-major over Rect
}

// At returns the mask value at output pixel (x, y).
func (k *Mask) At(x, y int) float32 {
	if !(image.Point{x, y}).In(k.Rect) {
		return 0
	}
	return k.Pix[(y-k.Rect.Min.Y)*k.Rect.Dx()+x-k.Rect.Min.X]
}

// support is the bounding box of the pixels where the mask is above zero.
func (k *Mask) support() image.Rectangle {
	var r image.Rectangle
	w := k.Rect.Dx()
	for i, v := range k.Pix {
		if v > 0 {
			x, y := k.Rect.Min.X+i%w, k.Rect.Min.Y+i/w
			r = r.Union(image.Rect(x, y, x+1, y+1))
		}
	}
	return r
}

// SoftMask returns the mask PasteFace blends a 512×512 face with, for a face aligned by m
// in the detection image and pasted onto a w×h output u times larger. The rectangle is the
// bounding box of the mask's support: PasteFace changes no pixel outside it.
func SoftMask(m Affine, u float64, w, h int) (*Mask, image.Rectangle) {
	pm := buildMask(faceToOutput(m, u), u, templateSize, w, h)
	mask := &Mask{Rect: pm.rect, Pix: pm.soft}
	return mask, mask.support()
}

// PasteFace blends a restored face back into dst in place, following facexlib's
// paste_faces_to_input_image with use_parse=False, but with the exact pixel-centre offset
// (SPEC §2.2 step 4; see faceToOutput).
//
// face is RGB planar float32 (3×n×n, normally n = 512) in 0..1, the restorer's output for
// the crop WarpFace cut with m from the detection image; dst is the image to paste onto,
// u times the detection image's size (1, or the -U factor when upscaling ran first). dst is
// modified: a caller that still needs the unpasted image (for the -G blend) passes a copy.
// Only pixels inside the face's soft mask change; every other sample keeps its exact value.
func PasteFace(dst *imageio.Image, face []float32, m Affine, u float64) {
	n := cropSide(face)
	pasteWith(dst, face, n, faceToOutput(m, u), u)
}

// cropSide returns n for a 3×n×n planar crop, and panics on anything else: a wrong length
// is a programming error, not a property of the user's image.
func cropSide(face []float32) int {
	n := int(math.Sqrt(float64(len(face) / 3)))
	if n < 1 || 3*n*n != len(face) {
		panic(fmt.Sprintf("face: restored face has %d values, want 3×n×n", len(face)))
	}
	return n
}

// faceToOutput maps crop coordinates into the output image: the inverse of the alignment,
// scaled by u when the output is u times the detection image.
//
// Scaling the inverse by u alone is not enough: pixel centres sit at integer coordinates, so
// detection pixel x covers output pixels u·x … u·x+u−1, whose centre is u·x + (u−1)/2
// (Real-ESRGAN's pixel centres, and any upscaler's that keeps the image's extent). Without an
// offset the face lands (u−1)/2 output pixels up and to the left. facexlib adds 0.5·u, half
// an output pixel too much; SPEC §2.2 step 4 asks for the exact (u−1)/2. Pasting the
// astronaut's own crop onto a bicubic enlargement gives, over the face, 39.6 dB at u=4
// against 36.9 dB with 0.5·u, and 39.5 dB at u=2 against 33.1 dB
// (TestPasteOntoEnlargementLandsInPlace).
func faceToOutput(m Affine, u float64) Affine {
	return scaledInverse(m, u, pasteOffset(u))
}

// pasteOffset is the translation that puts detection pixel centres on the centres of the
// output pixels they became, for an output u times larger; 0 at u = 1.
func pasteOffset(u float64) float64 {
	return (u - 1) / 2
}

// scaledInverse is m⁻¹ scaled by u with offset added to its translation.
func scaledInverse(m Affine, u, offset float64) Affine {
	inv := m.Invert()
	for i := range inv {
		inv[i] *= u
	}
	inv[2] += offset
	inv[5] += offset
	return inv
}

// pasteWith composites face (n×n, planar RGB) into dst through toOut (crop → output
// coordinates): dst = soft·(edge·face) + (1 − soft)·dst, where edge is facexlib's first
// erosion (inv_mask_erosion, which it multiplies into the face to drop the warp's dark rim)
// and soft its blurred, further eroded mask.
func pasteWith(dst *imageio.Image, face []float32, n int, toOut Affine, u float64) {
	pm := buildMask(toOut, u, n, dst.W, dst.H)
	if pm.rect.Empty() {
		return
	}
	fromOut := toOut.Invert()
	full := float32(fullScale(dst.Depth))
	r := pm.rect
	ww := r.Dx()
	parallelRows(r.Dy(), func(y0, y1 int) {
		var rgb [3]float32
		for wy := y0; wy < y1; wy++ {
			y := r.Min.Y + wy
			for wx := range ww {
				i := wy*ww + wx
				s := pm.soft[i]
				if s <= 0 {
					continue
				}
				x := r.Min.X + wx
				p := fromOut.Apply(Point{float64(x), float64(y)})
				sampleZero(face, n, p.X, p.Y, &rgb)
				e := pm.edge[i] * full
				for c := range rgb {
					rgb[c] *= e
				}
				composite(dst, (y*dst.W+x)*dst.Channels, s, &rgb, full)
			}
		}
	})
}

// composite writes s·face + (1−s)·pixel into the pixel whose first sample is at, the face
// already in the image's sample scale (full is white). Gray images take the face's luma
// (Rec. 601 weights); alpha stays as it is.
func composite(img *imageio.Image, at int, s float32, rgb *[3]float32, full float32) {
	if img.Channels == 1 {
		luma := 0.299*rgb[0] + 0.587*rgb[1] + 0.114*rgb[2]
		img.Set(at, roundSample(s*luma+(1-s)*float32(img.At(at)), full))
		return
	}
	for c := range 3 {
		img.Set(at+c, roundSample(s*rgb[c]+(1-s)*float32(img.At(at+c)), full))
	}
}

// roundSample rounds v to the nearest sample value in 0..full. (facexlib truncates with
// astype(uint8), which darkens every pasted pixel by half a step on average.)
func roundSample(v, full float32) uint16 {
	v += 0.5
	switch {
	case !(v > 0): // also NaN, whose conversion Go leaves undefined
		return 0
	case v >= full:
		return uint16(full)
	}
	return uint16(v)
}

// sampleZero writes the bilinear RGB value of the planar n×n face at (x, y) into rgb, with
// zero outside the crop (cv2.warpAffine's default BORDER_CONSTANT).
func sampleZero(face []float32, n int, x, y float64, rgb *[3]float32) {
	*rgb = [3]float32{}
	if !(x > -1 && x < float64(n) && y > -1 && y < float64(n)) {
		return
	}
	// x, y > −1, so truncating x+1 floors it without math.Floor's call.
	ix, iy := int(x+1)-1, int(y+1)-1
	fx, fy := float32(x-float64(ix)), float32(y-float64(iy))
	plane := n * n
	if ix >= 0 && ix+1 < n && iy >= 0 && iy+1 < n {
		w00, w01, w10, w11 := (1-fx)*(1-fy), fx*(1-fy), (1-fx)*fy, fx*fy
		i := iy*n + ix
		for c := range 3 {
			p := face[c*plane+i:]
			q := p[n:]
			rgb[c] = w00*p[0] + w01*p[1] + w10*q[0] + w11*q[1]
		}
		return
	}
	// On the crop's one-pixel rim some neighbours are off the crop and count as zero.
	for _, nb := range [4]struct {
		x, y int
		w    float32
	}{
		{ix, iy, (1 - fx) * (1 - fy)}, {ix + 1, iy, fx * (1 - fy)},
		{ix, iy + 1, (1 - fx) * fy}, {ix + 1, iy + 1, fx * fy},
	} {
		if nb.x < 0 || nb.x >= n || nb.y < 0 || nb.y >= n {
			continue
		}
		i := nb.y*n + nb.x
		for c := range 3 {
			rgb[c] += nb.w * face[c*plane+i]
		}
	}
}

// Blend mixes the image before face restoration with the pasted one, out = (1−s)·before +
// s·pasted (SPEC §2.2 step 5: -G is a strength, since GFPGAN itself ignores its weight).
// It writes the result into pasted and returns it; the two images must have the same layout.
// Pixels the faces did not touch are equal in both and come out unchanged.
func Blend(before, pasted *imageio.Image, s float64) *imageio.Image {
	if before.W != pasted.W || before.H != pasted.H || before.Channels != pasted.Channels ||
		before.Depth != pasted.Depth {
		panic(fmt.Sprintf("face: Blend of %dx%d×%d@%d with %dx%d×%d@%d",
			before.W, before.H, before.Channels, before.Depth,
			pasted.W, pasted.H, pasted.Channels, pasted.Depth))
	}
	if s >= 1 {
		return pasted
	}
	s = max(s, 0)
	full := fullScale(pasted.Depth)
	row := pasted.W * pasted.Channels
	parallelRows(pasted.H, func(y0, y1 int) {
		for i := y0 * row; i < y1*row; i++ {
			if bv, pv := before.At(i), pasted.At(i); bv != pv {
				v := (1-s)*float64(bv) + s*float64(pv)
				pasted.Set(i, uint16(min(max(v+0.5, 0), full)))
			}
		}
	})
	return pasted
}
