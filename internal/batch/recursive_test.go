package batch

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"dream/internal/imageio"
	"dream/internal/job"
	"dream/internal/pngmeta"
)

// ** matches any number of folders; matches in subfolders keep them (Sub), so that a/x.jpg
// and b/x.jpg get results of their own.
func TestRecursivePatterns(t *testing.T) {
	dir := tempDir(t)
	for _, name := range []string{"x.jpg", "a/x.jpg", "a/deep/y.JPG", "a/deep/notes.txt", "b/x.jpg", "b/z.png",
		".git/h.jpg", "a/.cache/c.jpg", "a/.hidden.jpg"} {
		writeFile(t, dir, name)
	}
	tests := []struct {
		pattern string
		want    []string // path from dir, then the subfolder kept
	}{
		{"**/*.jpg", []string{"a/x.jpg a", "b/x.jpg b", "x.jpg "}},
		{"**/*.[jJ][pP]*", []string{"a/deep/y.JPG a/deep", "a/x.jpg a", "b/x.jpg b", "x.jpg "}},
		{"a/**/*", []string{"a/deep/notes.txt deep", "a/deep/y.JPG deep", "a/x.jpg "}},
		{"**", []string{"a/deep/y.JPG a/deep", "a/x.jpg a", "b/x.jpg b", "b/z.png b", "x.jpg "}}, // images only, as a folder
		{"a/**/y.JPG", []string{"a/deep/y.JPG deep"}},
		{"*/x.jpg", []string{"a/x.jpg a", "b/x.jpg b"}}, // one level, through Glob
		{"**/.hidden.jpg", []string{"a/.hidden.jpg a"}},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			list, isBatch, err := Expand(filepath.Join(dir, tt.pattern), "")
			if err != nil || !isBatch {
				t.Fatalf("isBatch %v, error %v", isBatch, err)
			}
			var got []string
			for _, f := range list.Files {
				rel, _ := filepath.Rel(dir, f.Path)
				got = append(got, filepath.ToSlash(rel)+" "+filepath.ToSlash(f.Sub))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// A !fix line with ** writes each image's result into its subfolder of the output folder; a
// plain folder or pattern writes into the output folder itself.
func TestFixEntriesMirrorSubfolders(t *testing.T) {
	dir := tempDir(t)
	writeFile(t, dir, "album/a/x.jpg")
	writeFile(t, dir, "album/b/x.jpg")
	writeFile(t, dir, "album/top.jpg")
	out := filepath.Join(dir, "out")
	for _, tt := range []struct {
		path string
		want []string
	}{
		{filepath.Join(dir, "album", "**", "*.jpg"), []string{filepath.Join(out, "a"), filepath.Join(out, "b"), ""}},
		{filepath.Join(dir, "album"), []string{""}},
	} {
		j, err := job.Parse("!fix " + job.Quote(tt.path) + " -U 2 -o " + job.Quote(out))
		if err != nil {
			t.Fatal(err)
		}
		plan, _ := FixEntries(j, out)
		var got []string
		for _, e := range plan.Entries {
			if e.Job.Outdir == out {
				got = append(got, "")
			} else {
				got = append(got, e.Job.Outdir)
			}
			if strings.Contains(e.Job.Line, "-o") {
				t.Errorf("the item's line %q spells its output folder", e.Job.Line)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: output folders %q, want %q", tt.path, got, tt.want)
		}
	}
}

// writeFixResultAs writes dream's result of fixing source in format, with the sd-metadata
// record a fix leaves.
func writeFixResultAs(t *testing.T, path, source string, format imageio.Format) {
	t.Helper()
	record := pngmeta.Record{App: "dream", Image: pngmeta.RecordImage{Source: source,
		Postprocessing: []pngmeta.Step{{Type: "esrgan", Scale: 2, Strength: 0.75}}}}
	meta := []pngmeta.Chunk{pngmeta.Text(pngmeta.KeyDream, `!fix "`+source+`" -U 2 0.75`),
		pngmeta.InternationalText(pngmeta.KeySDMetadata, record.String())}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := imageio.EncodeAs(f, imageio.New(8, 8, 3, 8), imageio.Output{Format: format, Quality: 90}, meta); err != nil {
		t.Fatal(err)
	}
}

// dream's results are left out in every format it writes, beside their sources and in the
// subfolders of an output folder inside the folder a recursive pattern walks.
func TestRecursivePatternLeavesOutResults(t *testing.T) {
	for _, format := range []imageio.Format{imageio.PNG, imageio.JPEG, imageio.WebP} {
		t.Run(string(format), func(t *testing.T) {
			dir := tempDir(t)
			album := filepath.Join(dir, "album")
			ext := format.Extension()
			writeFile(t, album, "a/x"+ext)
			writeFile(t, album, "b/x"+ext)
			writeFile(t, album, "y"+ext)
			writeFixResultAs(t, filepath.Join(album, "y.fixed"+ext), "y"+ext, format)                  // beside its source
			writeFixResultAs(t, filepath.Join(album, "fixed", "a", "x.fixed"+ext), "x"+ext, format)    // mirrored
			writeFixResultAs(t, filepath.Join(album, "fixed", "b", "x.fixed-01"+ext), "x"+ext, format) // mirrored, numbered
			writeFixResultAs(t, filepath.Join(album, "fixed", "c", "w.fixed"+ext), "w"+ext, format)    // its source is gone
			list, _, err := Expand(filepath.Join(album, "**", "*"+ext), filepath.Join(album, "fixed"))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range list.Files {
				rel, _ := filepath.Rel(album, f.Path)
				got = append(got, filepath.ToSlash(rel))
			}
			want := []string{"a/x" + ext, "b/x" + ext, "fixed/c/w.fixed" + ext, "y" + ext}
			if !slices.Equal(got, want) || list.LeftOut != 3 {
				t.Errorf("listed %q, left out %d; want %q and 3", got, list.LeftOut, want)
			}
		})
	}
}
