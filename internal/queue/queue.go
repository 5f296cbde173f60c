// Package queue runs the jobs of every front end of one process one at a time, in the order
// they came: the dream> shell and the web page share one pipeline, which runs one job at a
// time. It also keeps what a page shows of each job: its state, its progress, what it wrote.
package queue

import (
	"context"
	"errors"
	"sync"
	"time"

	"dream/internal/pipeline"
	"dream/internal/progress"
)

// State is where a job is in its life.
type State string

const (
	Queued    State = "queued"
	Running   State = "running"
	Done      State = "done"
	Failed    State = "failed"
	Cancelled State = "cancelled"
)

// Sources of jobs.
const (
	FromShell = "shell"
	FromPage  = "page"
)

// keepFinished is how many finished jobs the queue remembers for a page that opens later.
const keepFinished = 50

// Status is what the queue tells about a job.
type Status struct {
	ID     int    `json:"id"`
	Line   string `json:"line"`
	Source string `json:"source"`
	State  State  `json:"state"`
	// Position is the job's place among those waiting, 1 for the next; 0 unless queued.
	Position int       `json:"position"`
	Progress *Progress `json:"progress"`
	// Batch is the count of a job of several items (the images of one fix from the page);
	// nil for a job of one.
	Batch   *Batch   `json:"batch,omitempty"`
	Results []Result `json:"results"`
	Error   string   `json:"error,omitempty"`
	Notes   []string `json:"notes,omitempty"`
	// Log is a batch job's line per item as it ended ("ok SRC -> OUT (3.2 s)", "failed SRC:
	// why"), and at the end its summary, as the shell prints them for a folder.
	Log []string `json:"log,omitempty"`
	// Started is when the job got its turn, zero while it waits; Ended is when it finished.
	Started time.Time `json:"started,omitzero"`
	Ended   time.Time `json:"ended,omitzero"`
}

// Batch is how far a job of several items has come.
type Batch struct {
	Done  int    `json:"done"` // the items that ended: made, skipped or failed
	Total int    `json:"total"`
	Text  string `json:"text"` // the line the shell draws between items: "fixing 2/12, ETA 4m10s"
}

// Progress is the running job's bar: the pipeline's last report and the line the shell's
// terminal would draw for it.
type Progress struct {
	Task string `json:"task"`
	Unit string `json:"unit"`
	// Done and Total are the task's counts, which for upscaling are millionths of a tile
	// (Text shows tiles: "1.4/2 tiles"), so that a bar drawn from them moves within a tile.
	Done  int    `json:"done"`
	Total int    `json:"total"`
	Text  string `json:"text"`
	// Fraction is Done over Total, from 0 to 1.
	Fraction float64 `json:"fraction"`
	// ETASeconds is the task's time left as estimated at At, absent until a count is done;
	// a page counts it down from At until the next report, as the terminal does.
	ETASeconds float64 `json:"eta_s,omitempty"`
	// At is when the pipeline reported it (the server's clock).
	At time.Time `json:"at"`
}

