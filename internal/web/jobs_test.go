package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"dream/internal/job"
	"dream/internal/pngmeta"
	"dream/internal/queue"
)

// The page's forms start where a bare prompt line does: the shell's defaults and choices.
func TestSettingsAndModels(t *testing.T) {
	ts := startServer(t, serverOptions{})
	status, body := ts.get(t, "/api/settings")
	var settings struct {
		Defaults        map[string]any                `json:"defaults"`
		Samplers        []string                      `json:"samplers"`
		SamplerDefaults map[string]map[string]float64 `json:"samplerDefaults"`
		VAEs            []string                      `json:"vaes"`
		Limits          map[string][]float64
		Upload          int64 `json:"maxUploadBytes"`
	}
	if status != 200 || json.Unmarshal([]byte(body), &settings) != nil {
		t.Fatalf("GET /api/settings: %d %s", status, body)
	}
	if settings.Defaults["steps"] != float64(job.DefaultSteps) || settings.Defaults["sampler"] != job.DefaultSampler ||
		settings.Defaults["cfg"] != job.DefaultCFGScale || !slices.Equal(settings.Samplers, job.Samplers) ||
		settings.Defaults["vae"] != job.DefaultVAE || !slices.Equal(settings.VAEs, job.VAEs) ||
		settings.Upload != DefaultMaxUpload || settings.Limits["size"][1] != job.MaxSize ||
		!slices.Equal(settings.Limits["cfg"], []float64{job.MinCFGScale, job.MaxCFGScale}) {
		t.Errorf("settings differ from the shell's: %s", body)
	}
	// Each sampler's own defaults, as the parser applies them to a line that leaves -s and -C out.
	for _, name := range job.Samplers {
		j, err := job.Parse("a cat -A " + name)
		got := settings.SamplerDefaults[name]
		if err != nil || got["steps"] != float64(j.Steps) || got["cfg"] != j.CFGScale {
			t.Errorf("-A %s: the page's defaults %v, the shell's -s %d -C %g (%v)", name, got, j.Steps, j.CFGScale, err)
		}
	}
	if lcm := settings.SamplerDefaults["lcm"]; lcm["steps"] != 4 || lcm["cfg"] != 1 {
		t.Errorf("lcm's defaults on the page: %v, want 4 steps at guidance 1", lcm)
	}
	status, body = ts.get(t, "/api/models")
	if status != 200 || !strings.Contains(body, "realesr-general-x4v3") || !strings.Contains(body, "installed") {
		t.Errorf("GET /api/models: %d %s", status, body)
	}
	for path, want := range map[string]string{"/": "<html", "/static/app.js": "EventSource", "/static/style.css": "{"} {
		if status, body := ts.get(t, path); status != 200 || !strings.Contains(body, want) {
			t.Errorf("GET %s: %d %.200s", path, status, body)
		}
	}
}

// A prompt line from the page runs on the pipeline: the image is written with its command,
// listed first in the gallery with its seed, served by name, and has a thumbnail in the
// cache folder, not in the output folder.
func TestGenerateFromThePage(t *testing.T) {
	ts := startServer(t, serverOptions{})
	status, answer := ts.postJob(t, `"a red fox" -s 3 -S 7 -W 64 -H 64`)
	if status != http.StatusAccepted {
		t.Fatalf("POST /api/jobs: %d %v", status, answer)
	}
	done := ts.waitFor(t, jobID(t, answer), queue.Done, queue.Failed)
	if done.State != queue.Done || len(done.Results) != 1 {
		t.Fatalf("the job ended %s: %q, results %v", done.State, done.Error, done.Results)
	}
	name := done.Results[0].Name
	if done.Results[0].Seed != 7 || strings.Contains(name, "/") {
		t.Errorf("result %+v: want seed 7, a name in the output folder", done.Results[0])
	}
	command, err := pngmeta.ReadCommand(filepath.Join(ts.outdir, name))
	if err != nil || !strings.HasPrefix(command, `"a red fox" -s 3 -S 7`) {
		t.Errorf("stored command %q (%v)", command, err)
	}

	_, body := ts.get(t, "/api/gallery")
	var gallery struct {
		Total  int            `json:"total"`
		Images []galleryImage `json:"images"`
	}
	if err := json.Unmarshal([]byte(body), &gallery); err != nil || gallery.Total != 1 {
		t.Fatalf("gallery: %s", body)
	}
	if g := gallery.Images[0]; g.Name != name || g.Command != command || g.Kind != "generated" || g.Seed == nil || *g.Seed != 7 ||
		g.Width != 64 || g.Height != 64 {
		t.Errorf("gallery image %+v", g)
	}

	res, err := http.Get(ts.URL + "/files/" + name)
	if err != nil || res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("GET /files/%s: %v %v", name, res, err)
	}
	res.Body.Close()
	res, err = http.Get(ts.URL + "/files/" + name + "?download=1")
	if err != nil || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("download: %v %v", res.Header, err)
	}
	res.Body.Close()
	for range 2 {
		res, err = http.Get(ts.URL + "/thumbs/" + name)
		if err != nil || res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/jpeg" {
			t.Fatalf("GET /thumbs/%s: %v %v", name, res, err)
		}
		res.Body.Close()
	}
	cached, _ := filepath.Glob(filepath.Join(ts.thumbs, "*.jpg"))
	inOutdir, _ := os.ReadDir(ts.outdir)
	if len(cached) != 1 || len(inOutdir) != 1 {
		t.Errorf("%d thumbnails cached, %d files in the output folder; want 1 and 1", len(cached), len(inOutdir))
	}
}

