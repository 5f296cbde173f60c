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
// took. An image of a -n line also shows the time the whole line has left. While the job
// runs the bar is drawn again every second, its time left counting down between reports.
func (s *Shell) Progress(task pipeline.Task, done, total int) {
	if !s.showsProgress() || total < 1 {
		return
	}
	s.reportProgress(task, done, total, time.Now())
}

// redrawEvery is how often the bar is drawn again between reports, which can be minutes
// apart (one run of the upscaler's network on a CPU).
const redrawEvery = time.Second

// reportProgress moves the bar to done of total at now and draws it.
func (s *Shell) reportProgress(task pipeline.Task, done, total int, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.progress.Report(task, done, total, now)
	s.drawBarLocked(now)
	s.keepRedrawingLocked()
}

// drawBarLocked draws the bar as at now, after the batch's count when a batch runs.
func (s *Shell) drawBarLocked(now time.Time) {
	line := s.progress.Line(now)
	if s.run != nil {
		line = s.run.Status() + " · " + line
	}
	s.draw(line)
}

// keepRedrawingLocked starts redrawing the bar every redrawEvery, until endProgress closes
// s.redraw.
func (s *Shell) keepRedrawingLocked() {
	if s.redraw != nil {
		return
	}
	stop := make(chan struct{})
	s.redraw = stop
	go func() {
		ticker := time.NewTicker(redrawEvery)
		defer ticker.Stop()
		for {
			select {
			case <-stop:
				return
			case now := <-ticker.C:
				s.redrawAt(now)
			}
		}
	}()
}

// redrawAt draws the bar again as at now, while a job's bar is up.
func (s *Shell) redrawAt(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.progress.Started() {
		s.drawBarLocked(now)
	}
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
	if s.showsProgress() && s.run != nil && s.run.Total > 1 {
		s.draw(s.run.Status())
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
	if s.redraw != nil {
		close(s.redraw)
		s.redraw = nil
	}
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
