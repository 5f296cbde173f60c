package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"strings"
)

// tokenCookie carries the token after the page was opened with ?token=: the page's script
// and its event stream then need nothing more.
const tokenCookie = "dream_token"

// NewToken makes a token for a server that listens beyond the loopback interface.
func NewToken() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails on Linux, macOS or Windows
	return hex.EncodeToString(b)
}

// IsLoopback tells whether host (a name or address, as --host takes it) is this machine's
// loopback interface only.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// admit checks a request before any handler sees it, and answers it when it is refused:
//   - Host must name this server (a loopback name, the --host address, or an IP address),
//     so that a web site whose name was rebound to 127.0.0.1 cannot read the page; with a
//     token, the token guards against that instead;
//   - the token, when the server has one, must come as ?token=, a cookie or a bearer header;
//   - a request that changes anything must come from the page itself: a browser's Origin
//     and Sec-Fetch-Site headers are checked (cross-site request forgery).
func (s *Server) admit(w http.ResponseWriter, r *http.Request) bool {
	if !s.knownHost(r.Host) {
		refuseVisitor(w, r, http.StatusForbidden, fmt.Sprintf("this server does not answer to the name %q: open the address dream printed", r.Host))
		return false
	}
	if !s.hasToken(w, r) {
		refuseVisitor(w, r, http.StatusUnauthorized, "this server needs its token: open the address dream printed, with its ?token=")
		return false
	}
	if err := s.cross.Check(r); err != nil {
		refuse(w, http.StatusForbidden, "a request from another site was refused: use the page dream serves")
		return false
	}
	return true
}

// knownHost tells whether the Host header names this server. An IP address cannot be
// rebound, so any is accepted; a name must be a loopback name or the --host name. A server
// with a token answers to any name (people reach it by the machine's name): a page whose name
// was rebound to it cannot have the token, so it gets nothing.
func (s *Server) knownHost(hostport string) bool {
	if s.cfg.Token != "" {
		return true
	}
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport // no port
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	if host == "" {
		return false
	}
	if host == "localhost" || net.ParseIP(host) != nil {
		return true
	}
	return s.cfg.Host != "" && strings.EqualFold(host, s.cfg.Host)
}

// hasToken checks the request's token; a correct ?token= also sets the cookie, so the
// page's later requests carry it.
func (s *Server) hasToken(w http.ResponseWriter, r *http.Request) bool {
	want := s.cfg.Token
	if want == "" {
		return true
	}
	if given := r.URL.Query().Get("token"); given != "" && same(given, want) {
		http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: want, Path: "/", HttpOnly: true,
			SameSite: http.SameSiteStrictMode})
		return true
	}
	if c, err := r.Cookie(tokenCookie); err == nil && same(c.Value, want) {
		return true
	}
	bearer, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return found && same(bearer, want)
}

func same(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// refuseVisitor refuses a request a person may have made by opening an address: the page, an
// image. A browser shows them a short page that says what to do; the page's script and other
// programs, which ask /api/, get JSON as for every other refusal.
func refuseVisitor(w http.ResponseWriter, r *http.Request, status int, reason string) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		refuse(w, status, reason)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	visitorPage.Execute(w, reason) // a write error means the client left
}

// visitorPage is the whole page a refused visitor sees; the reason is escaped.
var visitorPage = template.Must(template.New("refused").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>dream: use the printed address</title></head>
<body style="font: 16px/1.5 system-ui, sans-serif; max-width: 36em; margin: 3em auto; padding: 0 1em">
<h1 style="font-size: 1.3em">Open the address dream printed</h1>
<p>{{.}}</p>
<p>When <code>dream --web</code> starts, it prints a line such as <code>the page is at http://127.0.0.1:9090/?token=…</code> in its terminal: open that address as printed, its token included when it has one. The browser remembers the token for the page's later requests.</p>
</body>
</html>
`))