// The page's lines go through the shell's parser, so -A lcm there brings lcm's 4 steps at
// guidance 1 as it does at the prompt, and the stored command spells them.
func TestLCMFromThePage(t *testing.T) {
	ts := startServer(t, serverOptions{})
	for _, tc := range []struct{ line, want string }{
		{`"a red fox" -S 7 -W 64 -H 64 -A lcm`, `"a red fox" -s 4 -S 7 -W 64 -H 64 -C 1 -A lcm`},
		{`"a red fox" -s 2 -S 8 -W 64 -H 64 -C 0 -A lcm`, `"a red fox" -s 2 -S 8 -W 64 -H 64 -C 0 -A lcm`},
	} {
		status, answer := ts.postJob(t, tc.line)
		if status != http.StatusAccepted {
			t.Fatalf("POST %s: %d %v", tc.line, status, answer)
		}
		done := ts.waitFor(t, jobID(t, answer), queue.Done, queue.Failed)
		if done.State != queue.Done || len(done.Results) != 1 {
			t.Fatalf("%s: the job ended %s: %q", tc.line, done.State, done.Error)
		}
		if command, err := pngmeta.ReadCommand(filepath.Join(ts.outdir, done.Results[0].Name)); command != tc.want {
			t.Errorf("%s: stored command %q (%v), want %q", tc.line, command, err, tc.want)
		}
	}
}

// A line the page cannot run gets the shell's error text, and the switch it is about, so
// the page can show it under that switch's field.
func TestLinesThePageRefuses(t *testing.T) {
	ts := startServer(t, serverOptions{})
	outside := filepath.Join(t.TempDir(), "outside.png")
	os.WriteFile(outside, []byte("x"), 0o644)
	cases := []struct {
		line, switchName, text string
	}{
		{`"a cat" -W 7000`, "-W", "-W 7000: give a width from 64 to 4096 pixels"},
		{`"a cat" -s 0`, "-s", "-s 0: give a whole number of steps from 1 to 1000"},
		{`"a cat" -C 101`, "-C", "-C 101: the guidance scale must be from 0 to 100"},
		{`"a cat" --vae taesd`, "--vae", "--vae taesd: choose a VAE decoder from full, tiny"},
		{`"a cat" -A euler`, "-A", "-A euler: choose a sampler from"},
		{`"a cat" -U 9`, "-U", "-U 9: the upscale factor must be a number from 1 to 8, e.g. 1.5, 2 or 4"},
		{`!fix x.png -W 0`, "-W", "-W 0: give the width to upscale to, in pixels, e.g. 1600"},
		{`"a cat" -G 2`, "-G", "-G 2: the face restoration strength must be from 0 to 1"},
		{`"a cat" -G 1 --faces 0`, "--faces", "--faces 0: faces are numbered from 1 (the largest), so 0 names none"},
		{`"a cat" -G 1 --faces=biggest`, "--faces", "--faces biggest: choose all, largest"},
		{`"a cat" -G 1 --face_color auto`, "--face_color", "--face_color auto: choose how to treat the restored faces' colour from match, off"},
		{`"a cat" --format gif`, "--format", "--format gif: choose a file format from png, jpg, webp"},
		{`!fix x.png -U 2 --quality 0`, "--quality", "--quality 0: give a quality from 1 to 100"},
		{`"a cat" -S -1`, "-S", "-S -1: the page has made 0 images with a seed so far"},
		{`"a cat" -o /tmp`, "-o", "-o: the page writes into the output folder"},
		{`"a cat" -I ../x.png`, "-I", "-I ../x.png: a name inside the output folder has no . or .. parts"},
		{`!fix ` + outside + ` -U 2`, "", "give a name inside the output folder, not a path"},
		{`!fix missing.png -U 2`, "", "!fix missing.png: no such image in the output folder"},
		{`!fix x.png`, "", "!fix x.png has nothing to do"},
		{`!history`, "", "the page runs prompts and !fix lines"},
		{``, "", "the line is empty"},
		{`!nonsense`, "", "unknown command !nonsense"},
	}
	for _, c := range cases {
		status, answer := ts.postJob(t, c.line)
		if status != http.StatusBadRequest || !strings.Contains(fmt.Sprint(answer["error"]), c.text) || answer["switch"] != c.switchName {
			t.Errorf("%q: %d %v; want 400 %q about %q", c.line, status, answer, c.text, c.switchName)
		}
	}
	if jobs := ts.queue.Jobs(); len(jobs) != 0 {
		t.Errorf("refused lines made jobs: %+v", jobs)
	}
}

