package imageio

import (
	"errors"

	"golang.org/x/sys/unix"
)

// renameNoReplace moves from to to unless to exists (fs.ErrExist then), in one step, so
// no other writer can slip in between a check and the move.
func renameNoReplace(from, to string) error {
	err := unix.Renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, unix.RENAME_NOREPLACE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP) {
		return errNoExclusiveClaim // the filesystem or kernel lacks RENAME_NOREPLACE
	}
	return err
}
