package imageio

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// ErrNotRegular is why a named pipe, a socket or a device is not read as an image.
var ErrNotRegular = errors.New("not a regular file")

// OpenRegular opens path for reading when it is a regular file (a symbolic link is
// followed) and refuses anything else without waiting: os.Open of a named pipe (FIFO) waits
// for a writer, inside a system call that neither Ctrl-C nor a cancelled job can end.
func OpenRegular(path string) (*os.File, error) {
	f, err := openNoWait(path)
	if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err == nil && !info.Mode().IsRegular() {
		err = &fs.PathError{Op: "open", Path: path, Err: notRegular(info.Mode())}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// NotRegularReason says what a file that is not a regular file is, for a message such as
// "skipped x.png: a named pipe (FIFO), not a regular file"; "" for a regular file.
func NotRegularReason(mode fs.FileMode) string {
	if mode.IsRegular() {
		return ""
	}
	return notRegular(mode).Error()
}

// notRegular is the error for a file of this mode; a folder keeps the system's own error,
// which says "is a directory".
func notRegular(mode fs.FileMode) error {
	var kind string
	switch {
	case mode.IsDir():
		return syscall.EISDIR
	case mode&fs.ModeNamedPipe != 0:
		kind = "a named pipe (FIFO)"
	case mode&fs.ModeSocket != 0:
		kind = "a socket"
	case mode&fs.ModeDevice != 0:
		kind = "a device"
	default:
		return ErrNotRegular
	}
	return &notRegularError{kind}
}

type notRegularError struct{ kind string }

func (e *notRegularError) Error() string        { return e.kind + ", " + ErrNotRegular.Error() }
func (e *notRegularError) Is(target error) bool { return target == ErrNotRegular }
