package web

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"testing"
)

// The page's model list says gfpgan-1.4 is installed when --gfpgan_model_path names its file
// (issue 25): the test server's restorer comes from that flag, and the model folder has none.
func TestModelsListFollowsTheFlags(t *testing.T) {
	ts := startServer(t, serverOptions{})
	status, body := ts.get(t, "/api/models")
	var answer struct{ Text string }
	if err := json.Unmarshal([]byte(body), &answer); status != 200 || err != nil {
		t.Fatalf("GET /api/models: %d %s", status, body)
	}
	path := filepath.Join(filepath.Dir(ts.outdir), "gfpgan.onnx")
	line := regexp.MustCompile(`(?m)^  installed +gfpgan-1\.4 +` + regexp.QuoteMeta(path) + ` \(from --gfpgan_model_path\)$`)
	if !line.MatchString(answer.Text) {
		t.Errorf("the model list says:\n%s\nwant gfpgan-1.4 installed at %s", answer.Text, path)
	}
}

// An empty queue is listed as an empty list, not null (issue 25).
func TestEmptyQueueIsAnEmptyList(t *testing.T) {
	ts := startServer(t, serverOptions{})
	if status, body := ts.get(t, "/api/jobs"); status != 200 || body != "{\"jobs\":[]}\n" {
		t.Errorf("GET /api/jobs of an empty queue: %d %q, want {\"jobs\":[]}", status, body)
	}
}
