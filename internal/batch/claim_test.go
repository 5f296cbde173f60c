package batch

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// deadPID is the PID of a process that has exited (and been waited for).
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// writeClaimFile writes a claim as another process would have, touched age ago.
func writeClaimFile(t *testing.T, path string, h Holder, age time.Duration) {
	t.Helper()
	data, _ := json.Marshal(h)
	if h.Host == "garbage" {
		data = []byte("\x00 not json")
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	when := time.Now().Add(-age)
	if err := os.Chtimes(path, when, when); err != nil {
		t.Fatal(err)
	}
}

// A claim is taken over when its holder is gone, and left to it while it may be alive.
func TestClaimTakesOverStaleClaims(t *testing.T) {
	self := me()
	parent := Holder{Host: self.Host, PIDNamespace: self.PIDNamespace, PID: os.Getppid(), Start: processStart(os.Getppid())}
	reused := parent
	reused.Start = "1" // the parent's PID, but a process that started at another time
	dead := self
	dead.PID, dead.Start = deadPID(t), ""
	otherHost := Holder{Host: self.Host + "-elsewhere", PID: os.Getppid()}
	otherNamespace := parent
	otherNamespace.PIDNamespace, otherNamespace.PID = "pid:[1]", dead.PID
	tests := []struct {
		name   string
		holder Holder
		age    time.Duration
		taken  bool
	}{
		{"dead process on this host", dead, 0, true},
		{"live process on this host", parent, time.Hour, false},
		{"its PID given to a later process", reused, 0, runtime.GOOS == "linux"},
		{"another host, touched lately", otherHost, time.Minute, false},
		{"another host, not touched for long", otherHost, staleAfter + time.Minute, true},
		{"another PID namespace, touched lately", otherNamespace, time.Minute, false},
		{"unreadable, new", Holder{Host: "garbage"}, 0, false},
		{"unreadable, old", Holder{Host: "garbage"}, staleAfter + time.Minute, true},
		{"this process, released in thought only", self, 0, true},
	}
	if runtime.GOOS == "windows" {
		tests = tests[3:] // no PIDs told apart there: age alone
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tempDir(t)
			writeClaimFile(t, filepath.Join(dir, ClaimName("k")), tt.holder, tt.age)
			claims := NewClaims()
			defer claims.Close()
			claim, holder, err := claims.Take(dir, "k", "!fix a.png -U 2")
			if err != nil {
				t.Fatal(err)
			}
			if taken := claim != nil; taken != tt.taken {
				t.Fatalf("taken %v, want %v (holder %v)", taken, tt.taken, holder)
			}
			if !tt.taken && tt.holder.Host != "garbage" && holder.PID != tt.holder.PID {
				t.Errorf("held by %+v, want %+v", holder, tt.holder)
			}
			if tt.taken {
				var now Holder
				data, _ := os.ReadFile(filepath.Join(dir, ClaimName("k")))
				if json.Unmarshal(data, &now) != nil || now.PID != os.Getpid() || now.Item != "!fix a.png -U 2" {
					t.Errorf("the claim holds %q", data)
				}
				claim.Release()
			}
			names := readNames(t, dir)
			if want := boolString(!tt.taken, ClaimName("k")); names != want {
				t.Errorf("the folder holds [%s], want [%s]", names, want)
			}
		})
	}
}

func readNames(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return strings.Join(names, " ")
}

func boolString(b bool, s string) string {
	if b {
		return s
	}
	return ""
}

// A claim this process holds is held against every other run of it, until released; Close
// releases what is left.
func TestClaimHeldUntilReleased(t *testing.T) {
	dir := tempDir(t)
	first, second := NewClaims(), NewClaims()
	a, _, err := first.Take(dir, "a", "")
	if err != nil || a == nil {
		t.Fatalf("claim %v, error %v", a, err)
	}
	if b, holder, err := second.Take(dir, "a", ""); b != nil || err != nil || holder.PID != os.Getpid() {
		t.Fatalf("a held claim was taken again: %v, holder %v, error %v", b, holder, err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, ClaimName("a")))
	a.Release()
	b, _, err := second.Take(dir, "a", "")
	if b == nil || err != nil {
		t.Fatalf("a released claim was not taken: %v", err)
	}
	// A takeover that read the first claim must not take the second for it.
	if after, _ := os.ReadFile(filepath.Join(dir, ClaimName("a"))); string(after) == string(before) {
		t.Errorf("two claims of one process hold the same %q", after)
	}
	if _, _, err := first.Take(dir, "b", ""); err != nil {
		t.Fatal(err)
	}
	first.Close()
	second.Close()
	if names := readNames(t, dir); names != "" {
		t.Errorf("left behind: %s", names)
	}
}

