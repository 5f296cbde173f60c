package shell

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"dream/internal/batch"
	"dream/internal/pipeline"
	"dream/internal/testenv"
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
		run  batch.Tally
		want string
	}{
		{"nothing yet", batch.Tally{Verb: "fixing", Total: 10}, "fixing 0/10"},
		{"a fast failure first", batch.Tally{Verb: "fixing", Total: 10, Failed: 1, LastEnd: start.Add(time.Millisecond)}, "fixing 1/10"},
		{"skipped by --resume", batch.Tally{Verb: "fixing", Total: 10, Skipped: 4}, "fixing 4/10"},
		{"one image made", batch.Tally{Verb: "fixing", Total: 10, Done: 1, Failed: 1, LastEnd: start.Add(20 * time.Second)}, "fixing 2/10, ETA 1m20s"},
		{"all done", batch.Tally{Verb: "fixing", Total: 2, Done: 2, LastEnd: start.Add(time.Second)}, "fixing 2/2"},
	}
	for _, tt := range tests {
		tt.run.Start = start
		run := batchRun{Tally: tt.run}
		if got := run.Status(); got != tt.want {
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
	s.endProgress()
	if got := out.String(); !strings.Contains(got, "\r\033[Knote: CUDA is not available; running on the CPU\n") {
		t.Errorf("the terminal got %q", got)
	}
}

// While a job runs, the bar is drawn again between reports with its time left counting
// down; once the job's bar ends, nothing more is drawn. The shell's clock is driven by hand.
func TestProgressRedrawnCountsDown(t *testing.T) {
	var out testenv.Buffer
	s := &Shell{Err: &out, Interactive: true}
	task := pipeline.Task{Name: "upscaling ×2", Unit: "tiles", PerUnit: 1000}
	start := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return start.Add(d) }
	lastLine := func() string {
		lines := strings.Split(out.String(), "\r")
		return strings.TrimSuffix(lines[len(lines)-1], "\033[K")
	}
	s.reportProgress(task, 0, 2000, at(0))
	s.reportProgress(task, 250, 2000, at(20*time.Second))
	for _, step := range []struct {
		at   time.Duration
		want string
	}{
		{20 * time.Second, "upscaling ×2 [###                     ] 0.2/2 tiles, 80.0 s/it, ETA 2m20s"},
		{21 * time.Second, "upscaling ×2 [###                     ] 0.2/2 tiles, 80.0 s/it, ETA 2m19s"},
		{50 * time.Second, "upscaling ×2 [###                     ] 0.2/2 tiles, 80.0 s/it, ETA 1m50s"},
	} {
		s.redrawAt(at(step.at))
		if got := lastLine(); got != step.want {
			t.Errorf("drawn at %v: %q, want %q", step.at, got, step.want)
		}
	}
	s.endProgress()
	ended := out.String()
	s.redrawAt(at(51 * time.Second)) // a tick that came as the job ended
	if got := out.String(); got != ended {
		t.Errorf("the bar was drawn after its job ended: %q", strings.TrimPrefix(got, ended))
	}
	if s.redraw != nil {
		t.Error("the bar is still being redrawn after its job ended")
	}
}
