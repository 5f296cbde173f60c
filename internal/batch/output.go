package batch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// CheckWritable makes sure results can be written into dir before a batch computes any: it
// creates the folder if need be, then writes and removes a small hidden file. Without it a
// folder that refuses writes (or one whose parent is a file) would show only once the first
// image had been computed, and every image after it would be computed in vain.
func CheckWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create the output folder %s (%v): choose another with --outdir or -o", dir, unwrapPath(err))
	}
	f, err := os.CreateTemp(dir, ".dream-probe-*")
	if err != nil {
		return fmt.Errorf("cannot write into the output folder %s (%v): choose another with --outdir or -o", dir, unwrapPath(err))
	}
	_, err = f.Write([]byte("dream"))
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	os.Remove(f.Name())
	if err != nil {
		return fmt.Errorf("cannot write into the output folder %s (%v): make room or choose another with --outdir or -o", dir, unwrapPath(err))
	}
	return nil
}

// writeError marks the error of writing a result, as opposed to reading an input: a refused
// permission stops a batch only when writing.
type writeError struct{ error }

func (w writeError) Unwrap() error { return w.error }

// AsWriteError marks err, if any, as an error of writing a result (see StopsBatch).
func AsWriteError(err error) error {
	if err == nil {
		return nil
	}
	return writeError{err}
}

// StopsBatch tells whether an item's error will come back for every later item, so that the
// batch should stop rather than compute results it cannot keep: the disk or the quota is
// full, the file is larger than the process may write (ulimit -f), the file system is
// read-only, or writing a result was refused permission.
func StopsBatch(err error) bool {
	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT, syscall.EFBIG, syscall.EROFS} {
		if errors.Is(err, errno) {
			return true
		}
	}
	var w writeError
	return errors.As(err, &w) && errors.Is(err, fs.ErrPermission)
}
