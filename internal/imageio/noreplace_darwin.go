package imageio

import (
	"errors"

	"golang.org/x/sys/unix"
)

// renameNoReplace moves from to to unless to exists (fs.ErrExist then), in one step, so
// no other writer can slip in between a check and the move.
func renameNoReplace(from, to string) error {
	err := unix.RenamexNp(from, to, unix.RENAME_EXCL)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOTSUP) {
		return errNoExclusiveClaim // the filesystem lacks RENAME_EXCL
	}
	return err
}
