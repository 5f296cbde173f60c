package web

import (
	"context"
	"strings"
	"testing"

	"dream/internal/queue"
	"dream/internal/shell"
	"dream/internal/testenv"
)

// q at the shell of dream --web while the page's job runs (issue 25): leaving cancels it,
// so on a terminal the shell asks first, and stays unless told y. Without a terminal it
// asks nothing (nobody could answer); dream --web then says what it cancelled.
func TestQuitAsksWhileThePagesJobRuns(t *testing.T) {
	ts := startServer(t, serverOptions{stepWork: 40})
	_, answer := ts.postJob(t, `"a slow fox from the page" -s 400 -S 1 -W 64 -H 64`)
	pageJob := jobID(t, answer)
	ts.waitFor(t, pageJob, queue.Running)
	for _, c := range []struct {
		name        string
		interactive bool
		input       string
		asked       bool
		stayed      bool // the line after the answer ran
	}{
		{"on a terminal, answered no", true, "q\nn\n!history\n", true, true},
		{"on a terminal, answered nothing", true, "q\n\n!history\n", true, true},
		{"on a terminal, answered yes", true, "q\ny\n!history\n", true, false},
		{"without a terminal", false, "q\n!history\n", false, false},
	} {
		var out, errs testenv.Buffer
		sh := &shell.Shell{Pipeline: ts.web.cfg.Pipeline, Out: &out, Err: &errs, Queue: ts.queue, Interactive: c.interactive}
		if err := sh.Run(context.Background(), shell.NewPlainReader(strings.NewReader(c.input))); err != nil {
			t.Fatal(err)
		}
		asked := strings.Contains(errs.String(), shell.QuitQuestion)
		stayed := strings.Contains(out.String(), "1  q") // !history ran, and listed the q
		if asked != c.asked || stayed != c.stayed {
			t.Errorf("%s: asked %v, stayed %v; want %v, %v (printed %q %q)", c.name, asked, stayed, c.asked, c.stayed, out.String(), errs.String())
		}
		if s, _ := ts.queue.Status(pageJob); s.State != queue.Running {
			t.Fatalf("%s: the page's job is %s: the shell itself must not cancel it", c.name, s.State)
		}
	}
	sh := &shell.Shell{Pipeline: ts.web.cfg.Pipeline, Queue: ts.queue}
	said := shell.CancelledPageJobs(sh.PageJobs())
	if want := "cancelled job 1 from the page (running): \"a slow fox from the page\" -s 400 -S 1 -W 64 -H 64\n"; said != want {
		t.Errorf("on leaving, dream says %q, want %q", said, want)
	}
	ts.queue.Cancel(pageJob)
	// With no page job left, q asks nothing.
	var out, errs testenv.Buffer
	ts.waitFor(t, pageJob, queue.Cancelled)
	idle := &shell.Shell{Pipeline: ts.web.cfg.Pipeline, Out: &out, Err: &errs, Queue: ts.queue, Interactive: true}
	idle.Run(context.Background(), shell.NewPlainReader(strings.NewReader("q\n!history\n")))
	if strings.Contains(errs.String(), shell.QuitQuestion) || out.String() != "" {
		t.Errorf("with no page job, q asked or stayed: %q %q", out.String(), errs.String())
	}
}
