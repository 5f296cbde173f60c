package shell

import (
	"fmt"
	"strings"
	"time"

	"dream/internal/pipeline"
)

// Progress draws a one-line bar on a terminal and stays silent otherwise, with the rate in
// items a second (or seconds an item when slower), as the samplers of other tools show it.
func (s *Shell) Progress(task pipeline.Task, done, total int) {
	if !s.Interactive || total <= 1 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if task != s.progressTask || done <= 1 {
		s.progressTask, s.progressStart = task, time.Now()
	}
	const width = 24
	filled := width * done / total
	fmt.Fprintf(s.Err, "\r%s [%s%s] %d/%d %s%s\033[K", task.Name,
		strings.Repeat("#", filled), strings.Repeat(" ", width-filled), done, total, task.Unit, rate(done, time.Since(s.progressStart)))
	s.progressShown = true
}

// rate is ", 2.31 it/s" or ", 4.2 s/it" once a few items are done.
func rate(done int, elapsed time.Duration) string {
	if done < 2 || elapsed <= 0 {
		return ""
	}
	perSecond := float64(done) / elapsed.Seconds()
	if perSecond >= 1 {
		return fmt.Sprintf(", %.2f it/s", perSecond)
	}
	return fmt.Sprintf(", %.1f s/it", 1/perSecond)
}

func (s *Shell) endProgress() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.progressShown {
		fmt.Fprint(s.Err, "\r\033[K")
		s.progressShown = false
	}
	s.progressTask = pipeline.Task{}
}
