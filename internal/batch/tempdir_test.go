package batch

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// tempDir is t.TempDir, emptied before the testing package removes it. Under Wine 8 that
// removal fails for every folder that holds anything: os.RemoveAll deletes through a file
// information class (FileDispositionInformationEx) that Wine 8 lacks, and Wine's answer
// ("Invalid function") is not one that Go falls back on. os.Remove takes another way,
// which works. Windows itself does not need this, and elsewhere it is skipped.
func tempDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if runtime.GOOS == "windows" {
		t.Cleanup(func() { removeTree(dir) }) // runs before t.TempDir's own cleanup
	}
	return dir
}

// removeTree removes dir and all it holds, one os.Remove at a time; whatever cannot be
// removed (a file a test left open) stays for t.TempDir's cleanup to report.
func removeTree(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		if e.IsDir() {
			removeTree(path)
		} else {
			os.Remove(path)
		}
	}
	os.Remove(dir)
}
