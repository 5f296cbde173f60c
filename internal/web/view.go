package web

import (
	"os"
	"path/filepath"
	"time"

	"dream/internal/queue"
)

// jobView is a job as the page shows it: the queue's status (every field of it, progress
// included, whatever fields it has), each result with its address, and, once the job has
// ended, how long it ran and how much it wrote.
type jobView struct {
	queue.Status
	Results []resultView `json:"results"`
	// Seconds is the job's time from its turn to its end; 0 until it ends.
	Seconds float64 `json:"seconds,omitempty"`
	// Bytes is the size of the files it wrote, as they are now; 0 until it ends.
	Bytes int64 `json:"bytes,omitempty"`
	// ProgressAge is how old the progress report was when the server sent this, in seconds:
	// the page counts an ETA down from it without trusting its own clock to match the server's.
	ProgressAge float64 `json:"progressAge,omitempty"`
}

// resultView is a file a job wrote, by its name inside the output folder with its address,
// or by its path, without one, when it lies outside (a shell line's -o).
type resultView struct {
	Name   string `json:"name"`
	URL    string `json:"url,omitempty"`
	Width  int    `json:"width,omitempty"`
	Height int    `json:"height,omitempty"`
	Seed   uint32 `json:"seed,omitempty"`
}

// view is status as the page shows it.
func (s *Server) view(status queue.Status) jobView {
	v := jobView{Status: status, Results: make([]resultView, 0, len(status.Results))}
	ended := !status.Ended.IsZero()
	var root *os.Root
	if ended {
		if r, err := os.OpenRoot(s.cfg.Outdir); err == nil {
			root = r
			defer root.Close()
		}
	}
	for _, r := range status.Results {
		name, inside := s.outdirName(r.Name)
		res := resultView{Name: name, Width: r.Width, Height: r.Height, Seed: r.Seed}
		if inside {
			res.URL = fileURL(name)
			if root != nil {
				if info, err := root.Stat(name); err == nil && info.Mode().IsRegular() {
					v.Bytes += info.Size()
				}
			}
		}
		v.Results = append(v.Results, res)
	}
	if ended && !status.Started.IsZero() {
		v.Seconds = status.Ended.Sub(status.Started).Seconds()
	}
	if p := status.Progress; p != nil && !p.At.IsZero() && !ended {
		v.ProgressAge = max(0, time.Since(p.At).Seconds())
	}
	return v
}

// views is statuses as the page shows them; an empty list is [], not null.
func (s *Server) views(statuses []queue.Status) []jobView {
	out := make([]jobView, 0, len(statuses))
	for _, status := range statuses {
		out = append(out, s.view(status))
	}
	return out
}

// outdirName is a result's name inside the output folder, and whether it lies there. The
// page's own results are named so already; the shell's come as absolute paths.
func (s *Server) outdirName(name string) (string, bool) {
	if !filepath.IsAbs(name) {
		return name, checkName(name) == nil
	}
	if rel, ok := s.inOutdir(name); ok {
		return rel, true
	}
	return name, false
}

// inOutdir is a path's name inside the output folder ("uploads/cat.png"), and whether the
// path lies there under a name the page may serve (see checkName). Both sides are made
// absolute first, so a relative output folder and an absolute path still compare.
func (s *Server) inOutdir(path string) (name string, ok bool) {
	outdir, err := filepath.Abs(s.cfg.Outdir)
	if err != nil {
		return "", false
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", false
	}
	rel, err := filepath.Rel(outdir, abs)
	if err != nil || !filepath.IsLocal(rel) {
		return "", false
	}
	name = filepath.ToSlash(rel)
	return name, checkName(name) == nil
}
