package shell

import (
	"fmt"
	"io"
	"strings"

	"dream/internal/queue"
)

// QuitQuestion is asked on a terminal when q would end the web page's jobs with the shell.
const QuitQuestion = "a job from the page is running; quit anyway? [y/N] "

// PageJobs are the web page's jobs that are queued or running: the ones that leaving the
// shell of dream --web cancels.
func (s *Shell) PageJobs() []queue.Status {
	var active []queue.Status
	for _, j := range s.jobs().Jobs() {
		if j.Source == queue.FromPage && (j.State == queue.Running || j.State == queue.Queued) {
			active = append(active, j)
		}
	}
	return active
}

// mayQuit tells whether q may end the shell. Leaving dream --web cancels the page's jobs, so
// on a terminal, while the page has one, the shell asks first; anything but y stays. Without
// a terminal nobody can answer: the shell ends, and dream --web, which serves the page until
// it is interrupted, says which jobs that cancelled (see CancelledPageJobs).
func (s *Shell) mayQuit(in LineReader) bool {
	if !s.Interactive || len(s.PageJobs()) == 0 {
		return true
	}
	answer, err := ask(in, s.Err, QuitQuestion)
	if err != nil { // Ctrl-C or Ctrl-D at the question: stay, as for "no"
		fmt.Fprintln(s.Err)
		return false
	}
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return true
	}
	return false
}

// asker is a LineReader that can show a prompt of its own for one line.
type asker interface {
	ReadLineAfter(prompt string) (string, error)
}

// ask reads the answer to a question: after the question as the prompt on a terminal, else
// after the question printed to w.
func ask(in LineReader, w io.Writer, question string) (string, error) {
	if a, ok := in.(asker); ok {
		return a.ReadLineAfter(question)
	}
	fmt.Fprint(w, question)
	return in.ReadLine()
}

// ReadLineAfter reads one line after prompt, then puts the shell's prompt back.
func (t *terminalReader) ReadLineAfter(prompt string) (string, error) {
	t.rl.SetPrompt(prompt)
	defer t.rl.SetPrompt(Prompt)
	return t.ReadLine()
}

// CancelledPageJobs writes one line per page job that ending dream --web cancels, so that a
// job is never dropped without a word.
func CancelledPageJobs(jobs []queue.Status) string {
	var out strings.Builder
	for _, j := range jobs {
		fmt.Fprintf(&out, "cancelled job %d from the page (%s): %s\n", j.ID, j.State, j.Line)
	}
	return out.String()
}
