package upscale

import (
	"sync"
	"time"
)

// A photo runs in one to a few tiles, and one run of the network on a tile's window can take
// minutes on a CPU. Counting whole tiles would leave a bar at 0 for all that time, so the
// count is finer: a tile is ProgressPerTile units. A run of a split network moves it exactly
// as its body ends and after each piece of its tail; while one ORT run is in flight (a whole
// network's, or a body's) it moves by the time such runs have taken a window pixel before, on
// this model: the count the run would have reached at that pace, held short of the run's end.

// ProgressPerTile is how many units of Options.Progress make one tile: fine enough that the
// rate a bar works out from the first estimate, a quarter of a second into a tile of ten
// minutes, is not thrown off by the rounding of the count (at 10000 a tile it was 3 counts,
// and the rate 30% off).
const ProgressPerTile = 1_000_000

// estimateEvery is how often the count moves while a run is in flight.
var estimateEvery = 250 * time.Millisecond

// estimateCap is the share of an in-flight run the estimate may claim: a run slower than the
// last one waits short of its end, and the count never passes work not yet done.
const estimateCap = 0.95

// pace is how long this model's network has taken per pixel of window, in seconds: body for
// a whole network's run or a split network's body, tail for all the tail's pieces of a
// window. A model starts with the pace of a small run when it loads (see paceSide), which
// for x4plus overstates the time a pixel takes by a fifth, so its first estimate tends to
// be slow rather than ahead; from then on, each run's own.
type pace struct {
	mu         sync.Mutex
	body, tail float64
}

func (p *pace) set(body, tail float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.body, p.tail = body, tail
}

// noteBody and noteTail record the latest run: the machine's speed now is the best guess for
// the next one.
func (p *pace) noteBody(took time.Duration, pixels int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.body = took.Seconds() / float64(pixels)
}

func (p *pace) noteTail(took time.Duration, pixels int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tail = took.Seconds() / float64(pixels)
}

// bodyTime is the time the body (or whole network) is expected to take on pixels, 0 if
// unknown.
func (p *pace) bodyTime(pixels int) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return time.Duration(p.body * float64(pixels) * float64(time.Second))
}

// bodyShare is the part of a split network's time its body takes: 0.75 for x4plus's
// windows on 2 cores (100 and 32 µs a pixel), which stands in while a pace is unknown.
func (p *pace) bodyShare() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.body <= 0 || p.tail <= 0 {
		return 0.75
	}
	return p.body / (p.body + p.tail)
}

// meter tells Options.Progress how far a job has come: exactly as work ends, and by estimate
// while a run is in flight. Its counts only go up; the callback is called from the job's
// goroutine and from the meter's own, never both at once.
type meter struct {
	report func(done, total int)
	total  int

	mu    sync.Mutex
	shown int // the last count reported
	// The run in flight, if expect > 0: it started at start from count from, and ends at
	// count to after about expect.
	from, to int
	start    time.Time
	expect   time.Duration

	stop    chan struct{}
	stopped sync.WaitGroup
}

// newMeter reports 0 of total and starts moving the count every estimateEvery while a run is
// in flight. report may be nil; close must follow.
func newMeter(report func(done, total int), total int) *meter {
	m := &meter{report: report, total: total, stop: make(chan struct{})}
	if report == nil {
		return m
	}
	report(0, total)
	m.stopped.Add(1)
	go m.keepEstimating()
	return m
}

func (m *meter) keepEstimating() {
	defer m.stopped.Done()
	ticker := time.NewTicker(estimateEvery)
	defer ticker.Stop()
	for {
		select {
		case <-m.stop:
			return
		case now := <-ticker.C:
			m.estimate(now)
		}
	}
}

// close stops the estimates; after it returns the callback is not called again.
func (m *meter) close() {
	if m.report != nil {
		close(m.stop)
		m.stopped.Wait()
	}
}

// begin says a run started at now: it takes the count from from to to and is expected to
// take expect (0: unknown, no estimate). The count moves to from at once.
func (m *meter) begin(from, to int, expect time.Duration, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.from, m.to, m.start, m.expect = from, to, now, expect
	m.showLocked(from)
}

// reach says the work up to count done has ended; any run in flight is over.
func (m *meter) reach(done int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.expect = 0
	m.showLocked(done)
}

// estimate moves the count to where the run in flight should be at now.
func (m *meter) estimate(now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.expect <= 0 {
		return
	}
	share := min(float64(now.Sub(m.start))/float64(m.expect), estimateCap)
	m.showLocked(m.from + int(share*float64(m.to-m.from)))
}

func (m *meter) showLocked(done int) {
	if m.report == nil || done <= m.shown {
		return
	}
	m.shown = min(done, m.total)
	m.report(m.shown, m.total)
}

// countRange is the part of a job's count one run of the network moves: from from to to on
// meter (nil: nothing to tell). since, when set, is when the run's work began, its input
// being filled: the bar's clock started then, and an estimate from the moment the network
// starts would lag it.
type countRange struct {
	meter    *meter
	from, to int
	since    time.Time
}

// at is the count a share in [0,1] of the way along.
func (s countRange) at(share float64) int {
	return s.from + int(share*float64(s.to-s.from))
}

func (s countRange) begin(expect time.Duration) {
	if s.meter == nil {
		return
	}
	start := s.since
	if start.IsZero() {
		start = time.Now()
	}
	s.meter.begin(s.from, s.to, expect, start)
}

func (s countRange) reach(done int) {
	if s.meter != nil {
		s.meter.reach(done)
	}
}

// runRange is the range of run k of the runs a tile takes (one, or two with alpha) of tile i.
func runRange(m *meter, i, k, runs int) countRange {
	base := i * ProgressPerTile
	return countRange{meter: m, from: base + k*ProgressPerTile/runs, to: base + (k+1)*ProgressPerTile/runs}
}
