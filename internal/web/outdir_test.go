package web

import (
	"path/filepath"
	"testing"
)

// TestInOutdir checks the one place that names a path inside the output folder: a relative
// folder and an absolute path compare, and names the page may not serve are not inside.
func TestInOutdir(t *testing.T) {
	work := t.TempDir()
	t.Chdir(work)
	s := &Server{cfg: Config{Outdir: "out"}}
	for _, c := range []struct {
		path, name string
		ok         bool
	}{
		{filepath.Join(work, "out", "uploads", "cat.png"), "uploads/cat.png", true},
		{filepath.Join("out", "cat.png"), "cat.png", true},
		{filepath.Join(work, "elsewhere", "cat.png"), "", false},
		{filepath.Join(work, "out"), "", false},
		{filepath.Join(work, "out", ".cache", "cat.png"), "", false},
	} {
		name, ok := s.inOutdir(c.path)
		if ok != c.ok || (ok && name != c.name) {
			t.Errorf("inOutdir(%q) = %q, %v; want %q, %v", c.path, name, ok, c.name, c.ok)
		}
	}
}
