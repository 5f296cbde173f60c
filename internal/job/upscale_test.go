package job

import (
	"fmt"
	"strings"
	"testing"
)

// Size turns -U's factor or !fix's target into the result's size, and refuses targets outside
// 1 to 8 times the image's sides in one line that names the limits.
func TestUpscaleSize(t *testing.T) {
	tests := []struct {
		name       string
		up         Upscale
		w, h       int
		wantW      int
		wantH      int
		wantErrTxt string
	}{
		{"factor 2", Upscale{Factor: 2}, 600, 400, 1200, 800, ""},
		{"factor 1.5 rounds to the nearest pixel", Upscale{Factor: 1.5}, 101, 33, 152, 50, ""},
		{"factor 1", Upscale{Factor: 1}, 7, 5, 7, 5, ""},
		{"factor 8", Upscale{Factor: 8}, 640, 480, 5120, 3840, ""},
		{"factor 3.3 without float surprises", Upscale{Factor: 3.3}, 10, 100, 33, 330, ""},
		{"width alone keeps the aspect ratio", Upscale{Factor: 2, Width: 1600}, 600, 400, 1600, 1067, ""},
		{"height alone keeps the aspect ratio", Upscale{Height: 2160}, 640, 480, 2880, 2160, ""},
		{"both give the exact size", Upscale{Width: 3840, Height: 2160}, 640, 480, 3840, 2160, ""},
		{"target wins over the factor", Upscale{Factor: 8, Width: 700}, 600, 400, 700, 467, ""},
		{"a target of 1×", Upscale{Width: 600}, 600, 400, 600, 400, ""},
		{"a target of exactly 8×", Upscale{Height: 3200}, 600, 400, 4800, 3200, ""},
		{"width below the image's", Upscale{Width: 599}, 600, 400, 0, 0,
			"-W 599: the target width must be from 600 to 4800 pixels for this image, whose width is 600 (!fix enlarges 1 to 8 times)"},
		{"height above 8×", Upscale{Height: 3201}, 600, 400, 0, 0,
			"-H 3201: the target height must be from 400 to 3200 pixels for this image, whose height is 400 (!fix enlarges 1 to 8 times)"},
		{"one good side and one bad", Upscale{Width: 1200, Height: 300}, 600, 400, 0, 0,
			"-H 300: the target height must be from 400 to 3200 pixels for this image, whose height is 400 (!fix enlarges 1 to 8 times)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, h, err := tt.up.Size(tt.w, tt.h)
			if tt.wantErrTxt != "" {
				if err == nil || err.Error() != tt.wantErrTxt {
					t.Fatalf("Size = %d×%d, %v; want error %q", w, h, err, tt.wantErrTxt)
				}
				return
			}
			if err != nil || w != tt.wantW || h != tt.wantH {
				t.Fatalf("Size = %d×%d, %v; want %d×%d", w, h, err, tt.wantW, tt.wantH)
			}
		})
	}
}

// A target without -U stands for the smallest network scale that reaches it: ×2, ×4, or
// ×8 (two passes).
func TestNetworkFactor(t *testing.T) {
	for _, tt := range []struct{ scale, want float64 }{
		{1, 2}, {1.5, 2}, {2, 2}, {2.0001, 4}, {3.125, 4}, {4, 4}, {4.5, 8}, {8, 8},
	} {
		if got := NetworkFactor(tt.scale); got != tt.want {
			t.Errorf("NetworkFactor(%g) = %g, want %g", tt.scale, got, tt.want)
		}
	}
}

