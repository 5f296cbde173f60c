// Package progress keeps the state of a progress bar for long work (tiles, steps, faces) and
// writes its line: the count, the rate over the items done, and the time left, also for a
// series of like tasks such as the images of a -n line. The shell draws the line on a
// terminal; the web page shows the same text.
package progress

import (
	"fmt"
	"strings"
	"time"

	"dream/internal/pipeline"
)

// Bar is the state of a progress bar: the task it shows, when the task's clock
// started, and for an image of a -n line, what the line's earlier images took.
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
	lastAt              time.Time // when lastDone was reported
	earlier             partsDone
}

// partsDone is what the finished parts of a series (the images of a -n line) took.
type partsDone struct {
	items  int           // the items they did
	worked time.Duration // the time those items took, from each part's 0 to its last item
	// between is the latest time from one part's last item to the next part's start:
	// decoding and saving an image. 0 until a part has followed another.
	between time.Duration
}

const (
	barWidth = 24
	// partBarWidth is narrower, to leave room for the series' time left in 80 columns.
	partBarWidth = 12
)

// Report moves the bar to done items of task at now.
func (b *Bar) Report(task pipeline.Task, done int, now time.Time) {
	switch {
	case task != b.task && b.followedBy(task):
		*b = Bar{task: task, start: now, firstDone: done, earlier: b.withThisPart(now)}
	case task != b.task || done < b.lastDone:
		*b = Bar{task: task, start: now, firstDone: done}
	case done == 0:
		b.start = now // the work starts now, not at the task's first report
	}
	b.lastDone, b.lastAt = done, now
}

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

// Line is the bar for done of total items at time now, the time of the report of done:
// "upscaling ×4 [######      ] 3/12 tiles, 4.2 s/it, ETA 38s", and for an image of a -n line
// "generating 2/3 [####        ] 12/30 steps, 4.1 s/it, ETA 1m14s (line 3m20s)".
func (b Bar) Line(done, total int, now time.Time) string {
	width := barWidth
	if b.task.Parts > 1 {
		width = partBarWidth
	}
	filled := width * min(done, total) / total
	text := fmt.Sprintf("%s [%s%s] %d/%d %s", b.task.Name,
		strings.Repeat("#", filled), strings.Repeat(" ", width-filled), done, total, b.task.Unit)
	perItem, measured := b.perItem(done, now)
	if measured {
		text += ", " + Rate(perItem)
	}
	left := total - done
	seriesLeft, inSeries := b.seriesLeft(done, total, now)
	switch {
	case measured && left > 0 && inSeries:
		text += fmt.Sprintf(", ETA %s (line %s)", RoughDuration(perItem*time.Duration(left)), RoughDuration(seriesLeft))
	case measured && left > 0:
		text += ", ETA " + RoughDuration(perItem*time.Duration(left))
	case inSeries:
		text += ", line ETA " + RoughDuration(seriesLeft)
	}
	return text
}

// perItem is the time an item of the task has taken: the items done since the clock started
// over the time since then. It is false until an item is done.
func (b Bar) perItem(done int, now time.Time) (time.Duration, bool) {
	counted, elapsed := done-b.firstDone, now.Sub(b.start)
	if counted < 1 || elapsed <= 0 {
		return 0, false
	}
	return elapsed / time.Duration(counted), true
}

// seriesLeft is the time the series has left: the rest of this part at its own rate (so
// that the series never has less time left than its last part), the later parts (as many
// items as this one) at the rate of all the series' items so far, and after each part still
// to finish, this one included, the time that last followed one (an image's decoding and
// saving). Until one part has followed another, that time is unknown and left out. It is
// false for a task on its own, and when the series has no item left or none done.
func (b Bar) seriesLeft(done, total int, now time.Time) (time.Duration, bool) {
	if b.task.Parts < 2 {
		return 0, false
	}
	items := b.earlier.items + done - b.firstDone
	worked := b.earlier.worked + now.Sub(b.start)
	later := b.task.Parts - b.task.Part - 1
	if items < 1 || worked <= 0 || total-done+later*total < 1 {
		return 0, false
	}
	perItem := worked / time.Duration(items)
	thisPart := perItem
	if own, measured := b.perItem(done, now); measured {
		thisPart = own
	}
	return thisPart*time.Duration(total-done) + perItem*time.Duration(later*total) +
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
