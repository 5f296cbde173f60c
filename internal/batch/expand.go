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
	"slices"
	"strings"

	"dream/internal/imageio"
)

// imageExtensions are the files a folder contributes to a batch: the formats !fix reads.
var imageExtensions = []string{".png", ".jpg", ".jpeg", ".webp"}

// Listing is what a folder or a pattern gives a batch.
type Listing struct {
	// Files are the batch's items in name order: each is an image to fix, or a file that is
	// skipped with a reason (a named pipe cannot be read without waiting forever).
	Files []File
	// LeftOut counts dream's own results of fixing the folder's images (see isOwnResult),
	// which are no items: a folder that is also the output folder must list the same items
	// before a shard writes there and after, and its results are not fixed again.
	LeftOut int
}

// File is one item of a listing.
type File struct {
	Path string
	// Sub is the folder the file is in, relative to the folder a pattern starts from (the part
	// before its first pattern character), "" when that is the file's own: a/x.jpg and b/x.jpg
	// of 'album/**/*.jpg' have Sub a and b, and their results go to the subfolders a and b of
	// the output folder, so that neither takes the other's name.
	Sub string
	// Skip says why the file is not read, such as "a named pipe (FIFO), not a regular file";
	// "" for an image to fix.
	Skip string
}

// Expand tells whether path names many images, a folder or a pattern such as scans/*.jpg,
// and lists them in a stable order (by name). A path that is one file, or that does not
// exist and has no pattern characters, is not a batch: the caller treats it as one image
// and reports it missing if it is; a named pipe or a device is refused here, before anything
// opens it. A relative path is looked for in the working directory first, then in outdir, as
// single images are.
func Expand(path, outdir string) (list Listing, isBatch bool, err error) {
	for _, candidate := range candidates(path, outdir) {
		info, err := os.Stat(candidate)
		if err == nil && info.IsDir() {
			list, err := folderImages(candidate)
			return list, true, err
		}
		if err == nil && !info.Mode().IsRegular() {
			return Listing{}, false, fmt.Errorf("%s is %s: give an image file", candidate, imageio.NotRegularReason(info.Mode()))
		}
		if err == nil {
			return Listing{}, false, nil
		}
	}
	if !isPattern(path) {
		return Listing{}, false, nil
	}
	for _, candidate := range candidates(path, outdir) {
		list, err := matchingFiles(candidate, outdir)
		if err != nil {
			return Listing{}, true, err
		}
		if len(list.Files) > 0 {
			return list, true, nil
		}
		if list.LeftOut > 0 {
			return list, true, fmt.Errorf("%s matches only dream's results of fixing images beside them (%d): they are not fixed again", path, list.LeftOut)
		}
	}
	return Listing{}, true, fmt.Errorf("no files match %s (looked in the working directory and in %s)", path, outdir)
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

// recursive is the pattern component that matches any number of folders, none included.
const recursive = "**"

// splitPattern splits a pattern into the folder it starts from, the components before the
// first one with a pattern character, and the components from there on.
func splitPattern(pattern string) (root string, rest []string) {
	parts := strings.Split(filepath.ToSlash(pattern), "/")
	i := slices.IndexFunc(parts, isPattern)
	if i < 0 {
		i = len(parts)
	}
	root = strings.Join(parts[:i], "/")
	switch {
	case root == "" && i > 0:
		root = "/" // the pattern is absolute
	case root == "":
		root = "."
	case strings.HasSuffix(root, ":"):
		root += "/" // a Windows drive: C:/*.png starts at its top, not its working directory
	}
	return filepath.Clean(filepath.FromSlash(root)), parts[i:]
}

// folderImages lists the images directly inside dir (not in its subfolders), skipping hidden
// files such as the temporary files of a write in progress, and leaving out dream's results.
func folderImages(dir string) (Listing, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return Listing{}, fmt.Errorf("cannot list %s: %v", dir, unwrapPath(err))
	}
	folder := newNeighbours(dir, entries)
	var list Listing
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") || !hasImageExtension(e.Name()) {
			continue
		}
		list.add(filepath.Join(dir, e.Name()), "", folder)
	}
	if len(list.Files) == 0 {
		if list.LeftOut > 0 {
			return list, fmt.Errorf("%s holds only dream's results of fixing its images (%d): they are not fixed again", dir, list.LeftOut)
		}
		return list, fmt.Errorf("%s holds no PNG, JPEG or WebP images", dir)
	}
	return list, nil
}

