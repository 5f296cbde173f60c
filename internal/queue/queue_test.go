package queue

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"dream/internal/pipeline"
)

// Jobs from two front ends run one at a time, in the order they were added, and every job
// ends in the state its work gave.
func TestOneAtATimeInOrder(t *testing.T) {
	q := New()
	var mu sync.Mutex
	var order []int
	running := 0
	errs := []error{nil, errors.New("no such file: a.png"), nil, context.Canceled}
	var wg sync.WaitGroup
	tickets := make([]*Ticket, len(errs))
	for i := range errs {
		source := FromShell
		if i%2 == 1 {
			source = FromPage
		}
		tickets[i] = q.Add("line", source, func() {}, nil)
	}
	for i, ticket := range tickets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := ticket.Wait(context.Background()); err != nil {
				t.Errorf("job %d: Wait = %v", i, err)
				return
			}
			mu.Lock()
			running++
			if running > 1 {
				t.Errorf("job %d runs beside another", i)
			}
			order = append(order, i)
			mu.Unlock()
			time.Sleep(10 * time.Millisecond)
			mu.Lock()
			running--
			mu.Unlock()
			ticket.Finish(nil, nil, errs[i])
		}()
	}
	wg.Wait()
	for i, got := range order {
		if got != i {
			t.Fatalf("jobs ran in the order %v", order)
		}
	}
	want := []State{Cancelled, Done, Failed, Done} // newest first
	for i, s := range q.Jobs() {
		if s.State != want[i] {
			t.Errorf("job %d: state %s, want %s", s.ID, s.State, want[i])
		}
	}
	if s, _ := q.Status(tickets[1].ID()); s.Error != "no such file: a.png" {
		t.Errorf("the failed job's error is %q", s.Error)
	}
}

// A waiting job cancelled before its turn leaves the queue, and the jobs behind it move up;
// a running one is cancelled through its own context.
func TestCancel(t *testing.T) {
	q := New()
	first := q.Add("first", FromShell, func() {}, nil)
	if err := first.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	second := q.Add("second", FromPage, cancel, nil)
	third := q.Add("third", FromPage, func() {}, nil)
	if second.Ahead() != 1 || third.Ahead() != 2 {
		t.Fatalf("ahead: %d and %d, want 1 and 2", second.Ahead(), third.Ahead())
	}
	if !q.Cancel(second.ID()) {
		t.Fatal("Cancel found no waiting job")
	}
	if err := second.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("the cancelled job's Wait = %v", err)
	}
	if s, _ := q.Status(third.ID()); s.Position != 1 {
		t.Errorf("the job behind the cancelled one is at %d, want 1", s.Position)
	}
	if s, _ := q.Status(second.ID()); s.State != Cancelled || s.Error != "cancelled; nothing was written" {
		t.Errorf("the cancelled job: %+v", s)
	}
	first.Finish(nil, nil, nil)
	if err := third.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if q.Cancel(first.ID()) {
		t.Error("Cancel found a finished job")
	}
}

// Progress goes to the running job and to its own display; a watcher that reads late gets
// the latest report of each job, and every change of state.
func TestReportAndWatch(t *testing.T) {
	q := New()
	w := q.Watch()
	defer w.Stop()
	var shown []int
	ticket := q.Add("a fox -s 3", FromShell, func() {}, func(_ pipeline.Task, done, _ int) { shown = append(shown, done) })
	if err := ticket.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	task := pipeline.Task{Name: "generating", Unit: "steps"}
	for done := range 4 {
		q.Report(task, done, 3)
	}
	<-w.Ready()
	changes := w.Take()
	if len(changes) != 1 {
		t.Fatalf("%d changes of one job, want its latest status once", len(changes))
	}
	p := changes[0].Progress
	if changes[0].State != Running || p == nil || p.Done != 3 || p.Total != 3 || p.Text == "" {
		t.Fatalf("the latest status: %+v (progress %+v)", changes[0], p)
	}
	if len(shown) != 4 {
		t.Errorf("the job's own display got %v, want 4 reports", shown)
	}
	ticket.Finish([]Result{{Name: "000001.3.png", Width: 64, Height: 64, Seed: 3}}, nil, nil)
	<-w.Ready()
	if changes = w.Take(); len(changes) != 1 || changes[0].State != Done || len(changes[0].Results) != 1 {
		t.Fatalf("after Finish: %+v", changes)
	}
	q.Report(task, 1, 3) // no job runs: nothing to tell
	select {
	case <-w.Ready():
		t.Errorf("a report with no job running was broadcast: %+v", w.Take())
	default:
	}
}

// A job of several items is one entry: its count, a line per item with that item's results
// as it ends, and the current item's bar after the batch's line, as the shell's terminal
// draws it. Between items the bar goes; a watcher sees each change.
func TestBatchJob(t *testing.T) {
	q := New()
	watcher := q.Watch()
	defer watcher.Stop()
	ticket := q.Add("!fix a.png -U 2\n!fix b.png -U 2", FromPage, func() {}, nil)
	if err := ticket.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	task := pipeline.Task{Name: "upscaling ×2", Unit: "tiles"}
	ticket.SetBatch(Batch{Done: 0, Total: 2, Text: "fixing 0/2"})
	q.Report(task, 1, 4)
	s, _ := q.Status(ticket.ID())
	if s.Progress == nil || s.Progress.Text != "fixing 0/2 · upscaling ×2 [######                  ] 1/4 tiles" {
		t.Errorf("the first item's bar: %+v", s.Progress)
	}
	ticket.Logged("ok a.png -> a.fixed.png (1.0 s)", []Result{{Name: "a.fixed.png", Width: 8, Height: 8}}, []string{"a note"})
	ticket.SetBatch(Batch{Done: 1, Total: 2, Text: "fixing 1/2, ETA 1s"})
	s, _ = q.Status(ticket.ID())
	if s.Progress != nil || s.Batch.Done != 1 || len(s.Results) != 1 || len(s.Log) != 1 {
		t.Errorf("after the first item: progress %+v, batch %+v, results %v, log %q", s.Progress, s.Batch, s.Results, s.Log)
	}
	if seen := watcher.Take(); len(seen) != 1 || seen[0].Batch == nil || seen[0].Batch.Done != 1 {
		t.Errorf("the watcher saw %+v", seen)
	}
	ticket.Logged("failed b.png: damaged", nil, nil)
	ticket.SetBatch(Batch{Done: 2, Total: 2, Text: "fixing 2/2"})
	ticket.Logged("done 1, skipped 0, failed 1 of 2 images in 2s", nil, nil)
	ticket.Finish(nil, nil, nil)
	s, _ = q.Status(ticket.ID())
	if s.State != Done || len(s.Results) != 1 || len(s.Notes) != 1 || len(s.Log) != 3 || s.Batch.Text != "fixing 2/2" {
		t.Errorf("the finished batch: %+v", s)
	}
	// A status handed out is a copy: changing it changes nothing in the queue.
	s.Batch.Done, s.Log[0] = 99, "changed"
	if again, _ := q.Status(ticket.ID()); again.Batch.Done != 2 || again.Log[0] == "changed" {
		t.Errorf("a caller changed the queue's status: %+v", again)
	}
}
