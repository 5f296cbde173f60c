// Package face finds faces in an image, aligns each to the FFHQ 512×512 template, runs a
// restorer (GFPGAN or CodeFormer) on the crop, and pastes the result back with a soft mask
// (SPEC §2.2).
package face

import "math"

// Point is a position in image pixels. As in OpenCV and the reference code, pixel (x, y) is
// sampled at integer coordinates (x, y).
type Point struct{ X, Y float64 }

// Face is one detected face in the coordinates of the image it was found in.
type Face struct {
	// Box is the face's bounding box: top-left and bottom-right corners.
	Box [2]Point
	// Score is the detector's confidence, 0 to 1.
	Score float64
	// Landmarks are left eye, right eye, nose tip, left and right mouth corners, as seen in
	// the image (the "left eye" is the one on the image's left).
	Landmarks [5]Point
}

// EyeDistance is the distance between the eyes, used to skip faces too small to restore.
func (f Face) EyeDistance() float64 {
	dx, dy := f.Landmarks[1].X-f.Landmarks[0].X, f.Landmarks[1].Y-f.Landmarks[0].Y
	return math.Hypot(dx, dy)
}

// Affine is a 2×3 matrix mapping (x, y) to (A·x + B·y + C, D·x + E·y + F).
type Affine [6]float64

// Apply maps a point.
func (m Affine) Apply(p Point) Point {
	return Point{m[0]*p.X + m[1]*p.Y + m[2], m[3]*p.X + m[4]*p.Y + m[5]}
}
