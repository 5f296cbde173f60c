package imageio

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/windows"
)

// On Windows the lock is the writer's own handle on its temp file. It is opened with
// DELETE access but without FILE_SHARE_DELETE, so while it is open nobody else can open
// the file to delete or rename it: Windows answers a sharing violation, which is how
// RemoveStaleTemps recognises a live writer. The writer renames and removes the file
// through that same handle, so the lock lasts from the file's creation until its temp
// name is gone, as the flock does elsewhere.
//
// Renaming by name instead (os.Rename, MoveFileEx) would need the file closed first, since
// Go opens files without FILE_SHARE_DELETE and Windows refuses to rename or delete a file
// open that way. A closed temp file has no lock, so another process's RemoveStaleTemps
// could delete a complete result in the moment before its rename; guessing by the file's
// age would only make that moment rarer. Through the handle there is no such moment.

// claimsByLink: renaming without replacing is exclusive on every Windows filesystem, FAT
// and exFAT included, which have no hard links (and answer a link with errors that say
// nothing of it), so a name is claimed by renaming.
const claimsByLink = false

// maxTempTries bounds the search for an unused temp name; each failed try means a file of
// that random name exists, so only a folder full of temp files runs out.
const maxTempTries = 10000

// tryCreateTemp creates and locks a temp file in one step, so it never comes back empty.
func tryCreateTemp(dir, base string) (*tempFile, error) {
	for range maxTempTries {
		digits := strconv.FormatUint(uint64(rand.Uint32()), 10)
		path := filepath.Join(dir, strings.Replace(tempPattern(base), "*", digits, 1))
		f, err := createLocked(path)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return &tempFile{f: f, path: path}, nil
	}
	return nil, &fs.PathError{Op: "createtemp", Path: filepath.Join(dir, tempPattern(base)), Err: fs.ErrExist}
}

// createLocked creates the new file path, open with the DELETE access that renames and
// removes it, and shared for reading and writing only, as os.OpenFile shares: without
// FILE_SHARE_DELETE, which is the lock.
func createLocked(path string) (*os.File, error) {
	name, err := windows.UTF16PtrFromString(longPath(path))
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	h, err := windows.CreateFile(name, windows.GENERIC_READ|windows.GENERIC_WRITE|windows.DELETE,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, nil, windows.CREATE_NEW,
		windows.FILE_ATTRIBUTE_NORMAL|windows.FILE_FLAG_OPEN_REPARSE_POINT, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), nil
}

// replace renames the temp file over path, whatever file path holds.
func (t *tempFile) replace(path string) error { return t.rename(path, true) }

// renameNoReplace renames the temp file to path unless something has that name; Windows
// then answers ERROR_ALREADY_EXISTS, which errors.Is counts as fs.ErrExist.
func (t *tempFile) renameNoReplace(path string) error { return t.rename(path, false) }

// renameInfo is FILE_RENAME_INFO: ReplaceIfExists (in a union with a flags word), the
// directory a relative name is in, the name's length in bytes, and the name.
type renameInfo struct {
	replaceIfExists uint32
	rootDirectory   windows.Handle
	fileNameLength  uint32
	fileName        [1]uint16
}

// rename gives the open temp file the name path in one step, through its own handle.
func (t *tempFile) rename(path string, replace bool) error {
	name, err := windows.UTF16FromString(longPath(path))
	if err != nil {
		return &os.LinkError{Op: "rename", Old: t.path, New: path, Err: err}
	}
	size := unsafe.Offsetof(renameInfo{}.fileName) + uintptr(len(name))*2
	// A slice of renameInfo keeps the buffer aligned as the struct needs; the name runs
	// on past fileName, which the system reads up to fileNameLength (and the final NUL).
	buf := make([]renameInfo, (size+unsafe.Sizeof(renameInfo{})-1)/unsafe.Sizeof(renameInfo{}))
	info := &buf[0]
	if replace {
		info.replaceIfExists = 1
	}
	info.fileNameLength = uint32(len(name)-1) * 2
	copy(unsafe.Slice(&info.fileName[0], len(name)), name)
	err = windows.SetFileInformationByHandle(windows.Handle(t.f.Fd()), windows.FileRenameInfo,
		(*byte)(unsafe.Pointer(info)), uint32(size))
	if err != nil {
		return &os.LinkError{Op: "rename", Old: t.path, New: path, Err: err}
	}
	return nil
}

// removeName marks the temp file for deletion through its handle: the name goes when
// discard closes the file, right after. A failure leaves a temp file without a writer,
// which RemoveStaleTemps removes later.
func (t *tempFile) removeName() {
	deleteFile := byte(1) // FILE_DISPOSITION_INFO: a single BOOLEAN
	windows.SetFileInformationByHandle(windows.Handle(t.f.Fd()), windows.FileDispositionInfo, &deleteFile, 1)
}

// removeIfStale removes the temp file at path unless a live writer holds it open, in which
// case Windows refuses with a sharing violation. Nothing is opened first: this process's
// own handle would be just such an obstacle.
func removeIfStale(path string) (bool, error) {
	err := os.Remove(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, windows.ERROR_SHARING_VIOLATION):
		return false, nil // a live writer's
	case errors.Is(err, fs.ErrNotExist):
		return false, nil // its writer finished in the meantime
	}
	return false, err
}

// longPath lets CreateFile and a rename reach paths longer than MAX_PATH, as os does for
// its own calls: the \\?\ form lifts the limit but skips all cleaning of the path, so it
// must be absolute and clean, which filepath.Abs makes it.
func longPath(path string) string {
	const short = 248 // MAX_PATH less room for an 8.3 name, where Windows starts refusing
	if len(path) < short || strings.HasPrefix(path, `\\?\`) {
		return path
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	if share, ok := strings.CutPrefix(abs, `\\`); ok {
		return `\\?\UNC\` + share
	}
	return `\\?\` + abs
}
