package web

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"dream/internal/ort"
	"dream/internal/pipeline"
	"dream/internal/queue"
	"dream/internal/sd/sdtest"
	"dream/internal/testenv"
)

var testRuntime *ort.Runtime

func TestMain(m *testing.M) {
	testenv.Run(m, func(rt *ort.Runtime) { testRuntime = rt })
}

// testServer is a server on a real pipeline: the test Stable Diffusion export, the test
// face restorer, the real general-x4v3 upscaler.
type testServer struct {
	*httptest.Server
	web    *Server
	queue  *queue.Queue
	outdir string
	thumbs string
	// reported gets the time of every progress report the pipeline made.
	reported chan time.Time
}

type serverOptions struct {
	token    string
	stepWork int // the UNet's extra work per step: 0 for quick steps
	upload   int64
	noSD     bool // no Stable Diffusion export: the model folder has none either
}

func startServer(t *testing.T, o serverOptions) *testServer {
	t.Helper()
	work := t.TempDir()
	sdDir := ""
	if !o.noSD {
		sdDir = filepath.Join(work, "sd")
		writeStableDiffusion(t, sdDir, o.stepWork)
	}
	testenv.WriteRestorer(t, "gfpgan", filepath.Join(work, "gfpgan.onnx"))
	ts := &testServer{queue: queue.New(), outdir: filepath.Join(work, "out"), thumbs: filepath.Join(work, "cache", "thumbs"),
		reported: make(chan time.Time, 4096)}
	if err := os.MkdirAll(ts.outdir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := pipeline.New(pipeline.Config{
		Outdir: ts.outdir, ModelDir: testenv.Shared("models"), Upscaler: "general-x4v3",
		RestorerPaths: map[string]string{"gfpgan": filepath.Join(work, "gfpgan.onnx")},
		SDModel:       sdDir, KeepModels: true,
		Runtime: func() (*ort.Runtime, error) { return testRuntime, nil },
		Progress: func(task pipeline.Task, done, total int) {
			ts.queue.Report(task, done, total)
			select {
			case ts.reported <- time.Now():
			default:
			}
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	ts.web = New(ctx, Config{Pipeline: p, Queue: ts.queue, Outdir: ts.outdir, ModelDir: testenv.Shared("models"),
		Token: o.token, MaxUpload: o.upload, ThumbDir: ts.thumbs, Upscaler: "general-x4v3"})
	ts.Server = httptest.NewServer(ts.web)
	t.Cleanup(func() {
		cancel()
		ts.Close()
		ts.waitIdle(t)
	})
	return ts
}

func writeStableDiffusion(t *testing.T, dir string, stepWork int) {
	t.Helper()
	export := sdtest.Export{Mean: [4]float32{0.3, -0.2, 0.5, 0.1}, Spread: 0.5, StepWork: stepWork}
	if err := export.Write(dir); err != nil {
		t.Fatal(err)
	}
	if err := sdtest.WriteTokenizer(dir, testenv.Shared("tokenizer", "bpe_simple_vocab_16e6.txt.gz")); err != nil {
		t.Fatal(err)
	}
}

// waitIdle waits until no job is queued or running, so that a test's temp folder is not
// removed under a job.
func (ts *testServer) waitIdle(t *testing.T) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		busy := false
		for _, j := range ts.queue.Jobs() {
			busy = busy || j.State == queue.Queued || j.State == queue.Running
		}
		if !busy {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Error("jobs still run 30 s after the test")
}

// do sends a request and returns the status and the body.
func (ts *testServer) do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

func (ts *testServer) get(t *testing.T, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", ts.URL+path, nil)
	return ts.do(t, req)
}

// postJob sends a line as the page does.
func (ts *testServer) postJob(t *testing.T, line string) (int, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"line": line})
	req, _ := http.NewRequest("POST", ts.URL+"/api/jobs", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	status, text := ts.do(t, req)
	var answer map[string]any
	if err := json.Unmarshal([]byte(text), &answer); err != nil {
		t.Fatalf("POST /api/jobs %q: %d %q is not JSON", line, status, text)
	}
	return status, answer
}

// jobID is the id of the job in an answer of POST /api/jobs.
func jobID(t *testing.T, answer map[string]any) int {
	t.Helper()
	j, ok := answer["job"].(map[string]any)
	if !ok {
		t.Fatalf("no job in %v", answer)
	}
	return int(j["id"].(float64))
}

// waitFor waits until job id is in one of the states.
func (ts *testServer) waitFor(t *testing.T, id int, states ...queue.State) queue.Status {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		s, _ := ts.queue.Status(id)
		for _, want := range states {
			if s.State == want {
				return s
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	s, _ := ts.queue.Status(id)
	t.Fatalf("job %d is %s after 60 s, want %v (error %q)", id, s.State, states, s.Error)
	return s
}

// event is one Server-Sent Event and when it arrived.
type event struct {
	name, data string
	at         time.Time
}

// openEvents reads /api/events into a channel until the test ends.
func (ts *testServer) openEvents(t *testing.T) <-chan event {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/events", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if ct := res.Header.Get("Content-Type"); res.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("GET /api/events: %d %s", res.StatusCode, ct)
	}
	events := make(chan event, 4096)
	go func() {
		defer res.Body.Close()
		defer close(events)
		lines := bufio.NewScanner(res.Body)
		var e event
		for lines.Scan() {
			line := lines.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				e.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				e.data = strings.TrimPrefix(line, "data: ")
			case line == "" && e.name != "":
				e.at = time.Now()
				events <- e
				e = event{}
			}
		}
	}()
	return events
}
