package job

import (
	"fmt"
	"math"
	"strconv"
)

// The limits of -U and of !fix's target size: any factor from 1 (the network's pass without
// enlarging) to 8 (two ×4 or ×2 passes, as far as dream goes), and a target side from the
// image's own to 8 times it. MaxTarget only keeps the arithmetic sane before the image is
// known; the real limit is 8 times the image's side, and the result must stay under
// imageio.MaxPixels, both checked by the pipeline once the image is read.
const (
	MinUpscale, MaxUpscale = 1, 8
	MaxTarget              = 8 * 20000
)

// Targets reports whether !fix gave a target size (-W, -H or both), which decides the size
// of the result whatever the factor.
func (u Upscale) Targets() bool { return u.Width > 0 || u.Height > 0 }

// Size is the size -U makes of a w×h image:
//   - with -W and -H, exactly that;
//   - with one of them, that side, and the other keeping the image's aspect ratio, rounded to
//     the nearest pixel;
//   - else each side times the factor, rounded to the nearest pixel.
//
// Every side must come out between 1 and 8 times the image's; the error says so in one line.
func (u Upscale) Size(w, h int) (outW, outH int, err error) {
	switch {
	case u.Width > 0 && u.Height > 0:
		outW, outH = u.Width, u.Height
	case u.Width > 0:
		outW, outH = u.Width, scaleSide(h, float64(u.Width)/float64(w))
	case u.Height > 0:
		outW, outH = scaleSide(w, float64(u.Height)/float64(h)), u.Height
	default:
		return scaleSide(w, u.Factor), scaleSide(h, u.Factor), nil
	}
	if err := checkTarget("-W", "width", u.Width, w); err != nil {
		return 0, 0, err
	}
	if err := checkTarget("-H", "height", u.Height, h); err != nil {
		return 0, 0, err
	}
	return outW, outH, nil
}

// scaleSide is a side times a factor, rounded to the nearest pixel.
func scaleSide(side int, factor float64) int {
	return int(math.Round(float64(side) * factor))
}

// checkTarget refuses a target side outside 1 to 8 times the image's (0: not given).
func checkTarget(name, what string, target, side int) error {
	if target == 0 || (target >= side && target <= MaxUpscale*side) {
		return nil
	}
	return fmt.Errorf("%s %d: the target %s must be from %d to %d pixels for this image, whose %s is %d (!fix enlarges 1 to %d times)",
		name, target, what, side, MaxUpscale*side, what, side, MaxUpscale)
}

// NetworkFactor is the -U factor a target size stands for when !fix gives no -U: the smallest
// of the networks' own scales, ×2, ×4 or ×4 twice (×8), that reaches scale, the larger of the
// target's two ratios to the image. The result is then resized to the target exactly.
func NetworkFactor(scale float64) float64 {
	for _, f := range []float64{2, 4} {
		if scale <= f {
			return f
		}
	}
	return MaxUpscale
}

// Resolved is u with the factor a target stands for filled in (NetworkFactor), for a w×h
// image: what the command stored in the result spells, so that -U's strength is written out.
func (u Upscale) Resolved(w, h int) Upscale {
	if u.Factor > 0 || !u.Targets() {
		return u
	}
	if outW, outH, err := u.Size(w, h); err == nil {
		u.Factor = NetworkFactor(max(float64(outW)/float64(w), float64(outH)/float64(h)))
	}
	return u
}

// upscale returns the job's -U settings, created with the default strength on first use: -W
// or -H on !fix stand for -U when it is not given.
func upscale(j *Job) *Upscale {
	if j.Upscale == nil {
		j.Upscale = &Upscale{Strength: DefaultUpscaleStrength}
	}
	return j.Upscale
}

func parseUpscale(j *Job, name string, vals []string) (int, error) {
	if len(vals) == 0 || len(vals) > 2 {
		return 0, fmt.Errorf("%s takes a factor from %d to %d and an optional strength from 0 to 1, e.g. %s 4 0.6 or %s 1.5",
			name, MinUpscale, MaxUpscale, name, name)
	}
	factor, err := strconv.ParseFloat(vals[0], 64)
	if err != nil || !(factor >= MinUpscale && factor <= MaxUpscale) {
		return 0, fmt.Errorf("%s %s: the upscale factor must be a number from %d to %d, e.g. 1.5, 2 or 4",
			name, vals[0], MinUpscale, MaxUpscale)
	}
	strength := DefaultUpscaleStrength
	if len(vals) == 2 {
		s, err := strconv.ParseFloat(vals[1], 64)
		if err != nil || !inUnit(s) {
			return 0, fmt.Errorf("%s %s %s: the upscale strength must be a number from 0 to 1", name, vals[0], vals[1])
		}
		strength = s
	}
	up := upscale(j)
	up.Factor, up.Strength = factor, strength
	return len(vals), nil
}

// parseTarget reads -W or -H on !fix: the side, in pixels, to upscale to.
func parseTarget(name string, vals []string, side *int, what string) (int, error) {
	n, err := oneInt(name, vals, 1, MaxTarget, fmt.Sprintf("the %s to upscale to, in pixels, e.g. 1600", what))
	*side = n
	return 1, err
}
