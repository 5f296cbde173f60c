package shell

import (
	"fmt"
	"strings"
	"time"

	"dream/internal/pipeline"
)

// Progress draws a one-line bar on a terminal and stays silent otherwise. The pipeline reports
// 0/N as soon as long work starts, so the bar shows before the first item, which can take a
// minute; once an item is done it adds the rate and the time left.
func (s *Shell) Progress(task pipeline.Task, done, total int) {
	if !s.showsProgress() || total < 1 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if task != s.progress.task || done < s.progress.lastDone {
		s.progress = progressBar{task: task, start: time.Now(), firstDone: done}
	}
	s.progress.lastDone = done
	line := s.progress.line(done, total, time.Now())
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

// progressBar is the state of the bar on screen: which task it shows and when it started.
type progressBar struct {
	task  pipeline.Task
	start time.Time
	// firstDone is the count the task first reported: the rate counts only the items done
	// since then, so a task that starts reporting at 1 is not credited with an item it did
	// before the clock started.
	firstDone, lastDone int
}

const barWidth = 24

// line is the bar for done of total items at time now:
// "upscaling ×4 [######      ] 3/12 tiles, 4.2 s/it, ETA 38s".
func (b progressBar) line(done, total int, now time.Time) string {
	filled := barWidth * min(done, total) / total
	text := fmt.Sprintf("%s [%s%s] %d/%d %s", b.task.Name,
		strings.Repeat("#", filled), strings.Repeat(" ", barWidth-filled), done, total, b.task.Unit)
	counted, elapsed := done-b.firstDone, now.Sub(b.start)
	if counted < 1 || elapsed <= 0 {
		return text
	}
	perItem := elapsed / time.Duration(counted)
	text += ", " + rate(perItem)
	if left := total - done; left > 0 {
		text += ", ETA " + roughDuration(perItem*time.Duration(left))
	}
	return text
}

// rate is "2.31 it/s", or "4.2 s/it" when an item takes more than a second.
func rate(perItem time.Duration) string {
	if perItem < time.Second {
		return fmt.Sprintf("%.2f it/s", float64(time.Second)/float64(perItem))
	}
	return fmt.Sprintf("%.1f s/it", perItem.Seconds())
}

// roughDuration is a duration as a person reads it: "45s", "3m12s", "1h05m".
func roughDuration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

func (s *Shell) endProgress() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clearLineLocked()
	s.progress = progressBar{}
}
