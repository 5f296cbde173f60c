package job

import "testing"

// --format and --quality are read on prompt lines and !fix, and written back only as set.
func TestParseOutputSwitches(t *testing.T) {
	tests := []struct {
		line    string
		format  string
		quality int
		command string // what the job writes back: Command(1) for a prompt, FixLine for !fix
	}{
		{"a cat -S 1", "", 0, `"a cat" -s 50 -S 1 -W 512 -H 512 -C 7.5 -A k_lms`},
		{"a cat --format webp", "webp", 0, `"a cat" -s 50 -S 1 -W 512 -H 512 -C 7.5 -A k_lms --format webp`},
		{"a cat --format JPEG --quality 80 -U 2", "jpg", 80,
			`"a cat" -s 50 -S 1 -W 512 -H 512 -C 7.5 -A k_lms -U 2 0.75 --format jpg --quality 80`},
		{"a cat --format=jpg", "jpg", 0, `"a cat" -s 50 -S 1 -W 512 -H 512 -C 7.5 -A k_lms --format jpg`},
		{"!fix a.png -U 2 --format png", "png", 0, `!fix "a.png" -U 2 0.75 --format png`},
		{"!fix a.jpg --quality 100 -U 4", "", 100, `!fix "a.jpg" -U 4 0.75 --quality 100`},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			j, err := Parse(tt.line)
			if err != nil {
				t.Fatal(err)
			}
			if j.Format != tt.format || j.Quality != tt.quality {
				t.Errorf("format %q, quality %d; want %q, %d", j.Format, j.Quality, tt.format, tt.quality)
			}
			got := j.FixLine()
			if j.Kind == Generate {
				got = j.Command(1)
			}
			if got != tt.command {
				t.Errorf("command\n%s\nwant\n%s", got, tt.command)
			}
		})
	}
}

func TestParseOutputSwitchesInvalid(t *testing.T) {
	tests := []struct{ line, want string }{
		{"a cat --format", "--format needs a file format: png, jpg, webp"},
		{"a cat --format gif", "--format gif: choose a file format from png, jpg, webp"},
		{"a cat --quality", "--quality needs a quality from 1 to 100"},
		{"a cat --quality 0", "--quality 0: give a quality from 1 to 100 (jpg and webp; webp at 100 is lossless)"},
		{"!fix a.png -U 2 --quality 101", "--quality 101: give a quality from 1 to 100 (jpg and webp; webp at 100 is lossless)"},
		{"a cat --quality high", "--quality high: give a quality from 1 to 100 (jpg and webp; webp at 100 is lossless)"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			if _, err := Parse(tt.line); err == nil || err.Error() != tt.want {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}
