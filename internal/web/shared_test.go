package web

import (
	"context"
	"os"
	"strings"
	"testing"

	"dream/internal/queue"
	"dream/internal/shell"
	"dream/internal/testenv"
)

// The shell and the page in one process share one queue (issue 13): a line typed at the
// prompt while the page's job runs waits for it, then runs, and both finish.
func TestShellAndPageShareTheQueue(t *testing.T) {
	ts := startServer(t, serverOptions{stepWork: 20})
	var out, errs testenv.Buffer
	sh := &shell.Shell{Pipeline: ts.web.cfg.Pipeline, Out: &out, Err: &errs, Queue: ts.queue}
	watcher := ts.queue.Watch()
	defer watcher.Stop()

	_, answer := ts.postJob(t, `"a fox from the page" -s 40 -S 1 -W 64 -H 64`)
	pageJob := jobID(t, answer)
	ts.waitFor(t, pageJob, queue.Running)
	shellDone := make(chan struct{})
	go func() {
		defer close(shellDone)
		sh.Handle(context.Background(), `"a fox from the shell" -s 2 -S 2 -W 64 -H 64`)
	}()

	// Every change of state, in order, until both jobs are done.
	var changes []queue.Status
	shellJob := 0
	for finished := 0; finished < 2; {
		<-watcher.Ready()
		for _, s := range watcher.Take() {
			if s.Source == queue.FromShell {
				shellJob = s.ID
			}
			if len(changes) == 0 || changes[len(changes)-1].ID != s.ID || changes[len(changes)-1].State != s.State {
				changes = append(changes, s)
			}
			if s.State == queue.Done || s.State == queue.Failed {
				finished++
			}
		}
	}
	<-shellDone
	order := []string{}
	for _, s := range changes {
		order = append(order, s.Source+" "+string(s.State))
	}
	t.Logf("the queue's changes: %s", strings.Join(order, ", "))
	at := func(id int, state queue.State) int {
		for i, s := range changes {
			if s.ID == id && s.State == state {
				return i
			}
		}
		t.Fatalf("job %d was never %s: %v", id, state, order)
		return -1
	}
	if at(shellJob, queue.Queued) > at(pageJob, queue.Done) || at(shellJob, queue.Running) < at(pageJob, queue.Done) {
		t.Errorf("the shell's job did not wait for the page's: %v", order)
	}
	if !strings.Contains(errs.String(), "waiting for 1 job from the web page to finish") {
		t.Errorf("the shell did not say it waits: %q", errs.String())
	}
	if s, _ := ts.queue.Status(pageJob); s.State != queue.Done {
		t.Errorf("the page's job ended %s: %s", s.State, s.Error)
	}
	if !strings.Contains(out.String(), "wrote ") {
		t.Errorf("the shell's job wrote nothing: %q %q", out.String(), errs.String())
	}
	if files, _ := os.ReadDir(ts.outdir); len(files) != 2 {
		t.Errorf("%d files in the output folder, want the page's image and the shell's", len(files))
	}
}
