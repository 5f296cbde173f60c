package imageio

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
)

// savedFileMode is the permission of files WriteFileAtomic and WriteFileExclusive create
// (before umask); os.CreateTemp's 0600 would hide results from other users.
const savedFileMode = 0o644

// WriteFileAtomic writes a file through write, so that path either keeps
// its old content (or stays absent) or holds the complete new content.
// The data goes to a hidden temp file in the same directory, is synced to
// disk, and only then renamed over path. On any error, or a panic in
// write, the temp file is removed and path is untouched.
//
// The rename replaces whatever path holds, so this is only for files the
// caller owns: its own freshly written result, a model it installs. A new
// result in a folder others write to goes through WriteFileExclusive.
func WriteFileAtomic(path string, write func(io.Writer) error) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := createTemp(dir, base)
	if err != nil {
		return writeError(path, err)
	}
	defer tmp.discard()
	if err := tmp.fill(write); err != nil {
		return writeError(path, err)
	}
	if err := tmp.replace(path); err != nil {
		return writeError(path, err)
	}
	tmp.gone = true
	syncDir(dir)
	return nil
}

// tempFile is the hidden file a result is written to before it gets its name. Its writer
// holds a lock on it for as long as the name exists, which is how RemoveStaleTemps tells a
// live writer's temp file from one whose process died: an exclusive flock on Unix
// (temp_byname.go); on Windows, the open file itself, which denies everyone else the right
// to delete it (temp_windows.go). Either way the system drops the lock when the process
// ends, however it ends.
type tempFile struct {
	f    *os.File
	path string
	gone bool // renamed, removed, or its name taken over: nothing left to remove
}

// tempPattern is the name of the temp files for a file named base, the pattern
// RemoveStaleTemps recognises (random digits take the place of the *).
func tempPattern(base string) string { return "." + base + ".tmp-*" }

// createTemp creates a locked temp file in dir for a file named base.
func createTemp(dir, base string) (*tempFile, error) {
	// Where the lock is taken after the file is created (flock), RemoveStaleTemps may open
	// the file in between, find it unlocked and remove it. Then the name no longer leads
	// to this file, and a new one is made; a handful of tries is more than such a rare
	// race can take.
	for range 4 {
		tmp, err := tryCreateTemp(dir, base)
		if tmp != nil || err != nil {
			return tmp, err
		}
	}
	return nil, errTempRemoved
}

// errTempRemoved is what createTemp reports when its temp files keep disappearing.
var errTempRemoved = errors.New("another program keeps removing the temporary file; " +
	"check what else cleans this folder")

// fill runs write into the temp file and makes the bytes durable, so that no name can
// ever show an empty or partial file, even after a crash. The file stays open: closing
// it would drop the lock while the temp name still exists.
func (t *tempFile) fill(write func(io.Writer) error) error {
	buffered := bufio.NewWriterSize(t.f, 1<<20)
	if err := write(buffered); err != nil {
		return err
	}
	if err := buffered.Flush(); err != nil {
		return err
	}
	if err := t.f.Chmod(savedFileMode); err != nil {
		return err
	}
	return t.f.Sync()
}

// discard removes the temp name (unless it was renamed to the result) and only then
// closes the file, so the lock covers the name's whole life.
func (t *tempFile) discard() {
	if !t.gone {
		t.removeName()
		t.gone = true
	}
	t.f.Close() // may already be closed; the error does not matter then
}

// syncDir makes the rename or link itself durable. It is best effort: the file is
// already complete and in place, and some systems cannot sync directories.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}

// writeError names the final path, never the temp file, and keeps err
// reachable for errors.Is.
func writeError(path string, err error) error {
	return newFileError(err, "cannot write %s: %s", path, osReason(err))
}

// SavePNG writes img to path as PNG (see Encode), atomically (see
// WriteFileAtomic).
func SavePNG(path string, img *Image) error {
	return WriteFileAtomic(path, func(w io.Writer) error { return Encode(w, img) })
}
