package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"dream/internal/queue"
)

// keepAlive is how often an idle event stream gets a comment, so that proxies and the
// browser keep it open, and a client that left is noticed.
const keepAlive = 15 * time.Second

// events streams the queue's changes as Server-Sent Events: first every job the queue
// knows, then "ready", then each change as it happens ("job"), and "gallery" when a job
// ended, since it may have written files. The stream ends when the client leaves or the
// server stops.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		refuse(w, http.StatusInternalServerError, "this connection cannot stream events")
		return
	}
	watcher := s.cfg.Queue.Watch() // before the snapshot, so that no change falls between
	defer watcher.Stop()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	jobs := s.cfg.Queue.Jobs()
	for i := len(jobs) - 1; i >= 0; i-- { // oldest first, as they happened
		if s.sendJob(w, jobs[i]) != nil {
			return
		}
	}
	// "ready" ends the snapshot: the page knows the stream is open even when no job is known.
	if _, err := fmt.Fprint(w, "event: ready\ndata: {}\n\n"); err != nil {
		return
	}
	flusher.Flush()
	ping := time.NewTicker(keepAlive)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.ctx.Done():
			return
		case <-ping.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return
			}
		case <-watcher.Ready():
			if s.sendChanges(w, watcher.Take()) != nil {
				return
			}
		}
		flusher.Flush()
	}
}

func (s *Server) sendChanges(w http.ResponseWriter, changes []queue.Status) error {
	ended := false
	for _, status := range changes {
		if err := s.sendJob(w, status); err != nil {
			return err
		}
		ended = ended || (status.State != queue.Queued && status.State != queue.Running)
	}
	if ended {
		_, err := fmt.Fprint(w, "event: gallery\ndata: {}\n\n")
		return err
	}
	return nil
}

func (s *Server) sendJob(w http.ResponseWriter, status queue.Status) error {
	data, err := json.Marshal(s.view(status))
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "event: job\ndata: %s\n\n", data)
	return err
}
