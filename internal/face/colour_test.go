package face

import (
	"context"
	"math"
	"testing"

	"dream/internal/imageio"
	"dream/internal/onnxpb"
)

// Published CIE Lab values of sRGB colours (D65), e.g. Bruce Lindbloom's calculator.
func TestSRGBToLab(t *testing.T) {
	tests := []struct {
		rgb [3]float32
		lab [3]float64
	}{
		{[3]float32{0, 0, 0}, [3]float64{0, 0, 0}},
		{[3]float32{1, 1, 1}, [3]float64{100, 0, 0}},
		{[3]float32{1, 0, 0}, [3]float64{53.2408, 80.0925, 67.2032}},
		{[3]float32{0, 1, 0}, [3]float64{87.7347, -86.1827, 83.1793}},
		{[3]float32{0, 0, 1}, [3]float64{32.2970, 79.1875, -107.8602}},
		{[3]float32{0.5, 0.5, 0.5}, [3]float64{53.3890, 0, 0}},
	}
	for _, tt := range tests {
		got := srgbToLab(tt.rgb[0], tt.rgb[1], tt.rgb[2])
		for c := range 3 {
			if math.Abs(got[c]-tt.lab[c]) > 0.01 {
				t.Errorf("sRGB %v: Lab %.4f, want %.4f", tt.rgb, got, tt.lab)
				break
			}
		}
	}
}

// Lab and back gives every colour of a 33³ grid of the sRGB cube back.
func TestLabRoundTrip(t *testing.T) {
	var worst float64
	for r := 0; r <= 32; r++ {
		for g := 0; g <= 32; g++ {
			for b := 0; b <= 32; b++ {
				in := [3]float32{float32(r) / 32, float32(g) / 32, float32(b) / 32}
				or, og, ob := labToSRGB(srgbToLab(in[0], in[1], in[2]))
				for c, v := range [3]float32{or, og, ob} {
					worst = max(worst, math.Abs(float64(v-in[c])))
				}
			}
		}
	}
	if worst > 1e-5 {
		t.Errorf("sRGB → Lab → sRGB is off by up to %.2g", worst)
	}
}

// MatchColour on a crop that is the original with its L shifted and its a and b shifted and
// scaled gives the original back; matched to itself, a crop stays as it is.
func TestMatchColourUndoesLabChange(t *testing.T) {
	const n = 64
	original := make([]float32, 3*n*n)
	for i := range n * n {
		x, y := float64(i%n)/n, float64(i/n)/n
		original[i] = float32(0.35 + 0.3*x)
		original[n*n+i] = float32(0.25 + 0.2*y)
		original[2*n*n+i] = float32(0.2 + 0.1*x*y)
	}
	changed := make([]float32, len(original))
	for i := range n * n {
		lab := srgbToLab(original[i], original[n*n+i], original[2*n*n+i])
		lab = [3]float64{lab[0] - 4, lab[1]*0.8 + 6, lab[2] - 5}
		changed[i], changed[n*n+i], changed[2*n*n+i] = labToSRGB(lab)
	}
	tests := []struct {
		name     string
		restored []float32
	}{
		{"shifted and scaled in Lab", changed},
		{"the original itself", append([]float32(nil), original...)},
	}
	for _, tt := range tests {
		MatchColour(tt.restored, original)
		var worst float64
		for i := range original {
			worst = max(worst, math.Abs(float64(tt.restored[i]-original[i])))
		}
		t.Logf("%s: largest difference from the original after matching %.2g", tt.name, worst)
		if worst > 1e-4 {
			t.Errorf("%s: matched crop differs from the original by %.4f", tt.name, worst)
		}
	}
}

