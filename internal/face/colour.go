package face

import (
	"math"
	"sync"
)

// Colour matching (--face_color match). Restorers shift a face's colour: GFPGAN warms or
// cools skin and CodeFormer, rebuilding the face from its codebook, can change its tone,
// which shows as a pasted patch of another colour. Before pasting, the restored crop is given
// the original crop's colour statistics: in CIE Lab (sRGB, D65 white), the mean and standard
// deviation of a and b and the mean of L inside the face (Reinhard et al., "Color Transfer
// between Images", 2001, in Lab rather than lαβ). Lab separates lightness from colour, so
// the restored face takes the original's skin tone and brightness; L's spread is left alone
// because it is the detail the restorer put back, which a blurred original lacks.

// faceRegion is the inner face in the aligned crop, where the statistics are taken: an
// ellipse from the forehead to the chin and cheek to cheek around FFHQ512's landmarks (eyes
// at y 240, mouth at 371, 126 px apart), so hair, background and collar, which the restorer
// may change for reasons of its own, do not weigh in.
var faceRegion = struct{ cx, cy, rx, ry float64 }{256, 296, 120, 160}

// faceRegionMask returns, for an n×n crop, whether each pixel lies in faceRegion scaled
// from the 512 template.
var faceRegionMask = sync.OnceValue(func() []bool { return regionMask(CropSize) })

func regionMask(n int) []bool {
	k := float64(n) / templateSize
	in := make([]bool, n*n)
	for y := range n {
		dy := (float64(y) - faceRegion.cy*k) / (faceRegion.ry * k)
		for x := range n {
			dx := (float64(x) - faceRegion.cx*k) / (faceRegion.rx * k)
			in[y*n+x] = dx*dx+dy*dy <= 1
		}
	}
	return in
}

// MatchColour gives the restored crop the colour statistics of the original one, in place:
// for a and b, lab' = (lab − mean_restored)·(std_original / std_restored) + mean_original,
// and for L the shift of the mean alone, all taken inside the face region. Both crops are RGB
// planar 3×n×n in 0..1 (the restorer's input and output); values leaving the sRGB gamut are
// clipped to it.
func MatchColour(restored, original []float32) {
	n := cropSide(restored)
	if len(original) != len(restored) {
		panic("face: MatchColour of crops of different sizes")
	}
	in := faceRegionMask()
	if n != CropSize {
		in = regionMask(n)
	}
	ref, got := labStats(original, in), labStats(restored, in)
	var scale, shift [3]float64
	for c := range 3 {
		// A channel without spread (a gray face's a and b, or a flat crop) has no contrast to
		// match: it is moved to the original's mean and keeps what spread the original has.
		scale[c] = 1
		if c > 0 && got.std[c] > 1e-6 {
			scale[c] = ref.std[c] / got.std[c]
		}
		shift[c] = ref.mean[c] - got.mean[c]*scale[c]
	}
	plane := n * n
	parallelRows(n, func(y0, y1 int) {
		for i := y0 * n; i < y1*n; i++ {
			lab := srgbToLab(restored[i], restored[plane+i], restored[2*plane+i])
			for c := range 3 {
				lab[c] = lab[c]*scale[c] + shift[c]
			}
			r, g, b := labToSRGB(lab)
			restored[i], restored[plane+i], restored[2*plane+i] = r, g, b
		}
	})
}

// colourStats are the mean and standard deviation of L, a and b over a region.
type colourStats struct{ mean, std [3]float64 }

// labStats measures a planar RGB crop in Lab over the pixels marked in.
func labStats(crop []float32, in []bool) colourStats {
	plane := len(crop) / 3
	var sum, sumSq [3]float64
	count := 0
	for i := range plane {
		if !in[i] {
			continue
		}
		lab := srgbToLab(crop[i], crop[plane+i], crop[2*plane+i])
		for c, v := range lab {
			sum[c] += v
			sumSq[c] += v * v
		}
		count++
	}
	var s colourStats
	if count == 0 {
		return s
	}
	for c := range 3 {
		s.mean[c] = sum[c] / float64(count)
		s.std[c] = math.Sqrt(max(0, sumSq[c]/float64(count)-s.mean[c]*s.mean[c]))
	}
	return s
}

// D65 white in XYZ, and the CIE Lab constants.
const (
	whiteX, whiteY, whiteZ = 0.95047, 1.0, 1.08883
	labDelta               = 6.0 / 29
)

// srgbToLab converts an sRGB colour in 0..1 to CIE L*a*b* (L 0..100).
func srgbToLab(r, g, b float32) [3]float64 {
	lr, lg, lb := srgbToLinear(float64(r)), srgbToLinear(float64(g)), srgbToLinear(float64(b))
	x := 0.4124564*lr + 0.3575761*lg + 0.1804375*lb
	y := 0.2126729*lr + 0.7151522*lg + 0.0721750*lb
	z := 0.0193339*lr + 0.1191920*lg + 0.9503041*lb
	fx, fy, fz := labF(x/whiteX), labF(y/whiteY), labF(z/whiteZ)
	return [3]float64{116*fy - 16, 500 * (fx - fy), 200 * (fy - fz)}
}

// labToSRGB converts CIE L*a*b* back to sRGB, clipped to 0..1.
func labToSRGB(lab [3]float64) (r, g, b float32) {
	fy := (lab[0] + 16) / 116
	fx, fz := fy+lab[1]/500, fy-lab[2]/200
	x, y, z := whiteX*labFInverse(fx), whiteY*labFInverse(fy), whiteZ*labFInverse(fz)
	lr := 3.2404542*x - 1.5371385*y - 0.4985314*z
	lg := -0.9692660*x + 1.8760108*y + 0.0415560*z
	lb := 0.0556434*x - 0.2040259*y + 1.0572252*z
	return float32(linearToSRGB(lr)), float32(linearToSRGB(lg)), float32(linearToSRGB(lb))
}

func labF(t float64) float64 {
	if t > labDelta*labDelta*labDelta {
		return math.Cbrt(t)
	}
	return t/(3*labDelta*labDelta) + 4.0/29
}

func labFInverse(t float64) float64 {
	if t > labDelta {
		return t * t * t
	}
	return 3 * labDelta * labDelta * (t - 4.0/29)
}

// srgbToLinear undoes the sRGB transfer curve.
func srgbToLinear(v float64) float64 {
	if v <= 0.04045 {
		return v / 12.92
	}
	return math.Pow((v+0.055)/1.055, 2.4)
}

// linearToSRGB applies the sRGB transfer curve, clipping to 0..1.
func linearToSRGB(v float64) float64 {
	switch {
	case !(v > 0): // also NaN
		return 0
	case v >= 1:
		return 1
	case v <= 0.0031308:
		return 12.92 * v
	}
	return 1.055*math.Pow(v, 1/2.4) - 0.055
}
