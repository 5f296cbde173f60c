package batch

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"dream/internal/imageio"
	"dream/internal/job"
	"dream/internal/pngmeta"
)

// writeFixResult writes a small PNG with the sd-metadata record !fix leaves on a result:
// the source's name and the post-processing done; source "" is a generated image's record.
func writeFixResult(t *testing.T, dir, name, source string, steps int) {
	t.Helper()
	record := pngmeta.Record{App: "dream", Image: pngmeta.RecordImage{Source: source}}
	if source == "" {
		record.Image.Generation = &pngmeta.Generation{Type: "txt2img", Prompt: "a cat", Steps: 5}
	}
	for range steps {
		record.Image.Postprocessing = append(record.Image.Postprocessing, pngmeta.Step{Type: "esrgan", Scale: 2, Strength: 0.75})
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	meta := []pngmeta.Chunk{pngmeta.Text(pngmeta.KeyDream, `!fix "`+source+`" -U 2 0.75`),
		pngmeta.InternationalText(pngmeta.KeySDMetadata, record.String())}
	if err := imageio.Encode(f, imageio.New(2, 2, 3, 8), meta...); err != nil {
		t.Fatal(err)
	}
}

// A folder that is also the output folder: dream's results of fixing its images are left out
// (by their name and their record), and counted; anything that only looks like one stays.
func TestFolderLeavesOutDreamsResults(t *testing.T) {
	dir := tempDir(t)
	for _, name := range []string{"a.png", "b.JPG", "d.png", "gen.png", "e.png"} {
		writeFile(t, dir, name)
	}
	writeFixResult(t, dir, "a.fixed.png", "a.png", 1)
	writeFixResult(t, dir, "a.fixed-01.png", "a.png", 2)
	writeFixResult(t, dir, "a.fixed.fixed.png", "a.fixed.png", 1) // an older run fixed a result again
	writeFixResult(t, dir, "b.fixed.png", "b.JPG", 1)
	writeFixResult(t, dir, "gen.fixed.png", "", 1)        // a generated image's result keeps its generation
	writeFile(t, dir, "d.fixed.png")                      // the user's own file: no record
	writeFixResult(t, dir, "c.fixed.png", "c.png", 1)     // its source is not in the folder
	writeFixResult(t, dir, "e.fixed.png", "other.png", 1) // its record names another source
	writeFixResult(t, dir, "e.fixed-02.png", "e.png", 0)  // no post-processing in its record

	list, isBatch, err := Expand(dir, "")
	if err != nil || !isBatch {
		t.Fatalf("isBatch %v, error %v", isBatch, err)
	}
	var names []string
	for _, f := range list.Files {
		names = append(names, filepath.Base(f.Path))
	}
	want := []string{"a.png", "b.JPG", "c.fixed.png", "d.fixed.png", "d.png", "e.fixed-02.png", "e.fixed.png", "e.png", "gen.png"}
	if !slices.Equal(names, want) || list.LeftOut != 5 {
		t.Errorf("listed %v and left out %d,\nwant   %v and 5", names, list.LeftOut, want)
	}

	// The same through a pattern, and a pattern that matches results alone says so.
	list, _, err = Expand(filepath.Join(dir, "a*"), "")
	if err != nil || len(list.Files) != 1 || list.LeftOut != 3 {
		t.Errorf("a*: %d files, %d left out, error %v; want 1 and 3", len(list.Files), list.LeftOut, err)
	}
	if _, _, err := Expand(filepath.Join(dir, "a.fixed*"), ""); err == nil {
		t.Error("a pattern matching only results gave no error")
	}
}

// Every shard lists a folder that is also its output folder the same way, whether or not
// another shard has written results there yet: the items and their numbers do not change.
func TestPlanIgnoresResultsWrittenMeanwhile(t *testing.T) {
	dir := tempDir(t)
	for _, name := range []string{"a.png", "b.png", "c.png"} {
		writeFile(t, dir, name)
	}
	lines := []string{"!fix " + job.Quote(dir) + " -U 2", "a cat -S 1"}
	outdir := func(job.Job) string { return dir }
	before := Plan(lines, outdir)
	writeFixResult(t, dir, "a.fixed.png", "a.png", 1)
	writeFixResult(t, dir, "c.fixed.png", "c.png", 1)
	after := Plan(lines, outdir)
	if before.Items != 4 || after.Items != 4 || after.LeftOut != 2 {
		t.Fatalf("%d items before, %d after (%d left out); want 4, 4 and 2", before.Items, after.Items, after.LeftOut)
	}
	for i := range before.Entries {
		if b, a := before.Entries[i], after.Entries[i]; b.Item != a.Item || b.Source() != a.Source() {
			t.Errorf("entry %d was item %d %s, then item %d %s", i, b.Item, b.Source(), a.Item, a.Source())
		}
	}
}
