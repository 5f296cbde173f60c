package shell

import (
	"fmt"
	"strings"
)

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
