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
