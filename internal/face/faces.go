package face

import (
	"context"
	"slices"

	"dream/internal/imageio"
)

// MinEyeDistance is the smallest eye distance, in pixels of the detection image, of a face
// worth restoring; smaller ones would be blown up from a few pixels into a 512 crop.
const MinEyeDistance = 5

// Options for restoring the faces of one image.
type Options struct {
	Strength float64 // -G: 0 keeps the image, 1 the restored faces
	Fidelity float64 // -cf, for CodeFormer
	// Choice is --faces: which of the faces found to restore (the zero Choice: all).
	Choice Choice
	// MatchColour is --face_color match: each restored face takes the original face's
	// colour statistics before it is pasted (MatchColour).
	MatchColour bool
	// Progress, when set, is told 0 of n once the faces to restore are known, then after
	// each face.
	Progress func(done, total int)
}

// Restore finds the faces of before, restores the ones opts.Choice picks, pastes them one
// after another onto a copy of after, and blends that with after by the strength (SPEC §2.2).
// after is before itself, or before upscaled: the detector and the restorer see the original
// pixels, and the faces land on the larger image (GFPGAN's bg_upsampler design). It returns
// the result and what it found and restored; when it restored nothing, after comes back
// unchanged.
//
// Only the colour samples inside a face's soft mask change, at after's depth: alpha, and
// every sample outside the masks, keep their exact values.
func Restore(ctx context.Context, det Detector, r *Restorer, before, after *imageio.Image, opts Options) (*imageio.Image, Report, error) {
	found, err := det.Detect(ctx, before)
	if err != nil {
		return nil, Report{}, err
	}
	found = slices.DeleteFunc(found, func(f Face) bool { return f.EyeDistance() < MinEyeDistance })
	faces := ByEyeDistance(found)
	var report Report
	for _, f := range faces {
		report.Found = append(report.Found, f.EyeDistance())
	}
	report.Restored, report.Missing = opts.Choice.pick(faces)
	if len(report.Restored) == 0 {
		return after, report, nil
	}
	progress := opts.Progress
	if progress == nil {
		progress = func(int, int) {}
	}
	progress(0, len(report.Restored))
	u := float64(after.W) / float64(before.W)
	pasted := clone(after)
	for i, number := range report.Restored {
		m := AlignTransform(faces[number-1].Landmarks)
		crop := WarpFace(before, m, CropSize)
		restored, err := r.Restore(ctx, crop, opts.Fidelity)
		if err != nil {
			return nil, Report{}, err
		}
		if opts.MatchColour {
			MatchColour(restored, crop)
		}
		PasteFace(pasted, restored, m, u)
		progress(i+1, len(report.Restored))
	}
	if opts.Strength >= 1 {
		return pasted, report, nil
	}
	return Blend(after, pasted, opts.Strength), report, nil
}

func clone(img *imageio.Image) *imageio.Image {
	c := *img
	c.Pix = slices.Clone(img.Pix)
	return &c
}
