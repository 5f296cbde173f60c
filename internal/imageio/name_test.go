package imageio

import (
	"fmt"
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
