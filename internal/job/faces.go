package job

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// FaceColours lists the values --face_color accepts; the first is the default.
var FaceColours = []string{"match", "off"}

// FaceChoices are the words --faces takes besides numbers and minsize=PX, for help and
// completion.
var FaceChoices = []string{"all", "largest"}

// facesUsage is what --faces takes, for its errors.
const facesUsage = "all, largest, face numbers such as 1,3 (1 is the largest), or minsize=PX (pixels between the eyes)"

func parseFaces(j *Job, name string, vals []string) (int, error) {
	switch {
	case len(vals) == 0:
		return 0, fmt.Errorf("%s needs which faces to restore: %s", name, facesUsage)
	case len(vals) > 1:
		return 0, fmt.Errorf("%s %s: give one word, with commas and no spaces between numbers (e.g. %s 1,3)",
			name, strings.Join(vals, " "), name)
	}
	c, err := ParseFaceChoice(vals[0])
	if err != nil {
		return 1, fmt.Errorf("%s %s: %w", name, vals[0], err)
	}
	faces(j).Which = c
	return 1, nil
}

// ParseFaceChoice reads the value of --faces. Its errors say what to give instead, without
// the switch's name.
func ParseFaceChoice(v string) (FaceChoice, error) {
	lower := strings.ToLower(v)
	switch {
	case lower == "all":
		return FaceChoice{}, nil
	case lower == "largest":
		return FaceChoice{Largest: true}, nil
	case strings.HasPrefix(lower, "minsize="):
		return parseMinSize(strings.TrimPrefix(lower, "minsize="))
	case strings.ContainsAny(lower, "0123456789"):
		return parseFaceNumbers(lower)
	}
	return FaceChoice{}, fmt.Errorf("choose %s", facesUsage)
}

func parseMinSize(v string) (FaceChoice, error) {
	px, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(px) || math.IsInf(px, 0) || px <= 0 {
		return FaceChoice{}, fmt.Errorf("give the smallest distance between the eyes as a number of pixels above 0, e.g. minsize=40")
	}
	return FaceChoice{MinSize: px}, nil
}

// parseFaceNumbers reads "1,3": face numbers from 1, separated by commas. Repeats are
// dropped and the numbers sorted, so the stored command has one spelling for one choice.
func parseFaceNumbers(v string) (FaceChoice, error) {
	var numbers []int
	for _, part := range strings.Split(v, ",") {
		n, err := strconv.Atoi(part)
		switch {
		case err != nil && part == "":
			return FaceChoice{}, fmt.Errorf("a face number is missing; separate numbers with single commas, e.g. 1,3")
		case err != nil:
			return FaceChoice{}, fmt.Errorf("%s is not a face number: give whole numbers from 1, e.g. 1,3", part)
		case n < 1:
			return FaceChoice{}, fmt.Errorf("faces are numbered from 1 (the largest), so %d names none", n)
		}
		numbers = append(numbers, n)
	}
	slices.Sort(numbers)
	return FaceChoice{Numbers: slices.Compact(numbers)}, nil
}

// String spells the choice as --faces takes it: all, largest, 1,3 or minsize=40.
func (c FaceChoice) String() string {
	switch {
	case c.Largest:
		return "largest"
	case len(c.Numbers) > 0:
		words := make([]string, len(c.Numbers))
		for i, n := range c.Numbers {
			words[i] = strconv.Itoa(n)
		}
		return strings.Join(words, ",")
	case c.MinSize > 0:
		return "minsize=" + formatFloat(c.MinSize)
	}
	return "all"
}

func parseFaceColour(j *Job, name string, vals []string) (int, error) {
	v, err := oneOf(name, vals, FaceColours, "how to treat the restored faces' colour")
	if err == nil {
		faces(j).KeepColour = v == "off"
	}
	return 1, err
}

// faceSwitches spells --faces and --face_color when they differ from their defaults (all,
// match), so a command stored before they existed keeps its spelling. Only --faces keeps
// its meaning too: such a -G command was pasted without colour matching and now re-runs
// with it, the default; --face_color off added gives its image again.
func (f *Faces) faceSwitches() []string {
	var parts []string
	if !f.Which.All() {
		parts = append(parts, "--faces", f.Which.String())
	}
	if f.KeepColour {
		parts = append(parts, "--face_color", "off")
	}
	return parts
}
