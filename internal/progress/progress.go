// Package progress keeps the state of a progress bar for long work (tiles, steps, faces) and
// writes its line: the count, the rate over the items done, and the time left, also for a
// series of like tasks such as the images of a -n line. The shell draws the line on a
// terminal, again every second so that the time left counts down between reports; the web
// page shows the same text.
package progress

import (
	"fmt"
	"strings"
	"time"

	"dream/internal/pipeline"
)

// Bar is the state of a progress bar: the task it shows, when the task's clock
// started, its last report, and for an image of a -n line, what the line's earlier images
// took. Counts are the task's own: items, or for a task with PerUnit > 1, fractions of an
// item.
type Bar struct {
	task pipeline.Task
	// start is when the task last reported 0, the moment its work began. A second 0 restarts
	// the clock: the upscaler reports 0 before its model loads and again before the first
	// tile, and loading is not a tile's time.
	start time.Time
	// firstDone is the count the task first reported: the rate counts only the items done
	// since then, so a task that starts reporting at 1 is not credited with an item it did
	// before the clock started.
	firstDone, lastDone int
	total               int       // of the last report; 0 before any
	lastAt              time.Time // when lastDone was reported
	// left is the task's time left as of lastAt, when known (see steady).
	left      time.Duration
	leftKnown bool
	earlier   partsDone
}

// partsDone is what the finished parts of a series (the images of a -n line) took.
type partsDone struct {
	items  int           // the counts they did
	worked time.Duration // the time those counts took, from each part's 0 to its last count
	// between is the latest time from one part's last item to the next part's start:
	// decoding and saving an image. 0 until a part has followed another.
	between time.Duration
}

const (
	barWidth = 24
	// partBarWidth is narrower, to leave room for the series' time left in 80 columns.
	partBarWidth = 12
)

// Report moves the bar to done of total counts of task at now.
func (b *Bar) Report(task pipeline.Task, done, total int, now time.Time) {
	switch {
	case task != b.task && b.followedBy(task):
		*b = Bar{task: task, start: now, firstDone: done, earlier: b.withThisPart(now)}
	case task != b.task || done < b.lastDone:
		*b = Bar{task: task, start: now, firstDone: done}
	case done == 0:
		b.start = now // the work starts now, not at the task's first report
	}
	held := b.left - now.Sub(b.lastAt) // the last estimate, counted down to now
	b.lastDone, b.total, b.lastAt = done, total, now
	fresh, known := b.measuredLeft()
	b.left = fresh
	if known && b.leftKnown && b.perUnit() > 1 && steady(fresh, held) {
		b.left = held
	}
	b.leftKnown = known
}

// steady tells whether a fresh estimate of the time left is close enough to the last one,
// counted down, to keep counting that down: within 5%, or half a second near the end. The upscaler's
// counts move several times a second by estimate, and each report's rate, rounded to a
// count and a moment, would otherwise throw the time left up and down by a few percent.
// Whole counts (steps, images) are exact, so their time left is always the fresh one.
func steady(fresh, held time.Duration) bool {
	return held > 0 && (fresh-held).Abs() <= max(held/20, time.Second/2)
}

// Started tells whether the bar has had a report.
func (b Bar) Started() bool { return b.total > 0 }

// followedBy tells whether next is the part of a series that comes after the bar's task.
func (b *Bar) followedBy(next pipeline.Task) bool {
	return next.Parts > 1 && next.Parts == b.task.Parts && next.Part == b.task.Part+1 && next.Unit == b.task.Unit
}

// withThisPart is what the series took up to and with the part on the bar, when the next
// part starts at next.
func (b *Bar) withThisPart(next time.Time) partsDone {
	d := b.earlier
	d.items += b.lastDone - b.firstDone
	d.worked += b.lastAt.Sub(b.start)
	d.between = next.Sub(b.lastAt)
	return d
}

