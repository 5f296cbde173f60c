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

// Where the crop shows no face, the landmarks stay as the detector gave them.
func TestRefineKeepsLandmarksWithoutAFace(t *testing.T) {
	y := sharedYuNet(t)
	coffee := sharedImage(t, "images", "coffee.png")
	invented := Face{Score: 0.9, Landmarks: [5]Point{{100, 100}, {150, 100}, {125, 130}, {105, 160}, {145, 160}}}
	faces := []Face{invented}
	if err := y.refineAll(context.Background(), coffee, faces); err != nil {
		t.Fatal(err)
	}
	if faces[0] != invented {
		t.Errorf("refined to %+v, want it unchanged: %+v", faces[0], invented)
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
