package face

import (
	"context"
	"math"
	"sort"

	"dream/internal/imageio"
)

// Detector finds faces and their five landmarks (SPEC §2.2 step 1). Implementations return the
// faces in the coordinates of img, highest score first, and do not modify img.
type Detector interface {
	Detect(ctx context.Context, img *imageio.Image) ([]Face, error)
}

// suppress is greedy non-maximum suppression: faces are visited from the highest score down
// (ties keep their order, as OpenCV's stable sort does) and a face is kept only when its box
// overlaps every face kept so far by an IoU of at most maxIoU. The result is sorted by score,
// highest first.
func suppress(faces []Face, maxIoU float64) []Face {
	sorted := byScore(faces)
	kept := sorted[:0]
	for _, f := range sorted {
		if !overlapsAny(f, kept, maxIoU) {
			kept = append(kept, f)
		}
	}
	return kept
}

// best returns the n highest-scoring faces, highest first, without modifying faces.
func best(faces []Face, n int) []Face {
	sorted := byScore(faces)
	return sorted[:min(n, len(sorted))]
}

// byScore returns a copy of faces sorted by score, highest first; ties keep their order.
func byScore(faces []Face) []Face {
	sorted := append([]Face(nil), faces...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Score > sorted[j].Score })
	return sorted
}

func overlapsAny(f Face, kept []Face, maxIoU float64) bool {
	for _, k := range kept {
		if iou(f.Box, k.Box) > maxIoU {
			return true
		}
	}
	return false
}

// iou is the intersection over union of two boxes given as top-left and bottom-right corners.
// Empty boxes overlap nothing.
func iou(a, b [2]Point) float64 {
	w := math.Min(a[1].X, b[1].X) - math.Max(a[0].X, b[0].X)
	h := math.Min(a[1].Y, b[1].Y) - math.Max(a[0].Y, b[0].Y)
	if w <= 0 || h <= 0 {
		return 0
	}
	inter := w * h
	union := boxArea(a) + boxArea(b) - inter
	if union <= 0 {
		return 0
	}
	return inter / union
}

func boxArea(b [2]Point) float64 {
	return math.Max(0, b[1].X-b[0].X) * math.Max(0, b[1].Y-b[0].Y)
}

// finite reports whether every coordinate and the score of f are real numbers, so a model
// that misbehaves on some input cannot hand NaN corners to the alignment step.
func (f Face) finite() bool {
	values := []float64{f.Score, f.Box[0].X, f.Box[0].Y, f.Box[1].X, f.Box[1].Y}
	for _, p := range f.Landmarks {
		values = append(values, p.X, p.Y)
	}
	for _, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}
