package shell

import (
	"fmt"
	"time"

	"dream/internal/pipeline"
	"dream/internal/progress"
)

// Progress draws a one-line bar on a terminal and stays silent otherwise. Long work reports
// 0/N when it starts, which can be a minute before the first item is done: the bar shows at
// once, and its clock starts there, so that the rate is the items done over the time they
// took. An image of a -n line also shows the time the whole line has left.
func (s *Shell) Progress(task pipeline.Task, done, total int) {
	if !s.showsProgress() || total < 1 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	s.progress.Report(task, done, now)
	line := s.progress.Line(done, total, now)
	if s.run != nil {
		line = s.run.status() + " · " + line
	}
	s.draw(line)
}

func (s *Shell) showsProgress() bool { return s.Interactive || s.ShowProgress }

// draw replaces the progress line with text; the caller holds s.mu.
func (s *Shell) draw(text string) {
	fmt.Fprintf(s.Err, "\r%s\033[K", text)
	s.progressShown = true
}

// drawRun shows the batch's own line between items: "fixing 3/20, ETA 1m10s".
func (s *Shell) drawRun() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drawRunLocked()
}

func (s *Shell) drawRunLocked() {
	if s.showsProgress() && s.run != nil && s.run.total > 1 {
		s.draw(s.run.status())
	}
}

// clearProgressLine wipes the bar so that a line can be printed in its place.
func (s *Shell) clearProgressLine() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clearLineLocked()
}

func (s *Shell) clearLineLocked() {
	if s.progressShown {
		fmt.Fprint(s.Err, "\r\033[K")
		s.progressShown = false
	}
}

func (s *Shell) endProgress() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clearLineLocked()
	s.progress = progress.Bar{}
}

// Note prints a note from below the shell (ONNX Runtime's, such as the CUDA fallback) on a
// line of its own: a progress bar on the terminal is wiped first, and a batch's line drawn
// again after it.
func (s *Shell) Note(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clearLineLocked()
	fmt.Fprintln(s.Err, "note:", msg)
	s.drawRunLocked()
}
