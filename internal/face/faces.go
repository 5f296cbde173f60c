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
	// Progress, when set, is told 0 of n once the faces are found, then after each face.
	Progress func(done, total int)
}

// Restore finds the faces of before, restores each, pastes them one after another onto a copy
// of after, and blends that with after by the strength (SPEC §2.2). after is before itself, or
// before upscaled: the detector and the restorer see the original pixels, and the faces land
// on the larger image (GFPGAN's bg_upsampler design). It returns the result and how many faces
// it restored; with none, after comes back unchanged.
func Restore(ctx context.Context, det Detector, r *Restorer, before, after *imageio.Image, opts Options) (*imageio.Image, int, error) {
	faces, err := det.Detect(ctx, before)
	if err != nil {
		return nil, 0, err
	}
	faces = slices.DeleteFunc(faces, func(f Face) bool { return f.EyeDistance() < MinEyeDistance })
	if len(faces) == 0 {
		return after, 0, nil
	}
	report := opts.Progress
	if report == nil {
		report = func(int, int) {}
	}
	report(0, len(faces))
	u := float64(after.W) / float64(before.W)
	pasted := clone(after)
	for i, f := range faces {
		m := AlignTransform(f.Landmarks)
		restored, err := r.Restore(ctx, WarpFace(before, m, CropSize), opts.Fidelity)
		if err != nil {
			return nil, 0, err
		}
		PasteFace(pasted, restored, m, u)
		report(i+1, len(faces))
	}
	if opts.Strength >= 1 {
		return pasted, len(faces), nil
	}
	return Blend(after, pasted, opts.Strength), len(faces), nil
}

func clone(img *imageio.Image) *imageio.Image {
	c := *img
	c.Pix = slices.Clone(img.Pix)
	return &c
}
