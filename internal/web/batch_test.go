package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"dream/internal/imagecmp"
	"dream/internal/imageio"
	"dream/internal/pngmeta"
	"dream/internal/queue"
	"dream/internal/testenv"
)

// writeUploads puts copies of a shared photo under uploads/ in the output folder, as the page's
// upload leaves them; a name starting with "bad" gets a damaged copy.
func (ts *testServer) writeUploads(t *testing.T, names ...string) {
	t.Helper()
	data, err := os.ReadFile(testenv.Shared("images", "coffee_crop128.png"))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(ts.outdir, uploadDir), 0o755)
	for _, name := range names {
		content := data
		if strings.HasPrefix(name, "bad") {
			content = data[:200]
		}
		if err := os.WriteFile(filepath.Join(ts.outdir, uploadDir, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// postLines sends several lines as one job, as the page does with the images dropped together.
func (ts *testServer) postLines(t *testing.T, lines ...string) (int, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string][]string{"lines": lines})
	req, _ := http.NewRequest("POST", ts.URL+"/api/jobs", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	status, text := ts.do(t, req)
	var answer map[string]any
	if err := json.Unmarshal([]byte(text), &answer); err != nil {
		t.Fatalf("POST /api/jobs %q: %d %q is not JSON", lines, status, text)
	}
	return status, answer
}

// Images fixed together from the page are one job, run as the shell runs a folder: one count
// for all of them, a line per image (a damaged one fails and the rest go on), each result as
// its image ends, and a summary. Every result is the image a fix of its own would make.
func TestFixBatchFromThePage(t *testing.T) {
	ts := startServer(t, serverOptions{})
	ts.writeUploads(t, "a.png", "bad.png", "b.png", "c.png")
	events := ts.openEvents(t)
	lines := []string{"!fix uploads/a.png -U 2", "!fix uploads/bad.png -U 2", "!fix uploads/b.png -U 2", "!fix uploads/c.png -U 2"}
	status, answer := ts.postLines(t, lines...)
	if status != http.StatusAccepted {
		t.Fatalf("POST /api/jobs: %d %v", status, answer)
	}
	id := jobID(t, answer)
	done := ts.waitFor(t, id, queue.Done, queue.Failed, queue.Cancelled)
	if jobs := ts.queue.Jobs(); len(jobs) != 1 || jobs[0].Line != strings.Join(lines, "\n") {
		t.Fatalf("the queue holds %d jobs, want one with the four lines: %+v", len(jobs), jobs)
	}
	if done.State != queue.Done || done.Batch == nil || *done.Batch != (queue.Batch{Done: 4, Total: 4, Text: "fixing 4/4"}) {
		t.Fatalf("the batch ended %s (%q), count %+v", done.State, done.Error, done.Batch)
	}
	// An image's line comes once it is saved, while the next one runs, so a damaged image that
	// fails at once may come before the image before it, as in the shell's log.
	wantLines := []string{
		`^ok uploads/a\.png -> a\.fixed\.png \(\d+\.\d s\)$`,
		`^failed uploads/bad\.png: .*uploads/bad\.png is damaged`,
		`^ok uploads/b\.png -> b\.fixed\.png \(\d+\.\d s\)$`,
		`^ok uploads/c\.png -> c\.fixed\.png \(\d+\.\d s\)$`,
	}
	if len(done.Log) != len(wantLines)+1 {
		t.Fatalf("the log has %d lines, want %d: %q", len(done.Log), len(wantLines)+1, done.Log)
	}
	for _, want := range wantLines {
		if n := countMatches(done.Log[:len(wantLines)], want); n != 1 {
			t.Errorf("%d lines of the log match %s: %q", n, want, done.Log)
		}
	}
	if summary := done.Log[len(wantLines)]; !regexp.MustCompile(`^done 3, skipped 0, failed 1 of 4 images in \d+s$`).MatchString(summary) {
		t.Errorf("the summary is %q", summary)
	}
	var names []string
	for _, r := range done.Results {
		names = append(names, r.Name)
		if r.Width != 256 || r.Height != 256 {
			t.Errorf("%s is %d×%d, want 256×256", r.Name, r.Width, r.Height)
		}
		command, err := pngmeta.ReadCommand(filepath.Join(ts.outdir, r.Name))
		source := "uploads/" + strings.Replace(r.Name, ".fixed", "", 1)
		if err != nil || !strings.HasPrefix(command, "!fix ") || !strings.Contains(command, source) || !strings.HasSuffix(command, " -U 2 0.75") {
			t.Errorf("%s stores %q (%v), want the !fix of %s", r.Name, command, err, source)
		}
	}
	if strings.Join(names, " ") != "a.fixed.png b.fixed.png c.fixed.png" {
		t.Errorf("the results are %v", names)
	}

	// One job in the stream too: its count rises, and the running image's bar follows the
	// batch's line, as the shell's terminal draws it.
	sawBar, last := false, -1
	for e := range events {
		if e.name != "job" {
			continue
		}
		var s queue.Status
		if err := json.Unmarshal([]byte(e.data), &s); err != nil || s.ID != id {
			t.Fatalf("an event about another job, or not JSON: %s", e.data)
		}
		if s.Batch != nil {
			if s.Batch.Done < last {
				t.Errorf("the count went back from %d to %d", last, s.Batch.Done)
			}
			last = s.Batch.Done
		}
		if s.Progress != nil && regexp.MustCompile(`^fixing \d/4(, ETA \w+)? · .*\d+/\d+ `).MatchString(s.Progress.Text) {
			sawBar = true
		}
		if s.State == queue.Done {
			break
		}
	}
	if !sawBar {
		t.Error("no event showed an image's bar after the batch's count")
	}

	// The same image fixed on its own gives the same pixels.
	_, answer = ts.postJob(t, "!fix uploads/a.png -U 2")
	single := ts.waitFor(t, jobID(t, answer), queue.Done, queue.Failed)
	if single.State != queue.Done {
		t.Fatalf("the single fix ended %s: %q", single.State, single.Error)
	}
	inBatch, err1 := imageio.Load(filepath.Join(ts.outdir, "a.fixed.png"))
	alone, err2 := imageio.Load(filepath.Join(ts.outdir, single.Results[0].Name))
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if diff, err := imagecmp.Compare(inBatch, alone); err != nil || diff.MaxAbs != 0 {
		t.Errorf("the batch's a.fixed.png differs from a fix of its own: %v %v", diff, err)
	}
}

// A batch whose every image fails ends failed, and its log says why each failed.
func TestFixBatchAllFail(t *testing.T) {
	ts := startServer(t, serverOptions{})
	ts.writeUploads(t, "bad1.png", "bad2.png")
	_, answer := ts.postLines(t, "!fix uploads/bad1.png -U 2", "!fix uploads/bad2.png -U 2")
	done := ts.waitFor(t, jobID(t, answer), queue.Done, queue.Failed, queue.Cancelled)
	if done.State != queue.Failed || done.Error != "none of the 2 images was fixed: each one's line says why" ||
		len(done.Log) != 3 || !strings.HasPrefix(done.Log[1], "failed uploads/bad2.png: ") {
		t.Errorf("the batch ended %s (%q), log %q", done.State, done.Error, done.Log)
	}
}

// The lines of a batch are checked before any is queued: one the page cannot run refuses the
// request with its error and switch, as a single line would, and nothing runs.
func TestBatchLinesThePageRefuses(t *testing.T) {
	ts := startServer(t, serverOptions{})
	ts.writeUploads(t, "a.png", "b.png")
	cases := []struct {
		name   string
		body   any
		status int
		error  string
		sw     string
	}{
		{"a prompt among the fixes", map[string][]string{"lines": {"!fix uploads/a.png -U 2", `"a fox" -s 3`}},
			400, "a job of several lines runs !fix lines only: send a prompt on its own", ""},
		{"an image not in the output folder", map[string][]string{"lines": {"!fix uploads/a.png -U 2", "!fix uploads/gone.png -U 2"}},
			400, "!fix uploads/gone.png: no such image in the output folder " + ts.outdir, ""},
		{"a bad switch", map[string][]string{"lines": {"!fix uploads/a.png -U 9", "!fix uploads/b.png -U 9"}},
			400, "", "-U"},
		{"-o", map[string][]string{"lines": {"!fix uploads/a.png -U 2 -o elsewhere", "!fix uploads/b.png -U 2 -o elsewhere"}},
			400, "-o: the page writes into the output folder; to write elsewhere, use the dream> prompt", "-o"},
		{"line and lines", map[string]any{"line": "!fix uploads/a.png -U 2", "lines": []string{"!fix uploads/b.png -U 2"}},
			400, `send "line" or "lines", not both`, ""},
		{"too many lines", map[string][]string{"lines": manyLines(2000)},
			413, "the job is larger than 64 KiB: send fewer images at once", ""},
	}
	for _, c := range cases {
		data, _ := json.Marshal(c.body)
		req, _ := http.NewRequest("POST", ts.URL+"/api/jobs", strings.NewReader(string(data)))
		req.Header.Set("Content-Type", "application/json")
		status, text := ts.do(t, req)
		var answer struct{ Error, Switch string }
		json.Unmarshal([]byte(text), &answer)
		if status != c.status || (c.error != "" && answer.Error != c.error) || answer.Switch != c.sw || !isOneLineError(text) {
			t.Errorf("%s: %d %s; want %d %q about %q", c.name, status, text, c.status, c.error, c.sw)
		}
	}
	if jobs := ts.queue.Jobs(); len(jobs) != 0 {
		t.Errorf("refused batches queued %d jobs", len(jobs))
	}
}

func countMatches(lines []string, pattern string) int {
	n := 0
	for _, line := range lines {
		if regexp.MustCompile(pattern).MatchString(line) {
			n++
		}
	}
	return n
}

func manyLines(n int) []string {
	lines := make([]string, n)
	for i := range lines {
		lines[i] = fmt.Sprintf("!fix uploads/image-%04d.png -U 2", i)
	}
	return lines
}

// The cancel button stops a batch as Ctrl-C stops a job: the image running is cancelled and
// writes nothing, the others do not start, and the summary says so.
func TestCancelABatch(t *testing.T) {
	ts := startServer(t, serverOptions{})
	os.MkdirAll(filepath.Join(ts.outdir, uploadDir), 0o755)
	for _, name := range []string{"a.png", "b.png", "c.png"} {
		testenv.CopyFile(t, testenv.Shared("images", "astronaut.png"), filepath.Join(ts.outdir, uploadDir, name))
	}
	_, answer := ts.postLines(t, "!fix uploads/a.png -U 4", "!fix uploads/b.png -U 4", "!fix uploads/c.png -U 4")
	id := jobID(t, answer)
	for { // the first image reports its bar, so the cancel comes mid-image
		s, _ := ts.queue.Status(id)
		if s.Progress != nil || s.State != queue.Queued && s.State != queue.Running {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/jobs/%d/cancel", ts.URL, id), nil)
	if status, body := ts.do(t, req); status != 200 {
		t.Fatalf("cancel: %d %s", status, body)
	}
	s := ts.waitFor(t, id, queue.Cancelled, queue.Done, queue.Failed)
	if s.State != queue.Cancelled || s.Error != "cancelled; nothing was written" || len(s.Log) != 1 ||
		!regexp.MustCompile(`^done 0, skipped 0, failed 0 of 3 images in \d+s; stopped with 3 not started$`).MatchString(s.Log[0]) {
		t.Errorf("the cancelled batch: %s (%q), log %q", s.State, s.Error, s.Log)
	}
	if fixed, _ := filepath.Glob(filepath.Join(ts.outdir, "*.fixed*")); len(fixed) != 0 {
		t.Errorf("the cancelled batch wrote %v", fixed)
	}
}
