package models

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// payload is a test model file: long enough to be cut in the middle of the body.
var payload = bytes.Repeat([]byte("dream model bytes 0123456789\n"), 4096)

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// serve answers every request with payload, honouring Range like a release host does.
func serve(w http.ResponseWriter, r *http.Request) {
	http.ServeContent(w, r, "model.onnx", time.Time{}, bytes.NewReader(payload))
}

func entryFor(urls ...string) Entry {
	e := Entry{Name: "test-model", File: "test.onnx"}
	for _, u := range urls {
		e.Sources = append(e.Sources, Source{URL: u, SHA256: sum(payload)})
	}
	return e
}

// checkInstalled asserts the final file holds payload and no .part is left.
func checkInstalled(t *testing.T, dir string) {
	t.Helper()
	got, err := os.ReadFile(filepath.Join(dir, "test.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, payload) {
		t.Fatalf("installed file has %d bytes, want the %d served", len(got), len(payload))
	}
	checkNoFile(t, filepath.Join(dir, ".test.onnx.part"))
}

func checkNoFile(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s exists (err %v), want no file", path, err)
	}
}

func TestDownloadInstalls(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(serve))
	defer srv.Close()
	dir := t.TempDir()
	var last, total int64
	err := Download(context.Background(), srv.Client(), entryFor(srv.URL+"/m.onnx"), dir, func(d, tot int64) {
		last, total = d, tot
	})
	if err != nil {
		t.Fatal(err)
	}
	checkInstalled(t, dir)
	if last != int64(len(payload)) || total != int64(len(payload)) {
		t.Errorf("last progress %d/%d, want %d/%d", last, total, len(payload), len(payload))
	}
}

func TestDownloadRefusesWrongHash(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(serve))
	defer srv.Close()
	dir := t.TempDir()
	e := entryFor(srv.URL + "/m.onnx")
	e.Sources[0].SHA256 = strings.Repeat("ab", 32)
	err := Download(context.Background(), srv.Client(), e, dir, nil)
	if err == nil {
		t.Fatal("a file with the wrong sha256 was accepted")
	}
	t.Log(err)
	for _, want := range []string{"test.onnx", strings.Repeat("ab", 32), sum(payload)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	checkNoFile(t, filepath.Join(dir, "test.onnx"))
	checkNoFile(t, filepath.Join(dir, ".test.onnx.part"))
}

// TestDownloadResumes cuts the first transfer halfway, then checks the next Download asks
// for the rest with Range and ends with the whole file.
func TestDownloadResumes(t *testing.T) {
	var mu sync.Mutex
	var ranges []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ranges = append(ranges, r.Header.Get("Range"))
		first := len(ranges) == 1
		mu.Unlock()
		if first {
			w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
			w.Write(payload[:len(payload)/2])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler) // drops the connection mid-body
		}
		serve(w, r)
	}))
	defer srv.Close()
	dir := t.TempDir()
	e := entryFor(srv.URL + "/m.onnx")
	if err := Download(context.Background(), srv.Client(), e, dir, nil); err == nil {
		t.Fatal("an interrupted transfer reported success")
	}
	checkNoFile(t, filepath.Join(dir, "test.onnx"))
	if n := fileSize(filepath.Join(dir, ".test.onnx.part")); n != int64(len(payload)/2) {
		t.Fatalf(".part holds %d bytes after the cut, want %d", n, len(payload)/2)
	}
	if err := Download(context.Background(), srv.Client(), e, dir, nil); err != nil {
		t.Fatal(err)
	}
	checkInstalled(t, dir)
	if want := "bytes=" + strconv.Itoa(len(payload)/2) + "-"; len(ranges) != 2 || ranges[1] != want {
		t.Errorf("Range headers %q, want the second request to ask %q", ranges, want)
	}
}

