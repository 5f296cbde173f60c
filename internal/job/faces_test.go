package job

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseFaceSwitches(t *testing.T) {
	tests := []struct {
		line string
		want Faces
	}{
		{"!fix a.png -G 1", Faces{Strength: 1}},
		{"!fix a.png -G 1 --faces all", Faces{Strength: 1}},
		{"!fix a.png -G 1 --faces ALL", Faces{Strength: 1}},
		{"!fix a.png -G 0.8 --faces largest", Faces{Strength: 0.8, Which: FaceChoice{Largest: true}}},
		{"!fix a.png --faces=Largest -G 0.8", Faces{Strength: 0.8, Which: FaceChoice{Largest: true}}},
		{"!fix a.png -G 1 --faces 2", Faces{Strength: 1, Which: FaceChoice{Numbers: []int{2}}}},
		{"!fix a.png -G 1 --faces 3,1", Faces{Strength: 1, Which: FaceChoice{Numbers: []int{1, 3}}}},
		{"!fix a.png -G 1 --faces 2,2,10", Faces{Strength: 1, Which: FaceChoice{Numbers: []int{2, 10}}}},
		{"!fix a.png -G 1 --faces minsize=40", Faces{Strength: 1, Which: FaceChoice{MinSize: 40}}},
		{"!fix a.png -G 1 --faces=MinSize=12.5", Faces{Strength: 1, Which: FaceChoice{MinSize: 12.5}}},
		{"!fix a.png -G 1 --face_color match", Faces{Strength: 1}},
		{"!fix a.png -G 1 --face_color OFF", Faces{Strength: 1, KeepColour: true}},
		{"a cat -G 0.5 --faces 1,2 --face_color off", Faces{Strength: 0.5, Which: FaceChoice{Numbers: []int{1, 2}}, KeepColour: true}},
	}
	for _, tt := range tests {
		j, err := Parse(tt.line)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.line, err)
			continue
		}
		want := tt.want
		want.Tool, want.Fidelity = DefaultFaceTool, DefaultFidelity
		if !reflect.DeepEqual(*j.Faces, want) {
			t.Errorf("Parse(%q): faces %+v, want %+v", tt.line, *j.Faces, want)
		}
	}
}

// Each bad value of --faces and --face_color gets one line that names it and says what to give.
func TestParseFaceSwitchesInvalid(t *testing.T) {
	const usage = "all, largest, face numbers such as 1,3 (1 is the largest), or minsize=PX (pixels between the eyes)"
	tests := []struct{ line, want string }{
		{"!fix a.png -G 1 --faces", "--faces needs which faces to restore: " + usage},
		{"!fix a.png -G 1 --faces biggest", "--faces biggest: choose " + usage},
		{"!fix a.png -G 1 --faces 0", "--faces 0: faces are numbered from 1 (the largest), so 0 names none"},
		{"!fix a.png -G 1 --faces -1", "--faces -1: faces are numbered from 1 (the largest), so -1 names none"},
		{"!fix a.png -G 1 --faces 1,0", "--faces 1,0: faces are numbered from 1 (the largest), so 0 names none"},
		{"!fix a.png -G 1 --faces 1.5", "--faces 1.5: 1.5 is not a face number: give whole numbers from 1, e.g. 1,3"},
		{"!fix a.png -G 1 --faces 1,x2", "--faces 1,x2: x2 is not a face number: give whole numbers from 1, e.g. 1,3"},
		{"!fix a.png -G 1 --faces 1,,3", "--faces 1,,3: a face number is missing; separate numbers with single commas, e.g. 1,3"},
		{"!fix a.png -G 1 --faces 1,", "--faces 1,: a face number is missing; separate numbers with single commas, e.g. 1,3"},
		{"!fix a.png -G 1 --faces 1 3", "--faces 1 3: give one word, with commas and no spaces between numbers (e.g. --faces 1,3)"},
		{"!fix a.png -G 1 --faces minsize=", "--faces minsize=: give the smallest distance between the eyes as a number of pixels above 0, e.g. minsize=40"},
		{"!fix a.png -G 1 --faces minsize=0", "--faces minsize=0: give the smallest distance between the eyes as a number of pixels above 0, e.g. minsize=40"},
		{"!fix a.png -G 1 --faces minsize=-4", "--faces minsize=-4: give the smallest distance between the eyes as a number of pixels above 0, e.g. minsize=40"},
		{"!fix a.png -G 1 --faces minsize=NaN", "--faces minsize=NaN: give the smallest distance between the eyes as a number of pixels above 0, e.g. minsize=40"},
		{"!fix a.png -G 1 --faces minsize=big", "--faces minsize=big: give the smallest distance between the eyes as a number of pixels above 0, e.g. minsize=40"},
		{"!fix a.png -G 1 --face_color", "--face_color: choose how to treat the restored faces' colour from match, off"},
		{"!fix a.png -G 1 --face_color true", "--face_color true: choose how to treat the restored faces' colour from match, off"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.line)
		switch {
		case err == nil:
			t.Errorf("Parse(%q) succeeded, want %q", tt.line, tt.want)
		case err.Error() != tt.want:
			t.Errorf("Parse(%q) error\n got %q\nwant %q", tt.line, err, tt.want)
		case strings.Contains(err.Error(), "\n"):
			t.Errorf("Parse(%q): the error is more than one line", tt.line)
		}
	}
}

