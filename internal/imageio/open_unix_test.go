//go:build unix

package imageio

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Load refuses a named pipe at once: os.Open would wait for a writer, where neither Ctrl-C
// nor a cancelled job reaches.
func TestLoadRefusesNamedPipe(t *testing.T) {
	pipe := filepath.Join(t.TempDir(), "x.png")
	if err := syscall.Mkfifo(pipe, 0o644); err != nil {
		t.Fatal(err)
	}
	defer func() { // releases a Load that did wait
		if f, err := os.OpenFile(pipe, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	}()
	result := make(chan error, 1)
	go func() {
		_, err := Load(pipe)
		result <- err
	}()
	select {
	case err := <-result:
		if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "x.png: a named pipe (FIFO), not a regular file") {
			t.Errorf("Load of a named pipe: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Load of a named pipe still waits after 5 s")
	}
}
