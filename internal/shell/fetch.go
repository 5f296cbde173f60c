package shell

import (
	"fmt"

	"dream/internal/job"
)

// fetch runs !fetch: the command stored in an image's metadata is shown and, on a terminal,
// put at the next prompt to edit or run.
func (s *Shell) fetch(j job.Job) {
	command, err := s.Pipeline.StoredCommand(j)
	if err != nil {
		s.fail(err)
		return
	}
	fmt.Fprintln(s.Out, command)
	if s.Interactive {
		s.prefill = command
	}
}
