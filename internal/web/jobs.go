package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"

	"dream/internal/job"
	"dream/internal/pipeline"
	"dream/internal/queue"
)

// maxLineBytes bounds a job request: a line, not a file.
const maxLineBytes = 64 << 10

// addJob parses the page's line with the shell's parser and queues it. A line that does
// not parse gets the parser's error and the switch it is about, so the page can show it
// under that switch's field. Several !fix lines ("lines") are one job, a batch (see
// addBatch).
func (s *Server) addJob(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		refuse(w, http.StatusUnsupportedMediaType, `send the job as JSON: {"line": "..."}`)
		return
	}
	var body struct {
		Line string `json:"line"`
		// Lines are !fix lines to run as one job, as the shell runs the images of a folder:
		// the page sends one per image of those dropped together.
		Lines []string `json:"lines"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxLineBytes)).Decode(&body); err != nil {
		if _, over := errors.AsType[*http.MaxBytesError](err); over {
			refuse(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the job is larger than %d KiB: send fewer images at once", maxLineBytes>>10))
			return
		}
		refuse(w, http.StatusBadRequest, `send the job as JSON: {"line": "..."} or {"lines": ["!fix ...", ...]}`)
		return
	}
	switch {
	case len(body.Lines) > 0 && body.Line != "":
		refuse(w, http.StatusBadRequest, `send "line" or "lines", not both`)
		return
	case len(body.Lines) > 1:
		s.addBatch(w, body.Lines)
		return
	case len(body.Lines) == 1:
		body.Line = body.Lines[0]
	}
	j, err := s.pageJob(body.Line)
	if err != nil {
		refuseLine(w, err)
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	ticket := s.cfg.Queue.Add(j.Line, queue.FromPage, cancel, nil)
	go s.run(ctx, cancel, ticket, j)
	s.accepted(w, ticket, j.Warnings)
}

// accepted answers a job the page queued with the job as the queue shows it, the warnings
// of its line among its notes.
func (s *Server) accepted(w http.ResponseWriter, ticket *queue.Ticket, warnings []string) {
	status, _ := s.cfg.Queue.Status(ticket.ID())
	status.Notes = append(status.Notes, warnings...)
	writeJSON(w, http.StatusAccepted, map[string]any{"job": s.view(status)})
}

// refuseLine answers a line the page cannot run with its error and the switch it is about.
func refuseLine(w http.ResponseWriter, err error) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": oneLine(err.Error()), "switch": switchOf(err.Error())})
}

// pageJob parses a line from the page and checks what only the page limits: it runs
// prompts and !fix, and reads and writes only inside the output folder.
func (s *Server) pageJob(line string) (job.Job, error) {
	j, err := job.Parse(line)
	if err != nil {
		return job.Job{}, err
	}
	switch j.Kind {
	case job.Generate, job.Fix:
	case job.Empty:
		return job.Job{}, errors.New("the line is empty: type a prompt, or !fix NAME with -U or -G")
	default:
		return job.Job{}, errors.New("the page runs prompts and !fix lines; type other commands at the dream> prompt")
	}
	if j.Outdir != "" {
		return job.Job{}, errors.New("-o: the page writes into the output folder; to write elsewhere, use the dream> prompt")
	}
	if err := s.resolveReferences(&j); err != nil {
		return job.Job{}, err
	}
	if j.Kind == job.Fix {
		if j.Path, err = s.imagePath(j.Path); err != nil {
			return job.Job{}, fmt.Errorf("!fix %w", err)
		}
	}
	if j.InitImage != "" {
		if j.InitImage, err = s.imagePath(j.InitImage); err != nil {
			return job.Job{}, fmt.Errorf("-I %w", err)
		}
	}
	if err := s.checkModels(j); err != nil {
		return job.Job{}, err
	}
	return j, nil
}

// imagePath is the path of an image the page names inside the output folder.
func (s *Server) imagePath(name string) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	info, err := s.statInOutdir(name)
	if err != nil || !info.Mode().IsRegular() {
		return "", fmt.Errorf("%s: no such image in the output folder %s", name, s.cfg.Outdir)
	}
	return filepath.Join(s.cfg.Outdir, filepath.FromSlash(name)), nil
}

// resolveReferences turns -S -N and -I -N into the seeds and images of the page's jobs.
func (s *Server) resolveReferences(j *job.Job) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if back := j.Seed.Back; back > 0 {
		if back > len(s.seeds) {
			return fmt.Errorf("-S -%d: the page has made %d images with a seed so far", back, len(s.seeds))
		}
		j.Seed = job.Seed{Value: s.seeds[len(s.seeds)-back], Set: true}
	}
	if back := j.InitBack; back > 0 {
		if back > len(s.images) {
			return fmt.Errorf("-I -%d: the page has written %d images so far", back, len(s.images))
		}
		j.InitImage, j.InitBack = s.images[len(s.images)-back], 0
	}
	return nil
}

// run waits for the job's turn in the queue, runs it, and records what it wrote.
func (s *Server) run(ctx context.Context, cancel context.CancelFunc, ticket *queue.Ticket, j job.Job) {
	defer cancel()
	if ticket.Wait(ctx) != nil {
		return // cancelled while it waited; Wait finished it
	}
	var results []pipeline.Result
	var err error
	if j.Kind == job.Fix {
		var res pipeline.Result
		if res, err = s.cfg.Pipeline.Fix(ctx, j); err == nil {
			results = []pipeline.Result{res}
		}
	} else {
		results, err = s.cfg.Pipeline.Generate(ctx, j)
	}
	ticket.Finish(s.remember(results, j.Kind == job.Generate), notesOf(results), err)
	s.cfg.Pipeline.ReleaseMemory()
}

// remember keeps the page's results for -S -1 and -I -1 and names them inside the output
// folder.
func (s *Server) remember(results []pipeline.Result, generated bool) []queue.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	var named []queue.Result
	for _, res := range results {
		name := s.nameInOutdir(res.Path)
		r := queue.Result{Name: name, Width: res.W, Height: res.H}
		if generated {
			r.Seed = res.Seed
			s.seeds = append(s.seeds, res.Seed)
		}
		s.images = append(s.images, name)
		named = append(named, r)
	}
	return named
}

// nameInOutdir is a path's name inside the output folder ("uploads/cat.png"), or the path
// as it is when it lies outside.
func (s *Server) nameInOutdir(path string) string {
	if name, ok := s.inOutdir(path); ok {
		return name
	}
	return path
}

func notesOf(results []pipeline.Result) []string {
	var notes []string
	for _, res := range results {
		notes = append(notes, res.Notes...)
	}
	return notes
}

// switchOf finds the switch a parser error is about: the parser starts such errors with
// the switch as typed ("-W 7000: give a width from 64 to 4096 pixels"). It returns the
// switch's short name, or "" for an error about the line as a whole.
func switchOf(msg string) string {
	word, _, _ := strings.Cut(msg, " ")
	word = strings.TrimRight(word, ":")
	if name, _, joined := strings.Cut(word, "="); joined {
		word = name
	}
	if sw, ok := job.LookupSwitch(word); ok {
		return sw.Names[0]
	}
	return ""
}

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"jobs": s.views(s.cfg.Queue.Jobs())})
}

// cancelJob cancels a job as Ctrl-C would: the page's and the shell's alike.
func (s *Server) cancelJob(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil {
		refuse(w, http.StatusBadRequest, fmt.Sprintf("no job %q: jobs are numbered", r.PathValue("id")))
		return
	}
	status, known := s.cfg.Queue.Status(id)
	if !known {
		refuse(w, http.StatusNotFound, fmt.Sprintf("no job %d", id))
		return
	}
	if !s.cfg.Queue.Cancel(id) {
		refuse(w, http.StatusConflict, fmt.Sprintf("job %d has already ended (%s)", id, status.State))
		return
	}
	status, _ = s.cfg.Queue.Status(id)
	writeJSON(w, http.StatusOK, map[string]any{"job": s.view(status)})
}
