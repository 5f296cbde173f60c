package web

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Every request names this server: a page of another site whose name was rebound to
// 127.0.0.1 cannot read it (DNS rebinding).
func TestHostIsChecked(t *testing.T) {
	ts := startServer(t, serverOptions{})
	cases := []struct {
		host   string
		status int
	}{
		{"evil.example", http.StatusForbidden},
		{"evil.example:80", http.StatusForbidden},
		{"localhost.evil.example", http.StatusForbidden},
		{"localhost", http.StatusOK},
		{"127.0.0.1:9090", http.StatusOK},
		{"[::1]:9090", http.StatusOK},
	}
	for _, c := range cases {
		req, _ := http.NewRequest("GET", ts.URL+"/api/jobs", nil)
		req.Host = c.host
		if status, body := ts.do(t, req); status != c.status || (status != 200 && !isOneLineError(body)) {
			t.Errorf("Host %s: %d %s, want %d", c.host, status, body, c.status)
		}
	}
}

// A server with a token answers only requests that carry it: as ?token= (which sets a
// cookie for the page's later requests), as that cookie, or as a bearer header.
func TestTokenIsRequired(t *testing.T) {
	ts := startServer(t, serverOptions{token: "s3cret"})
	cases := []struct {
		name   string
		path   string
		header map[string]string
		status int
	}{
		{"none", "/api/jobs", nil, http.StatusUnauthorized},
		{"none, the page", "/", nil, http.StatusUnauthorized},
		{"none, a file", "/files/x.png", nil, http.StatusUnauthorized},
		{"none, events", "/api/events", nil, http.StatusUnauthorized},
		{"wrong", "/api/jobs?token=guess", nil, http.StatusUnauthorized},
		{"wrong cookie", "/api/jobs", map[string]string{"Cookie": tokenCookie + "=guess"}, http.StatusUnauthorized},
		{"wrong bearer", "/api/jobs", map[string]string{"Authorization": "Bearer guess"}, http.StatusUnauthorized},
		{"query", "/api/jobs?token=s3cret", nil, http.StatusOK},
		{"cookie", "/api/jobs", map[string]string{"Cookie": tokenCookie + "=s3cret"}, http.StatusOK},
		{"bearer", "/api/jobs", map[string]string{"Authorization": "Bearer s3cret"}, http.StatusOK},
	}
	for _, c := range cases {
		req, _ := http.NewRequest("GET", ts.URL+c.path, nil)
		for k, v := range c.header {
			req.Header.Set(k, v)
		}
		if status, body := ts.do(t, req); status != c.status || (status != 200 && !isRefusal(c.path, body)) {
			t.Errorf("%s: %d %s, want %d", c.name, status, body, c.status)
		}
	}
	// With a token, the machine's own name is fine, and a rebound name still gets nothing.
	for _, c := range []struct {
		header string
		status int
	}{{"", http.StatusUnauthorized}, {"Bearer s3cret", http.StatusOK}} {
		req, _ := http.NewRequest("GET", ts.URL+"/api/jobs", nil)
		req.Host = "workstation.lan:9090"
		req.Header.Set("Authorization", c.header)
		if status, _ := ts.do(t, req); status != c.status {
			t.Errorf("Host workstation.lan, Authorization %q: %d, want %d", c.header, status, c.status)
		}
	}
	res, err := http.Get(ts.URL + "/api/settings?token=s3cret")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	cookies := res.Cookies()
	if len(cookies) != 1 || cookies[0].Name != tokenCookie || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode {
		t.Errorf("?token= set the cookies %v, want one HttpOnly SameSite=Strict %s", cookies, tokenCookie)
	}
}