// Line is the bar of the last report as drawn at now: "upscaling ×4 [######      ] 3/12
// tiles, 4.2 s/it, ETA 38s", and for an image of a -n line "generating 2/3 [####        ]
// 12/30 steps, 4.1 s/it, ETA 1m14s (line 3m20s)". The rate and time left are those of the
// report; a line drawn later shows the time left counted down by the time since, to 0.
func (b Bar) Line(now time.Time) string {
	done, total := b.lastDone, max(b.total, 1)
	width := barWidth
	if b.task.Parts > 1 {
		width = partBarWidth
	}
	filled := width * min(done, total) / total
	text := fmt.Sprintf("%s [%s%s] %s/%s %s", b.task.Name, strings.Repeat("#", filled),
		strings.Repeat(" ", width-filled), b.count(done), b.count(total), b.task.Unit)
	if own, measured := b.pace(); measured {
		text += ", " + Rate(own.of(b.perUnit()))
	}
	since := max(now.Sub(b.lastAt), 0)
	countDown := func(d time.Duration) string { return RoughDuration(max(d-since, 0)) }
	left, known := b.Left()
	seriesLeft, inSeries := b.seriesLeft()
	switch {
	case known && inSeries:
		text += fmt.Sprintf(", ETA %s (line %s)", countDown(left), countDown(seriesLeft))
	case known:
		text += ", ETA " + countDown(left)
	case inSeries:
		text += ", line ETA " + countDown(seriesLeft)
	}
	return text
}

// Left is the time the task had left at its last report: its counts to go at the rate of
// those done, or the estimate before, counted down, where that is steady. It is false until
// a count is done, and when none is left.
func (b Bar) Left() (time.Duration, bool) {
	return b.left, b.leftKnown
}

// measuredLeft is the task's counts to go at the rate of those done.
func (b Bar) measuredLeft() (time.Duration, bool) {
	own, measured := b.pace()
	if !measured || b.total <= b.lastDone {
		return 0, false
	}
	return own.of(b.total - b.lastDone), true
}

// perUnit is how many counts make an item: 1 for a task that counts whole items.
func (b Bar) perUnit() int { return max(b.task.PerUnit, 1) }

// count writes a count as items: "3", or with fractions "3.4", in tenths rounded down, so
// that the bar shows 3 only when the third item is done.
func (b Bar) count(n int) string {
	tenths := n * 10 / b.perUnit()
	if tenths%10 == 0 {
		return fmt.Sprint(tenths / 10)
	}
	return fmt.Sprintf("%d.%d", tenths/10, tenths%10)
}

// pace is how fast the task went up to its last report: the counts done since the clock
// started, and the time they took. It is false until a count is done.
func (b Bar) pace() (pace, bool) {
	p := pace{counts: b.lastDone - b.firstDone, took: b.lastAt.Sub(b.start)}
	return p, p.counts >= 1 && p.took > 0
}

// pace is counts done in a time.
type pace struct {
	counts int
	took   time.Duration
}

// of is the time n counts take at this pace. It divides last, in floating point: a count of
// an upscaler's tile is a millionth of it, a few nanoseconds, and a whole number of
// nanoseconds per count would be several percent off.
func (p pace) of(n int) time.Duration {
	return time.Duration(float64(p.took) * float64(n) / float64(p.counts))
}

// seriesLeft is the time the series had left at the last report: the rest of this part at
// its own rate (so that the series never has less time left than its last part), the later
// parts (as many counts as this one) at the rate of all the series' counts so far, and after
// each part still to finish, this one included, the time that last followed one (an image's
// decoding and saving). Until one part has followed another, that time is unknown and left
// out. It is false for a task on its own, and when the series has no count left or none done.
func (b Bar) seriesLeft() (time.Duration, bool) {
	if b.task.Parts < 2 {
		return 0, false
	}
	done, total := b.lastDone, b.total
	counts := b.earlier.items + done - b.firstDone
	worked := b.earlier.worked + b.lastAt.Sub(b.start)
	later := b.task.Parts - b.task.Part - 1
	if counts < 1 || worked <= 0 || total-done+later*total < 1 {
		return 0, false
	}
	series := pace{counts: counts, took: worked}
	thisPart := series.of(total - done)
	if own, measured := b.pace(); measured {
		thisPart = own.of(total - done)
	}
	if b.leftKnown {
		// The part's own time left as the bar shows it (held steady), so that the line
		// never shows less time left than its image.
		thisPart = b.left
	}
	return thisPart + series.of(later*total) +
		b.earlier.between*time.Duration(later+1), true
}

// Rate is "2.31 it/s", or "4.2 s/it" when an item takes more than a second.
func Rate(perItem time.Duration) string {
	if perItem < time.Second {
		return fmt.Sprintf("%.2f it/s", float64(time.Second)/float64(perItem))
	}
	return fmt.Sprintf("%.1f s/it", perItem.Seconds())
}

// RoughDuration is a duration as a person reads it: "45s", "3m12s", "1h05m".
func RoughDuration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}
