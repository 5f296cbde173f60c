package shell

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"dream/internal/pipeline"
)

// On a terminal the bar is drawn from the first report; without one, nothing is written.
func TestProgressOnlyOnTerminal(t *testing.T) {
	task := pipeline.Task{Name: "restoring faces", Unit: "faces"}
	for _, interactive := range []bool{true, false} {
		var out bytes.Buffer
		s := &Shell{Err: &out, Interactive: interactive}
		s.Progress(task, 0, 7)
		s.Progress(task, 2, 7)
		s.endProgress()
		got := out.String()
		if !interactive {
			if got != "" {
				t.Errorf("without a terminal the bar wrote %q", got)
			}
			continue
		}
		for _, want := range []string{"restoring faces [", "0/7 faces", "2/7 faces, ", "ETA "} {
			if !strings.Contains(got, want) {
				t.Errorf("the bar wrote %q, which lacks %q", got, want)
			}
		}
	}
}

// The batch's line shows an ETA once an image has been made: a failure that took a
// millisecond (a damaged file) would give "ETA 0s" for hours of work.
func TestBatchStatusETA(t *testing.T) {
	start := time.Now()
	tests := []struct {
		name string
		run  batchRun
		want string
	}{
		{"nothing yet", batchRun{verb: "fixing", total: 10}, "fixing 0/10"},
		{"a fast failure first", batchRun{verb: "fixing", total: 10, failed: 1, lastEnd: start.Add(time.Millisecond)}, "fixing 1/10"},
		{"skipped by --resume", batchRun{verb: "fixing", total: 10, skipped: 4}, "fixing 4/10"},
		{"one image made", batchRun{verb: "fixing", total: 10, done: 1, failed: 1, lastEnd: start.Add(20 * time.Second)}, "fixing 2/10, ETA 1m20s"},
		{"all done", batchRun{verb: "fixing", total: 2, done: 2, lastEnd: start.Add(time.Second)}, "fixing 2/2"},
	}
	for _, tt := range tests {
		tt.run.start = start
		if got := tt.run.status(); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// A note from below the shell (the CUDA fallback) gets a line of its own, not the end of the
// progress bar's.
func TestNoteClearsTheBar(t *testing.T) {
	var out bytes.Buffer
	s := &Shell{Err: &out, Interactive: true}
	s.Progress(pipeline.Task{Name: "upscaling ×4", Unit: "tiles"}, 1, 12)
	s.Note("CUDA is not available; running on the CPU")
	if got := out.String(); !strings.Contains(got, "\r\033[Knote: CUDA is not available; running on the CPU\n") {
		t.Errorf("the terminal got %q", got)
	}
}
