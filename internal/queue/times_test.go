package queue

import (
	"context"
	"testing"
	"time"
)

// A job's start is when it got its turn, not when it was added, and its end when it finished:
// the page shows the difference as the job's time. A job cancelled while it waited never
// started.
func TestStartAndEnd(t *testing.T) {
	q := New()
	first := q.Add("first", FromShell, func() {}, nil)
	second := q.Add("second", FromPage, func() {}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	third := q.Add("third", FromPage, cancel, nil)
	if s, _ := q.Status(second.ID()); !s.Started.IsZero() || !s.Ended.IsZero() {
		t.Errorf("a waiting job has started %v, ended %v", s.Started, s.Ended)
	}
	time.Sleep(20 * time.Millisecond)
	first.Finish(nil, nil, nil)
	added := time.Now()
	if err := second.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	q.Cancel(third.ID())
	third.Wait(ctx)
	time.Sleep(30 * time.Millisecond)
	second.Finish(nil, nil, nil)
	s, _ := q.Status(second.ID())
	if s.Started.Before(added.Add(-5*time.Millisecond)) || s.Ended.Sub(s.Started) < 30*time.Millisecond {
		t.Errorf("the second job started %v after the first ended and ran %v; want its own turn and at least 30ms",
			s.Started.Sub(added), s.Ended.Sub(s.Started))
	}
	if s, _ := q.Status(third.ID()); s.State != Cancelled || !s.Started.IsZero() || s.Ended.IsZero() {
		t.Errorf("a job cancelled while it waited: %s, started %v, ended %v", s.State, s.Started, s.Ended)
	}
}
