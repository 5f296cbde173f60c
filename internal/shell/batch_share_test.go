package shell

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"dream/internal/batch"
	"dream/internal/job"
)

// itemLines are the first two words of each line of out that ends an item ("ok PATH",
// "skipped PATH:"), and the summary's first two, sorted.
func itemLines(lines []string) []string {
	var got []string
	for _, line := range lines {
		if f := strings.Fields(line); len(f) >= 2 {
			got = append(got, f[0]+" "+f[1])
		}
	}
	slices.Sort(got)
	return got
}

// An input that failed as undecodable is skipped by --resume while it is unchanged, with one
// line saying how to retry it; once repaired, it is fixed and taken off the list.
func TestResumeSkipsInputsThatFailedBefore(t *testing.T) {
	dir := t.TempDir()
	scans := filepath.Join(dir, "scans")
	writeScans(t, scans, "a.png", "bad.png")
	list := filepath.Join(dir, "out", batch.FailedListName)
	bad := filepath.Join(scans, "bad.png")

	s, _, _ := newTestShell(dir)
	s.Handle(context.Background(), "!fix "+scans+" -U 2")
	if s.Failures != 1 {
		t.Fatalf("%d failures, want 1", s.Failures)
	}

	s, out, errs := newTestShell(dir)
	s.Handle(context.Background(), "!fix "+scans+" -U 2 --resume")
	want := []string{"done 0,", "skipped " + filepath.Join(scans, "a.png") + ":", "skipped " + bad + ":"}
	if got := itemLines(out.Lines()); !slices.Equal(got, want) || s.Failures != 0 {
		t.Errorf("%d failures, lines %q, want none and %q", s.Failures, got, want)
	}
	if !slices.ContainsFunc(out.Lines(), func(l string) bool {
		return strings.HasPrefix(l, "skipped "+bad+": failed before as undecodable ("+bad+" is damaged")
	}) {
		t.Errorf("output: %q", out.Lines())
	}
	if e := errs.Lines(); len(e) != 1 || e[0] != "note: skipped 1 input that failed before as undecodable: "+bad+"; remove it from "+list+" to retry" {
		t.Errorf("errors: %q", e)
	}

	writeScans(t, scans, "sound.png") // a sound copy, to put in the damaged file's place
	if err := os.Rename(filepath.Join(scans, "sound.png"), bad); err != nil {
		t.Fatal(err)
	}
	s, out, _ = newTestShell(dir)
	s.Handle(context.Background(), "!fix "+scans+" -U 2 --resume")
	want = []string{"done 1,", "ok " + bad, "skipped " + filepath.Join(scans, "a.png") + ":"}
	if got := itemLines(out.Lines()); !slices.Equal(got, want) || s.Failures != 0 {
		t.Errorf("after the repair: %d failures, lines %q, want none and %q", s.Failures, got, want)
	}
	if _, err := os.Stat(list); !os.IsNotExist(err) {
		t.Errorf("the list of failed inputs is still there (%v)", err)
	}
}

// A prompt line cannot take --resume, and one image with --resume is skipped when done.
func TestResumeSwitch(t *testing.T) {
	dir := t.TempDir()
	scans := filepath.Join(dir, "scans")
	writeScans(t, scans, "a.png")
	if _, err := job.Parse("a cat --resume"); err == nil || !strings.Contains(err.Error(), "--resume applies to !fix") {
		t.Errorf("a prompt with --resume: %v", err)
	}
	line := "!fix " + filepath.Join(scans, "a.png") + " -U 2 --resume"
	j, err := job.Parse(line)
	if err != nil || !j.Resume || strings.Contains(j.FixLine(), "resume") {
		t.Fatalf("parsed %+v (%q), error %v", j, j.FixLine(), err)
	}
	s, out, _ := newTestShell(dir)
	s.Handle(context.Background(), line)
	s.Handle(context.Background(), line)
	want := []string{"done 0,", "done 1,", "ok " + filepath.Join(scans, "a.png"), "skipped " + filepath.Join(scans, "a.png") + ":"}
	if got := itemLines(out.Lines()); !slices.Equal(got, want) {
		t.Errorf("lines %q, want %q", got, want)
	}
}

