package imageio

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// maxNameSuffix is the last numbered alternative FixedNames gives.
const maxNameSuffix = 99

// FixedNames are the names, in order of preference, for the result of fixing srcPath when
// it is written as format: NAME.fixed.png (.jpg, .webp), where NAME is the source file name
// without a .png, .jpg, .jpeg or .webp extension (any case; other extensions are kept),
// then NAME.fixed-01.png up to NAME.fixed-99.png. WriteFileExclusive takes the first one
// that is free when the result is complete, so a fix running in another process at the
// same time gets another one.
func FixedNames(srcPath string, format Format) ([]string, error) {
	name := SourceStem(srcPath)
	if name == "" {
		return nil, fmt.Errorf("no file name in %q", srcPath)
	}
	return NumberedNames(name+".fixed", format.Extension()), nil
}

// NumberedNames are STEM.EXT, then STEM-01.EXT up to STEM-99.EXT: the names a new file may
// take, in order of preference, for WriteFileExclusive.
func NumberedNames(stem, ext string) []string {
	names := make([]string, 0, maxNameSuffix+1)
	names = append(names, stem+ext)
	for n := 1; n <= maxNameSuffix; n++ {
		names = append(names, fmt.Sprintf("%s-%02d%s", stem, n, ext))
	}
	return names
}

// SourceStem is the file name of srcPath without its image extension: the NAME its results
// are named after (see FixedNames).
func SourceStem(srcPath string) string {
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

// FixedStem is the source stem a result's file name was made from, the NAME of FixedNames'
// NAME.fixed.png (.jpg, .webp) or NAME.fixed-01.png up to NAME.fixed-99.png; ok is false
// when name is no name FixedNames gives.
func FixedStem(name string) (stem string, ok bool) {
	ext := filepath.Ext(name)
	if ext != PNG.Extension() && ext != JPEG.Extension() && ext != WebP.Extension() {
		return "", false
	}
	stem = strings.TrimSuffix(name, ext)
	if n := len(stem) - len("-01"); n >= 0 && stem[n] == '-' && isNameSuffix(stem[n+1:]) {
		stem = stem[:n]
	}
	stem, found := strings.CutSuffix(stem, ".fixed")
	if !found || stem == "" {
		return "", false
	}
	return stem, true
}

// isNameSuffix reports whether digits is the number of one of NumberedNames' alternatives:
// two digits, 01 to 99 (maxNameSuffix).
func isNameSuffix(digits string) bool {
	return len(digits) == 2 && leadingDigits(digits) == digits && digits != "00"
}

// NextPrefix is the PREFIX of SPEC §1's PREFIX.SEED.png names: one more than the highest
// leading number of any file in outdir, six digits wide, counting the PREFIXes other
// commands have reserved but not yet used (see ReservePrefix). A missing directory starts
// at 000001.
func NextPrefix(outdir string) (string, error) {
	n, err := nextPrefix(outdir)
	if err != nil {
		return "", err
	}
	return formatPrefix(n), nil
}

// nextPrefix is NextPrefix as a number.
func nextPrefix(outdir string) (int, error) {
	use, err := scanPrefixes(outdir)
	return use.highest + 1, err
}

// formatPrefix writes a PREFIX six digits wide; larger numbers keep all their digits.
func formatPrefix(n int) string { return fmt.Sprintf("%06d", n) }

// leadingNumber is the number a file name starts with, if it starts with one.
func leadingNumber(name string) (int, bool) {
	n, err := strconv.Atoi(leadingDigits(name))
	return n, err == nil
}

// leadingDigits are at most nine, so the number always fits an int.
func leadingDigits(name string) string {
	end := 0
	for end < len(name) && name[end] >= '0' && name[end] <= '9' && end < 9 {
		end++
	}
	return name[:end]
}

// GeneratedFileName is PREFIX.SEED.png (.jpg, .webp, as format says), or
// PREFIX.SEED.postprocessed.png for the processed copy kept beside the original
// (--save_orig).
func GeneratedFileName(prefix string, seed uint32, postprocessed bool, format Format) string {
	name := fmt.Sprintf("%s.%d", prefix, seed)
	if postprocessed {
		name += ".postprocessed"
	}
	return name + format.Extension()
}
