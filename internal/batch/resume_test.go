package batch

import (
	"os"
	"path/filepath"
	"testing"

	"dream/internal/imageio"
	"dream/internal/pngmeta"
)

// writeResult writes a small PNG whose Dream text is command, as dream's results carry.
func writeResult(t *testing.T, dir, name, command string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := imageio.Encode(f, imageio.New(2, 2, 3, 8), pngmeta.Text(pngmeta.KeyDream, command)); err != nil {
		t.Fatal(err)
	}
}

func TestResumeRecognisesResultsByCommand(t *testing.T) {
	dir := tempDir(t)
	writeResult(t, dir, "a.fixed.png", `!fix "in/a.png" -U 2 0.75`)
	writeResult(t, dir, "renamed.png", `!fix "in/b.png"   -U 2 0.75`) // spacing does not matter
	writeResult(t, dir, "b.fixed-01.png", `!fix "in/b.png" -U 4 0.75`)
	writeResult(t, dir, "000001.42.png", `"a cat" -s 5 -S 42 -W 512 -H 512 -C 7.5 -A k_lms`)
	writeResult(t, dir, "000001.43.png", `"a cat" -s 5 -S 43 -W 512 -H 512 -C 7.5 -A k_lms`)
	writeResult(t, dir, "000002.7.png", `"a dog" -s 5 -S 7 -W 512 -H 512 -C 7.5 -A k_lms -U 2 0.75`)
	writeResult(t, dir, "plain.png", "")                                       // no command
	os.WriteFile(filepath.Join(dir, ".a.png.tmp-1"), []byte("partial"), 0o644) // a write in progress
	os.WriteFile(filepath.Join(dir, "damaged.png"), []byte("\x89PNG\r\n\x1a\nxx"), 0o644)

	cat := func(seed string) string { return `"a cat" -s 5 -S ` + seed + ` -W 512 -H 512 -C 7.5 -A k_lms` }
	tests := []struct {
		name    string
		want    Expected
		done    bool
		example string
	}{
		{"fix done", Expected{Commands: []string{`!fix "in/a.png" -U 2 0.75`}, Seeded: true}, true, "a.fixed.png"},
		{"fix done again is not done", Expected{Commands: []string{`!fix "in/a.png" -U 2 0.75`}, Seeded: true}, false, ""},
		{"fix with other switches", Expected{Commands: []string{`!fix "in/a.png" -U 4 0.75`}, Seeded: true}, false, ""},
		{"fix found under another name", Expected{Commands: []string{`!fix "in/b.png" -U 2 0.75`}, Seeded: true}, true, "renamed.png"},
		{"seeded line, both images", Expected{Commands: []string{cat("42"), cat("43")}, Seeded: true}, true, "000001.42.png"},
		{"seeded line, one image missing", Expected{Commands: []string{cat("44"), cat("45")}, Seeded: true}, false, ""},
		{"random seed, one image", Expected{Commands: []string{`"a dog" -s 5 -S 1 -W 512 -H 512 -C 7.5 -A k_lms -U 2 0.75`}}, true, "000002.7.png"},
		{"random seed, second time", Expected{Commands: []string{`"a dog" -s 5 -S 1 -W 512 -H 512 -C 7.5 -A k_lms -U 2 0.75`}}, false, ""},
		{"not post-processed yet", Expected{Commands: []string{`"a dog" -s 5 -S 7 -W 512 -H 512 -C 7.5 -A k_lms`}, Seeded: true}, false, ""},
	}
	resume := NewResume()
	for _, tt := range tests { // in order: each result answers for one item
		done, example := resume.Done(dir, tt.want)
		if done != tt.done || (done && filepath.Base(example) != tt.example) {
			t.Errorf("%s: done %v (%s), want %v (%s)", tt.name, done, example, tt.done, tt.example)
		}
	}
}

func TestResumeMissingFolder(t *testing.T) {
	done, _ := NewResume().Done(filepath.Join(tempDir(t), "none"), Expected{Commands: []string{`!fix "a.png" -U 2 0.75`}, Seeded: true})
	if done {
		t.Error("an item was found done in a folder that does not exist")
	}
}
