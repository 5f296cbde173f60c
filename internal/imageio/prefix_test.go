package imageio

import (
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestReservePrefixSkipsReservedNumbers(t *testing.T) {
	dir := tempDir(t)
	writeFile(t, dir, "000003.1.png", nil)
	first, err := ReservePrefix(dir)
	if err != nil || first.Prefix != "000004" {
		t.Fatalf("ReservePrefix = %v, %v; want 000004", first, err)
	}
	second, err := ReservePrefix(dir) // another command while the first one runs
	if err != nil || second.Prefix != "000005" {
		t.Fatalf("second ReservePrefix = %v, %v; want 000005", second, err)
	}
	first.Release()
	first.Release() // twice is harmless
	if names := dirNames(t, dir); !slices.Equal(names, []string{".dream-prefix-000005", "000003.1.png"}) {
		t.Errorf("directory holds %v, want the second reservation's marker only", names)
	}
	second.Release()
	if next, _ := NextPrefix(dir); next != "000004" {
		t.Errorf("NextPrefix = %s after both released without writing; want 000004", next)
	}
	var none *Reservation
	none.Release() // a failed ReservePrefix's nil is harmless too
}

// A marker left by a killed process only costs its number.
func TestReservePrefixAfterLeftoverMarker(t *testing.T) {
	dir := tempDir(t)
	writeFile(t, dir, ".dream-prefix-000007", nil)
	r, err := ReservePrefix(dir)
	if err != nil || r.Prefix != "000008" {
		t.Fatalf("ReservePrefix = %v, %v; want 000008", r, err)
	}
	r.Release()
}

// A process that listed the folder before another one's images appeared tries a number
// already in use: the listing after its marker exists shows that, and it moves on.
func TestReservePrefixGivesUpUsedNumber(t *testing.T) {
	dir := tempDir(t)
	writeFile(t, dir, "000003.42.png", nil)
	writeFile(t, dir, "000004.42.png", nil)
	r, err := reserveFrom(dir, 3)
	if err != nil || r.Prefix != "000005" {
		t.Fatalf("reserveFrom(3) = %v, %v; want 000005", r, err)
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{".dream-prefix-000005", "000003.42.png", "000004.42.png"}) {
		t.Errorf("directory holds %v, want no marker for the numbers given up", names)
	}
	r.Release()
}

func TestReservePrefixMissingFolder(t *testing.T) {
	dir := filepath.Join(tempDir(t), "missing")
	if _, err := ReservePrefix(dir); err == nil || !strings.HasPrefix(err.Error(), "cannot reserve PREFIX 000001 in "+dir+": ") {
		t.Errorf("error %v, want one naming the PREFIX and the folder", err)
	}
}

// Commands in many processes at once, all with the same seeds: each gets its own PREFIX
// and writes its images under it; the reservations are gone afterwards.
func TestReservePrefixConcurrentCommands(t *testing.T) {
	dir := tempDir(t)
	const commands = 24
	prefixes := make([]string, commands)
	var wg sync.WaitGroup
	for i := range commands {
		wg.Go(func() {
			r, err := ReservePrefix(dir)
			if err != nil {
				t.Error(err)
				return
			}
			defer r.Release()
			prefixes[i] = r.Prefix
			for _, seed := range []uint32{42, 43} {
				name := GeneratedFileName(r.Prefix, seed, false, PNG)
				if _, err := WriteFileExclusive(dir, []string{name}, writeString(name)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	slices.Sort(prefixes)
	if distinct := slices.Compact(slices.Clone(prefixes)); len(distinct) != commands {
		t.Errorf("%d commands got %d distinct PREFIXes: %v", commands, len(distinct), prefixes)
	}
	names := dirNames(t, dir)
	if len(names) != 2*commands {
		t.Errorf("directory holds %d files, want %d: %v", len(names), 2*commands, names)
	}
	for _, name := range names {
		if strings.HasPrefix(name, ".") {
			t.Errorf("left behind: %s", name)
		}
	}
}
