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
// a lock on its temp file (see tempFile), so a temp file whose lock can be taken has no
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
