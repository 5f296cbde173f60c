package models

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"dream/internal/imageio"
)

// InstallLocal installs e from a folder of model files (a USB stick, a share, another
// machine's model directory), for machines without network: the file of e's name in from
// is checked against every hash the manifest knows for e (dream's reference copy and each
// download source) and copied into dir atomically. It reports false, and no error, when
// from has no such file. A file whose hash matches none is refused, since dream checks a
// model's inputs and outputs but cannot tell another network of the same shape.
func InstallLocal(e Entry, from, dir string) (bool, error) {
	if e.IsFolder() {
		return false, nil // exports are folders of many files: copy them by hand
	}
	src := filepath.Join(from, filepath.Base(e.File))
	if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	got, err := FileSHA256(src)
	if err != nil {
		return false, fmt.Errorf("cannot read %s: %v", src, err)
	}
	if known := knownHashes(e); len(known) > 0 && !containsFold(known, got) {
		return false, fmt.Errorf("%s has sha256 %s, which is none of model %s's (%s): it is another file; nothing installed",
			src, got, e.Name, strings.Join(known, ", "))
	}
	in, err := os.Open(src)
	if err != nil {
		return false, err
	}
	defer in.Close()
	final := filepath.Join(dir, e.File)
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return false, err
	}
	return true, imageio.WriteFileAtomic(final, func(w io.Writer) error {
		_, err := io.Copy(w, in)
		return err
	})
}

// knownHashes are the sha256 sums the manifest gives for e.
func knownHashes(e Entry) []string {
	var sums []string
	if e.SHA256 != "" {
		sums = append(sums, e.SHA256)
	}
	for _, s := range e.Sources {
		if s.SHA256 != "" {
			sums = append(sums, s.SHA256)
		}
	}
	return sums
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