// The stored command carries --faces and --face_color only when they are not the defaults, so
// a command stored before they existed means what it meant, and every spelling of a choice is
// stored one way that parses back to it.
func TestFaceSwitchesInCommand(t *testing.T) {
	useRules(t, unixRules)
	tests := []struct{ line, want string }{
		{"a cat -G 0.8", `"a cat" -s 50 -S 1 -W 512 -H 512 -C 7.5 -A k_lms -G 0.8 -ft gfpgan`},
		{"a cat -G 0.8 --faces all --face_color match", `"a cat" -s 50 -S 1 -W 512 -H 512 -C 7.5 -A k_lms -G 0.8 -ft gfpgan`},
		{"a cat -G 0.8 --faces LARGEST", `"a cat" -s 50 -S 1 -W 512 -H 512 -C 7.5 -A k_lms -G 0.8 -ft gfpgan --faces largest`},
		{"a cat --faces 3,1,3 -G 1 -U 2", `"a cat" -s 50 -S 1 -W 512 -H 512 -C 7.5 -A k_lms -G 1 -ft gfpgan --faces 1,3 -U 2 0.75`},
		{"a cat -G 1 -ft codeformer --faces=minsize=40.0 --face_color off",
			`"a cat" -s 50 -S 1 -W 512 -H 512 -C 7.5 -A k_lms -G 1 -ft codeformer -cf 0.75 --faces minsize=40 --face_color off`},
		// Without -G nothing is restored, and nothing about faces is stored.
		{"a cat --faces largest --face_color off", `"a cat" -s 50 -S 1 -W 512 -H 512 -C 7.5 -A k_lms`},
	}
	for _, tt := range tests {
		j, err := Parse(tt.line)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.line, err)
		}
		cmd := j.Command(1)
		if cmd != tt.want {
			t.Errorf("%q: Command =\n%s\nwant\n%s", tt.line, cmd, tt.want)
		}
		again, err := Parse(cmd)
		if err != nil || again.Command(1) != cmd {
			t.Errorf("%q: %q does not parse back to itself (%v)", tt.line, cmd, err)
		}
	}
	j, _ := Parse("!fix photo.jpg -G 0.8 --faces largest")
	if got, want := j.FixLine(), `!fix "photo.jpg" -G 0.8 -ft gfpgan --faces largest`; got != want {
		t.Errorf("FixLine = %s, want %s", got, want)
	}
}
