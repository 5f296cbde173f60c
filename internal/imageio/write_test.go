package imageio

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// dirNames lists the entries of dir, temp files included.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// failHalfway writes some bytes and then fails, like a disk filling up.
func failHalfway(w io.Writer) error {
	if _, err := w.Write(bytes.Repeat([]byte("x"), 3<<20)); err != nil {
		return err
	}
	return errors.New("disk on fire")
}

func TestWriteFileAtomicSuccess(t *testing.T) {
	dir := tempDir(t)
	path := filepath.Join(dir, "out.png")
	err := WriteFileAtomic(path, func(w io.Writer) error {
		_, err := io.WriteString(w, "complete")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "complete" {
		t.Errorf("content %q, want %q", got, "complete")
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"out.png"}) {
		t.Errorf("directory holds %v, want only out.png", names)
	}
	if info, err := os.Stat(path); err == nil && info.Mode().Perm()&0o044 == 0 {
		t.Errorf("mode %v: result should be readable by others (umask permitting)", info.Mode())
	}
}

func TestWriteFileAtomicFailureLeavesNothing(t *testing.T) {
	dir := tempDir(t)
	path := filepath.Join(dir, "out.png")
	err := WriteFileAtomic(path, failHalfway)
	if err == nil || err.Error() != "cannot write "+path+": disk on fire" {
		t.Fatalf("error %v, want the write func's error naming the path", err)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("directory holds %v, want nothing", names)
	}
}

func TestWriteFileAtomicFailureKeepsExistingFile(t *testing.T) {
	dir := tempDir(t)
	path := writeFile(t, dir, "out.png", []byte("old content"))
	if err := WriteFileAtomic(path, failHalfway); err == nil {
		t.Fatal("WriteFileAtomic succeeded, want an error")
	}
	if got, _ := os.ReadFile(path); string(got) != "old content" {
		t.Errorf("existing file now holds %d bytes, want it unchanged", len(got))
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"out.png"}) {
		t.Errorf("directory holds %v, want only out.png", names)
	}
}

func TestWriteFileAtomicPanicLeavesNothing(t *testing.T) {
	dir := tempDir(t)
	func() {
		defer func() { recover() }()
		WriteFileAtomic(filepath.Join(dir, "out.png"), func(w io.Writer) error {
			io.WriteString(w, "partial")
			panic("bug in encoder")
		})
	}()
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("directory holds %v, want nothing", names)
	}
}

func TestWriteFileAtomicMissingDirectory(t *testing.T) {
	path := filepath.Join(tempDir(t), "no-such-dir", "out.png")
	err := WriteFileAtomic(path, func(io.Writer) error { return nil })
	assertOSError(t, err, "cannot write "+path+": ", "no such file or directory", os.ErrNotExist)
}

// assertOSError checks a message dream writes around an OS error: dream's part exactly,
// and errors.Is. The system's reason is checked word for word where it is fixed (Unix);
// Windows words it differently from version to version, and Wine in its own way, so there
// only its presence is checked, and that dream dropped its full stop.
func assertOSError(t *testing.T, err error, prefix, unixReason string, target error) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %q", prefix+unixReason)
	}
	msg := err.Error()
	if runtime.GOOS == "windows" {
		if reason, ok := strings.CutPrefix(msg, prefix); !ok || reason == "" || strings.HasSuffix(reason, ".") {
			t.Errorf("error %q, want %q and the system's reason, without a full stop", msg, prefix)
		}
	} else if msg != prefix+unixReason {
		t.Errorf("error %q, want %q", msg, prefix+unixReason)
	}
	if !errors.Is(err, target) {
		t.Errorf("errors.Is(err, %v) = false", target)
	}
}

func TestSavePNG(t *testing.T) {
	img := imageOf(2, 2, 4, 16,
		0, 1, 2, 3, 65535, 0, 0, 65535,
		1000, 2000, 3000, 0, 40000, 50000, 60000, 32768,
	)
	path := filepath.Join(tempDir(t), "out.png")
	if err := SavePNG(path, img); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	assertSameImage(t, got, img)
}
