package imageio

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/windows"
)

// A live writer's temp file is locked by its open handle, not by its age: neither another
// program nor RemoveStaleTemps can delete it, even when it looks an hour old. Once the
// writer is gone, RemoveStaleTemps removes it.
func TestTempFileLockedWhileWriterLives(t *testing.T) {
	dir := tempDir(t)
	live, err := createTemp(dir, "out.png")
	if err != nil {
		t.Fatal(err)
	}
	defer live.discard()
	hourAgo := time.Now().Add(-time.Hour)
	if err := os.Chtimes(live.path, hourAgo, hourAgo); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(live.path); !errors.Is(err, windows.ERROR_SHARING_VIOLATION) {
		t.Errorf("removing a live writer's temp file: %v, want a sharing violation", err)
	}
	if removed, err := RemoveStaleTemps(dir); removed != 0 || err != nil {
		t.Errorf("RemoveStaleTemps = %d, %v with a live writer; want 0, nil", removed, err)
	}
	live.f.Close() // the writer is gone, its temp file still there
	if removed, err := RemoveStaleTemps(dir); removed != 1 || err != nil {
		t.Errorf("RemoveStaleTemps = %d, %v after the writer closed; want 1, nil", removed, err)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("directory holds %v, want nothing", names)
	}
}

// Renaming without replacing refuses a taken name with fs.ErrExist and leaves both files
// as they were; a free name it takes.
func TestRenameNoReplaceRefusesTakenName(t *testing.T) {
	dir := tempDir(t)
	taken := writeFile(t, dir, "taken.png", []byte("another process's image"))
	tmp, err := createTemp(dir, "taken.png")
	if err != nil {
		t.Fatal(err)
	}
	defer tmp.discard()
	if err := tmp.fill(writeString("mine")); err != nil {
		t.Fatal(err)
	}
	if err := tmp.renameNoReplace(taken); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("renaming onto a taken name: %v, want fs.ErrExist", err)
	}
	if got, _ := os.ReadFile(taken); string(got) != "another process's image" {
		t.Errorf("the taken name now holds %q", got)
	}
	free := filepath.Join(dir, "free.png")
	if err := tmp.renameNoReplace(free); err != nil {
		t.Fatalf("renaming to a free name: %v", err)
	}
	tmp.gone = true
	tmp.discard()
	if got, _ := os.ReadFile(free); string(got) != "mine" {
		t.Errorf("free.png holds %q, want %q", got, "mine")
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"free.png", "taken.png"}) {
		t.Errorf("directory holds %v, want free.png and taken.png only", names)
	}
}

// Both writes leave only the result, and no handle on it: another program can read, replace
// or delete it at once.
func TestWritesLeaveNoTempAndNoHandle(t *testing.T) {
	dir := tempDir(t)
	atomic := filepath.Join(dir, "model.onnx")
	if err := WriteFileAtomic(atomic, writeString("old")); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(atomic, writeString("new")); err != nil {
		t.Fatalf("replacing a result: %v", err)
	}
	exclusive, err := WriteFileExclusive(dir, []string{"model.onnx", "out.png"}, writeString("result"))
	if err != nil {
		t.Fatal(err)
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"model.onnx", "out.png"}) {
		t.Errorf("directory holds %v, want the two results only", names)
	}
	for path, want := range map[string]string{atomic: "new", exclusive: "result"} {
		if got, err := os.ReadFile(path); string(got) != want {
			t.Errorf("%s holds %q (%v), want %q", path, got, err, want)
		}
		if err := os.Remove(path); err != nil {
			t.Errorf("the result is still held: %v", err)
		}
	}
}

// Paths past MAX_PATH (260) work as they do through os.
func TestWritesReachLongPaths(t *testing.T) {
	dir := filepath.Join(tempDir(t), strings.Repeat("d", 100), strings.Repeat("e", 100), strings.Repeat("f", 100))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(filepath.Join(dir, "a.png"), writeString("a")); err != nil {
		t.Error(err)
	}
	if _, err := WriteFileExclusive(dir, []string{"a.png", "b.png"}, writeString("b")); err != nil {
		t.Error(err)
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"a.png", "b.png"}) {
		t.Errorf("directory holds %v, want a.png and b.png", names)
	}
}
