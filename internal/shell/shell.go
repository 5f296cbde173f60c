// Package shell is the dream> loop: it reads lines (with readline on a terminal, plainly
// otherwise), parses each into a job, runs it, and keeps going whatever a line did wrong.
// Each command lives in a file of its own.
package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"dream/internal/batch"
	"dream/internal/job"
	"dream/internal/models"
	"dream/internal/pipeline"
	"dream/internal/progress"
	"dream/internal/queue"
)

// Prompt is what the shell shows before each line.
const Prompt = "dream> "

// Shell runs lines against a pipeline.
type Shell struct {
	Pipeline *pipeline.Pipeline
	Out, Err io.Writer
	// Interactive is true when the input is a terminal: readline, history, progress bars.
	Interactive bool
	// ShowProgress draws progress bars when the input is not a terminal but standard error
	// is (dream --from_file on a terminal).
	ShowProgress bool
	// Resume skips the items of a batch whose results exist (--resume).
	Resume bool
	// ResumeCommand is the command line that finishes this run with --resume, which a batch
	// stopped by a full disk prints; "" where there is none (the interactive shell).
	ResumeCommand string
	// NotStarted counts the items a stopped batch left undone, for the exit status of a
	// script: a run cut short by Ctrl-C or SIGTERM must not look finished to a scheduler.
	NotStarted int
	// terminated is set by SIGTERM (see terminate).
	terminated bool
	// Failures counts the lines and items that failed, for the exit status of a script.
	Failures int
	// Queue orders the jobs of the process: the shell's and the web page's run one at a
	// time. Nil gives the shell a queue of its own.
	Queue *queue.Queue

	mu            sync.Mutex
	cancel        context.CancelFunc // the running job's, nil between jobs
	progressShown bool
	progress      progress.Bar
	redraw        chan struct{}
	run           *batchRun // the batch running, nil otherwise
	signals       chan os.Signal

	history []string // the session's commands, for !history
	outputs []string // the images written this session, newest last, for -I -1
	seeds   []uint32 // the seeds used this session, newest last, for -S -1
	prefill string   // text !fetch puts at the next prompt
}

// Run reads lines from in until q, end of input, or an error reading. It returns nil on a
// normal end.
func (s *Shell) Run(ctx context.Context, in LineReader) error {
	stop := s.cancelJobsOnInterrupt()
	defer stop()
	for {
		line, err := s.readLine(in)
		if errors.Is(err, ErrInterrupted) {
			fmt.Fprintln(s.Err, "(to leave, type q or press Ctrl-D)")
			continue
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		quit := s.Handle(ctx, line)
		if s.Terminated() || (quit && s.mayQuit(in)) {
			return nil
		}
	}
}

func (s *Shell) readLine(in LineReader) (string, error) {
	text := s.prefill
	s.prefill = ""
	if p, ok := in.(prefiller); ok && text != "" {
		return p.ReadLineWith(text)
	}
	return in.ReadLine()
}

// Handle runs one line and reports whether it asked to quit.
func (s *Shell) Handle(ctx context.Context, line string) (quit bool) {
	j, err := job.Parse(line)
	if err != nil {
		s.fail(err)
		return false
	}
	if j.Kind != job.Empty && j.Kind != job.History {
		s.history = append(s.history, j.Line)
	}
	for _, w := range j.Warnings {
		fmt.Fprintln(s.Err, "note:", w)
	}
	switch j.Kind {
	case job.Quit:
		return true
	case job.Help:
		s.help(j.Topic)
	case job.History:
		s.listHistory()
	case job.Models:
		models.WriteList(s.Out, s.Pipeline.ModelDir(), s.Pipeline.Models())
	case job.Fetch:
		s.fetch(j)
	case job.Generate:
		s.generate(ctx, j)
	case job.Fix:
		s.fix(ctx, j)
	}
	return false
}

// fail prints one line for a problem; the shell then goes on.
func (s *Shell) fail(err error) {
	s.countFailure()
	fmt.Fprintln(s.Err, "error:", oneLine(err))
}

// countFailure counts a failed line or item; a batch's saves report theirs from another
// goroutine.
func (s *Shell) countFailure() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Failures++
}

// finished reports how a job ended and tells whether it completed.
func (s *Shell) finished(err error) bool {
	switch {
	case errors.Is(err, context.Canceled):
		s.countFailure()
		fmt.Fprintln(s.Err, "cancelled; nothing was written")
		return false
	case err != nil:
		s.fail(err)
		return false
	}
	return true
}

// withJobContext runs work when the process's job queue gives it its turn (a job of the web
// page may run first), with a context that Ctrl-C cancels, then clears the progress bar. It
// returns work's error, or errNotStarted when Ctrl-C came before the job's turn. work writes
// its images before it returns, so the queue lists those it added to s.outputs.
func (s *Shell) withJobContext(parent context.Context, line string, work func(ctx context.Context) error) error {
	return s.withTicket(parent, line, func(ctx context.Context, _ *queue.Ticket) ([]queue.Result, error) {
		written := s.outputCount()
		err := work(ctx)
		return s.resultsSince(written), err
	})
}

// withTicket is withJobContext for work that lists its own results: those it returns, and
// those it logs on its ticket later (an item of a batch, saved after its turn; see itemEnded).
func (s *Shell) withTicket(parent context.Context, line string, work func(ctx context.Context, t *queue.Ticket) ([]queue.Result, error)) error {
	ctx, cancel := context.WithCancel(parent)
	s.mu.Lock()
	s.cancel = cancel
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.cancel = nil
		s.mu.Unlock()
		cancel()
	}()
	ticket := s.jobs().Add(line, queue.FromShell, cancel, s.Progress)
	if ahead := ticket.Ahead(); ahead > 0 {
		s.clearProgressLine()
		fmt.Fprintf(s.Err, "waiting for %s from the web page to finish\n", batch.Count(ahead, "job"))
	}
	if err := ticket.Wait(ctx); err != nil {
		return fmt.Errorf("%w before it started", errNotStarted)
	}
	results, err := work(ctx, ticket)
	ticket.Finish(results, nil, err)
	s.endProgress()
	s.Pipeline.ReleaseMemory()
	return err
}

// outputCount is how many images the session has written so far.
func (s *Shell) outputCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.outputs)
}

// resultsSince lists the images written after the first n, for the queue.
func (s *Shell) resultsSince(n int) []queue.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	var results []queue.Result
	for _, path := range s.outputs[min(n, len(s.outputs)):] {
		results = append(results, queueResult(path))
	}
	return results
}

// queueResult names an image for the queue by absolute path: the web page links those in
// its output folder.
func queueResult(path string) queue.Result {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return queue.Result{Name: path}
}

// errNotStarted is a job cancelled while it waited for its turn.
var errNotStarted = fmt.Errorf("cancelled: %w", context.Canceled)

// jobs is the queue the shell's jobs wait in: the process's, shared with the web page, or
// one of the shell's own.
func (s *Shell) jobs() *queue.Queue {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Queue == nil {
		s.Queue = queue.New()
	}
	return s.Queue
}
