package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
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
		refuse(w, http.StatusForbidden, fmt.Sprintf("this server does not answer to the name %q: open the address dream printed", r.Host))
		return false
	}
	if !s.hasToken(w, r) {
		refuse(w, http.StatusUnauthorized, "this server needs its token: open the address dream printed, with its ?token=")
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