// Processes that find one stale claim at the same moment take it over once: exactly one of
// them holds it, and the others see it held.
func TestStaleClaimTakenOverOnce(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("PIDs are not told apart here")
	}
	const takers = 8
	dir := tempDir(t)
	dead := me()
	dead.PID, dead.Start = deadPID(t), ""
	writeClaimFile(t, filepath.Join(dir, ClaimName("k")), dead, 0)

	outputs := make([][]byte, takers)
	var wg sync.WaitGroup
	start := time.Now().Add(500 * time.Millisecond).UnixNano()
	for i := range takers {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperTakeClaim$")
		cmd.Env = append(os.Environ(), "DREAM_CLAIM_DIR="+dir, fmt.Sprintf("DREAM_CLAIM_AT=%d", start))
		wg.Go(func() {
			outputs[i], _ = cmd.CombinedOutput()
		})
	}
	wg.Wait()
	taken := 0
	for i, out := range outputs {
		switch strings.TrimSpace(string(out)) {
		case "taken":
			taken++
		case "held":
		default:
			t.Errorf("taker %d printed %q", i, out)
		}
	}
	if taken != 1 {
		t.Errorf("%d of %d processes took the stale claim, want 1", taken, takers)
	}
	if names := readNames(t, dir); names != "" {
		t.Errorf("left behind: %s", names)
	}
}

// TestHelperTakeClaim is one taker of TestStaleClaimTakenOverOnce: it waits for the moment
// all start at, takes the claim if it can, holds it a moment and releases it.
func TestHelperTakeClaim(t *testing.T) {
	dir := os.Getenv("DREAM_CLAIM_DIR")
	if dir == "" {
		t.Skip("a helper process of TestStaleClaimTakenOverOnce")
	}
	var at int64
	fmt.Sscan(os.Getenv("DREAM_CLAIM_AT"), &at)
	time.Sleep(time.Until(time.Unix(0, at)))
	claims := NewClaims()
	claim, _, err := claims.Take(dir, "k", "")
	switch {
	case err != nil:
		fmt.Println(err)
	case claim != nil:
		fmt.Println("taken")
		time.Sleep(time.Second) // the others look while it is held
	default:
		fmt.Println("held")
	}
	claims.Close()
	os.Stdout.Sync()
	os.Exit(0) // no PASS line: the parent reads one word
}

// A taker that read the stale claim before another took it over must not remove the fresh
// claim made since, and while a takeover's guard is there, nobody else takes over.
func TestTakeOverRemovesOnlyTheClaimSeen(t *testing.T) {
	dir := tempDir(t)
	path := filepath.Join(dir, ClaimName("k"))
	stale := []byte(`{"host":"gone","pid":1}`)
	fresh := []byte(`{"host":"here","pid":2}`)
	if err := os.WriteFile(path, fresh, 0o644); err != nil {
		t.Fatal(err)
	}
	if !takeOver(path, stale) {
		t.Fatal("the takeover gave up")
	}
	if now, _ := os.ReadFile(path); string(now) != string(fresh) {
		t.Fatalf("the fresh claim was replaced by %q", now)
	}
	if err := os.WriteFile(path+".takeover", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if takeOver(path, fresh) {
		t.Error("a takeover went on while another's guard was there")
	}
	if _, err := os.Stat(path); err != nil {
		t.Error("the claim was removed under another's takeover")
	}
	if !strings.Contains(readNames(t, dir), ".takeover") {
		t.Error("a fresh guard was removed")
	}
	old := time.Now().Add(-guardStale - time.Second)
	os.Chtimes(path+".takeover", old, old)
	takeOver(path, fresh)
	if strings.Contains(readNames(t, dir), ".takeover") {
		t.Error("a guard left by a dead taker stays")
	}
	if !takeOver(path, fresh) {
		t.Error("no takeover once the dead taker's guard was gone")
	}
	if names := readNames(t, dir); names != "" {
		t.Errorf("left behind: %s", names)
	}
}
