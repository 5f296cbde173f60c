package shell

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"dream/internal/pipeline"
)

// The bar shows 0/N before any item is done, then the rate over the items done since it
// started and the time the rest will take at that rate.
func TestProgressLine(t *testing.T) {
	start := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	tiles := pipeline.Task{Name: "upscaling ×4", Unit: "tiles"}
	cases := []struct {
		name      string
		firstDone int
		done      int
		total     int
		after     time.Duration
		want      string
	}{
		{"at once", 0, 0, 12, 0, "upscaling ×4 [                        ] 0/12 tiles"},
		{"a minute in, nothing done", 0, 0, 12, time.Minute, "upscaling ×4 [                        ] 0/12 tiles"},
		{"one tile", 0, 1, 12, 16 * time.Second, "upscaling ×4 [##                      ] 1/12 tiles, 16.0 s/it, ETA 2m56s"},
		// Three tiles in 156 s are 52 s each: not 78 s (two intervals) as a rate that starts
		// its clock at the first tile would say.
		{"three tiles", 0, 3, 12, 156 * time.Second, "upscaling ×4 [######                  ] 3/12 tiles, 52.0 s/it, ETA 7m48s"},
		{"fast", 0, 30, 40, 10 * time.Second, "upscaling ×4 [##################      ] 30/40 tiles, 3.00 it/s, ETA 3s"},
		{"done", 0, 12, 12, 120 * time.Second, "upscaling ×4 [########################] 12/12 tiles, 10.0 s/it"},
		// A task that first reports 1 is credited only with what it did after that.
		{"first report at 1", 1, 3, 50, 100 * time.Second, "upscaling ×4 [#                       ] 3/50 tiles, 50.0 s/it, ETA 39m10s"},
		{"hours", 0, 1, 200, time.Minute, "upscaling ×4 [                        ] 1/200 tiles, 60.0 s/it, ETA 3h19m"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bar := progressBar{task: tiles, start: start, firstDone: c.firstDone}
			if got := bar.line(c.done, c.total, start.Add(c.after)); got != c.want {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}

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
