package shell

import "fmt"

// listHistory runs !history: the session's commands, numbered, oldest first.
func (s *Shell) listHistory() {
	for i, line := range s.history {
		fmt.Fprintf(s.Out, "%3d  %s\n", i+1, line)
	}
}
