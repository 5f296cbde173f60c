package imageio

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestRemoveStaleTempsKeepsLiveWritersTemps(t *testing.T) {
	dir := tempDir(t)
	live, err := createTemp(dir, "out.png")
	if err != nil {
		t.Fatal(err)
	}
	defer live.discard()
	// The lock is held through live's own descriptor; RemoveStaleTemps opens another.
	if removed, err := RemoveStaleTemps(dir); removed != 0 || err != nil {
		t.Errorf("RemoveStaleTemps = %d, %v with a live writer; want 0, nil", removed, err)
	}
	if _, err := os.Lstat(live.path); err != nil {
		t.Fatalf("a live writer's temp file was removed: %v", err)
	}
	live.f.Close() // the writer is gone, its temp file still there
	if removed, err := RemoveStaleTemps(dir); removed != 1 || err != nil {
		t.Errorf("RemoveStaleTemps = %d, %v after the writer closed; want 1, nil", removed, err)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("directory holds %v, want nothing", names)
	}
}

func TestRemoveStaleTempsLeavesOtherFiles(t *testing.T) {
	dir := tempDir(t)
	others := []string{".a.tmp-", ".dream-prefix-000001", ".hidden", ".x.tmp-12a", "000001.42.png", "a.tmp-123"}
	for _, name := range others {
		writeFile(t, dir, name, nil)
	}
	if err := os.Mkdir(filepath.Join(dir, ".d.tmp-1"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, ".000001.42.png.tmp-3395811411", []byte("left by a killed writer"))
	if removed, err := RemoveStaleTemps(dir); removed != 1 || err != nil {
		t.Errorf("RemoveStaleTemps = %d, %v; want 1, nil", removed, err)
	}
	want := append([]string{".d.tmp-1"}, others...)
	slices.Sort(want)
	if got := dirNames(t, dir); !slices.Equal(got, want) {
		t.Errorf("directory holds %v, want %v", got, want)
	}
}

func TestRemoveStaleTempsMissingDirectory(t *testing.T) {
	if removed, err := RemoveStaleTemps(filepath.Join(tempDir(t), "missing")); removed != 0 || err != nil {
		t.Errorf("RemoveStaleTemps = %d, %v; want 0, nil", removed, err)
	}
}

// A writer in another process keeps its temp file while it runs; killed (SIGKILL, or
// TerminateProcess on Windows), it cannot clean up, and RemoveStaleTemps removes what it left.
func TestRemoveStaleTempsAfterWriterKilled(t *testing.T) {
	dir := tempDir(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperStuckWriter$")
	cmd.Env = append(os.Environ(), "DREAM_TEST_STUCK_WRITER="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if line, err := bufio.NewReader(stdout).ReadString('\n'); line != "writing\n" {
		t.Fatalf("the writer process said %q, %v", line, err)
	}
	if removed, err := RemoveStaleTemps(dir); removed != 0 || err != nil {
		t.Errorf("RemoveStaleTemps = %d, %v while the writer runs; want 0, nil", removed, err)
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Fatalf("directory holds %v, want the writer's temp file", names)
	}
	cmd.Process.Kill() // SIGKILL or TerminateProcess: no deferred cleanup runs
	cmd.Wait()
	if removed, err := RemoveStaleTemps(dir); removed != 1 || err != nil {
		t.Errorf("RemoveStaleTemps = %d, %v after the kill; want 1, nil", removed, err)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("directory holds %v, want nothing", names)
	}
}

// TestHelperStuckWriter is the writer process of TestRemoveStaleTempsAfterWriterKilled: it
// starts writing and never finishes. (It sleeps rather than blocking forever, which the
// runtime would end as a deadlock.)
func TestHelperStuckWriter(t *testing.T) {
	dir := os.Getenv("DREAM_TEST_STUCK_WRITER")
	if dir == "" {
		t.Skip("runs only as TestRemoveStaleTempsAfterWriterKilled's writer process")
	}
	WriteFileExclusive(dir, []string{"out.png"}, func(w io.Writer) error {
		io.WriteString(w, "partial")
		os.Stdout.WriteString("writing\n")
		time.Sleep(time.Hour) // until killed
		return nil
	})
}
