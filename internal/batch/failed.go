package batch

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"dream/internal/imageio"
)

// A damaged file, or one that is no image at all, fails on every run. So that a resubmitted
// batch (--resume) does not fail on it again, and exit 1 again, the inputs that failed as
// undecodable are listed in their output folder, one JSON object a line, and --resume skips
// them while they are unchanged. Deleting a line (or the file) retries the input; a file
// replaced since it failed is retried anyway.

// FailedListName is the list's file name in an output folder.
const FailedListName = ".dream-failed"

// failedLock names the lock writers of a folder's list take (see withLock).
const failedLock = "failed-list"

// Failure is one input that failed as undecodable.
type Failure struct {
	Path     string    `json:"path"` // absolute, links resolved
	Size     int64     `json:"size"`
	Modified time.Time `json:"modified"`
	Reason   string    `json:"reason"`
}

// FailedList is a folder's list, as read.
type FailedList []Failure

// ReadFailed reads dir's list; a folder without one has an empty list, and a line that
// cannot be read is passed over.
func ReadFailed(dir string) FailedList {
	data, err := os.ReadFile(filepath.Join(dir, FailedListName))
	if err != nil {
		return nil
	}
	var list FailedList
	lines := bufio.NewScanner(bytes.NewReader(data))
	lines.Buffer(nil, 1<<20)
	for lines.Scan() {
		var f Failure
		if json.Unmarshal(lines.Bytes(), &f) == nil && f.Path != "" {
			list = append(list, f)
		}
	}
	return list
}

// FailedBefore tells whether the input at path is listed and unchanged since it failed, and
// why it failed. An empty list answers at once: --resume asks for every item of a folder.
func (l FailedList) FailedBefore(path string) (reason string, ok bool) {
	if len(l) == 0 {
		return "", false
	}
	abs := canonicalPath(path, "")
	info, err := os.Stat(abs)
	if err != nil {
		return "", false
	}
	for _, f := range l {
		if f.Path == abs && f.Size == info.Size() && f.Modified.Equal(info.ModTime()) {
			return f.Reason, true
		}
	}
	return "", false
}

// Names tells whether the list names the input at path, changed since or not.
func (l FailedList) Names(path string) bool {
	if len(l) == 0 {
		return false // no path to resolve: a fix asks after every item that ended well
	}
	abs := canonicalPath(path, "")
	return slices.ContainsFunc(l, func(f Failure) bool { return f.Path == abs })
}

// RecordFailed lists the input at path in dir's list as undecodable, for why; an earlier
// line for it is replaced. Processes sharing the folder may record at once: each rewrites the
// list under a lock, whole (see imageio.WriteFileAtomic), so no line is lost and no reader
// sees half a list.
func RecordFailed(dir, path, why string) error {
	abs := canonicalPath(path, "")
	info, err := os.Stat(abs)
	if err != nil {
		return err
	}
	entry := Failure{Path: abs, Size: info.Size(), Modified: info.ModTime(), Reason: why}
	return rewriteFailed(dir, func(list FailedList) FailedList {
		return append(without(list, abs), entry)
	})
}

// ForgetFailed takes the input at path off dir's list, after it was fixed.
func ForgetFailed(dir, path string) error {
	abs := canonicalPath(path, "")
	return rewriteFailed(dir, func(list FailedList) FailedList { return without(list, abs) })
}

func without(list FailedList, abs string) FailedList {
	var kept FailedList
	for _, f := range list {
		if f.Path != abs {
			kept = append(kept, f)
		}
	}
	return kept
}

// rewriteFailed changes dir's list under its lock; a list left empty is removed.
func rewriteFailed(dir string, change func(FailedList) FailedList) error {
	return withLock(dir, failedLock, 30*time.Second, func() error {
		path := filepath.Join(dir, FailedListName)
		list := change(ReadFailed(dir))
		if len(list) == 0 {
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			return nil
		}
		return imageio.WriteFileAtomic(path, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetEscapeHTML(false)
			for _, f := range list {
				if err := enc.Encode(f); err != nil {
					return err
				}
			}
			return nil
		})
	})
}