// The restored face's spread of lightness is its detail: matching moves L's mean to the
// original's and keeps its spread.
func TestMatchColourKeepsDetail(t *testing.T) {
	const n = 64
	original := make([]float32, 3*n*n)
	for i := range n * n {
		v := float32(0.4 + 0.2*float64(i%n)/n)
		original[i], original[n*n+i], original[2*n*n+i] = v, v*0.8, v*0.7
	}
	sharper := make([]float32, len(original))
	for i := range n * n {
		lab := srgbToLab(original[i], original[n*n+i], original[2*n*n+i])
		lab[0] = (lab[0]-50)*1.5 + 52
		sharper[i], sharper[n*n+i], sharper[2*n*n+i] = labToSRGB(lab)
	}
	all := make([]bool, n*n)
	for i := range all {
		all[i] = true
	}
	before := labStats(sharper, all)
	MatchColour(sharper, original)
	after, want := labStats(sharper, regionMask(n)), labStats(original, regionMask(n))
	if math.Abs(after.mean[0]-want.mean[0]) > 0.01 {
		t.Errorf("L's mean after matching %.3f, want the original's %.3f", after.mean[0], want.mean[0])
	}
	if got := labStats(sharper, all).std[0]; math.Abs(got-before.std[0]) > 0.01 {
		t.Errorf("L's spread went from %.3f to %.3f, want it kept", before.std[0], got)
	}
}

// colourShift is a restorer that adds a fixed amount to each channel, in the model's [−1, 1]
// space, and is the identity otherwise.
func colourShift(shift [3]float32) func(g *onnxpb.Graph) {
	return func(g *onnxpb.Graph) {
		g.AddInitializer(onnxpb.Float32Tensor("shift", []int64{1, 3, 1, 1}, shift[:]))
		g.Add("Add", []string{"input", "shift"}, []string{"output"})
	}
}

// inFaceRegion reports, for each pixel of a w×h image, whether the alignment m puts it inside
// faceRegion, the part of the face whose colour MatchColour measures.
func inFaceRegion(m Affine, w, h int) []bool {
	in := make([]bool, w*h)
	for y := range h {
		for x := range w {
			p := m.Apply(Point{float64(x), float64(y)})
			dx, dy := (p.X-faceRegion.cx)/faceRegion.rx, (p.Y-faceRegion.cy)/faceRegion.ry
			in[y*w+x] = dx*dx+dy*dy <= 1
		}
	}
	return in
}

// meanRGB is the mean of each colour channel over the marked pixels, in 8-bit levels.
func meanRGB(img *imageio.Image, in []bool) [3]float64 {
	var sum [3]float64
	count := 0
	for i, ok := range in {
		if !ok {
			continue
		}
		for c := range 3 {
			sum[c] += float64(img.At(i*img.Channels+c)) * 255 / fullScale(img.Depth)
		}
		count++
	}
	for c := range sum {
		sum[c] /= float64(count)
	}
	return sum
}

// A restorer that shifts the colour (+0.1 red, −0.08 blue in [−1, 1]: +12.75 and −10.2
// levels): with colour matching the pasted face's mean colour comes back within one level of
// the original's; without, it keeps the shift.
func TestRestoreMatchesColour(t *testing.T) {
	shift := [3]float32{0.1, 0, -0.08}
	r, err := LoadGFPGAN(testRuntime, writeRestorer(t, "gfpgan_1.4.onnx", nil, colourShift(shift)))
	if err != nil {
		t.Fatal(err)
	}
	y := sharedYuNet(t)
	for _, depth := range []int{8, 16} {
		img := sharedImage(t, "images", "astronaut.png")
		if depth == 16 {
			img = to16(img)
		}
		found := oneFace(t, detectFaces(t, y, img))
		region := inFaceRegion(AlignTransform(found.Landmarks), img.W, img.H)
		before := meanRGB(img, region)
		for _, match := range []bool{true, false} {
			out, report, err := Restore(context.Background(), y, r, img, img, Options{Strength: 1, MatchColour: match})
			if err != nil || len(report.Restored) != 1 {
				t.Fatalf("restored %v faces (%v)", report.Restored, err)
			}
			after := meanRGB(out, region)
			var moved [3]float64
			for c := range 3 {
				moved[c] = after[c] - before[c]
			}
			t.Logf("%d bits, match %v: mean RGB of the face %.2f → %.2f, moved by %+.2f levels",
				depth, match, before, after, moved)
			for c := range 3 {
				want := 0.0
				if !match {
					want = float64(shift[c]) / 2 * 255
				}
				if math.Abs(moved[c]-want) > 1 {
					t.Errorf("%d bits, match %v: channel %d moved by %+.2f levels, want %+.2f ± 1",
						depth, match, c, moved[c], want)
				}
			}
		}
	}
}
