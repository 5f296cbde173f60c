package imageio

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// maxNameSuffix is the last numbered alternative FixedName tries.
const maxNameSuffix = 99

// FixedName returns the path for the result of fixing srcPath:
// outdir/NAME.fixed.png, where NAME is the source file name without a
// .png, .jpg, .jpeg or .webp extension (any case; other extensions are
// kept). If that file exists it tries NAME.fixed-01.png up to
// NAME.fixed-99.png, and fails when all exist.
//
// A name is free when chosen; nothing holds it until the result is saved.
// That is safe because the shell runs one job at a time.
func FixedName(outdir, srcPath string) (string, error) {
	name := sourceStem(srcPath)
	if name == "" {
		return "", fmt.Errorf("no file name in %q", srcPath)
	}
	for n := 0; n <= maxNameSuffix; n++ {
		candidate := filepath.Join(outdir, fixedFileName(name, n))
		free, err := isFree(candidate)
		if err != nil {
			return "", err
		}
		if free {
			return candidate, nil
		}
	}
	return "", fmt.Errorf("no free output name in %s: %s through %s all exist",
		outdir, fixedFileName(name, 0), fixedFileName(name, maxNameSuffix))
}

// sourceStem is the file name of srcPath without its image extension.
func sourceStem(srcPath string) string {
	base := filepath.Base(srcPath)
	if base == "." || base == string(filepath.Separator) {
		return ""
	}
	ext := filepath.Ext(base)
	switch strings.ToLower(ext) {
	case ".png", ".jpg", ".jpeg", ".webp":
		if stem := strings.TrimSuffix(base, ext); stem != "" {
			return stem
		}
	}
	return base // ".png" alone is a hidden file's whole name, not an extension
}

// fixedFileName is NAME.fixed.png for n = 0, else NAME.fixed-NN.png.
func fixedFileName(name string, n int) string {
	if n == 0 {
		return name + ".fixed.png"
	}
	return fmt.Sprintf("%s.fixed-%02d.png", name, n)
}

// isFree reports whether nothing (not even a dangling symlink) is at path.
func isFree(path string) (bool, error) {
	_, err := os.Lstat(path)
	switch {
	case err == nil:
		return false, nil
	case errors.Is(err, fs.ErrNotExist):
		return true, nil
	}
	return false, fmt.Errorf("cannot check %s: %s", path, osReason(err))
}

// NextPrefix is the PREFIX of SPEC §1's PREFIX.SEED.png names: one more than the highest
// leading number of any file in outdir, six digits wide. A command computes it once, so all
// the images of one command share it. A missing directory starts at 000001.
func NextPrefix(outdir string) (string, error) {
	entries, err := os.ReadDir(outdir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("cannot list output directory %s: %v", outdir, err)
	}
	highest := 0
	for _, e := range entries {
		digits := leadingDigits(e.Name())
		if n, err := strconv.Atoi(digits); err == nil && n > highest {
			highest = n
		}
	}
	return fmt.Sprintf("%06d", highest+1), nil
}

func leadingDigits(name string) string {
	end := 0
	for end < len(name) && name[end] >= '0' && name[end] <= '9' && end < 9 {
		end++
	}
	return name[:end]
}

// GeneratedName is PREFIX.SEED.png in outdir, or PREFIX.SEED.postprocessed.png for the
// processed copy kept beside the original (--save_orig).
func GeneratedName(outdir, prefix string, seed uint32, postprocessed bool) string {
	name := fmt.Sprintf("%s.%d", prefix, seed)
	if postprocessed {
		name += ".postprocessed"
	}
	return filepath.Join(outdir, name+".png")
}