// The !fix line of a job parses back to the same job, and so does the command stored in the
// result (FixLine of the resolved job), which spells the factor a target stood for and with
// it the strength.
func TestFixLineRoundTrip(t *testing.T) {
	useRules(t, unixRules)
	tests := []struct {
		line     string
		w, h     int    // the source image
		typed    string // FixLine as parsed
		resolved string // FixLine once the image is known: what the result stores
	}{
		{"!fix photo.jpg -U 2 --width 1600", 600, 400,
			`!fix "photo.jpg" -U 2 0.75 -W 1600`, `!fix "photo.jpg" -U 2 0.75 -W 1600`},
		{"!fix photo.jpg --width=1600", 600, 400,
			`!fix "photo.jpg" -W 1600`, `!fix "photo.jpg" -U 4 0.75 -W 1600`},
		{"!fix photo.jpg -H 700", 600, 400,
			`!fix "photo.jpg" -H 700`, `!fix "photo.jpg" -U 2 0.75 -H 700`},
		{"!fix photo.jpg -W 3840 -H 2160 -G 0.5", 500, 300,
			`!fix "photo.jpg" -G 0.5 -ft gfpgan -W 3840 -H 2160`, `!fix "photo.jpg" -G 0.5 -ft gfpgan -U 8 0.75 -W 3840 -H 2160`},
		{"!fix photo.jpg -U 1.5 0.3", 600, 400,
			`!fix "photo.jpg" -U 1.5 0.3`, `!fix "photo.jpg" -U 1.5 0.3`},
		{"!fix photo.jpg -U 8", 600, 400,
			`!fix "photo.jpg" -U 8 0.75`, `!fix "photo.jpg" -U 8 0.75`},
		{"!fix photo.jpg --esrgan_model general-x4v3 -W 1600", 600, 400,
			`!fix "photo.jpg" -W 1600 --esrgan_model general-x4v3`, `!fix "photo.jpg" -U 4 0.75 -W 1600 --esrgan_model general-x4v3`},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			j, err := Parse(tt.line)
			if err != nil {
				t.Fatal(err)
			}
			if got := j.FixLine(); got != tt.typed {
				t.Errorf("FixLine = %s\nwant      %s", got, tt.typed)
			}
			resolved := j.Upscale.Resolved(tt.w, tt.h)
			j.Upscale = &resolved
			stored := j.FixLine()
			if stored != tt.resolved {
				t.Errorf("resolved FixLine = %s\nwant               %s", stored, tt.resolved)
			}
			again, err := Parse(stored)
			if err != nil {
				t.Fatalf("Parse(%q): %v", stored, err)
			}
			if again.FixLine() != stored || *again.Upscale != resolved {
				t.Errorf("%q parses back to %q, %+v; want %+v", stored, again.FixLine(), *again.Upscale, resolved)
			}
			// The stored line makes the same size as the line typed.
			w1, h1, err1 := j.Upscale.Size(tt.w, tt.h)
			w2, h2, err2 := again.Upscale.Size(tt.w, tt.h)
			if err1 != nil || err2 != nil || w1 != w2 || h1 != h2 {
				t.Errorf("typed line makes %d×%d (%v), stored line %d×%d (%v)", w1, h1, err1, w2, h2, err2)
			}
		})
	}
}

// -W and -H mean the size to upscale to on !fix only: help says so, and the message for a
// switch !fix does not take lists them.
func TestTargetHelp(t *testing.T) {
	for _, name := range []string{"-W", "-H"} {
		sw, ok := LookupSwitch(name)
		if !ok || !sw.OnFix || !strings.Contains(sw.Help, "on !fix") || !strings.HasPrefix(sw.FixHelp, "on !fix:") {
			t.Errorf("%s: OnFix %v, help %q, fix help %q: want both to say what it means on !fix", name, sw.OnFix, sw.Help, sw.FixHelp)
		}
	}
	_, err := Parse("!fix a.png -U 2 -s 5")
	if err == nil || !strings.Contains(err.Error(), "-U, -W, -H,") {
		t.Errorf("error %v, want it to list -W and -H among !fix's switches", err)
	}
	up, _ := LookupSwitch("-U")
	if want := fmt.Sprintf("from %d to %d", MinUpscale, MaxUpscale); !strings.Contains(up.Help, want) {
		t.Errorf("-U help %q does not say %q", up.Help, want)
	}
}
