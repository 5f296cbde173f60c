// Package batch turns work into items and says which of them this process does: a folder or
// a pattern named by !fix becomes one item per image, --shard (or a scheduler's array
// variables) picks every N-th item, and --resume recognises items whose results already
// exist by the command stored in them.
package batch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// imageExtensions are the files a folder contributes to a batch: the formats !fix reads.
var imageExtensions = []string{".png", ".jpg", ".jpeg", ".webp"}

// Expand tells whether path names many images, a folder or a pattern such as scans/*.jpg,
// and lists them in a stable order (by name). A path that is one file, or that does not
// exist and has no pattern characters, is not a batch: the caller treats it as one image
// and reports it missing if it is. A relative path is looked for in the working directory
// first, then in outdir, as single images are.
func Expand(path, outdir string) (images []string, isBatch bool, err error) {
	for _, candidate := range candidates(path, outdir) {
		info, err := os.Stat(candidate)
		if err == nil && info.IsDir() {
			images, err := folderImages(candidate)
			return images, true, err
		}
		if err == nil {
			return nil, false, nil
		}
	}
	if !isPattern(path) {
		return nil, false, nil
	}
	for _, candidate := range candidates(path, outdir) {
		images, err := matchingFiles(candidate)
		if err != nil {
			return nil, true, err
		}
		if len(images) > 0 {
			return images, true, nil
		}
	}
	return nil, true, fmt.Errorf("no files match %s (looked in the working directory and in %s)", path, outdir)
}

// candidates are the places a path may mean.
func candidates(path, outdir string) []string {
	if filepath.IsAbs(path) || outdir == "" {
		return []string{path}
	}
	return []string{path, filepath.Join(outdir, path)}
}

// isPattern reports whether path has the characters filepath.Match gives a meaning to.
func isPattern(path string) bool {
	return strings.ContainsAny(path, "*?[")
}

// folderImages lists the images directly inside dir (not in its subfolders), skipping hidden
// files such as the temporary files of a write in progress.
func folderImages(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot list %s: %v", dir, unwrapPath(err))
	}
	var images []string
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") || !hasImageExtension(e.Name()) {
			continue
		}
		images = append(images, filepath.Join(dir, e.Name()))
	}
	if len(images) == 0 {
		return nil, fmt.Errorf("%s holds no PNG, JPEG or WebP images", dir)
	}
	return images, nil
}

// matchingFiles lists the files (not folders) a pattern matches, sorted by name. Every
// matching file is taken, whatever its extension: the user chose the pattern. As in a shell,
// * does not match a leading dot, which also keeps out the temp files of writes in progress.
func matchingFiles(pattern string) ([]string, error) {
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return nil, fmt.Errorf("bad pattern %s: %v", pattern, err)
	}
	hiddenWanted := strings.HasPrefix(filepath.Base(pattern), ".")
	var files []string
	for _, m := range matches {
		if strings.HasPrefix(filepath.Base(m), ".") && !hiddenWanted {
			continue
		}
		if info, err := os.Stat(m); err == nil && !info.IsDir() {
			files = append(files, m)
		}
	}
	return files, nil
}

func hasImageExtension(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	for _, e := range imageExtensions {
		if ext == e {
			return true
		}
	}
	return false
}

// unwrapPath drops the operation and path from an *fs.PathError, which the message already names.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