// matchingFiles lists the files (not folders) a pattern matches, sorted by name. Every
// matching file is taken, whatever its extension: the user chose the pattern. As in a shell,
// * does not match a leading dot, which also keeps out the temp files of writes in progress.
// A component ** matches any number of folders (hidden ones excepted, and links to folders
// not followed); a pattern that ends in ** takes the images of those folders, as a folder
// does. Matches in subfolders of the folder the pattern starts from keep that subfolder
// (File.Sub).
func matchingFiles(pattern, outdir string) (Listing, error) {
	root, rest := splitPattern(pattern)
	var matches []string
	var err error
	if slices.Contains(rest, recursive) {
		matches = walkMatches(root, rest)
	} else if matches, err = filepath.Glob(pattern); err != nil {
		return Listing{}, fmt.Errorf("bad pattern %s: %v", pattern, err)
	}
	imagesOnly := len(rest) > 0 && rest[len(rest)-1] == recursive
	hiddenWanted := len(rest) > 0 && strings.HasPrefix(rest[len(rest)-1], ".")
	results := newMirror(root, outdir)
	folders := map[string]*neighbours{}
	var list Listing
	for _, m := range matches {
		if strings.HasPrefix(filepath.Base(m), ".") && !hiddenWanted || imagesOnly && !hasImageExtension(m) {
			continue
		}
		dir := filepath.Dir(m)
		if folders[dir] == nil {
			folders[dir] = results.neighbours(dir)
		}
		list.add(m, subfolder(root, dir), folders[dir])
	}
	return list, nil
}

// walkMatches lists the files under root whose path from root matches the components of a
// pattern with **, in name order.
func walkMatches(root string, pattern []string) []string {
	var matches []string
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil || path == root:
			return nil // a folder that cannot be read has nothing to give
		case d.IsDir() && strings.HasPrefix(d.Name(), "."):
			return fs.SkipDir
		case d.IsDir():
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err == nil && matchComponents(pattern, strings.Split(filepath.ToSlash(rel), "/")) {
			matches = append(matches, path)
		}
		return nil
	})
	return matches
}

// matchComponents matches a path's components against a pattern's, where ** stands for any
// number of components, none included.
func matchComponents(pattern, parts []string) bool {
	if len(pattern) == 0 {
		return len(parts) == 0
	}
	if pattern[0] == recursive {
		for i := 0; i <= len(parts); i++ {
			if matchComponents(pattern[1:], parts[i:]) {
				return true
			}
		}
		return false
	}
	if len(parts) == 0 {
		return false
	}
	ok, _ := filepath.Match(pattern[0], parts[0])
	return ok && matchComponents(pattern[1:], parts[1:])
}

// subfolder is dir relative to root, or "" when it is root or not inside it.
func subfolder(root, dir string) string {
	rel, err := filepath.Rel(root, dir)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return ""
	}
	return rel
}

// add takes one name of a listing: a regular file becomes an item unless it is dream's
// result of fixing a file beside it; a folder is passed over; anything else (a named pipe, a
// socket, a device) becomes an item that is skipped, with the reason.
func (list *Listing) add(path, sub string, folder *neighbours) {
	info, err := os.Stat(path) // follows a link; never opens, so a named pipe cannot block
	switch {
	case err != nil:
		list.Files = append(list.Files, File{Path: path, Sub: sub}) // fails when read, saying why
	case info.IsDir():
	case !info.Mode().IsRegular():
		list.Files = append(list.Files, File{Path: path, Sub: sub, Skip: imageio.NotRegularReason(info.Mode())})
	case folder.isOwnResult(filepath.Base(path)):
		list.LeftOut++
	default:
		list.Files = append(list.Files, File{Path: path, Sub: sub})
	}
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
