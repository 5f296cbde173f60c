package batch

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"dream/internal/imageio"
	"dream/internal/job"
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

// A source is one file however its path is written: relative or absolute, with ./ or ..,
// through a link; and a name with a newline in it, which a stored command keeps inside its
// quotes, is recognised too (not on Windows, whose names cannot hold one, and where links
// need a privilege).
func TestResumeComparesResolvedPaths(t *testing.T) {
	work := tempDir(t)
	t.Chdir(work)
	scans := filepath.Join(work, "scans")
	out := filepath.Join(work, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	fix := func(path string) string { return "!fix " + job.Quote(path) + " -U 2 0.75" }
	item := func(path string) Expected { return Expected{Commands: []string{fix(path)}, Seeded: true} }
	type test struct {
		name string
		dir  string
		want Expected
		done bool
	}
	var tests []test
	// result adds a source and a result whose command names it as stored; item is how a
	// later run names the source.
	result := func(name, stored string, dir string, asked Expected) {
		writeFile(t, scans, name)
		writeResult(t, out, strings.TrimSuffix(name, ".png")+".fixed.png", fix(stored))
		tests = append(tests, test{name: stored + " asked as " + asked.Commands[0], dir: dir, want: asked, done: true})
	}
	result("a.png", filepath.Join("scans", "a.png"), out, item(filepath.Join(scans, "a.png"))) // written relative to the working directory
	result("b.png", filepath.Join(scans, "b.png"), "out", item(filepath.Join("scans", "b.png")))
	sep := string(filepath.Separator)
	result("c.png", "scans"+sep+".."+sep+"scans"+sep+"."+sep+"c.png", out, item(filepath.Join(scans, "c.png")))
	result("e.png", filepath.Join(scans, "e.png"), "."+sep+"out"+sep, item("."+sep+filepath.Join("scans", "e.png")))
	if runtime.GOOS != "windows" {
		if err := os.Symlink(scans, filepath.Join(work, "link")); err != nil {
			t.Fatal(err)
		}
		result("d.png", filepath.Join(scans, "d.png"), out, item(filepath.Join(work, "link", "d.png")))
		result("new\nline.png", filepath.Join(scans, "new\nline.png"), out, item(filepath.Join(scans, "new\nline.png")))
	}
	tests = append(tests, test{name: "another file", dir: out, want: item(filepath.Join(scans, "f.png")), done: false})

	resume := NewResume()
	for _, tt := range tests {
		if done, _ := resume.Done(tt.dir, tt.want); done != tt.done {
			t.Errorf("%q: done %v, want %v", tt.name, done, tt.done)
		}
	}
}
