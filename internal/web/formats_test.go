package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"dream/internal/imageio"
	"dream/internal/queue"
)

// The gallery lists JPEG and WebP results with the command stored in them, as it does PNGs.
func TestGalleryShowsEachFormat(t *testing.T) {
	ts := startServer(t, serverOptions{})
	for i, format := range []string{"jpg", "webp"} {
		status, answer := ts.postJob(t, fmt.Sprintf(`"a red fox" -s 3 -S %d -W 64 -H 64 --format %s`, i+1, format))
		if status != http.StatusAccepted {
			t.Fatalf("POST /api/jobs: %d %v", status, answer)
		}
		if done := ts.waitFor(t, jobID(t, answer), queue.Done, queue.Failed); done.State != queue.Done {
			t.Fatalf("the %s job ended %s: %q", format, done.State, done.Error)
		}
	}
	_, body := ts.get(t, "/api/gallery")
	var gallery struct {
		Images []galleryImage `json:"images"`
	}
	if err := json.Unmarshal([]byte(body), &gallery); err != nil || len(gallery.Images) != 2 {
		t.Fatalf("gallery: %s", body)
	}
	for _, g := range gallery.Images {
		stored, err := imageio.ReadCommand(filepath.Join(ts.outdir, g.Name))
		if err != nil || g.Command != stored || !strings.HasSuffix(stored, "--format "+strings.TrimPrefix(filepath.Ext(g.Name), ".")) ||
			g.Kind != "generated" || g.Width != 64 {
			t.Errorf("gallery image %+v; the file stores %q (%v)", g, stored, err)
		}
	}
}
