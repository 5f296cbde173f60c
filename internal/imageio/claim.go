package imageio

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// WriteFileExclusive writes a new file into dir through write and gives it the first of
// names that no file has yet; it returns the path it took. Several processes may write
// into one folder at once (SPEC §1 "Files"): a name is claimed in one atomic step that
// fails when the name exists, so no file is ever replaced, and two writers never share
// a name.
//
// The complete content is written to a hidden temp file in dir (locked, see
// RemoveStaleTemps), synced, and only then hard-linked to the name, so no name ever
// shows a partial file. Where the filesystem has no hard links, and always on Windows,
// the temp file is renamed without replacing instead. On any error, or a panic in write,
// the temp file is removed and nothing else changes. When every name exists, the error
// wraps fs.ErrExist.
func WriteFileExclusive(dir string, names []string, write func(io.Writer) error) (string, error) {
	if len(names) == 0 {
		return "", fmt.Errorf("no file name to write in %s", dir)
	}
	first := filepath.Join(dir, names[0])
	tmp, err := createTemp(dir, names[0])
	if err != nil {
		return "", writeError(first, err)
	}
	defer tmp.discard()
	if err := tmp.fill(write); err != nil {
		return "", writeError(first, err)
	}
	for _, name := range names {
		path := filepath.Join(dir, name)
		err := tmp.claim(path)
		if err == nil {
			syncDir(dir)
			return path, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", writeError(path, err)
		}
	}
	return "", namesTaken(dir, names)
}

// claim gives the complete temp file the name path, unless something (even a dangling
// symlink) already has it: that fails with fs.ErrExist and changes nothing.
func (t *tempFile) claim(path string) error {
	if claimsByLink {
		err := linkFile(t.path, path)
		if !linkUnsupported(err) {
			return err
		}
	}
	if err := t.renameNoReplace(path); err != nil {
		return err
	}
	t.gone = true
	return nil
}

// linkFile is os.Link; tests replace it to take the path of filesystems without hard links.
var linkFile = os.Link

// linkUnsupported reports whether a link failed because the filesystem has no hard links
// (FAT and some network or FUSE filesystems answer EPERM or ENOTSUP), not because of the
// name.
func linkUnsupported(err error) bool {
	for _, errno := range []syscall.Errno{syscall.EPERM, syscall.ENOTSUP, syscall.EOPNOTSUPP, syscall.EXDEV, syscall.ENOSYS} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}

// errNoExclusiveClaim is why a name cannot be claimed where neither hard links nor an
// exclusive rename exist. Checking for the name and then renaming would leave a gap in
// which another process's file could be replaced, so dream refuses instead.
var errNoExclusiveClaim = errors.New("this filesystem supports neither hard links nor renaming without " +
	"replacing, so no name can be claimed safely; write to a folder on another filesystem")

// namesTaken reports that every name was taken; nothing was replaced.
func namesTaken(dir string, names []string) error {
	if len(names) == 1 {
		return newFileError(fs.ErrExist, "cannot write %s: a file of that name already exists and is left alone; "+
			"move it away or write to another folder", filepath.Join(dir, names[0]))
	}
	return newFileError(fs.ErrExist, "no free output name in %s: %s through %s all exist; "+
		"move some of them away or write to another folder", dir, names[0], names[len(names)-1])
}
