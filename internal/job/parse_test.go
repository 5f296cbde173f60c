package job

import (
	"reflect"
	"testing"
)

func TestParseValid(t *testing.T) {
	tests := []struct {
		line string
		want Job
	}{
		{"", Job{Kind: Empty}},
		{"   # a comment", Job{Kind: Empty}},
		{"// another", Job{Kind: Empty}},
		{"q", Job{Kind: Quit}},
		{"EXIT", Job{Kind: Quit}},
		{"!help", Job{Kind: Help}},
		{"!fix photo.png -U 4", Job{Kind: Fix, Path: "photo.png", Upscale: &Upscale{4, 0.75}}},
		{"!fix photo.png -U 2 0.6", Job{Kind: Fix, Path: "photo.png", Upscale: &Upscale{2, 0.6}}},
		{"!fix photo.png --upscale 4 1", Job{Kind: Fix, Path: "photo.png", Upscale: &Upscale{4, 1}}},
		{"!fix photo.png -U 4 0", Job{Kind: Fix, Path: "photo.png", Upscale: &Upscale{4, 0}}},
		{`!fix "my photo.png" -U 4 -o out`, Job{Kind: Fix, Path: "my photo.png", Upscale: &Upscale{4, 0.75}, Outdir: "out"}},
		{`!fix my\ photo.png -o out -U 2`, Job{Kind: Fix, Path: "my photo.png", Upscale: &Upscale{2, 0.75}, Outdir: "out"}},
		{"a castle on a hill -U 2", Job{Kind: Generate, Prompt: "a castle on a hill", Upscale: &Upscale{2, 0.75}}},
		{`"a castle" at -1 degrees`, Job{Kind: Generate, Prompt: "a castle at -1 degrees"}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.line)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.line, err)
			continue
		}
		got.Line = ""
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%q) = %+v, want %+v", tt.line, got, tt.want)
		}
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct{ line, want string }{
		{"!fix", "!fix needs an image: !fix PATH [-U 2|4 [strength]]"},
		{"!fix -U 4", "!fix needs an image: !fix PATH [-U 2|4 [strength]]"},
		{"!fix a.png", "!fix a.png has nothing to do: add -U 2 or -U 4"},
		{"!fix a.png -U", "-U takes a factor (2 or 4) and an optional strength from 0 to 1, e.g. -U 4 0.6"},
		{"!fix a.png -U 3", "-U 3: the upscale factor must be 2 or 4"},
		{"!fix a.png -U 8 0.5", "-U 8: the upscale factor must be 2 or 4"},
		{"!fix a.png -U two", "-U two: the upscale factor must be 2 or 4"},
		{"!fix a.png -U 4 1.5", "-U 4 1.5: the upscale strength must be a number from 0 to 1"},
		{"!fix a.png -U 4 -0.1", "-U 4 -0.1: the upscale strength must be a number from 0 to 1"},
		{"!fix a.png -U 4 NaN", "-U 4 NaN: the upscale strength must be a number from 0 to 1"},
		{"!fix a.png -U 4 0.5 0.5", "-U takes a factor (2 or 4) and an optional strength from 0 to 1, e.g. -U 4 0.6"},
		{"!fix a.png -U 4 -Z", "unknown switch -Z: type !help for the list"},
		{"!fix a.png b.png -U 4", `unexpected "b.png": switches come after the prompt or path, each with its values`},
		{"!fix a.png -o", "-o takes one directory"},
		{"!fix 'a.png -U 4", "the line has an unclosed quote"},
		{"!nope", "unknown command !nope: type !help for the list"},
		{"q now", "q takes nothing after it"},
		{"-U 4", "the line has switches but no prompt: type the prompt first, then the switches"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.line)
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want %q", tt.line, tt.want)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("Parse(%q) error\n got %q\nwant %q", tt.line, err, tt.want)
		}
	}
}

func TestSplit(t *testing.T) {
	tests := []struct {
		line string
		want []string
	}{
		{`a b  c`, []string{"a", "b", "c"}},
		{`'x y' "z \"w\"" v\ u`, []string{"x y", `z "w"`, "v u"}},
		{`''`, []string{""}},
		{"\ta\t", []string{"a"}},
	}
	for _, tt := range tests {
		got, err := Split(tt.line)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Split(%q) = %q, %v; want %q", tt.line, got, err, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{"!fix a.png -U 4 0.5", `"x" -U 2`, "q", "# c", `!fix 'a b' -o "c d"`, "-U"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		j, err := Parse(line)
		if err != nil {
			return
		}
		if j.Upscale != nil && (j.Upscale.Factor != 2 && j.Upscale.Factor != 4 || j.Upscale.Strength < 0 || j.Upscale.Strength > 1) {
			t.Fatalf("Parse(%q) accepted %+v", line, j.Upscale)
		}
		if j.Kind == Fix && j.Path == "" {
			t.Fatalf("Parse(%q) gave a fix without a path", line)
		}
	})
}
