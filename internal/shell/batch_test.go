package shell

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"dream/internal/batch"
	"dream/internal/ort"
	"dream/internal/pipeline"
	"dream/internal/testenv"
)

var runtime *ort.Runtime

func TestMain(m *testing.M) {
	testenv.Run(m, func(rt *ort.Runtime) { runtime = rt })
}

func newTestShell(dir string) (*Shell, *testenv.Buffer, *testenv.Buffer) {
	out, errs := &testenv.Buffer{}, &testenv.Buffer{}
	s := &Shell{Out: out, Err: errs}
	s.Pipeline = pipeline.New(pipeline.Config{
		Outdir:   filepath.Join(dir, "out"),
		ModelDir: testenv.Shared("models"),
		Upscaler: "general-x4v3",
		Runtime:  func() (*ort.Runtime, error) { return runtime, nil },
	})
	return s, out, errs
}

func writeScans(t *testing.T, dir string, names ...string) {
	t.Helper()
	data, err := os.ReadFile(testenv.Shared("images", "coffee_crop128.png"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		content := data
		if strings.HasPrefix(name, "bad") {
			content = data[:200]
		}
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// A folder is fixed image by image, each saved while the next one runs; a damaged image
// gets its line and the rest go on; every line comes before the summary.
func TestFixFolderSavesWhileTheNextImageRuns(t *testing.T) {
	dir := t.TempDir()
	scans := filepath.Join(dir, "scans")
	writeScans(t, scans, "a.png", "b.png", "bad.png", "c.png", "d.png")
	s, out, errs := newTestShell(dir)
	s.Handle(context.Background(), "!fix "+scans+" -U 2")

	var ok []string
	for _, line := range out.Lines() {
		if strings.HasPrefix(line, "ok ") {
			ok = append(ok, strings.Fields(line)[1])
		}
	}
	want := []string{"a.png", "b.png", "c.png", "d.png"}
	for i := range want {
		want[i] = filepath.Join(scans, want[i])
	}
	if !slices.Equal(ok, want) {
		t.Errorf("ok lines for %v, want %v", ok, want)
	}
	if last := out.Lines()[len(out.Lines())-1]; !strings.HasPrefix(last, "done 4, skipped 0, failed 1 of 5 images") {
		t.Errorf("the last line is %q, want the summary", last)
	}
	// The damaged file would fail again on every run: it is listed for --resume to skip.
	list := filepath.Join(dir, "out", batch.FailedListName)
	if e := errs.Lines(); len(e) != 2 || !strings.HasPrefix(e[0], "failed "+filepath.Join(scans, "bad.png")+": ") ||
		e[1] != "note: 1 input cannot be decoded ("+filepath.Join(scans, "bad.png")+"): listed in "+list+
			", so --resume skips it until it is changed; repair or move it away" {
		t.Errorf("errors: %q", e)
	}
	if s.Failures != 1 {
		t.Errorf("%d failures counted, want 1", s.Failures)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "out"))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{batch.FailedListName, "a.fixed.png", "b.fixed.png", "c.fixed.png", "d.fixed.png"}) {
		t.Errorf("the output folder holds %v", names)
	}
}

// Items whose results exist are skipped with --resume, judged by the stored command: the
// same images with other switches are not.
func TestResumeSkipsDoneImages(t *testing.T) {
	dir := t.TempDir()
	scans := filepath.Join(dir, "scans")
	writeScans(t, scans, "a.png", "b.png")
	s, _, _ := newTestShell(dir)
	s.Handle(context.Background(), "!fix "+filepath.Join(scans, "a.png")+" -U 2")

	s, out, _ := newTestShell(dir)
	s.Resume = true
	plan := batch.Plan([]string{"!fix " + scans + " -U 2", "!fix " + scans + " -U 4"}, s.Pipeline.Outdir)
	s.runEntries(context.Background(), plan, batch.All)
	var got []string
	for _, line := range out.Lines() {
		got = append(got, strings.Join(strings.Fields(line)[:2], " "))
	}
	slices.Sort(got)
	want := []string{"done 3,", "ok " + filepath.Join(scans, "a.png"), "ok " + filepath.Join(scans, "b.png"),
		"ok " + filepath.Join(scans, "b.png"), "skipped " + filepath.Join(scans, "a.png") + ":"}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Each image of a folder is a job of the queue that the web page shows: each lists its own
// result, though a fix is saved while the next image runs.
func TestFolderItemsListTheirOwnResults(t *testing.T) {
	dir := t.TempDir()
	scans := filepath.Join(dir, "scans")
	writeScans(t, scans, "a.png", "b.png", "c.png")
	s, _, _ := newTestShell(dir)
	s.Handle(context.Background(), "!fix "+scans+" -U 2")

	jobs := s.jobs().Jobs() // newest first
	if len(jobs) != 3 {
		t.Fatalf("the queue holds %d jobs, want 3", len(jobs))
	}
	for i, name := range []string{"c", "b", "a"} {
		var got []string
		for _, r := range jobs[i].Results {
			got = append(got, r.Name)
		}
		want := []string{filepath.Join(dir, "out", name+".fixed.png")}
		if !slices.Equal(got, want) {
			t.Errorf("job %q lists %v, want %v", jobs[i].Line, got, want)
		}
	}
}
