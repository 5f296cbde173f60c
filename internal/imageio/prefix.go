package imageio

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// prefixMarker starts the name of the hidden, empty file that reserves a PREFIX while its
// command runs: .dream-prefix-000044.
const prefixMarker = ".dream-prefix-"

// maxReserveTries bounds ReservePrefix's search; each try means another command took the
// number first, so running out takes a crowd of processes, not bad luck.
const maxReserveTries = 100

// Reservation is a PREFIX that only this command uses, held until Release.
type Reservation struct {
	Prefix string // six digits or more: 000044
	marker string
}

// ReservePrefix reserves the PREFIX for one command's PREFIX.SEED.png images (SPEC §1):
// the next one NextPrefix gives, unless another process gets there first. Two commands
// writing into one folder at once never share a PREFIX, so they never share a file name
// either, even with the same seeds.
//
// The reservation is a hidden marker file created with O_EXCL, which only one process
// can do. A process that listed the folder before the marker existed, wrote its images
// and released its own marker could still have used the number, so the folder is listed
// again once the marker exists, and a used number is given up for the next free one.
// Release removes the marker; one left by a killed process only skips a number.
func ReservePrefix(outdir string) (*Reservation, error) {
	n, err := nextPrefix(outdir)
	if err != nil {
		return nil, err
	}
	return reserveFrom(outdir, n)
}

// reserveFrom reserves the first free PREFIX from n on.
func reserveFrom(outdir string, n int) (*Reservation, error) {
	for range maxReserveTries {
		r, err := createMarker(outdir, n)
		if err != nil {
			return nil, err
		}
		if r == nil {
			n++ // reserved by another command
			continue
		}
		use, err := scanPrefixes(outdir)
		if err != nil {
			r.Release()
			return nil, err
		}
		if !use.files[n] {
			return r, nil
		}
		r.Release()
		n = use.highest + 1
	}
	return nil, fmt.Errorf("cannot reserve a PREFIX in %s: other processes took %d numbers in a row; "+
		"try again", outdir, maxReserveTries)
}

// createMarker creates the marker of PREFIX n, or returns nil when it exists.
func createMarker(outdir string, n int) (*Reservation, error) {
	prefix := formatPrefix(n)
	marker := filepath.Join(outdir, prefixMarker+prefix)
	f, err := os.OpenFile(marker, os.O_WRONLY|os.O_CREATE|os.O_EXCL, savedFileMode)
	if errors.Is(err, fs.ErrExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot reserve PREFIX %s in %s: %s", prefix, outdir, osReason(err))
	}
	f.Close()
	return &Reservation{Prefix: prefix, marker: marker}, nil
}

// Release gives the PREFIX up: call it once the command's images are written, or it
// failed. The images themselves keep the number taken from then on.
func (r *Reservation) Release() {
	if r != nil {
		os.Remove(r.marker) // at worst a number is skipped
	}
}

// prefixUse is what one listing of an output folder says about PREFIXes.
type prefixUse struct {
	highest int          // the highest number of any file or marker
	files   map[int]bool // the numbers that files (not markers) start with
}

// scanPrefixes lists outdir; a missing directory has no PREFIXes yet.
func scanPrefixes(outdir string) (prefixUse, error) {
	use := prefixUse{files: map[int]bool{}}
	entries, err := os.ReadDir(outdir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return use, fmt.Errorf("cannot list output directory %s: %s", outdir, osReason(err))
	}
	for _, e := range entries {
		marked, isMarker := strings.CutPrefix(e.Name(), prefixMarker)
		n, ok := leadingNumber(marked)
		if !ok {
			continue
		}
		use.highest = max(use.highest, n)
		if !isMarker {
			use.files[n] = true
		}
	}
	return use, nil
}
