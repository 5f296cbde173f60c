package imageio

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestFixedNamesStem(t *testing.T) {
	tests := []struct{ src, want string }{
		{"photo.png", "photo.fixed.png"},
		{"/some/where/Photo.JPG", "Photo.fixed.png"},
		{"scan.jpeg", "scan.fixed.png"},
		{"a.b.WebP", "a.b.fixed.png"},
		{"picture.tiff", "picture.tiff.fixed.png"}, // unknown extension kept
		{"noext", "noext.fixed.png"},
		{".png", ".png.fixed.png"}, // hidden file named ".png"
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			got, err := FixedNames(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			if got[0] != tt.want {
				t.Errorf("FixedNames(%q)[0] = %q, want %q", tt.src, got[0], tt.want)
			}
		})
	}
}

func TestFixedNamesSuffixSequence(t *testing.T) {
	names, err := FixedNames("in/cat.jpg")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"cat.fixed.png", "cat.fixed-01.png", "cat.fixed-02.png", "cat.fixed-03.png"}
	if len(names) != 100 || !slices.Equal(names[:4], want) || names[99] != "cat.fixed-99.png" {
		t.Errorf("FixedNames = %d names %v … %s, want 100 from %v to cat.fixed-99.png", len(names), names[:4], names[len(names)-1], want)
	}
}

func TestFixedNamesNoFileName(t *testing.T) {
	if _, err := FixedNames(""); err == nil {
		t.Error("FixedNames with an empty source path succeeded")
	}
}

func TestNextPrefix(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		want  string
	}{
		{"empty directory", nil, "000001"},
		{"one image", []string{"000043.123.png"}, "000044"},
		{"highest wins, not the newest", []string{"000002.1.png", "000017.9.png", "000005.3.png"}, "000018"},
		{"other files are ignored", []string{"notes.txt", "photo.fixed.png", "000009.1.postprocessed.png"}, "000010"},
		{"any leading number counts", []string{"12-draft.png"}, "000013"},
		{"past six digits", []string{"999999.5.png"}, "1000000"},
		{"reserved by a running command", []string{"000003.1.png", ".dream-prefix-000004"}, "000005"},
		{"only the marker's number counts", []string{".dream-prefix-x", ".7.tmp-123", ".dream-prefix-000002"}, "000003"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := tempDir(t)
			for _, f := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := NextPrefix(dir)
			if err != nil || got != tc.want {
				t.Errorf("NextPrefix = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if got, err := NextPrefix(filepath.Join(tempDir(t), "missing")); err != nil || got != "000001" {
		t.Errorf("missing directory: %q, %v; want 000001", got, err)
	}
}

func TestGeneratedFileName(t *testing.T) {
	if got := GeneratedFileName("000044", 2945021133, false); got != "000044.2945021133.png" {
		t.Errorf("original: %s", got)
	}
	if got := GeneratedFileName("000044", 7, true); got != "000044.7.postprocessed.png" {
		t.Errorf("postprocessed: %s", got)
	}
}
