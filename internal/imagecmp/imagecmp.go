// Package imagecmp measures how far two images are apart, in the units the project's
// acceptance figures use: PSNR in dB and the largest per-sample difference.
package imagecmp

import (
	"fmt"
	"math"

	"dream/internal/imageio"
)

// Diff is the distance between two images of the same size and layout.
type Diff struct {
	PSNR float64 // dB over all samples; +Inf when the images are equal
	// MaxAbs is the largest per-sample difference, as a fraction of the full scale (1/255 is
	// one step of an 8-bit image).
	MaxAbs float64
}

func (d Diff) String() string {
	return fmt.Sprintf("PSNR %.2f dB, max abs diff %.4f (%.1f/255)", d.PSNR, d.MaxAbs, d.MaxAbs*255)
}

// Compare returns the distance between a and b, which must match in size, channels and depth.
func Compare(a, b *imageio.Image) (Diff, error) {
	if a.W != b.W || a.H != b.H || a.Channels != b.Channels || a.Depth != b.Depth {
		return Diff{}, fmt.Errorf("images differ in layout: %dx%d×%d@%d vs %dx%d×%d@%d",
			a.W, a.H, a.Channels, a.Depth, b.W, b.H, b.Channels, b.Depth)
	}
	full := float64(a.MaxValue())
	n := a.W * a.H * a.Channels
	var sumSq float64
	var worst int
	for i := range n {
		d := int(a.At(i)) - int(b.At(i))
		sumSq += float64(d * d)
		worst = max(worst, d, -d)
	}
	mse := sumSq / float64(n) / (full * full)
	return Diff{PSNR: 10 * math.Log10(1/mse), MaxAbs: float64(worst) / full}, nil
}