// Requests that change anything must come from the page itself (cross-site request forgery).
func TestOtherSitesCannotPost(t *testing.T) {
	ts := startServer(t, serverOptions{})
	cases := []struct {
		name    string
		path    string
		headers map[string]string
		status  int
	}{
		{"another origin", "/api/jobs", map[string]string{"Origin": "http://evil.example"}, http.StatusForbidden},
		{"a cross-site fetch", "/api/jobs", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"another origin, cancel", "/api/jobs/1/cancel", map[string]string{"Origin": "http://evil.example"}, http.StatusForbidden},
		{"another origin, upload", "/api/uploads", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"a form from anywhere", "/api/jobs", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType},
	}
	for _, c := range cases {
		req, _ := http.NewRequest("POST", ts.URL+c.path, strings.NewReader(`{"line": "a cat -s 1"}`))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range c.headers {
			req.Header.Set(k, v)
		}
		if status, body := ts.do(t, req); status != c.status || !isOneLineError(body) {
			t.Errorf("%s: %d %s, want %d", c.name, status, body, c.status)
		}
	}
	// The page's own requests pass.
	req, _ := http.NewRequest("POST", ts.URL+"/api/jobs", strings.NewReader(`{"line": "\"a cat\" -s 1 -W 64 -H 64"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", ts.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if status, body := ts.do(t, req); status != http.StatusAccepted {
		t.Errorf("the page's own POST: %d %s", status, body)
	}
	if jobs := ts.queue.Jobs(); len(jobs) != 1 {
		t.Errorf("%d jobs after one allowed POST", len(jobs))
	}
}

// Only images inside the output folder are served, by name.
func TestOnlyTheOutputFolderIsServed(t *testing.T) {
	ts := startServer(t, serverOptions{})
	secretDir := t.TempDir()
	secret := filepath.Join(secretDir, "secret.png")
	writePNG(t, secret, 8, 8)
	writePNG(t, filepath.Join(ts.outdir, "mine.png"), 8, 8)
	writePNG(t, filepath.Join(ts.outdir, ".dream-prefix-000001.png"), 8, 8)
	os.WriteFile(filepath.Join(ts.outdir, "notes.txt"), []byte("x"), 0o644)
	os.Symlink(secret, filepath.Join(ts.outdir, "leaving.png"))
	os.Symlink("mine.png", filepath.Join(ts.outdir, "staying.png"))
	os.Symlink(secretDir, filepath.Join(ts.outdir, "elsewhere"))
	cases := []struct {
		path   string
		status int
	}{
		{"/files/mine.png", http.StatusOK},
		{"/files/staying.png", http.StatusOK},
		{"/thumbs/mine.png", http.StatusOK},
		{"/files/leaving.png", http.StatusNotFound},
		{"/thumbs/leaving.png", http.StatusNotFound},
		{"/files/elsewhere/secret.png", http.StatusNotFound},
		{"/files/%2e%2e/" + filepath.Base(secretDir) + "/secret.png", http.StatusBadRequest},
		{"/files/..%2f" + filepath.Base(secretDir) + "%2fsecret.png", http.StatusBadRequest},
		{"/files/%2F" + strings.TrimPrefix(secret, "/"), http.StatusBadRequest},
		{"/files/.dream-prefix-000001.png", http.StatusBadRequest},
		{"/files/notes.txt", http.StatusNotFound},
		{"/files/missing.png", http.StatusNotFound},
		{"/files/a%5Cb.png", http.StatusBadRequest},
		{"/nowhere", http.StatusNotFound},
	}
	for _, c := range cases {
		req, _ := http.NewRequest("GET", ts.URL+c.path, nil)
		status, body := ts.do(t, req)
		if status != c.status || (status != 200 && !isOneLineError(body)) {
			t.Errorf("GET %s: %d %.100s, want %d", c.path, status, body, c.status)
		}
		if strings.Contains(c.path, "secret") && strings.Contains(body, "PNG") {
			t.Errorf("GET %s served the file outside the output folder", c.path)
		}
	}
	// A raw "..", which a browser would clean, is never served either.
	for _, raw := range []string{"/files/../" + filepath.Base(secretDir) + "/secret.png", "/files/x/../../secret.png"} {
		status, body := rawGet(t, ts, raw)
		if status == 200 {
			t.Errorf("GET %s: %d %.100s", raw, status, body)
		}
	}
	// And the wrong method gets a one-line answer too.
	req, _ := http.NewRequest("DELETE", ts.URL+"/files/mine.png", nil)
	if status, _ := ts.do(t, req); status != http.StatusMethodNotAllowed {
		t.Errorf("DELETE /files/mine.png: %d", status)
	}
}

// rawGet sends a request line as given, without a client's cleaning.
func rawGet(t *testing.T, ts *testServer, path string) (int, string) {
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// Uploads: images only, within the byte and pixel limits, stored under uploads/ with
// sanitised names that never replace a file.
func TestUploads(t *testing.T) {
	ts := startServer(t, serverOptions{upload: 1 << 20})
	small := pngBytes(t, 16, 12)
	huge := hugePNGHeader(t, 30000, 30000)
	cases := []struct {
		name     string
		files    map[string][]byte
		status   int
		stored   string // the name the first file got
		errorHas string
	}{
		{"an image", map[string][]byte{"cat.png": small}, http.StatusCreated, "uploads/cat.png", ""},
		{"the same name again", map[string][]byte{"cat.png": small}, http.StatusCreated, "uploads/cat-01.png", ""},
		{"a path for a name", map[string][]byte{"../../etc/evil name!.png": small}, http.StatusCreated, "uploads/evil_name_.png", ""},
		{"a hidden name", map[string][]byte{".bashrc": small}, http.StatusCreated, "uploads/upload.png", ""},
		{"not an image", map[string][]byte{"notes.png": []byte("hello, this is text")}, http.StatusBadRequest, "", "is not a PNG, JPEG or WebP image"},
		{"too many pixels", map[string][]byte{"huge.png": huge}, http.StatusRequestEntityTooLarge, "", "is too large: 30000x30000 pixels"},
		{"too many bytes", map[string][]byte{"big.png": append(pngBytes(t, 16, 12), make([]byte, 2<<20)...)}, http.StatusRequestEntityTooLarge, "", "larger than 1 MB"},
		{"no file", map[string][]byte{}, http.StatusBadRequest, "", "no images"},
	}
	for _, c := range cases {
		status, body := ts.upload(t, c.files)
		if status != c.status || (c.stored != "" && !strings.Contains(body, `"name":"`+c.stored+`"`)) ||
			(c.errorHas != "" && (!strings.Contains(body, c.errorHas) || !isOneLineError(body))) {
			t.Errorf("%s: %d %s; want %d %q %q", c.name, status, body, c.status, c.stored, c.errorHas)
		}
	}
	stored, _ := os.ReadDir(filepath.Join(ts.outdir, uploadDir))
	var names []string
	for _, e := range stored {
		names = append(names, e.Name())
	}
	if len(names) != 4 {
		t.Errorf("uploads/ holds %v, want the 4 accepted images and nothing else", names)
	}
	// Not multipart at all.
	req, _ := http.NewRequest("POST", ts.URL+"/api/uploads", strings.NewReader("x"))
	req.Header.Set("Content-Type", "text/plain")
	if status, body := ts.do(t, req); status != http.StatusBadRequest || !isOneLineError(body) {
		t.Errorf("a plain-text upload: %d %s", status, body)
	}
}

// The server survives a client that leaves halfway through an upload or an event stream,
// and a half-sent upload leaves nothing behind.
func TestClientsThatLeave(t *testing.T) {
	ts := startServer(t, serverOptions{})
	var body bytes.Buffer
	form := multipart.NewWriter(&body)
	part, _ := form.CreateFormFile("file", "half.png")
	part.Write(pngBytes(t, 64, 64))
	form.Close()
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /api/uploads HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		form.FormDataContentType(), body.Len())
	conn.Write(body.Bytes()[:body.Len()/2])
	time.Sleep(50 * time.Millisecond)
	conn.Close()

	for range 3 {
		events := ts.openEvents(t)
		<-events
	}
	ts.postJob(t, `"a fox" -s 2 -S 1 -W 64 -H 64`)
	for i := 0; ; i++ {
		if ts.queue.Watchers() == 3 || i > 100 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if status, _ := ts.get(t, "/api/jobs"); status != 200 {
		t.Fatalf("after clients left, GET /api/jobs: %d", status)
	}
	if files, _ := os.ReadDir(filepath.Join(ts.outdir, uploadDir)); len(files) != 0 {
		t.Errorf("a half-sent upload left %d files", len(files))
	}
}

func (ts *testServer) upload(t *testing.T, files map[string][]byte) (int, string) {
	t.Helper()
	var body bytes.Buffer
	form := multipart.NewWriter(&body)
	for name, data := range files {
		part, _ := form.CreateFormFile("file", name)
		part.Write(data)
	}
	form.Close()
	req, _ := http.NewRequest("POST", ts.URL+"/api/uploads", &body)
	req.Header.Set("Content-Type", form.FormDataContentType())
	return ts.do(t, req)
}

func pngBytes(t *testing.T, w, h int) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writePNG(t *testing.T, path string, w, h int) {
	if err := os.WriteFile(path, pngBytes(t, w, h), 0o644); err != nil {
		t.Fatal(err)
	}
}

// hugePNGHeader is a small PNG whose header claims w×h pixels, as a decompression bomb's does.
func hugePNGHeader(t *testing.T, w, h int) []byte {
	data := pngBytes(t, 1, 1)
	ihdr := data[8+8 : 8+8+13] // after the signature and the chunk's length and type
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	binary.BigEndian.PutUint32(data[8+8+13:], crc32.ChecksumIEEE(data[12:8+8+13]))
	return data
}

// A handler that fails in a way nobody foresaw answers with one line, not a stack trace, and
// the server goes on.
func TestPanicIsOneLine(t *testing.T) {
	ts := startServer(t, serverOptions{})
	ts.web.mux.HandleFunc("GET /test/panic", func(http.ResponseWriter, *http.Request) { panic("index out of range [3] with length 3") })
	status, body := ts.get(t, "/test/panic")
	if status != http.StatusInternalServerError || !isOneLineError(body) || strings.Contains(body, "index out of range") {
		t.Errorf("a panicking handler answered %d %s", status, body)
	}
	if status, _ := ts.get(t, "/api/jobs"); status != 200 {
		t.Errorf("after the panic, GET /api/jobs: %d", status)
	}
}