// TestDownloadRestartsOnFullAnswer: a server that ignores Range sends the whole file, which
// must replace the .part rather than be appended to it.
func TestDownloadRestartsOnFullAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(payload)
	}))
	defer srv.Close()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".test.onnx.part"), []byte("stale"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Download(context.Background(), srv.Client(), entryFor(srv.URL+"/m.onnx"), dir, nil); err != nil {
		t.Fatal(err)
	}
	checkInstalled(t, dir)
}

func TestDownload404IsOneLine(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	dir := t.TempDir()
	url := srv.URL + "/gone.onnx"
	err := Download(context.Background(), srv.Client(), entryFor(url), dir, nil)
	if err == nil {
		t.Fatal("a 404 reported success")
	}
	t.Log(err)
	if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, url) || !strings.Contains(msg, "404") {
		t.Errorf("error %q: want one line naming %s and 404", msg, url)
	}
	checkNoFile(t, filepath.Join(dir, "test.onnx"))
}

func TestDownloadFallsBackToNextSource(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing.onnx" {
			http.NotFound(w, r)
			return
		}
		serve(w, r)
	}))
	defer srv.Close()
	dir := t.TempDir()
	e := entryFor(srv.URL+"/missing.onnx", srv.URL+"/mirror.onnx")
	if err := Download(context.Background(), srv.Client(), e, dir, nil); err != nil {
		t.Fatal(err)
	}
	checkInstalled(t, dir)
}

func TestDownloadStopsOnCancel(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
		w.Write(payload[:1000])
		w.(http.Flusher).Flush()
		select { // a stalled server: only the client's cancel ends this transfer
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	done := make(chan error, 1)
	go func() {
		done <- Download(ctx, srv.Client(), entryFor(srv.URL+"/m.onnx"), dir, func(int64, int64) { cancel() })
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Download did not stop when its context was cancelled")
	}
	checkNoFile(t, filepath.Join(dir, "test.onnx"))
}

func TestDownloadOfflineNamesThePath(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now: connection refused
	dir := t.TempDir()
	err = Download(context.Background(), http.DefaultClient, entryFor("http://"+addr+"/m.onnx"), dir, nil)
	if err == nil {
		t.Fatal("an unreachable server reported success")
	}
	t.Log(err)
	for _, want := range []string{"test-model", filepath.Join(dir, "test.onnx"), "offline"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestDownloadFolder(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(serve))
	defer srv.Close()
	dir := t.TempDir()
	e := Entry{Name: "sd", File: "sd", Files: []Entry{
		{Name: "sd/unet", File: "unet/model.onnx", Sources: []Source{{URL: srv.URL + "/unet"}}},
		{Name: "sd/vocab", File: "tokenizer/vocab.json", Sources: []Source{{URL: srv.URL + "/vocab", SHA256: sum(payload)}}},
	}}
	m := &Manifest{Models: []Entry{e}}
	if got := m.Missing(dir); len(got) != 1 {
		t.Fatalf("Missing before download = %v, want the folder", got)
	}
	if err := Download(context.Background(), srv.Client(), e, dir, nil); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"unet/model.onnx", "tokenizer/vocab.json"} {
		if !fileExists(filepath.Join(dir, "sd", f)) {
			t.Errorf("sd/%s was not installed", f)
		}
	}
	if got := m.Missing(dir); len(got) != 0 {
		t.Errorf("Missing after download = %v, want none", got)
	}
}

func TestStatus(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, YuNet), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A .part is not an installed model.
	if err := os.WriteFile(filepath.Join(dir, "."+RealESRGANx4plus+".part"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, s := range Status(dir) {
		wantPresent := s.Entry.File == YuNet
		if s.Present != wantPresent {
			t.Errorf("%s: present = %v, want %v", s.Entry.Name, s.Present, wantPresent)
		}
		if s.Path != filepath.Join(dir, s.Entry.File) {
			t.Errorf("%s: path %s", s.Entry.Name, s.Path)
		}
	}
	if n, want := len(Missing(dir)), len(Embedded().Models)-1; n != want {
		t.Errorf("%d missing, want %d", n, want)
	}
}
