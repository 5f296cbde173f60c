package shell

import (
	"bytes"
	"strings"
	"testing"

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
