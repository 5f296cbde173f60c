// Package web is dream's page in a browser (dream --web): a small HTTP server on the same
// pipeline, job queue and output folder as the dream> shell. The page builds dream> lines
// and the server parses them with the shell's parser, so the page and the shell have one
// grammar and one set of error texts. Everything the page shows comes from the output
// folder, the queue and the model folder.
package web

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"dream/internal/pipeline"
	"dream/internal/queue"
)

//go:embed static
var static embed.FS

// DefaultMaxUpload is the default limit of one upload request, in bytes.
const DefaultMaxUpload = 64 << 20

// Config is what the launch flags give the server.
type Config struct {
	Pipeline *pipeline.Pipeline
	Queue    *queue.Queue
	Outdir   string // the output folder: the gallery, the uploads, every job's results
	ModelDir string
	// Token, when set, must come with every request (dream --web_token); a server that
	// listens beyond the loopback interface has one.
	Token string
	// Host is the address the server listens on (--host). Requests may name it, besides
	// the loopback names.
	Host string
	// MaxUpload bounds an upload request, in bytes; 0 means DefaultMaxUpload.
	MaxUpload int64
	// ThumbDir is where thumbnails are cached: the user's cache folder, never the output
	// folder.
	ThumbDir string
	// Upscaler is --esrgan_model, the network -U runs for a line that names none; the page's
	// picker says so.
	Upscaler string
}

// Server answers the page's requests.
type Server struct {
	cfg    Config
	ctx    context.Context // ends when the server stops, and with it the page's jobs
	mux    *http.ServeMux
	cross  *http.CrossOriginProtection
	thumbs *thumbnails

	mu     sync.Mutex
	seeds  []uint32 // the seeds of the page's images, for -S -1
	images []string // the page's results, for -I -1
}

// New returns a server; its page's jobs are cancelled when ctx ends.
func New(ctx context.Context, cfg Config) *Server {
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = DefaultMaxUpload
	}
	s := &Server{cfg: cfg, ctx: ctx, mux: http.NewServeMux(), cross: http.NewCrossOriginProtection(),
		thumbs: newThumbnails(cfg.ThumbDir)}
	s.routes()
	return s
}

func (s *Server) routes() {
	page, _ := fs.Sub(static, "static") // embedded at build time: cannot fail
	s.mux.Handle("GET /{$}", serveEmbedded(page, "index.html"))
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(page)))
	s.mux.HandleFunc("GET /api/settings", s.settings)
	s.mux.HandleFunc("GET /api/models", s.models)
	s.mux.HandleFunc("GET /api/jobs", s.listJobs)
	s.mux.HandleFunc("POST /api/jobs", s.addJob)
	s.mux.HandleFunc("POST /api/jobs/{id}/cancel", s.cancelJob)
	s.mux.HandleFunc("GET /api/events", s.events)
	s.mux.HandleFunc("POST /api/uploads", s.upload)
	s.mux.HandleFunc("GET /api/gallery", s.gallery)
	s.mux.HandleFunc("GET /files/{name...}", s.file)
	s.mux.HandleFunc("GET /thumbs/{name...}", s.thumbnail)
	s.mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		refuse(w, http.StatusNotFound, fmt.Sprintf("no such page: %s", r.URL.Path))
	})
}

// NewHTTPServer is the HTTP server for handler: HTTP/1.1, and unencrypted HTTP/2 (h2c, with
// prior knowledge) for clients that speak it, whose requests and event streams all share
// one connection. Browsers speak HTTP/2 only over TLS, so the page itself shares one event
// stream among its tabs instead (see app.js, connectEvents).
func NewHTTPServer(handler http.Handler) *http.Server {
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	return &http.Server{Handler: handler, Protocols: protocols, ReadHeaderTimeout: 10 * time.Second}
}

// ServeHTTP checks every request (see security.go), then answers it. A handler that panics
// gets a one-line 500, never a stack trace, and the server goes on.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v) // the client went away; net/http handles it quietly
			}
			fmt.Fprintf(os.Stderr, "dream: web: %s %s: %v\n", r.Method, r.URL.Path, v)
			refuse(w, http.StatusInternalServerError, "the server failed on this request; the shell's output may say more")
		}
	}()
	if !s.admit(w, r) {
		return
	}
	s.mux.ServeHTTP(w, r)
}

// serveEmbedded answers with one embedded file.
func serveEmbedded(page fs.FS, name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, page, name)
	})
}

// refuse answers a request that cannot be done with a status and one line of reason.
func refuse(w http.ResponseWriter, status int, reason string) {
	writeJSON(w, status, map[string]string{"error": oneLine(reason)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v) // a write error means the client left
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
