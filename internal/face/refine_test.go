package face

import (
	"context"
	"testing"
)

// The shifts of a round must fall on different phases of every stride, the finest (8) too.
func TestRefineOffsetsCoverEveryStride(t *testing.T) {
	for _, n := range refineRounds {
		offsets := refineOffsets(n)
		if offsets[0] != 0 || offsets[n-1] >= int(refinePeriod) {
			t.Errorf("%d shifts: offsets %v, want 0 up to under %v", n, offsets, refinePeriod)
		}
		for _, stride := range yunetStrides {
			phases := map[int]bool{}
			for _, o := range offsets {
				phases[o%stride] = true
			}
			if len(phases) != n {
				t.Errorf("%d shifts %v fall on %d phases of stride %d, want %d", n, offsets, len(phases), stride, n)
			}
		}
	}
}

// Landmarks stay as the detector gave them where the crop shows no face, and on a face too
// small to be restored; a face that is there is refined.
func TestRefineKeepsOrMovesLandmarks(t *testing.T) {
	y := sharedYuNet(t)
	astronaut := sharedImage(t, "images", "astronaut.png")
	found := oneFace(t, detectFaces(t, y, astronaut))
	// The astronaut's landmarks as YuNet's detection pass gives them, before refinement.
	raw := found
	raw.Landmarks = [5]Point{{200.1, 101.8}, {247.1, 102.6}, {220.4, 124.5}, {198.6, 142.8}, {239.7, 143.6}}
	tiny := raw
	for i, p := range tiny.Landmarks {
		tiny.Landmarks[i] = Point{210 + (p.X-210)/12, 110 + (p.Y-110)/12} // 3.9 px between the eyes
	}
	invented := Face{Score: 0.9, Landmarks: [5]Point{{100, 100}, {150, 100}, {125, 130}, {105, 160}, {145, 160}}}
	for _, c := range []struct {
		name   string
		img    string
		face   Face
		refine bool
	}{
		{"no face in the crop", "coffee.png", invented, false},
		{"under MinEyeDistance", "astronaut.png", tiny, false},
		{"the astronaut", "astronaut.png", raw, true},
	} {
		faces := []Face{c.face}
		if err := y.refineAll(context.Background(), sharedImage(t, "images", c.img), faces); err != nil {
			t.Fatal(err)
		}
		if moved := faces[0] != c.face; moved != c.refine {
			t.Errorf("%s: refined %v, want %v (landmarks %v, given %v)", c.name, moved, c.refine, faces[0].Landmarks, c.face.Landmarks)
		}
		if c.refine && pointDist(faces[0].Landmarks[0], found.Landmarks[0]) > 0.5 {
			t.Errorf("%s: left eye refined to %v, want where Detect puts it, %v", c.name, faces[0].Landmarks[0], found.Landmarks[0])
		}
	}
}

// The crop's windows are copied, plane by plane, from the right place.
func TestCopyCropWindow(t *testing.T) {
	span := refineSize + 3
	crop := make([]float32, 3*span*span)
	for i := range crop {
		crop[i] = float32(i)
	}
	dst := make([]float32, 3*refineSize*refineSize)
	copyCropWindow(crop, span, 2, 1, dst)
	for _, c := range []struct{ plane, x, y int }{{0, 0, 0}, {1, 5, 7}, {2, refineSize - 1, refineSize - 1}} {
		got := dst[c.plane*refineSize*refineSize+c.y*refineSize+c.x]
		want := crop[c.plane*span*span+(c.y+1)*span+c.x+2]
		if got != want {
			t.Errorf("plane %d (%d, %d) = %v, want %v", c.plane, c.x, c.y, got, want)
		}
	}
}
