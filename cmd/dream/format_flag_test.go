package main

import "testing"

// --format and --quality at launch are read as the line's switches are, and refused in one
// line before anything starts.
func TestFormatFlags(t *testing.T) {
	tests := []struct {
		args    []string
		format  string
		quality int
		err     string
	}{
		{nil, "", 0, ""},
		{[]string{"--format", "JPEG", "--quality", "80"}, "jpg", 80, ""},
		{[]string{"--format=webp", "--quality=100"}, "webp", 100, ""},
		{[]string{"--format", "gif"}, "", 0, "--format gif: choose a file format from png, jpg, webp"},
		{[]string{"--quality", "0"}, "", 0, "--quality 0: give a quality from 1 to 100 (jpg and webp; webp at 100 is lossless)"},
	}
	for _, tt := range tests {
		f, _, err := parseFlags(tt.args)
		if got := errText(err); got != tt.err {
			t.Errorf("%q: error %q, want %q", tt.args, got, tt.err)
			continue
		}
		if err == nil && (f.format != tt.format || f.quality != tt.quality) {
			t.Errorf("%q: format %q quality %d, want %q %d", tt.args, f.format, f.quality, tt.format, tt.quality)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
