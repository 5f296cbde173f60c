package batch

import (
	"testing"
	"time"
)

// The run's line counts every item that ended and shows an ETA once an item has been made:
// a failure that took a millisecond (a damaged file) would give "ETA 0s" for hours of work.
// The summary says what became of each item, and how many a stop left.
func TestTally(t *testing.T) {
	start := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name            string
		tally           Tally
		status, summary string
	}{
		{"nothing yet", Tally{Total: 10}, "fixing 0/10",
			"done 0, skipped 0, failed 0 of 10 images in 1m05s; stopped with 10 not started"},
		{"a fast failure first", Tally{Total: 10, Failed: 1, LastEnd: start.Add(time.Millisecond)}, "fixing 1/10",
			"done 0, skipped 0, failed 1 of 10 images in 1m05s; stopped with 9 not started"},
		{"skipped by --resume", Tally{Total: 10, Skipped: 4}, "fixing 4/10",
			"done 0, skipped 4, failed 0 of 10 images in 1m05s; stopped with 6 not started"},
		{"one made, one failed", Tally{Total: 10, Done: 1, Failed: 1, LastEnd: start.Add(20 * time.Second)}, "fixing 2/10, ETA 1m20s",
			"done 1, skipped 0, failed 1 of 10 images in 1m05s; stopped with 8 not started"},
		{"all done", Tally{Total: 2, Done: 2, LastEnd: start.Add(time.Second)}, "fixing 2/2",
			"done 2, skipped 0, failed 0 of 2 images in 1m05s"},
		{"one image", Tally{Total: 1, Done: 1, LastEnd: start.Add(time.Second)}, "fixing 1/1",
			"done 1, skipped 0, failed 0 of 1 image in 1m05s"},
	}
	for _, tt := range tests {
		tt.tally.Verb, tt.tally.Unit, tt.tally.Start = "fixing", "image", start
		if got := tt.tally.Status(); got != tt.status {
			t.Errorf("%s: status %q, want %q", tt.name, got, tt.status)
		}
		if got := tt.tally.Summary(start.Add(65 * time.Second)); got != tt.summary {
			t.Errorf("%s: summary %q, want %q", tt.name, got, tt.summary)
		}
	}
}

func TestItemLines(t *testing.T) {
	tests := []struct{ got, want string }{
		{ItemOK("scans/a.png", []string{"out/a.fixed.png"}, 3240*time.Millisecond), "ok scans/a.png -> out/a.fixed.png (3.2 s)"},
		{ItemOK("a fox", []string{"000001.7.png", "000001.8.png"}, 12*time.Second), "ok a fox -> 000001.7.png, 000001.8.png (12.0 s)"},
		{ItemFailed("scans/bad.png", "damaged"), "failed scans/bad.png: damaged"},
		{Count(0, "image"), "no images"},
		{Count(1, "item"), "1 item"},
		{Count(3, "image"), "3 images"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%q, want %q", tt.got, tt.want)
		}
	}
}
