package batch

import (
	"path/filepath"
	"testing"
)

// A result made to a target size is recognised whatever -U's factor, which a target
// overrides: its stored command spells the factor a lone target stood for (-U 4 for
// -W 1600), the line typed none or another. The strength and the target must match.
func TestResumeRecognisesTargetSizes(t *testing.T) {
	dir := tempDir(t)
	writeResult(t, dir, "a.fixed.png", `!fix "in/a.png" -U 4 0.75 -W 1600`)
	writeResult(t, dir, "b.fixed.png", `!fix "in/b.png" -U 2 0.6 -W 800 -H 600`)
	tests := []struct {
		name    string
		command string
		done    bool
	}{
		{"the target alone", `!fix "in/a.png" -W 1600`, true},
		{"another strength", `!fix "in/b.png" -U 2 0.75 -W 800 -H 600`, false},
		{"another target", `!fix "in/b.png" -U 2 0.6 -W 800`, false},
		{"another factor, the same target", `!fix "in/b.png" -U 8 0.6 -H 600 -W 800`, true},
	}
	resume := NewResume()
	for _, tt := range tests {
		done, example := resume.Done(dir, Expected{Commands: []string{tt.command}, Seeded: true})
		if done != tt.done {
			t.Errorf("%s: done %v (%s), want %v", tt.name, done, filepath.Base(example), tt.done)
		}
	}
}
