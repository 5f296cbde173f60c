package queue

import "sync"

// Watcher receives the changes of the queue's jobs. It never holds the pipeline up: the
// queue records the latest status of each job that changed and signals, and a watcher
// that reads slowly gets only the latest of several changes to one job.
type Watcher struct {
	q       *Queue
	mu      sync.Mutex
	pending map[int]Status
	order   []int // the jobs in pending, in the order they first changed
	ready   chan struct{}
}

// Watch starts a watcher. Read Ready, then Take; call Stop when done.
func (q *Queue) Watch() *Watcher {
	w := &Watcher{q: q, pending: map[int]Status{}, ready: make(chan struct{}, 1)}
	q.mu.Lock()
	q.watchers[w] = struct{}{}
	q.mu.Unlock()
	return w
}

// Ready has a value when changes wait to be taken.
func (w *Watcher) Ready() <-chan struct{} { return w.ready }

// Take returns the changes since the last Take, each job's latest status once.
func (w *Watcher) Take() []Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	changes := make([]Status, 0, len(w.order))
	for _, id := range w.order {
		changes = append(changes, w.pending[id])
	}
	w.pending, w.order = map[int]Status{}, nil
	return changes
}

// Stop ends the watcher.
func (w *Watcher) Stop() {
	w.q.mu.Lock()
	delete(w.q.watchers, w)
	w.q.mu.Unlock()
}

func (w *Watcher) put(s Status) {
	w.mu.Lock()
	if _, seen := w.pending[s.ID]; !seen {
		w.order = append(w.order, s.ID)
	}
	w.pending[s.ID] = s
	w.mu.Unlock()
	select {
	case w.ready <- struct{}{}:
	default: // a signal is already waiting
	}
}

// broadcastLocked tells every watcher of t's new status; the caller holds q.mu.
func (q *Queue) broadcastLocked(t *Ticket) {
	if len(q.watchers) == 0 {
		return
	}
	s := t.snapshot()
	for w := range q.watchers {
		w.put(s)
	}
}

// Watchers counts the watchers, such as the page's open event streams.
func (q *Queue) Watchers() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.watchers)
}
