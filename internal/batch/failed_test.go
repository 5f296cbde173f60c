package batch

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// An input recorded as undecodable is skipped while it is unchanged, retried once it changed
// or its line is gone; the list names each input once.
func TestFailedList(t *testing.T) {
	dir := tempDir(t)
	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o755)
	bad := writeFile(t, dir, "bad.png")
	other := writeFile(t, dir, "other.jpg")
	if err := RecordFailed(out, bad, "bad.png is damaged: file is truncated"); err != nil {
		t.Fatal(err)
	}
	if err := RecordFailed(out, other, "not an image"); err != nil {
		t.Fatal(err)
	}
	if err := RecordFailed(out, filepath.Join(dir, ".", "bad.png"), "bad.png is damaged again"); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name   string
		change func()
		path   string
		want   string // the reason, "" when it is not skipped
	}{
		{"as written", nil, bad, "bad.png is damaged again"},
		{"by another spelling", nil, filepath.Join(dir, "sub", "..", "bad.png"), "bad.png is damaged again"},
		{"never failed", nil, filepath.Join(dir, "good.png"), ""},
		{"changed since", func() { os.WriteFile(bad, []byte("repaired, longer"), 0o644) }, bad, ""},
		{"other, unchanged", nil, other, "not an image"},
		{"forgotten", func() { ForgetFailed(out, other) }, other, ""},
	}
	for _, step := range steps {
		if step.change != nil {
			step.change()
		}
		why, ok := ReadFailed(out).FailedBefore(step.path)
		if ok != (step.want != "") || why != step.want {
			t.Errorf("%s: skipped %v for %q, want %q", step.name, ok, why, step.want)
		}
	}
	data, _ := os.ReadFile(filepath.Join(out, FailedListName))
	if lines := strings.Split(strings.TrimSpace(string(data)), "\n"); len(lines) != 1 || !strings.Contains(lines[0], `"reason":"bad.png is damaged again"`) {
		t.Errorf("the list holds:\n%s", data)
	}
	ForgetFailed(out, bad)
	if names := readNames(t, out); names != "" {
		t.Errorf("an empty list leaves [%s]", names)
	}
}

// Processes and runs recording at the same moment lose none of each other's lines, and leave
// no lock or temp file.
func TestFailedListConcurrentWriters(t *testing.T) {
	const writers = 12
	dir := tempDir(t)
	var wg sync.WaitGroup
	for i := range writers {
		path := writeFile(t, dir, fmt.Sprintf("in%02d.png", i))
		wg.Go(func() {
			if err := RecordFailed(dir, path, "damaged"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := len(ReadFailed(dir)); n != writers {
		t.Errorf("the list holds %d inputs, want %d", n, writers)
	}
	for _, name := range strings.Fields(readNames(t, dir)) {
		if strings.HasPrefix(name, ".") && name != FailedListName {
			t.Errorf("left behind: %s", name)
		}
	}
}

// A lock whose holder died is taken over; one a live holder keeps is waited for, then
// given up with one line.
func TestFailedListLock(t *testing.T) {
	dir := tempDir(t)
	lock := filepath.Join(dir, ClaimName(failedLock))
	dead := me()
	dead.PID, dead.Start = deadPID(t), ""
	age := time.Duration(0)
	if runtime.GOOS == "windows" {
		age = staleAfter + time.Minute // no PIDs told apart there: age alone
	}
	writeClaimFile(t, lock, dead, age)
	if err := RecordFailed(dir, writeFile(t, dir, "a.png"), "damaged"); err != nil {
		t.Fatalf("a dead writer's lock stopped the list: %v", err)
	}
	other := dead
	other.Host, other.PID = "elsewhere", 1
	writeClaimFile(t, lock, other, 0)
	err := withLock(dir, failedLock, 100*time.Millisecond, func() error { return nil })
	if err == nil || !strings.Contains(err.Error(), "is locked by elsewhere pid 1") {
		t.Errorf("error %v, want the live holder named", err)
	}
}