// Images of a recursive pattern keep their subfolders under the output folder, so two x.png
// of different folders are two results, each recognised by --resume.
func TestRecursivePatternKeepsSubfolders(t *testing.T) {
	dir := t.TempDir()
	album := filepath.Join(dir, "album")
	writeScans(t, filepath.Join(album, "a"), "x.png")
	writeScans(t, filepath.Join(album, "b"), "x.png")
	writeScans(t, album, "top.png")
	line := "!fix " + job.Quote(filepath.Join(album, "**", "*.png")) + " -U 2 --resume"
	s, out, errs := newTestShell(dir)
	s.Handle(context.Background(), line)
	if s.Failures != 0 {
		t.Fatalf("failures: %q", errs.Lines())
	}
	outdir := filepath.Join(dir, "out")
	for _, result := range []string{"a/x.fixed.png", "b/x.fixed.png", "top.fixed.png"} {
		if _, err := os.Stat(filepath.Join(outdir, result)); err != nil {
			t.Errorf("%s: %v\n%q", result, err, out.Lines())
		}
	}
	s, out, _ = newTestShell(dir)
	s.Handle(context.Background(), line)
	if last := out.Lines()[len(out.Lines())-1]; !strings.HasPrefix(last, "done 0, skipped 3, failed 0 of 3 images") {
		t.Errorf("the second run: %q", out.Lines())
	}
}

// An image another process holds is left to it, and come back to at the end: skipped once its
// result is there, run here when the other process gave it up.
func TestClaimedImagesAreLeftToTheirHolder(t *testing.T) {
	for _, gaveUp := range []bool{false, true} {
		name := map[bool]string{false: "finished there", true: "given up there"}[gaveUp]
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			scans := filepath.Join(dir, "scans")
			writeScans(t, scans, "a.png", "b.png")
			outdir := filepath.Join(dir, "out")
			os.MkdirAll(outdir, 0o755)
			// What another process makes of b.png, made beforehand elsewhere.
			other, _, _ := newTestShell(filepath.Join(dir, "other"))
			other.Handle(context.Background(), "!fix "+filepath.Join(scans, "b.png")+" -U 2")

			s, out, errs := newTestShell(dir)
			line := "!fix " + scans + " -U 2 --resume"
			claim := holdClaim(t, s, line, outdir, 1)
			go func() {
				// The other process ends its work once this one waits for it.
				for deadline := time.Now().Add(time.Minute); !strings.Contains(errs.String(), "note: waiting") && time.Now().Before(deadline); {
					time.Sleep(10 * time.Millisecond)
				}
				if !gaveUp {
					data, _ := os.ReadFile(filepath.Join(dir, "other", "out", "b.fixed.png"))
					os.WriteFile(filepath.Join(outdir, "b.fixed.png"), data, 0o644)
				}
				os.Remove(claim)
			}()
			s.Handle(context.Background(), line)

			want := []string{"done 2,", "ok " + filepath.Join(scans, "a.png"), "ok " + filepath.Join(scans, "b.png")}
			if !gaveUp {
				want = []string{"done 1,", "ok " + filepath.Join(scans, "a.png"), "skipped " + filepath.Join(scans, "b.png") + ":"}
			}
			if got := itemLines(out.Lines()); !slices.Equal(got, want) {
				t.Errorf("lines %q, want %q", got, want)
			}
			host, _ := os.Hostname()
			if e := errs.Lines(); len(e) != 1 || !strings.HasPrefix(e[0], "note: waiting for 1 image that other processes are on ("+host+" pid ") {
				t.Errorf("errors: %q\n%q", e, out.Lines())
			}
			names, _ := os.ReadDir(outdir)
			for _, n := range names {
				if strings.HasPrefix(n.Name(), ".") || strings.Contains(n.Name(), "-01") {
					t.Errorf("the output folder holds %s", n.Name())
				}
			}
		})
	}
}

// holdClaim writes the claim of the line's item-th image as this test's parent process (alive
// all along) would hold it, and returns its path.
func holdClaim(t *testing.T, s *Shell, line, outdir string, item int) string {
	t.Helper()
	j, err := job.Parse(line)
	if err != nil {
		t.Fatal(err)
	}
	plan, _ := batch.FixEntries(j, outdir)
	resume := batch.NewResume()
	var key string
	for i, e := range plan.Entries {
		commands, seeded, err := s.Pipeline.ResultCommands(e.Job)
		if err != nil {
			t.Fatal(err)
		}
		w, _, _ := resume.Want(outdir, batch.Expected{Commands: commands, Seeded: seeded})
		if i == item {
			key = w.ClaimKey()
		}
	}
	host, _ := os.Hostname()
	data, _ := json.Marshal(batch.Holder{Host: host, PID: os.Getppid()})
	path := filepath.Join(outdir, batch.ClaimName(key))
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
