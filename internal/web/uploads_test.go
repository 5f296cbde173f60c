package web

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An upload of several images is stored whole or not at all (issue 25): a bad image among
// good ones gets an answer that names it, and none of the request's images is stored, those
// before it included. The request is the one curl -F file=@one.png -F file=@corrupt.png sends.
func TestUploadIsAllOrNothing(t *testing.T) {
	ts := startServer(t, serverOptions{upload: 1 << 20})
	cases := []struct {
		name   string
		files  []namedPart
		status int
		file   string // the file the answer names
	}{
		{"a corrupt image after a good one", []namedPart{{"one.png", pngBytes(t, 16, 12)}, {"corrupt.png", []byte("\x89PNG\r\n\x1a\nnot really")}},
			http.StatusBadRequest, "corrupt.png"},
		{"too many pixels in the middle", []namedPart{{"one.png", pngBytes(t, 16, 12)}, {"huge.png", hugePNGHeader(t, 30000, 30000)}, {"three.png", pngBytes(t, 8, 8)}},
			http.StatusRequestEntityTooLarge, "huge.png"},
	}
	for _, c := range cases {
		status, body := ts.uploadParts(t, c.files)
		var answer struct{ Error, File string }
		json.Unmarshal([]byte(body), &answer)
		if status != c.status || answer.File != c.file || !strings.HasPrefix(answer.Error, c.file+" ") ||
			!strings.Contains(answer.Error, "none of the") || !isOneLineError(body) {
			t.Errorf("%s: %d %s; want %d naming %s and saying none was stored", c.name, status, body, c.status, c.file)
		}
	}
	if stored, _ := os.ReadDir(filepath.Join(ts.outdir, uploadDir)); len(stored) != 0 {
		t.Errorf("uploads/ holds %d files after refused uploads, want none", len(stored))
	}
	// The good ones alone are then stored under their own names.
	status, body := ts.uploadParts(t, []namedPart{{"one.png", pngBytes(t, 16, 12)}, {"three.png", pngBytes(t, 8, 8)}})
	if status != http.StatusCreated || !strings.Contains(body, `"uploads/one.png"`) || !strings.Contains(body, `"uploads/three.png"`) {
		t.Errorf("the good images alone: %d %s", status, body)
	}
}

// A store that fails halfway takes back what it stored before: the second image's name
// leads into a folder that does not exist, so it cannot be written.
func TestUploadStoreRollsBack(t *testing.T) {
	ts := startServer(t, serverOptions{})
	files := []incoming{{name: "first.png", data: pngBytes(t, 4, 4)}, {name: "missing/second.png", data: pngBytes(t, 4, 4)}}
	if _, _, err := ts.web.storeAll(files); err == nil || !strings.Contains(err.Error(), "none of the 2 images was stored") {
		t.Errorf("storeAll: %v, want a failure saying none was stored", err)
	}
	if stored, _ := os.ReadDir(filepath.Join(ts.outdir, uploadDir)); len(stored) != 0 {
		t.Errorf("uploads/ holds %d files after a failed store, want none", len(stored))
	}
}

type namedPart struct {
	name string
	data []byte
}

// uploadParts sends files in one multipart request, in their order.
func (ts *testServer) uploadParts(t *testing.T, files []namedPart) (int, string) {
	t.Helper()
	var body bytes.Buffer
	form := multipart.NewWriter(&body)
	for _, f := range files {
		part, _ := form.CreateFormFile("file", f.name)
		part.Write(f.data)
	}
	form.Close()
	req, _ := http.NewRequest("POST", ts.URL+"/api/uploads", &body)
	req.Header.Set("Content-Type", form.FormDataContentType())
	return ts.do(t, req)
}