// The page's jobs and their cancellation: a waiting job cancelled never runs; a running
// one stops as Ctrl-C would stop it, and nothing is written.
func TestCancelFromThePage(t *testing.T) {
	ts := startServer(t, serverOptions{stepWork: 30})
	_, first := ts.postJob(t, `"a slow fox" -s 200 -S 1 -W 64 -H 64`)
	_, second := ts.postJob(t, `"a second fox" -s 2 -S 2 -W 64 -H 64`)
	running, waiting := jobID(t, first), jobID(t, second)
	if s, _ := ts.queue.Status(waiting); s.State != queue.Queued || s.Position != 1 {
		t.Fatalf("the second job is %s at %d, want queued at 1", s.State, s.Position)
	}
	ts.waitFor(t, running, queue.Running)
	cancel := func(id int) (int, string) {
		req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/jobs/%d/cancel", ts.URL, id), nil)
		return ts.do(t, req)
	}
	if status, body := cancel(waiting); status != 200 {
		t.Fatalf("cancel the waiting job: %d %s", status, body)
	}
	if s := ts.waitFor(t, waiting, queue.Cancelled); s.Error != "cancelled; nothing was written" {
		t.Errorf("the waiting job: %+v", s)
	}
	for { // the running job reports a step before it is cancelled, so the cancel is mid-run
		s, _ := ts.queue.Status(running)
		if s.Progress != nil && s.Progress.Done > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	if status, body := cancel(running); status != 200 {
		t.Fatalf("cancel the running job: %d %s", status, body)
	}
	ts.waitFor(t, running, queue.Cancelled)
	t.Logf("the running job ended %v after the cancel", time.Since(start).Round(time.Millisecond))
	if files, _ := os.ReadDir(ts.outdir); len(files) != 0 {
		t.Errorf("cancelled jobs wrote %d files", len(files))
	}
	refusals := []struct {
		id     string
		status int
	}{{fmt.Sprint(running), http.StatusConflict}, {"999", http.StatusNotFound}, {"x", http.StatusBadRequest}}
	for _, r := range refusals {
		req, _ := http.NewRequest("POST", ts.URL+"/api/jobs/"+r.id+"/cancel", nil)
		if status, body := ts.do(t, req); status != r.status || !isOneLineError(body) {
			t.Errorf("cancel %s: %d %s, want %d with a one-line error", r.id, status, body, r.status)
		}
	}
}

// Progress events reach the page within 200 ms of the pipeline's report (issue 13), and
// each carries the bar the shell would draw.
func TestProgressEventsArriveAtOnce(t *testing.T) {
	ts := startServer(t, serverOptions{stepWork: 10})
	events := ts.openEvents(t)
	_, answer := ts.postJob(t, `"a fox" -s 12 -S 3 -W 64 -H 64`)
	id := jobID(t, answer)
	worst, seen := time.Duration(0), 0
	for e := range events {
		if e.name != "job" {
			continue
		}
		var s queue.Status
		if err := json.Unmarshal([]byte(e.data), &s); err != nil {
			t.Fatal(err)
		}
		if s.ID != id {
			continue
		}
		if s.Progress != nil && s.State == queue.Running {
			seen++
			worst = max(worst, e.at.Sub(s.Progress.At))
			if !strings.Contains(s.Progress.Text, fmt.Sprintf("%d/%d %s", s.Progress.Done, s.Progress.Total, s.Progress.Unit)) {
				t.Errorf("progress text %q for %d/%d", s.Progress.Text, s.Progress.Done, s.Progress.Total)
			}
		}
		if s.State == queue.Done {
			break
		}
	}
	t.Logf("%d progress events; the slowest arrived %v after the pipeline's report", seen, worst.Round(time.Microsecond))
	if seen < 3 { // a reader that falls behind gets the latest of several reports
		t.Errorf("%d progress events for 12 steps", seen)
	}
	if worst > 200*time.Millisecond {
		t.Errorf("a progress event arrived %v after the report, want within 200 ms", worst)
	}
}

func isOneLineError(body string) bool {
	var answer map[string]string
	return json.Unmarshal([]byte(body), &answer) == nil && answer["error"] != "" &&
		!strings.Contains(strings.TrimSpace(answer["error"]), "\n") && !strings.Contains(body, "goroutine")
}
