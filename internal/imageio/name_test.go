package imageio

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestFixedNameStem(t *testing.T) {
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
			dir := t.TempDir()
			got, err := FixedName(dir, tt.src)
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(dir, tt.want); got != want {
				t.Errorf("FixedName = %q, want %q", got, want)
			}
		})
	}
}

func TestFixedNameSuffixSequence(t *testing.T) {
	dir := t.TempDir()
	want := []string{"cat.fixed.png", "cat.fixed-01.png", "cat.fixed-02.png", "cat.fixed-03.png"}
	for _, name := range want {
		got, err := FixedName(dir, "in/cat.jpg")
		if err != nil {
			t.Fatal(err)
		}
		if got != filepath.Join(dir, name) {
			t.Fatalf("FixedName = %q, want %q", got, filepath.Join(dir, name))
		}
		writeFile(t, dir, name, nil) // taken from now on
	}
}

func TestFixedNameAllTaken(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "cat.fixed.png", nil)
	for n := 1; n <= 99; n++ {
		writeFile(t, dir, fmt.Sprintf("cat.fixed-%02d.png", n), nil)
	}
	_, err := FixedName(dir, "cat.png")
	want := "no free output name in " + dir + ": cat.fixed.png through cat.fixed-99.png all exist"
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}

func TestFixedNameNoFileName(t *testing.T) {
	if _, err := FixedName(t.TempDir(), ""); err == nil {
		t.Error("FixedName with an empty source path succeeded")
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
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
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
	if got, err := NextPrefix(filepath.Join(t.TempDir(), "missing")); err != nil || got != "000001" {
		t.Errorf("missing directory: %q, %v; want 000001", got, err)
	}
}

func TestGeneratedName(t *testing.T) {
	if got := GeneratedName("out", "000044", 2945021133, false); got != filepath.Join("out", "000044.2945021133.png") {
		t.Errorf("original: %s", got)
	}
	if got := GeneratedName("out", "000044", 7, true); got != filepath.Join("out", "000044.7.postprocessed.png") {
		t.Errorf("postprocessed: %s", got)
	}
}
