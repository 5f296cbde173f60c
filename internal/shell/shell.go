// Package shell is the dream> loop: it reads lines (with readline on a terminal, plainly
// otherwise), parses each into a job, runs it, and keeps going whatever a line did wrong.
package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"

	"dream/internal/job"
	"dream/internal/pipeline"
)

// Prompt is what the shell shows before each line.
const Prompt = "dream> "

// Shell runs lines against a pipeline.
type Shell struct {
	Pipeline *pipeline.Pipeline
	Out, Err io.Writer
	// Interactive is true when the input is a terminal: readline, history, progress bars.
	Interactive bool

	mu            sync.Mutex
	cancel        context.CancelFunc // the running job's, nil between jobs
	progressShown bool
	signals       chan os.Signal
}

// Run reads lines from in until q, end of input, or an error reading. It returns nil on a
// normal end.
func (s *Shell) Run(ctx context.Context, in LineReader) error {
	stop := s.cancelJobsOnInterrupt()
	defer stop()
	for {
		line, err := in.ReadLine()
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
		if quit := s.Handle(ctx, line); quit {
			return nil
		}
	}
}

// Handle runs one line and reports whether it asked to quit.
func (s *Shell) Handle(ctx context.Context, line string) (quit bool) {
	j, err := job.Parse(line)
	if err != nil {
		s.fail(err)
		return false
	}
	switch j.Kind {
	case job.Quit:
		return true
	case job.Help:
		fmt.Fprint(s.Out, helpText)
	case job.Generate:
		s.fail(errors.New("no Stable Diffusion model is installed, so prompts cannot run yet: use !fix PATH -U 4 to upscale an image"))
	case job.Fix:
		s.runFix(ctx, j)
	}
	return false
}

func (s *Shell) runFix(parent context.Context, j job.Job) {
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
	start := time.Now()
	res, err := s.Pipeline.Fix(ctx, j)
	s.endProgress()
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(s.Err, "cancelled; nothing was written")
		return
	}
	if err != nil {
		s.fail(err)
		return
	}
	fmt.Fprintf(s.Out, "wrote %s (%dx%d) in %.1fs\n", res.Path, res.W, res.H, time.Since(start).Seconds())
}

// fail prints one line for a problem; the shell then goes on.
func (s *Shell) fail(err error) {
	msg := strings.Join(strings.Fields(err.Error()), " ")
	fmt.Fprintln(s.Err, "error:", msg)
}

// cancelJobsOnInterrupt makes Ctrl-C (SIGINT) cancel the running job instead of killing the
// process. Between jobs on a terminal, readline sees Ctrl-C as a key; with plain input, an
// interrupt between jobs ends the program, as it would any filter reading a pipe.
func (s *Shell) cancelJobsOnInterrupt() (stop func()) {
	s.signals = make(chan os.Signal, 1)
	signal.Notify(s.signals, os.Interrupt)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-s.signals:
				if !s.cancelRunningJob() && !s.Interactive {
					os.Exit(130) // no job runs, so nothing is half written
				}
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(s.signals)
		close(done)
	}
}

// RestoreInterrupt takes SIGINT back after a library replaced Go's handler (the CUDA
// provider does): resetting and notifying again reinstalls Go's handler.
func (s *Shell) RestoreInterrupt() {
	if s.signals == nil {
		return
	}
	signal.Reset(os.Interrupt)
	signal.Notify(s.signals, os.Interrupt)
}

func (s *Shell) cancelRunningJob() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel == nil {
		return false
	}
	s.cancel()
	return true
}

// Progress draws a one-line bar on a terminal and stays silent otherwise.
func (s *Shell) Progress(task string, done, total int) {
	if !s.Interactive || total <= 1 {
		return
	}
	const width = 24
	filled := width * done / total
	fmt.Fprintf(s.Err, "\r%s [%s%s] %d/%d tiles", task,
		strings.Repeat("#", filled), strings.Repeat(" ", width-filled), done, total)
	s.mu.Lock()
	s.progressShown = true
	s.mu.Unlock()
}

func (s *Shell) endProgress() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.progressShown {
		fmt.Fprint(s.Err, "\r\033[K")
		s.progressShown = false
	}
}

const helpText = `commands:
  !fix PATH -U 2|4 [strength]   upscale an image; writes NAME.fixed.png to the output directory
                                 strength 0..1 blends with a plain enlargement (default 0.75)
  -o DIR                         write this command's output to DIR
  !help                          this help
  q, quit, exit                  leave (Ctrl-D too); Ctrl-C cancels the running job
`
