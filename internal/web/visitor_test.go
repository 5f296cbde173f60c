package web

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// isRefusal tells whether body is how the server refuses a request for path: one line of
// JSON for /api/, the short page for anything a person may open.
func isRefusal(path, body string) bool {
	if strings.HasPrefix(path, "/api/") {
		return isOneLineError(body)
	}
	return strings.HasPrefix(body, "<!DOCTYPE html>") && strings.Contains(body, "Open the address dream printed")
}

// A person who opens the page without its token (a bookmark without ?token=, the address
// typed by hand) gets a short page that says to open the address dream printed, not raw
// JSON (issue 25); the page's script and other programs asking /api/ still get JSON.
func TestVisitorWithoutTheTokenGetsAPage(t *testing.T) {
	ts := startServer(t, serverOptions{token: "s3cret"})
	for _, c := range []struct {
		path, contentType, says string
	}{
		{"/", "text/html; charset=utf-8", "this server needs its token: open the address dream printed, with its ?token="},
		{"/files/a.png?token=guess", "text/html; charset=utf-8", "Open the address dream printed"},
		{"/api/jobs", "application/json", `{"error":"this server needs its token: open the address dream printed, with its ?token="}`},
		{"/api/models?token=guess", "application/json", `"error":`},
	} {
		res, err := http.Get(ts.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized || res.Header.Get("Content-Type") != c.contentType ||
			!strings.Contains(string(body), c.says) {
			t.Errorf("GET %s: %d %s %q; want 401 %s saying %q", c.path, res.StatusCode, res.Header.Get("Content-Type"), body, c.contentType, c.says)
		}
	}
	// A name the server does not answer to, in a browser: the page too, the name escaped.
	open := startServer(t, serverOptions{})
	req, _ := http.NewRequest("GET", open.URL+"/", nil)
	req.Host = "evil&co.example"
	status, body := open.do(t, req)
	if status != http.StatusForbidden || !strings.Contains(body, "&#34;evil&amp;co.example&#34;") {
		t.Errorf("GET / for Host %s: %d %q, want 403 and the page with the name escaped", req.Host, status, body)
	}
}
