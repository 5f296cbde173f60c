package face

import (
	"context"
	"fmt"
	"image"
	"math"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"dream/internal/imageio"
	"dream/internal/onnxpb"
)

// faceWithEyes is a face whose eyes are d apart, its box's top-left corner at (x, y).
func faceWithEyes(d, x, y float64) Face {
	return Face{Box: [2]Point{{x, y}, {x + 2*d, y + 2*d}},
		Landmarks: [5]Point{{x + d/2, y + d}, {x + 1.5*d, y + d}}}
}

func eyeDistances(faces []Face) []float64 {
	var d []float64
	for _, f := range faces {
		d = append(d, f.EyeDistance())
	}
	return d
}

// Largest first; equal sizes top to bottom, then left to right, whatever order they came in.
func TestByEyeDistance(t *testing.T) {
	faces := []Face{faceWithEyes(20, 0, 0), faceWithEyes(90, 300, 10), faceWithEyes(40, 50, 50),
		faceWithEyes(40, 10, 50), faceWithEyes(40, 500, 5)}
	want := []Face{faces[1], faces[4], faces[3], faces[2], faces[0]}
	for _, order := range [][]int{{0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, {2, 0, 4, 1, 3}} {
		var in []Face
		for _, i := range order {
			in = append(in, faces[i])
		}
		if got := ByEyeDistance(in); !slices.Equal(got, want) {
			t.Errorf("order %v: sorted to sizes %v at %v", order, eyeDistances(got), got)
		}
	}
}

func TestChoicePick(t *testing.T) {
	sorted := ByEyeDistance([]Face{faceWithEyes(180, 0, 0), faceWithEyes(96, 400, 0), faceWithEyes(41, 800, 0)})
	tests := []struct {
		name            string
		choice          Choice
		chosen, missing []int
	}{
		{"all", Choice{}, []int{1, 2, 3}, nil},
		{"largest", Choice{Largest: true}, []int{1}, nil},
		{"numbers", Choice{Numbers: []int{3, 1}}, []int{1, 3}, nil},
		{"numbers past the last face", Choice{Numbers: []int{2, 4, 7}}, []int{2}, []int{4, 7}},
		{"minsize between sizes", Choice{MinSize: 50}, []int{1, 2}, nil},
		{"minsize equal to a size", Choice{MinSize: 96}, []int{1, 2}, nil},
		{"minsize above every face", Choice{MinSize: 500}, nil, nil},
	}
	for _, tt := range tests {
		chosen, missing := tt.choice.pick(sorted)
		if !slices.Equal(chosen, tt.chosen) || !slices.Equal(missing, tt.missing) {
			t.Errorf("%s: chose %v, missing %v; want %v, missing %v", tt.name, chosen, missing, tt.chosen, tt.missing)
		}
	}
	if chosen, _ := (Choice{Largest: true}).pick(nil); len(chosen) != 0 {
		t.Errorf("largest of no faces chose %v", chosen)
	}
}

func TestReportSummary(t *testing.T) {
	crowd := make([]float64, 14)
	for i := range crowd {
		crowd[i] = float64(100 - 5*i)
	}
	tests := []struct {
		report Report
		want   string
	}{
		{Report{}, "no faces found, so -G changed nothing"},
		{Report{Found: []float64{52.4}, Restored: []int{1}}, "1 face found (52 px between the eyes), 1 restored"},
		{Report{Found: []float64{180.2, 95.6, 41}, Restored: []int{1, 2}},
			"3 faces found (180, 96, 41 px between the eyes), 2 restored"},
		{Report{Found: []float64{180, 96, 41}}, "3 faces found (180, 96, 41 px between the eyes), 0 restored, so -G changed nothing"},
		{Report{Found: []float64{180, 96}, Restored: []int{2}, Missing: []int{4, 5}},
			"2 faces found (180, 96 px between the eyes), 1 restored; --faces named 4, 5, which the image does not have (faces count from 1, largest first)"},
		{Report{Found: crowd, Restored: []int{1}},
			"14 faces found (100, 95, 90, 85, 80, 75, 70, 65, 60, 55, 50, 45, … px between the eyes), 1 restored"},
	}
	for _, tt := range tests {
		if got := tt.report.Summary(); got != tt.want {
			t.Errorf("Summary of %+v\n got %q\nwant %q", tt.report, got, tt.want)
		}
	}
}

// foundFaces is a Detector that returns faces found once already, so that one group photo's
// detection serves several choices.
type foundFaces []Face

func (f foundFaces) Detect(context.Context, *imageio.Image) ([]Face, error) {
	return slices.Clone(f), nil
}

// negate is a restorer that turns the face into its negative, so every restored face shows.
func negate(g *onnxpb.Graph) { g.Add("Neg", []string{"input"}, []string{"output"}) }

// choiceCopies are four heads of well-apart sizes on the group canvas, largest first.
var choiceCopies = []headCopy{
	{150, Point{60, 60}, "largest"},
	{94.6, Point{1400, 150}, "second"},
	{59.8, Point{500, 1000}, "third"},
	{30, Point{1900, 1100}, "smallest"},
}

var summaryPattern = regexp.MustCompile(`^4 faces found \((\d+), (\d+), (\d+), (\d+) px between the eyes\), (\d+) restored$`)

// On a group photo of the real astronaut's face at four sizes, found by the real YuNet,
// --faces largest, 2,4 and minsize=50 restore exactly the heads they name, and the report
// lists the four sizes largest first.
func TestRestoreChosenFacesOnGroupPhoto(t *testing.T) {
	y := sharedYuNet(t)
	astronaut := oneFace(t, detectFaces(t, y, sharedImage(t, "images", "astronaut.png")))
	img, pasted := groupPhoto(t, astronaut, choiceCopies)
	found := detectFaces(t, y, img)
	checkFound(t, found, pasted)
	r, err := LoadGFPGAN(testRuntime, writeRestorer(t, "gfpgan_1.4.onnx", nil, negate))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		choice   Choice
		restored []int // positions in choiceCopies
	}{
		{"largest", Choice{Largest: true}, []int{0}},
		{"2,4", Choice{Numbers: []int{2, 4}}, []int{1, 3}},
		{"minsize=50", Choice{MinSize: 50}, []int{0, 1, 2}},
		{"all", Choice{}, []int{0, 1, 2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, report, err := Restore(context.Background(), foundFaces(found), r, img, img,
				Options{Strength: 1, Choice: tt.choice})
			if err != nil {
				t.Fatal(err)
			}
			summary := report.Summary()
			t.Log(summary)
			checkSummary(t, summary, len(tt.restored))
			for i, p := range pasted {
				changed := changedIn(img, out, p.head)
				if want := slices.Contains(tt.restored, i); want != (changed > 0) {
					t.Errorf("%.1f px face (%s): %d samples of its head changed, want restored %v",
						p.eyes, p.note, changed, want)
				}
			}
		})
	}
}

// checkSummary fails unless the summary lists the four copies' sizes, largest first and each
// within 2 px of the size pasted, and says how many were restored.
func checkSummary(t *testing.T, summary string, restored int) {
	t.Helper()
	m := summaryPattern.FindStringSubmatch(summary)
	if m == nil {
		t.Fatalf("summary %q is not \"4 faces found (… px between the eyes), N restored\"", summary)
	}
	for i, c := range choiceCopies {
		size, _ := strconv.Atoi(m[1+i])
		if math.Abs(float64(size)-c.eyes) > 2 {
			t.Errorf("size %d listed as %d px, want the %.1f px pasted", i+1, size, c.eyes)
		}
	}
	if m[5] != fmt.Sprint(restored) {
		t.Errorf("summary says %s restored, want %d", m[5], restored)
	}
}

// changedIn counts the samples inside r that differ between a and b.
func changedIn(a, b *imageio.Image, r image.Rectangle) int {
	changed := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			for c := range a.Channels {
				i := (y*a.W+x)*a.Channels + c
				if a.At(i) != b.At(i) {
					changed++
				}
			}
		}
	}
	return changed
}
