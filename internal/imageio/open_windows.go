package imageio

import (
	"io/fs"
	"os"

	"golang.org/x/sys/windows"
)

// openNoWait opens path for reading as os.Open does, and also shares it for deletion, as
// every open file is shared on Unix. os.Open leaves FILE_SHARE_DELETE out, so while anyone
// read a file, Windows refused to delete or rename it: a process reading another's claim
// file stopped that process from releasing it, and a writer's claim, still open with DELETE
// access under its new name, could not be read at all (a sharing violation). Readers never
// ask for DELETE access, so a live writer's temp file stays locked (see temp_windows.go).
func openNoWait(path string) (*os.File, error) {
	name, err := windows.UTF16PtrFromString(longPath(path))
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	// FILE_FLAG_BACKUP_SEMANTICS opens a folder too, as os.Open does, so that OpenRegular
	// can say it is one.
	h, err := windows.CreateFile(name, windows.GENERIC_READ,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE, nil,
		windows.OPEN_EXISTING, windows.FILE_ATTRIBUTE_NORMAL|windows.FILE_FLAG_BACKUP_SEMANTICS, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), nil
}
