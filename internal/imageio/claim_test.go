package imageio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
)

// writeString is a write func that writes s.
func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

func TestWriteFileExclusiveTakesFirstFreeName(t *testing.T) {
	dir := tempDir(t)
	writeFile(t, dir, "a.png", []byte("first"))
	holder := holdName(t, filepath.Join(dir, "b.png"))
	path, err := WriteFileExclusive(dir, []string{"a.png", "b.png", "c.png", "d.png"}, writeString("new"))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "c.png"); path != want {
		t.Errorf("path %s, want %s: a file and a %s both hold a name", path, want, holder)
	}
	if got, _ := os.ReadFile(path); string(got) != "new" {
		t.Errorf("content %q, want %q", got, "new")
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "a.png")); string(got) != "first" {
		t.Errorf("a.png now holds %q", got)
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"a.png", "b.png", "c.png"}) {
		t.Errorf("directory holds %v", names)
	}
	if info, err := os.Stat(path); err == nil && info.Mode().Perm()&0o044 == 0 {
		t.Errorf("mode %v: result should be readable by others (umask permitting)", info.Mode())
	}
}

// holdName puts at path something other than a regular file, which a claim must leave
// alone all the same, and says what it is. Elsewhere it is a dangling symlink; on Windows
// a symlink needs Developer Mode or an administrator (and Wine 8 lets a rename replace a
// dangling one), so there it is an empty folder.
func holdName(t *testing.T, path string) (what string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		if err := os.Mkdir(path, 0o755); err != nil {
			t.Fatal(err)
		}
		return "folder"
	}
	if err := os.Symlink("nowhere", path); err != nil {
		t.Fatal(err)
	}
	return "dangling symlink"
}

func TestWriteFileExclusiveNeverReplaces(t *testing.T) {
	dir := tempDir(t)
	existing := writeFile(t, dir, "000044.42.png", []byte("another process's image"))
	_, err := WriteFileExclusive(dir, []string{"000044.42.png"}, writeString("mine"))
	want := "cannot write " + existing + ": a file of that name already exists and is left alone; " +
		"move it away or write to another folder"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
	if !errors.Is(err, fs.ErrExist) {
		t.Error("errors.Is(err, fs.ErrExist) = false")
	}
	if got, _ := os.ReadFile(existing); string(got) != "another process's image" {
		t.Errorf("the existing file now holds %q", got)
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"000044.42.png"}) {
		t.Errorf("directory holds %v, want the existing file only", names)
	}
}

func TestWriteFileExclusiveAllNamesTaken(t *testing.T) {
	dir := tempDir(t)
	names, err := FixedNames("cat.png", PNG)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		writeFile(t, dir, name, nil)
	}
	_, err = WriteFileExclusive(dir, names, writeString("one too many"))
	want := "no free output name in " + dir + ": cat.fixed.png through cat.fixed-99.png all exist; " +
		"move some of them away or write to another folder"
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
	if n := len(dirNames(t, dir)); n != 100 {
		t.Errorf("directory holds %d files, want the 100 there were", n)
	}
}

func TestWriteFileExclusiveFailureLeavesNothing(t *testing.T) {
	dir := tempDir(t)
	_, err := WriteFileExclusive(dir, []string{"out.png", "out-01.png"}, failHalfway)
	if want := "cannot write " + filepath.Join(dir, "out.png") + ": disk on fire"; err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("directory holds %v, want nothing", names)
	}
}

func TestWriteFileExclusivePanicLeavesNothing(t *testing.T) {
	dir := tempDir(t)
	func() {
		defer func() { recover() }()
		WriteFileExclusive(dir, []string{"out.png"}, func(w io.Writer) error {
			io.WriteString(w, "partial")
			panic("bug in encoder")
		})
	}()
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("directory holds %v, want nothing", names)
	}
}

func TestWriteFileExclusiveMissingDirectory(t *testing.T) {
	dir := filepath.Join(tempDir(t), "no-such-dir")
	_, err := WriteFileExclusive(dir, []string{"out.png"}, writeString("x"))
	assertOSError(t, err, "cannot write "+filepath.Join(dir, "out.png")+": ", "no such file or directory", fs.ErrNotExist)
}

// content is what writer i writes in the concurrency tests: large enough (3 MB) that the
// writers overlap, and different for each, so a replaced or partial file shows.
func content(i int) []byte {
	return bytes.Repeat([]byte(fmt.Sprintf("writer %03d|", i)), 3<<20/11)
}

// claimConcurrently has writers goroutines write content(i) under the fix names of
// cat.png at once, and checks that each got its own name with its complete content.
func claimConcurrently(t *testing.T, writers int) {
	t.Helper()
	dir := tempDir(t)
	names, err := FixedNames("cat.png", PNG)
	if err != nil {
		t.Fatal(err)
	}
	paths := make([]string, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			path, err := WriteFileExclusive(dir, names, func(w io.Writer) error {
				_, err := w.Write(content(i))
				return err
			})
			if err != nil {
				t.Error(err)
			}
			paths[i] = path
		})
	}
	wg.Wait()
	for i, path := range paths {
		if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, content(i)) {
			t.Errorf("writer %d's %s holds %d bytes (%v), not its complete content", i, path, len(got), err)
		}
	}
	got := dirNames(t, dir)
	slices.Sort(got)
	want := slices.Clone(names[:writers])
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("directory holds %v, want %v and no temp files", got, want)
	}
}

func TestWriteFileExclusiveConcurrentWritersGetDistinctNames(t *testing.T) {
	claimConcurrently(t, 24)
}

// Where the filesystem has no hard links, the name is claimed by renaming without
// replacing, just as safely.
func TestWriteFileExclusiveWithoutHardLinks(t *testing.T) {
	linkFile = func(oldname, newname string) error {
		return &os.LinkError{Op: "link", Old: oldname, New: newname, Err: syscall.EPERM}
	}
	t.Cleanup(func() { linkFile = os.Link })
	claimConcurrently(t, 24)
}
