package batch

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"dream/internal/job"
)

type jobT = job.Job

func writeFile(t *testing.T, dir, name string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestExpand(t *testing.T) {
	dir := tempDir(t)
	for _, name := range []string{"b.png", "a.JPG", "c.webp", "notes.txt", ".hidden.png", "sub/d.png", "e.jpeg"} {
		writeFile(t, dir, name)
	}
	outdir := filepath.Join(dir, "out")
	writeFile(t, outdir, "x1.png")
	writeFile(t, outdir, "x2.png")
	tests := []struct {
		path    string
		want    []string // names relative to dir
		isBatch bool
		wantErr string
	}{
		{path: dir, want: []string{"a.JPG", "b.png", "c.webp", "e.jpeg"}, isBatch: true},
		{path: filepath.Join(dir, "*.png"), want: []string{"b.png"}, isBatch: true},
		{path: filepath.Join(dir, "[ab]*"), want: []string{"a.JPG", "b.png"}, isBatch: true},
		{path: filepath.Join(dir, "*"), want: []string{"a.JPG", "b.png", "c.webp", "e.jpeg", "notes.txt"}, isBatch: true},
		{path: filepath.Join(dir, "b.png")},
		{path: filepath.Join(dir, "missing.png")},
		{path: filepath.Join(dir, "*.tif"), isBatch: true, wantErr: "no files match"},
		{path: filepath.Join(dir, "sub", "..", "out", "x?.png"), want: []string{"out/x1.png", "out/x2.png"}, isBatch: true},
		{path: "x*.png", want: []string{"out/x1.png", "out/x2.png"}, isBatch: true}, // found in the output folder
		{path: filepath.Join(dir, "notes.txt", "*"), isBatch: true, wantErr: "no files match"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			list, isBatch, err := Expand(tt.path, outdir)
			if isBatch != tt.isBatch {
				t.Fatalf("isBatch %v, want %v", isBatch, tt.isBatch)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var rel []string
			for _, f := range list.Files {
				r, _ := filepath.Rel(dir, filepath.Clean(f.Path))
				rel = append(rel, filepath.ToSlash(r))
			}
			if !slices.Equal(rel, tt.want) {
				t.Errorf("got %v, want %v", rel, tt.want)
			}
		})
	}
}

func TestExpandEmptyFolder(t *testing.T) {
	dir := tempDir(t)
	writeFile(t, dir, "readme.txt")
	_, isBatch, err := Expand(dir, "")
	if !isBatch || err == nil || !strings.Contains(err.Error(), "holds no PNG, JPEG or WebP images") {
		t.Fatalf("isBatch %v, error %v", isBatch, err)
	}
}

func TestPlanNumbersItems(t *testing.T) {
	dir := tempDir(t)
	writeFile(t, dir, "1.png")
	writeFile(t, dir, "2.png")
	// Quoted, as a line must quote a path whose backslashes (Windows') are not escapes.
	gifs := job.Quote(filepath.Join(dir, "*.gif"))
	lines := []string{"", "# a comment", "!fix " + job.Quote(dir) + " -G 0.5", "a cat -s 5", "!help", "-S", "!fix " + gifs + " -U 2"}
	plan := Plan(lines, func(job.Job) string { return "" })
	entries, items := plan.Entries, plan.Items
	var got []string
	for _, e := range entries {
		got = append(got, strings.Join([]string{itoa(e.Item), e.Source(), errText(e.Err)}, "|"))
	}
	want := []string{
		"-1||", "-1|# a comment|",
		"0|" + filepath.Join(dir, "1.png") + "|", "1|" + filepath.Join(dir, "2.png") + "|",
		"2|a cat -s 5|", "-1|!help|", "3|-S|error", "4|!fix " + gifs + " -U 2|error",
	}
	if items != 5 || !slices.Equal(got, want) {
		t.Errorf("%d items:\n%s\nwant 5:\n%s", items, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if line := entries[2].Job.Line; line != "!fix "+job.Quote(filepath.Join(dir, "1.png"))+" -G 0.5 -ft gfpgan" {
		t.Errorf("the first image's line is %q", line)
	}
}

func itoa(n int) string {
	if n < 0 {
		return "-1"
	}
	return string(rune('0' + n))
}

func errText(err error) string {
	if err != nil {
		return "error"
	}
	return ""
}
