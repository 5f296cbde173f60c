package imageio

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestFixedNamesStem(t *testing.T) {
	tests := []struct {
		src    string
		format Format
		want   string
	}{
		{"photo.png", PNG, "photo.fixed.png"},
		{"/some/where/Photo.JPG", PNG, "Photo.fixed.png"},
		{"/some/where/Photo.JPG", JPEG, "Photo.fixed.jpg"},
		{"scan.jpeg", JPEG, "scan.fixed.jpg"},
		{"a.b.WebP", WebP, "a.b.fixed.webp"},
		{"photo.png", WebP, "photo.fixed.webp"},
		{"picture.tiff", PNG, "picture.tiff.fixed.png"}, // unknown extension kept
		{"noext", JPEG, "noext.fixed.jpg"},
		{".png", PNG, ".png.fixed.png"}, // hidden file named ".png"
	}
	for _, tt := range tests {
		t.Run(tt.src+" as "+string(tt.format), func(t *testing.T) {
			got, err := FixedNames(tt.src, tt.format)
			if err != nil {
				t.Fatal(err)
			}
			if got[0] != tt.want {
				t.Errorf("FixedNames(%q, %s)[0] = %q, want %q", tt.src, tt.format, got[0], tt.want)
			}
		})
	}
}

func TestFixedNamesSuffixSequence(t *testing.T) {
	names, err := FixedNames("in/cat.jpg", JPEG)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"cat.fixed.jpg", "cat.fixed-01.jpg", "cat.fixed-02.jpg", "cat.fixed-03.jpg"}
	if len(names) != 100 || !slices.Equal(names[:4], want) || names[99] != "cat.fixed-99.jpg" {
		t.Errorf("FixedNames = %d names %v … %s, want 100 from %v to cat.fixed-99.jpg", len(names), names[:4], names[len(names)-1], want)
	}
}

func TestFixedNamesNoFileName(t *testing.T) {
	if _, err := FixedNames("", PNG); err == nil {
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
	tests := []struct {
		seed          uint32
		postprocessed bool
		format        Format
		want          string
	}{
		{2945021133, false, PNG, "000044.2945021133.png"},
		{7, true, PNG, "000044.7.postprocessed.png"},
		{7, false, JPEG, "000044.7.jpg"},
		{7, true, WebP, "000044.7.postprocessed.webp"},
	}
	for _, tt := range tests {
		if got := GeneratedFileName("000044", tt.seed, tt.postprocessed, tt.format); got != tt.want {
			t.Errorf("GeneratedFileName(000044, %d, %t, %s) = %s, want %s", tt.seed, tt.postprocessed, tt.format, got, tt.want)
		}
	}
}

func TestFixedStem(t *testing.T) {
	tests := []struct {
		name   string
		stem   string
		wantOK bool
	}{
		{"photo.fixed.png", "photo", true},
		{"Photo.fixed.jpg", "Photo", true},
		{"a.b.fixed.webp", "a.b", true},
		{"cat.fixed-01.jpg", "cat", true},
		{"cat.fixed-99.png", "cat", true},
		{"a.fixed.fixed.png", "a.fixed", true}, // a result fixed again
		{"x-01.fixed.png", "x-01", true},       // the source's own number stays
		{"picture.tiff.fixed.png", "picture.tiff", true},
		{".png.fixed.png", ".png", true},
		{"photo.png", "", false},
		{"photo.fixed.jpeg", "", false}, // dream writes .jpg
		{"photo.fixed.PNG", "", false},
		{"photo.fixed-00.png", "", false},
		{"photo.fixed-1.png", "", false},
		{"photo.fixed-100.png", "", false},
		{"photo.fixed-+1.png", "", false},
		{"photo-01.png", "", false},
		{".fixed.png", "", false},
		{"photo.fixed", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		stem, ok := FixedStem(tt.name)
		if stem != tt.stem || ok != tt.wantOK {
			t.Errorf("FixedStem(%q) = %q, %v, want %q, %v", tt.name, stem, ok, tt.stem, tt.wantOK)
		}
	}
}

// Every name FixedNames gives leads back to the source's stem.
func TestFixedStemOfFixedNames(t *testing.T) {
	for _, src := range []string{"dir/photo.PNG", "scan.jpeg", "a.fixed.webp", "notes.txt", ".png"} {
		for _, format := range []Format{PNG, JPEG, WebP} {
			names, err := FixedNames(src, format)
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range names {
				if stem, ok := FixedStem(name); !ok || stem != SourceStem(src) {
					t.Fatalf("FixedStem(%q) = %q, %v, want %q", name, stem, ok, SourceStem(src))
				}
			}
		}
	}
}
