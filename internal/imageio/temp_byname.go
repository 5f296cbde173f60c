//go:build !windows

package imageio

import (
	"errors"
	"io/fs"
	"os"
)

// Outside Windows a temp file is renamed and removed through its name while it is open,
// and the flock of lockFile is the lock that marks it as a live writer's.

// claimsByLink: a hard link is the exclusive claim that most filesystems here support;
// renaming without replacing is the fallback (noreplace_*.go).
const claimsByLink = true

// tryCreateTemp is createTemp's single try: nil and no error when the temp file was
// removed before it was locked.
func tryCreateTemp(dir, base string) (*tempFile, error) {
	f, err := os.CreateTemp(dir, tempPattern(base))
	if err != nil {
		return nil, err
	}
	tmp := &tempFile{f: f, path: f.Name()}
	if err := lockFile(f); err != nil {
		tmp.discard()
		return nil, err
	}
	if !stillNamed(f, tmp.path) {
		tmp.gone = true // the name is not this file's any more: never remove it
		tmp.discard()
		return nil, nil
	}
	return tmp, nil
}

// stillNamed reports whether path still leads to the open file f.
func stillNamed(f *os.File, path string) bool {
	opened, err := f.Stat()
	if err != nil {
		return false
	}
	named, err := os.Lstat(path)
	return err == nil && os.SameFile(opened, named)
}

// replace renames the temp file over path, whatever path holds.
func (t *tempFile) replace(path string) error { return os.Rename(t.path, path) }

// renameNoReplace renames the temp file to path unless path exists (fs.ErrExist then).
func (t *tempFile) renameNoReplace(path string) error { return renameNoReplace(t.path, path) }

// removeName removes the temp name; the file stays open, and locked, until discard closes it.
func (t *tempFile) removeName() { os.Remove(t.path) }

// removeIfStale removes the temp file at path if no writer holds its lock.
func removeIfStale(path string) (bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil // its writer finished in the meantime
	}
	if err != nil {
		return false, err
	}
	defer f.Close() // after the removal: the lock keeps a new writer off until then
	free, err := tryLockFile(f)
	if err != nil || !free {
		return false, err
	}
	// The writer may have finished since the open, and the name gone to another file.
	if !stillNamed(f, path) {
		return false, nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	return true, nil
}
