package imageio

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// RemoveStaleTemps removes the temp files (.NAME.tmp-DIGITS) that WriteFileAtomic and
// WriteFileExclusive left in dir because their process died before it could clean up
// (SIGKILL, a crash, power loss), and returns how many it removed. A live writer holds
// an exclusive flock on its temp file, so a temp file whose lock can be taken has no
// writer left; one that is locked stays. A missing dir has nothing to remove.
func RemoveStaleTemps(dir string) (removed int, err error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("cannot look for stale temporary files in %s: %s", dir, osReason(err))
	}
	var errs []error
	for _, e := range entries {
		if !e.Type().IsRegular() || !isTempName(e.Name()) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		ok, err := removeIfStale(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("cannot remove stale temporary file %s: %s", path, osReason(err)))
		}
		if ok {
			removed++
		}
	}
	return removed, errors.Join(errs...)
}

// isTempName reports whether name has the form tempPattern gives: a dot, the final
// name, ".tmp-", and the digits os.CreateTemp chose.
func isTempName(name string) bool {
	i := strings.LastIndex(name, ".tmp-")
	if !strings.HasPrefix(name, ".") || i < 2 {
		return false
	}
	digits := name[i+len(".tmp-"):]
	return digits != "" && strings.Trim(digits, "0123456789") == ""
}

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
