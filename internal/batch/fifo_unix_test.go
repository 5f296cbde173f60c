//go:build unix

package batch

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"dream/internal/job"
)

// makeFifo makes a named pipe; whatever the test leaves blocked on it is released at the end
// by opening its other side.
func makeFifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})
}

// within fails the test when work does not return in time: a named pipe opened for reading
// would wait for a writer forever.
func within(t *testing.T, what string, work func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		work()
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s still waits after 5 s: a named pipe was opened", what)
	}
}

// A named pipe called x.png is skipped, with the reason, wherever a batch meets it; named on
// its own it is refused in one line; nothing ever opens it.
func TestNamedPipesAreNeverOpened(t *testing.T) {
	dir := tempDir(t)
	writeFile(t, dir, "a.png")
	makeFifo(t, filepath.Join(dir, "pipe.png"))
	writeFile(t, dir, "z.png")
	const reason = "a named pipe (FIFO), not a regular file"

	for _, path := range []string{dir, filepath.Join(dir, "*.png")} {
		var list Listing
		var err error
		within(t, "listing "+path, func() { list, _, err = Expand(path, "") })
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range list.Files {
			got = append(got, filepath.Base(f.Path)+"|"+f.Skip)
		}
		if want := "a.png||pipe.png|" + reason + "|z.png|"; strings.Join(got, "|") != want {
			t.Errorf("%s lists %q, want %q", path, strings.Join(got, "|"), want)
		}
	}

	var plan Planned
	within(t, "planning", func() { plan, _ = FixEntries(job.Job{Kind: job.Fix, Path: filepath.Join(dir, "pipe.png")}, "") })
	if err := plan.Entries[0].Err; err == nil || !strings.Contains(err.Error(), "pipe.png is "+reason) || strings.Contains(err.Error(), "\n") {
		t.Errorf("the pipe named alone gives %v", err)
	}

	// --resume reads the output folder's PNGs, and must pass the pipe by too.
	within(t, "--resume", func() {
		NewResume().Done(dir, Expected{Commands: []string{`!fix "a.png" -U 2 0.75`}, Seeded: true})
	})
}
