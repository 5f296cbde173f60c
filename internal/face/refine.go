package face

import (
	"context"
	"math"

	onnx "github.com/yalue/onnxruntime_go"

	"dream/internal/imageio"
)

// Landmark refinement. YuNet's landmarks depend on where a face falls on the network's stride
// grid and on the face's size: the same face pasted at different places and sizes gets
// landmarks that differ by 6–25% of its eye distance, up to 24 px on a face with 150 px between
// the eyes. The restorer's crop is cut from those landmarks, so that error becomes a crooked or
// shifted crop and a restored face pasted off its place.
//
// refineAll removes most of it by looking at every face the same way. It cuts a crop that
// puts the landmarks found so far at one size and place (refineEyes between the eyes,
// upright, centred: the FFHQ template scaled), runs YuNet on it at nine small shifts, and
// averages what the runs give, mapped back to the image. The crop takes the face's size out;
// the shifts average the stride grid's phase out. A first round brings the crop near the
// face's own landmarks and a second, cut from those, measures them. On 14 designed copies of
// one face at 12–150 px between the eyes and about 220 random ones (16 seeds of
// TestYuNetLandmarksAtRandomPlaces, which runs 4), every landmark lands within 1.2 px of the
// copy's; the tests log each face's error.
const (
	// refineEyes is the eye distance in the refinement crop, in its pixels. YuNet places
	// landmarks more consistently on a face this size than on one of 32–64 px.
	refineEyes = 96.0
	// refineSize is the crop's side: a multiple of yunetDivisor with the face's whole head and
	// some background in it, the context YuNet was trained with.
	refineSize = 384
	// refinePeriod is the coarsest stride: shifting the crop by it shows YuNet the same grid
	// phase again, so shifts spread over one period sample every phase evenly.
	refinePeriod = 32.0
)

// refineRounds are the rounds' shift grids: 3×3 runs, twice. Three shifts of a third of
// refinePeriod (0, 11 and 21 px) fall on different phases of every stride; four (0, 8, 16,
// 24) would all fall on the same phase of the finest, and measured worse.
var refineRounds = []int{3, 3}

// refineOffsets are the window offsets of n shifts spread over refinePeriod, rounded to whole
// pixels so that every window is a plain copy out of one warped crop.
func refineOffsets(n int) []int {
	offsets := make([]int, n)
	for i := range offsets {
		offsets[i] = int(math.Round(refinePeriod * float64(i) / float64(n)))
	}
	return offsets
}

// refineTemplate is where the landmarks sit in a span×span refinement crop: FFHQ512 scaled
// to refineEyes between the eyes, about the crop's centre.
func refineTemplate(span int) [5]Point {
	k := refineEyes / pointDist(FFHQ512[0], FFHQ512[1])
	centre := float64(span) / 2
	var t [5]Point
	for i, p := range FFHQ512 {
		t[i] = Point{(p.X-256)*k + centre, (p.Y-256)*k + centre}
	}
	return t
}

func pointDist(a, b Point) float64 { return math.Hypot(a.X-b.X, a.Y-b.Y) }

// refineAll refines the landmarks of every face large enough to be restored; boxes and
// scores stay as detected. Faces under MinEyeDistance keep YuNet's landmarks: Restore skips
// them, so refining them would be time spent for nothing.
func (y *YuNet) refineAll(ctx context.Context, img *imageio.Image, faces []Face) error {
	if len(faces) == 0 {
		return nil
	}
	in, err := onnx.NewEmptyTensor[float32](onnx.NewShape(1, 3, refineSize, refineSize))
	if err != nil {
		return err
	}
	defer in.Destroy()
	for i := range faces {
		if faces[i].EyeDistance() < MinEyeDistance {
			continue
		}
		for _, shifts := range refineRounds {
			landmarks, ok, err := y.landmarksOverShifts(ctx, img, faces[i].Landmarks, shifts, in)
			if err != nil {
				return err
			}
			if !ok {
				break // YuNet does not see this face upright and centred; keep what it found
			}
			faces[i].Landmarks = landmarks
		}
	}
	return nil
}

