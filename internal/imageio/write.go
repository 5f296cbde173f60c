package imageio

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
)

// savedFileMode is the permission of files WriteFileAtomic creates (before
// umask); os.CreateTemp's 0600 would hide results from other users.
const savedFileMode = 0o644

// WriteFileAtomic writes a file through write, so that path either keeps
// its old content (or stays absent) or holds the complete new content.
// The data goes to a hidden temp file in the same directory, is synced to
// disk, and only then renamed over path. On any error, or a panic in
// write, the temp file is removed and path is untouched.
func WriteFileAtomic(path string, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return writeError(path, err)
	}
	renamed := false
	defer func() {
		if !renamed {
			tmp.Close() // may already be closed; the error does not matter then
			os.Remove(tmp.Name())
		}
	}()
	if err := fillAndClose(tmp, write); err != nil {
		return writeError(path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return writeError(path, err)
	}
	renamed = true
	syncDir(dir)
	return nil
}

// fillAndClose runs write into tmp and makes the bytes durable, so that
// the rename can never expose an empty or partial file after a crash.
func fillAndClose(tmp *os.File, write func(io.Writer) error) error {
	buffered := bufio.NewWriterSize(tmp, 1<<20)
	if err := write(buffered); err != nil {
		return err
	}
	if err := buffered.Flush(); err != nil {
		return err
	}
	if err := tmp.Chmod(savedFileMode); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	return tmp.Close()
}

// syncDir makes the rename itself durable. It is best effort: the file is
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
