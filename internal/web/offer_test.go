package web

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dream/internal/testenv"
)

// The page offers only what can run (issue 25): GET /api/models says, for each choice, whether
// its model is there and, when not, the job's own error, which names the file and where it
// belongs. The test server has the test export, a restorer from --gfpgan_model_path and the
// shared upscalers, and no CodeFormer; without an export, generating is not offered.
func TestModelsSayWhatCanRun(t *testing.T) {
	for _, c := range []struct {
		name string
		o    serverOptions
		want map[string]bool // choice → offered
	}{
		{"with an export", serverOptions{}, map[string]bool{"generate": true, "upscale": true, "x4plus": true, "general-x4v3": true,
			"gfpgan": true, "codeformer": false}},
		{"without one", serverOptions{noSD: true}, map[string]bool{"generate": false, "upscale": true, "x4plus": true, "general-x4v3": true,
			"gfpgan": true, "codeformer": false}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts := startServer(t, c.o)
			status, body := ts.get(t, "/api/models")
			var answer struct{ Offer offer }
			if status != 200 || json.Unmarshal([]byte(body), &answer) != nil {
				t.Fatalf("GET /api/models: %d %s", status, body)
			}
			o := answer.Offer
			got := map[string]availability{"generate": o.Generate, "upscale": o.Upscale,
				"x4plus": o.Upscalers["x4plus"], "general-x4v3": o.Upscalers["general-x4v3"],
				"gfpgan": o.FaceTools["gfpgan"], "codeformer": o.FaceTools["codeformer"]}
			for choice, offered := range c.want {
				if got[choice].OK != offered || offered != (got[choice].Reason == "") {
					t.Errorf("%s: %+v, want offered %v, with a reason when not", choice, got[choice], offered)
				}
			}
			if o.DefaultUpscaler != "general-x4v3" {
				t.Errorf("the default upscaler is %q, want the launch flag's general-x4v3", o.DefaultUpscaler)
			}
			codeformer := filepath.Join(testenv.Shared("models"), "codeformer.onnx")
			if !strings.Contains(o.FaceTools["codeformer"].Reason, codeformer) {
				t.Errorf("codeformer is missing because %q; want the path to put it at, %s", o.FaceTools["codeformer"].Reason, codeformer)
			}
			if !o.Generate.OK && !strings.Contains(o.Generate.Reason, filepath.Join(testenv.Shared("models"), "stable-diffusion-v1-5")) {
				t.Errorf("generating is not offered because %q; want the folder to fill", o.Generate.Reason)
			}
		})
	}
}

// A line that needs a missing model is refused before it is queued, with the job's own error
// after the switch it is about, so that trying adds no failed job to the queue (issue 25).
func TestLinesWithMissingModelsAreRefused(t *testing.T) {
	ts := startServer(t, serverOptions{noSD: true})
	testenv.CopyFile(t, testenv.Shared("images", "coffee_crop128.png"), filepath.Join(ts.outdir, "coffee.png"))
	for _, c := range []struct{ line, sw, says string }{
		{`"a red fox" -W 64 -H 64`, "", "no Stable Diffusion model is installed: put a diffusers ONNX export"},
		{"!fix coffee.png -G 0.8 -ft codeformer", "-ft", "-ft codeformer: model codeformer.onnx not found in " + testenv.Shared("models")},
	} {
		status, answer := ts.postJob(t, c.line)
		if status != http.StatusBadRequest || answer["switch"] != c.sw || !strings.HasPrefix(answer["error"].(string), c.says) {
			t.Errorf("%s: %d %v, want 400 about %q: %q", c.line, status, answer, c.sw, c.says)
		}
	}
	if jobs := ts.queue.Jobs(); len(jobs) != 0 {
		t.Errorf("refused lines left %d jobs in the queue: %+v", len(jobs), jobs)
	}
	// A line whose network is named and installed runs.
	status, answer := ts.postJob(t, "!fix coffee.png -U 2 --esrgan_model general-x4v3")
	if status != http.StatusAccepted {
		t.Fatalf("!fix with --esrgan_model general-x4v3: %d %v", status, answer)
	}
	ts.waitFor(t, jobID(t, answer), "done")
	if _, err := os.Stat(filepath.Join(ts.outdir, "coffee.fixed.png")); err != nil {
		t.Error(err)
	}
}