// landmarksOverShifts cuts a refinement crop from the landmarks given, large enough for
// shifts×shifts windows of refineSize² at offsets spread over refinePeriod, runs YuNet on each
// window, and returns the mean of the landmarks the runs find, in image coordinates. ok is
// false when no run finds the face.
func (y *YuNet) landmarksOverShifts(ctx context.Context, img *imageio.Image, landmarks [5]Point, shifts int, in *onnx.Tensor[float32]) ([5]Point, bool, error) {
	offsets := refineOffsets(shifts)
	span := refineSize + offsets[len(offsets)-1]
	template := refineTemplate(span)
	toCrop := fitSimilarity(landmarks[:], template[:])
	toImage := toCrop.Invert()
	crop := warpBGR(img, toCrop, span)
	var sum [5]Point
	runs := 0
	for _, oy := range offsets {
		for _, ox := range offsets {
			offset := Point{float64(ox), float64(oy)}
			copyCropWindow(crop, span, ox, oy, in.GetData())
			found, ok, err := y.landmarksInWindow(ctx, in, template, offset)
			if err != nil {
				return landmarks, false, err
			}
			if !ok {
				continue
			}
			for k, p := range found {
				q := toImage.Apply(Point{p.X + offset.X, p.Y + offset.Y})
				sum[k] = Point{sum[k].X + q.X, sum[k].Y + q.Y}
			}
			runs++
		}
	}
	if runs == 0 {
		return landmarks, false, nil
	}
	for k := range sum {
		sum[k] = Point{sum[k].X / float64(runs), sum[k].Y / float64(runs)}
	}
	return sum, true, nil
}

// copyCropWindow copies the refineSize² window at (ox, oy) of a span×span planar crop into
// dst, a [1,3,refineSize,refineSize] tensor.
func copyCropWindow(crop []float32, span, ox, oy int, dst []float32) {
	n := refineSize
	for c := range 3 {
		for y := range n {
			from := crop[c*span*span+(oy+y)*span+ox:][:n]
			copy(dst[c*n*n+y*n:][:n], from)
		}
	}
}

// landmarksInWindow runs YuNet once on the window already in the input tensor and returns, in
// window coordinates, the landmarks of the face whose eyes are nearest the template's (given
// in crop coordinates, offset being the window's corner in them); ok is false when no face
// has its eyes within half the template's eye distance.
func (y *YuNet) landmarksInWindow(ctx context.Context, in *onnx.Tensor[float32], template [5]Point, offset Point) ([5]Point, bool, error) {
	faces, err := y.run(ctx, in, refineSize, refineSize)
	if err != nil {
		return [5]Point{}, false, err
	}
	left := Point{template[0].X - offset.X, template[0].Y - offset.Y}
	right := Point{template[1].X - offset.X, template[1].Y - offset.Y}
	var nearest [5]Point
	nearestDist := refineEyes // two eyes each within half the eye distance
	found := false
	for _, f := range suppress(best(faces, yunetTopK), yunetNMSIoU) {
		if d := pointDist(f.Landmarks[0], left) + pointDist(f.Landmarks[1], right); d < nearestDist {
			nearest, nearestDist, found = f.Landmarks, d, true
		}
	}
	return nearest, found, nil
}

// warpBGR returns the n×n crop toCrop (image → crop) cuts from img, as YuNet reads it: BGR
// planes on 0..255. Where the crop shrinks the image, each crop pixel averages as many taps a
// side as it covers image pixels, so a large face shrinks without aliasing; at most 8, so a
// face over 770 px between the eyes is sampled a little sparsely rather than at thousands of
// taps a pixel.
func warpBGR(img *imageio.Image, toCrop Affine, n int) []float32 {
	toImage := toCrop.Invert()
	taps := min(8, max(1, int(math.Ceil(math.Hypot(toImage[0], toImage[3])))))
	return warp(img, toCrop, n, taps, 255, true)
}
