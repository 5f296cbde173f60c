package web

import (
	"bytes"
	"fmt"
	"image/jpeg"
	"io"
	"net/http"
	"path/filepath"
	"sync"
	"testing"

	"dream/internal/testenv"
)

// Many requests at once for the thumbnails of a few photos: each is made once, every request
// gets the same JPEG, at most 256 pixels on its long side, kept in the cache folder only.
func TestThumbnailsAreMadeOnce(t *testing.T) {
	ts := startServer(t, serverOptions{})
	photo := testenv.Shared("images", "astronaut.png")
	for i := range 3 {
		testenv.CopyFile(t, photo, filepath.Join(ts.outdir, fmt.Sprintf("p%d.png", i)))
	}
	var wg sync.WaitGroup
	got := make([][]byte, 12)
	for i := range got {
		wg.Go(func() {
			res, err := http.Get(fmt.Sprintf("%s/thumbs/p%d.png", ts.URL, i%3))
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			got[i], _ = io.ReadAll(res.Body)
		})
	}
	wg.Wait()
	for i := range got {
		if !bytes.Equal(got[i], got[i%3]) {
			t.Errorf("request %d got another thumbnail than request %d", i, i%3)
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(got[i]))
		if err != nil || max(cfg.Width, cfg.Height) != thumbSide {
			t.Errorf("request %d: %dx%d (%v), want a JPEG of %d on its long side", i, cfg.Width, cfg.Height, err, thumbSide)
		}
	}
	if cached, _ := filepath.Glob(filepath.Join(ts.thumbs, "*")); len(cached) != 3 {
		t.Errorf("the cache holds %v, want 3 thumbnails", cached)
	}
	if len(ts.web.thumbs.busy) != 0 {
		t.Errorf("thumbnails still marked as being made: %v", ts.web.thumbs.busy)
	}
}
