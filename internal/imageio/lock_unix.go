//go:build unix

package imageio

import (
	"errors"
	"os"
	"syscall"
)

// lockFile takes an exclusive flock on f, held until f is closed or its process ends;
// the kernel drops it even on SIGKILL, which is what makes a stale temp file recognisable.
func lockFile(f *os.File) error {
	return flock(f, syscall.LOCK_EX)
}

// tryLockFile takes the lock only if nobody holds it: false means a live writer has it.
func tryLockFile(f *os.File) (bool, error) {
	err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}

// flock goes through SyscallConn rather than Fd, which would switch f to blocking mode.
func flock(f *os.File, how int) error {
	conn, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var lockErr error
	err = conn.Control(func(fd uintptr) {
		for {
			lockErr = syscall.Flock(int(fd), how)
			if lockErr != syscall.EINTR { // a signal while waiting is no reason to give up
				return
			}
		}
	})
	if err != nil {
		return err
	}
	return lockErr
}
