package face

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Choice says which of the faces found to restore (--faces). The zero Choice restores them
// all; otherwise the first field set decides.
//
// Faces are numbered from 1 in ByEyeDistance's order, largest first, the order Report lists
// their sizes in: "--faces 1,3" restores the first and third sizes a report shows.
type Choice struct {
	// Largest restores only the face with the most pixels between its eyes.
	Largest bool
	// Numbers restores these faces, 1-based, in ByEyeDistance's order.
	Numbers []int
	// MinSize restores the faces with at least this many pixels between the eyes.
	MinSize float64
}

// ByEyeDistance returns a copy of faces sorted by the distance between the eyes, largest
// first. Equal sizes go top to bottom, then left to right, so the order does not depend on
// the order the detector found them in.
func ByEyeDistance(faces []Face) []Face {
	sorted := slices.Clone(faces)
	slices.SortStableFunc(sorted, func(a, b Face) int {
		return cmp.Or(
			cmp.Compare(b.EyeDistance(), a.EyeDistance()), // larger first
			cmp.Compare(a.Box[0].Y, b.Box[0].Y),
			cmp.Compare(a.Box[0].X, b.Box[0].X),
		)
	})
	return sorted
}

// pick returns the 1-based numbers of the faces of sorted (largest first) that c restores,
// ascending, and the numbers c names that no face has.
func (c Choice) pick(sorted []Face) (chosen, missing []int) {
	switch {
	case c.Largest:
		if len(sorted) > 0 {
			chosen = []int{1}
		}
	case len(c.Numbers) > 0:
		for _, n := range c.Numbers {
			if n >= 1 && n <= len(sorted) {
				chosen = append(chosen, n)
			} else {
				missing = append(missing, n)
			}
		}
		slices.Sort(chosen)
		chosen = slices.Compact(chosen)
	default:
		for i, f := range sorted {
			if f.EyeDistance() >= c.MinSize {
				chosen = append(chosen, i+1)
			}
		}
	}
	return chosen, missing
}

// Report says what Restore found and did.
type Report struct {
	// Found are the eye distances of the faces found, in pixels of the image the detector
	// saw (the source, before any upscaling), largest first: face n of --faces is Found[n−1].
	// Faces under MinEyeDistance are not counted.
	Found []float64
	// Restored are the numbers of the faces restored, ascending.
	Restored []int
	// Missing are numbers the choice named that no face has.
	Missing []int
}

// listedSizes is how many sizes Summary spells out; a crowd's other faces are an ellipsis.
const listedSizes = 12

// Summary is the report as one line for people:
//
//	3 faces found (180, 96, 41 px between the eyes), 2 restored
//
// An image without faces says so, and numbers asked for that no face has are named.
func (r Report) Summary() string {
	if len(r.Found) == 0 {
		return "no faces found, so -G changed nothing"
	}
	sizes := make([]string, 0, min(len(r.Found), listedSizes)+1)
	for i, d := range r.Found {
		if i == listedSizes {
			sizes = append(sizes, "…")
			break
		}
		sizes = append(sizes, fmt.Sprintf("%.0f", d))
	}
	noun := "faces"
	if len(r.Found) == 1 {
		noun = "face"
	}
	line := fmt.Sprintf("%d %s found (%s px between the eyes), %d restored",
		len(r.Found), noun, strings.Join(sizes, ", "), len(r.Restored))
	if len(r.Restored) == 0 {
		line += ", so -G changed nothing"
	}
	if len(r.Missing) > 0 {
		words := make([]string, len(r.Missing))
		for i, n := range r.Missing {
			words[i] = fmt.Sprint(n)
		}
		line += fmt.Sprintf("; --faces named %s, which the image does not have (faces count from 1, largest first)",
			strings.Join(words, ", "))
	}
	return line
}