// Result is a file a job wrote, by its name inside the output folder.
type Result struct {
	Name   string `json:"name"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Seed   uint32 `json:"seed,omitempty"`
}

// Queue orders the jobs of a process. The zero value is not usable; call New.
type Queue struct {
	mu       sync.Mutex
	nextID   int
	waiting  []*Ticket // in order; the running job is not among them
	running  *Ticket
	finished []*Ticket // newest last
	watchers map[*Watcher]struct{}
}

// New returns an empty queue.
func New() *Queue {
	return &Queue{watchers: map[*Watcher]struct{}{}}
}

// Ticket is one job's place in the queue.
type Ticket struct {
	q      *Queue
	status Status
	cancel context.CancelFunc
	turn   chan struct{} // closed when the job may run
	show   func(task pipeline.Task, done, total int)
	bar    progress.Bar
}

// Add puts a job at the end of the queue. cancel stops it (Cancel calls it); show, when set,
// also gets the pipeline's progress reports while the job runs (the shell's terminal bar).
// The job runs once Wait returns nil; Finish must follow in every case.
func (q *Queue) Add(line, source string, cancel context.CancelFunc, show func(pipeline.Task, int, int)) *Ticket {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.nextID++
	t := &Ticket{q: q, cancel: cancel, show: show, turn: make(chan struct{}),
		status: Status{ID: q.nextID, Line: line, Source: source, State: Queued}}
	q.waiting = append(q.waiting, t)
	q.startNextLocked()
	q.renumberLocked()
	return t
}

// ID is the job's number, unique in the process.
func (t *Ticket) ID() int { return t.status.ID }

// Ahead is how many jobs run before this one: 0 when it may run now.
func (t *Ticket) Ahead() int {
	t.q.mu.Lock()
	defer t.q.mu.Unlock()
	if t.status.State != Queued {
		return 0
	}
	n := t.status.Position - 1
	if t.q.running != nil {
		n++
	}
	return n
}

// Wait blocks until the job's turn, or until ctx ends, which takes the job off the queue.
func (t *Ticket) Wait(ctx context.Context) error {
	select {
	case <-t.turn:
		return nil
	case <-ctx.Done():
		t.Finish(nil, nil, ctx.Err())
		return ctx.Err()
	}
}

// Finish ends the job: done when err is nil, cancelled when the context was cancelled,
// failed otherwise. results and notes join those logged before (see Logged). The next job
// in the queue starts. Finishing twice does nothing.
func (t *Ticket) Finish(results []Result, notes []string, err error) {
	q := t.q
	q.mu.Lock()
	defer q.mu.Unlock()
	switch t.status.State {
	case Done, Failed, Cancelled:
		return
	}
	t.status.Results = append(t.status.Results, results...)
	t.status.Notes = append(t.status.Notes, notes...)
	t.status.Position, t.status.Ended = 0, time.Now()
	switch {
	case err == nil:
		t.status.State = Done
	case isCancel(err):
		t.status.State, t.status.Error = Cancelled, "cancelled; nothing more was written"
		if len(t.status.Results) == 0 {
			t.status.Error = "cancelled; nothing was written"
		}
	default:
		t.status.State, t.status.Error = Failed, err.Error()
	}
	if q.running == t {
		q.running = nil
	} else {
		q.removeWaitingLocked(t)
	}
	q.finished = append(q.finished, t)
	if len(q.finished) > keepFinished {
		q.finished = q.finished[1:]
	}
	q.broadcastLocked(t)
	q.startNextLocked()
	q.renumberLocked()
}

func isCancel(err error) bool { return errors.Is(err, context.Canceled) }

// Cancel cancels job id: a running one as Ctrl-C would, a waiting one before it starts. It
// tells whether the queue has such a job still to finish.
func (q *Queue) Cancel(id int) bool {
	q.mu.Lock()
	var found *Ticket
	if q.running != nil && q.running.status.ID == id {
		found = q.running
	}
	for _, t := range q.waiting {
		if t.status.ID == id {
			found = t
		}
	}
	q.mu.Unlock()
	if found == nil {
		return false
	}
	found.cancel()
	return true
}

// Report is the pipeline's progress callback: it moves the running job's bar, tells the
// job's own display, and every watcher.
func (q *Queue) Report(task pipeline.Task, done, total int) {
	q.mu.Lock()
	t := q.running
	if t == nil || total < 1 {
		q.mu.Unlock()
		return
	}
	now := time.Now()
	t.bar.Report(task, done, total, now)
	text := t.bar.Line(now)
	if t.status.Batch != nil {
		text = t.status.Batch.Text + " · " + text // as the shell's terminal draws a batch's item
	}
	t.status.Progress = &Progress{Task: task.Name, Unit: task.Unit, Done: done, Total: total, Text: text,
		Fraction: float64(min(done, total)) / float64(total), At: now}
	if left, known := t.bar.Left(); known {
		t.status.Progress.ETASeconds = left.Round(100 * time.Millisecond).Seconds()
	}
	q.broadcastLocked(t)
	show := t.show
	q.mu.Unlock()
	if show != nil {
		show(task, done, total)
	}
}

// SetBatch tells how far the job's items have come. The bar of the item that ended goes, as
// the shell's terminal then draws the batch's own line, until the next item reports.
func (t *Ticket) SetBatch(b Batch) {
	q := t.q
	q.mu.Lock()
	defer q.mu.Unlock()
	t.status.Batch, t.status.Progress = &b, nil
	q.broadcastLocked(t)
}

// Logged adds a line to the job's log, with the results and notes of the item it is about,
// so that a page shows each item's results as it ends.
func (t *Ticket) Logged(line string, results []Result, notes []string) {
	q := t.q
	q.mu.Lock()
	defer q.mu.Unlock()
	t.status.Log = append(t.status.Log, line)
	t.status.Results = append(t.status.Results, results...)
	t.status.Notes = append(t.status.Notes, notes...)
	q.broadcastLocked(t)
}

// Status is job id's status, and whether the queue knows it.
func (q *Queue) Status(id int) (Status, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, t := range q.allLocked() {
		if t.status.ID == id {
			return t.snapshot(), true
		}
	}
	return Status{}, false
}

// Jobs lists the running job, the waiting ones in order, then the finished ones, newest first.
func (q *Queue) Jobs() []Status {
	q.mu.Lock()
	defer q.mu.Unlock()
	var list []Status
	for _, t := range q.allLocked() {
		list = append(list, t.snapshot())
	}
	return list
}

func (q *Queue) allLocked() []*Ticket {
	var all []*Ticket
	if q.running != nil {
		all = append(all, q.running)
	}
	all = append(all, q.waiting...)
	for i := len(q.finished) - 1; i >= 0; i-- {
		all = append(all, q.finished[i])
	}
	return all
}

// startNextLocked gives the first waiting job its turn when none runs.
func (q *Queue) startNextLocked() {
	if q.running != nil || len(q.waiting) == 0 {
		return
	}
	t := q.waiting[0]
	q.waiting = q.waiting[1:]
	q.running = t
	t.status.State, t.status.Position, t.status.Started = Running, 0, time.Now()
	close(t.turn)
	q.broadcastLocked(t)
}

func (q *Queue) removeWaitingLocked(t *Ticket) {
	for i, w := range q.waiting {
		if w == t {
			q.waiting = append(q.waiting[:i:i], q.waiting[i+1:]...)
			return
		}
	}
}

// renumberLocked sets the waiting jobs' positions and tells the watchers of those that moved.
func (q *Queue) renumberLocked() {
	for i, t := range q.waiting {
		if t.status.Position != i+1 {
			t.status.Position = i + 1
			q.broadcastLocked(t)
		}
	}
}

// snapshot copies a status, so that no caller shares the queue's slices.
func (t *Ticket) snapshot() Status {
	s := t.status
	s.Results = append([]Result(nil), s.Results...)
	s.Notes = append([]string(nil), s.Notes...)
	s.Log = append([]string(nil), s.Log...)
	if s.Batch != nil {
		b := *s.Batch
		s.Batch = &b
	}
	if s.Progress != nil {
		p := *s.Progress
		s.Progress = &p
	}
	return s
}
