package batch

import (
	"fmt"
	"strings"
	"time"

	"dream/internal/progress"
)

// Tally counts the items of a run as they end and writes what a person watching it reads:
// the run's progress line ("fixing 12/340, ETA 20m05s"), a line per item, and the summary.
// The shell's terminal and the web page's queue show the same texts.
type Tally struct {
	Verb, Unit            string // "fixing", "image"
	Total                 int    // the items of the run
	Done, Skipped, Failed int
	Start                 time.Time
	LastEnd               time.Time // when the latest item ended
}

// Finished counts the items that ended, whatever their end.
func (t Tally) Finished() int { return t.Done + t.Skipped + t.Failed }

// Left counts the items not started (or, while the run goes on, not ended).
func (t Tally) Left() int { return t.Total - t.Finished() }

// Status is the run's progress line: "fixing 12/340, ETA 20m05s".
func (t Tally) Status() string {
	finished := t.Finished()
	text := fmt.Sprintf("%s %d/%d", t.Verb, finished, t.Total)
	// Until an item is really made, failures (a damaged file fails in a millisecond) would
	// give an ETA of 0s.
	if t.Done > 0 && finished < t.Total {
		perItem := t.LastEnd.Sub(t.Start) / time.Duration(t.Done+t.Failed)
		text += ", ETA " + progress.RoughDuration(perItem*time.Duration(t.Total-finished))
	}
	return text
}

// Summary is the run's last line at now: "done 338, skipped 0, failed 2 of 340 images in
// 1h12m", and "; stopped with 5 not started" when it was stopped early.
func (t Tally) Summary(now time.Time) string {
	text := fmt.Sprintf("done %d, skipped %d, failed %d of %s in %s",
		t.Done, t.Skipped, t.Failed, Count(t.Total, t.Unit), progress.RoughDuration(now.Sub(t.Start)))
	if left := t.Left(); left > 0 {
		text += fmt.Sprintf("; stopped with %d not started", left)
	}
	return text
}

// ItemOK is an item's line when it made its results: "ok SRC -> OUT, OUT2 (3.2 s)".
func ItemOK(source string, outputs []string, took time.Duration) string {
	return fmt.Sprintf("ok %s -> %s (%.1f s)", source, strings.Join(outputs, ", "), took.Seconds())
}

// ItemFailed is an item's line when it failed: "failed SRC: why", on one line.
func ItemFailed(source, reason string) string {
	return fmt.Sprintf("failed %s: %s", source, reason)
}

// Count writes "no images", "1 image", "3 images".
func Count(n int, noun string) string {
	switch n {
	case 0:
		return "no " + noun + "s"
	case 1:
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
