package batch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestStopsBatch(t *testing.T) {
	full := &fs.PathError{Op: "write", Path: "out/.a.fixed.png.tmp", Err: syscall.ENOSPC}
	refused := &fs.PathError{Op: "open", Path: "in/a.png", Err: syscall.EACCES}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"disk full", fmt.Errorf("cannot write out/a.fixed.png: %w", full), true},
		{"quota", syscall.EDQUOT, true},
		{"file size limit", AsWriteError(syscall.EFBIG), true},
		{"read-only file system", syscall.EROFS, true},
		{"permission refused writing", AsWriteError(fmt.Errorf("cannot write: %w", refused)), true},
		{"permission refused reading an input", refused, false},
		{"damaged input", errors.New("in/a.png is damaged: file is truncated"), false},
		{"cancelled", AsWriteError(context.Canceled), false},
		{"no error", AsWriteError(nil), false},
	}
	for _, tt := range tests {
		if got := StopsBatch(tt.err); got != tt.want {
			t.Errorf("%s: StopsBatch(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

// The output folder is tried before the first image: created when missing, refused in one
// line when it cannot be (its parent is a file: this fails for root too), and left as it was.
func TestCheckWritable(t *testing.T) {
	dir := tempDir(t)
	if err := CheckWritable(filepath.Join(dir, "new", "out")); err != nil {
		t.Fatalf("a missing folder: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "new", "out")); len(entries) != 0 {
		t.Errorf("the check left %d files in the folder", len(entries))
	}
	file := writeFile(t, dir, "notes.txt")
	err := CheckWritable(filepath.Join(file, "out"))
	if err == nil || !strings.Contains(err.Error(), "cannot create the output folder") || strings.Contains(err.Error(), "\n") {
		t.Errorf("a folder under a file: %v", err)
	}
}
