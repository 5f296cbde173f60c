package batch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"dream/internal/imageio"
)

// Claims let processes that resume one batch at the same time (shells, --from_file runs,
// machines sharing a disk) share its items instead of each doing all of them. Before an item
// runs, its process creates a claim file for it in the item's output folder, in one step that
// fails when the file exists (see imageio.WriteFileExclusive); the claim names the process
// and is removed once the item's result is saved or the item failed. Another process that
// meets the claim leaves the item to its holder.
//
// A claim outlives a process killed outright (SIGKILL, a lost node). It is stale, and taken
// over by the next process that wants the item, when its holder is gone: on the same host (and
// in the same PID namespace), no process has its PID, or the one that has it started at
// another time; elsewhere, the claim was not touched for staleAfter, where a live holder
// touches its claims every heartbeat.

// claimPrefix starts the name of every claim file: hidden, so no folder listing takes it for
// an image, and one glance at `ls -a` tells what it is.
const claimPrefix = ".dream-claim-"

const (
	heartbeat  = 30 * time.Second
	staleAfter = 5 * time.Minute
	// guardStale is when a takeover's guard file (see takeOver) is left by a dead process: a
	// takeover takes milliseconds.
	guardStale = time.Minute
)

// Holder is the process a claim names, as the claim file holds it (JSON).
type Holder struct {
	Host string `json:"host"`
	// PIDNamespace tells containers that share a host name apart ("pid:[4026531836]" on
	// Linux, "" elsewhere): a PID means nothing in another namespace.
	PIDNamespace string `json:"pid_ns,omitempty"`
	PID          int    `json:"pid"`
	// Start is when the process started, as the system counts it (Linux: clock ticks since
	// boot), so that a PID used again by a later process is not taken for the holder.
	Start string `json:"start,omitempty"`
	// Item is what the claim is for, for a person reading the file.
	Item string `json:"item,omitempty"`
	// Claimed is when the claim was made, and its number in the process: no two claims have
	// the same content, so a takeover can tell the stale claim it saw from a fresh one.
	Claimed string `json:"claimed,omitempty"`
}

// String names the holder in a log line: "node7 pid 4242".
func (h Holder) String() string {
	if h.Host == "" {
		return "another process"
	}
	return fmt.Sprintf("%s pid %d", h.Host, h.PID)
}

// me is this process as its claims name it.
var me = sync.OnceValue(func() Holder {
	host, _ := os.Hostname()
	return Holder{Host: host, PIDNamespace: pidNamespace(), PID: os.Getpid(), Start: processStart(os.Getpid())}
})

// claimsHere count, for each claim file, the goroutines of this process that hold it or are
// trying to: a claim naming this process is live while another of them is counted, and stale
// otherwise. Counting a try from its start closes the gap between creating a claim and
// noting it held, in which another goroutine could take the claim for a dead one's.
var claimsHere = struct {
	sync.Mutex
	n map[string]int
}{n: map[string]int{}}

// countHere adds delta to the goroutines holding or trying path, and returns how many
// others there are.
func countHere(path string, delta int) (others int) {
	claimsHere.Lock()
	defer claimsHere.Unlock()
	claimsHere.n[path] += delta
	n := claimsHere.n[path]
	if n <= 0 {
		delete(claimsHere.n, path)
	}
	return n - 1
}

// Claims are the claims one run holds; the zero value is not usable, see NewClaims.
type Claims struct {
	mu   sync.Mutex
	held map[string]bool // claim file paths
	stop chan struct{}   // closed by Close; nil until the first claim starts the heartbeat
	done chan struct{}
}

// Claim is one item's claim, held until Release.
type Claim struct {
	path   string
	claims *Claims
}

// NewClaims starts a run's set of claims, holding none.
func NewClaims() *Claims {
	return &Claims{held: map[string]bool{}}
}

// ClaimName is the file name of the claim on the item key names (see Wanted.ClaimKey).
func ClaimName(key string) string { return claimPrefix + key }

// Take claims the item named key in dir for this process. It returns the claim, or nil and
// the live process that holds it; a stale claim is taken over. An error means no claim could
// be written (the caller may run the item unclaimed: repeating work loses nothing).
func (c *Claims) Take(dir, key, item string) (*Claim, Holder, error) {
	path := filepath.Join(dir, ClaimName(key))
	taken, holder, err := tryClaim(path, item)
	if err != nil || !taken {
		return nil, holder, err
	}
	c.hold(path)
	return &Claim{path: path, claims: c}, Holder{}, nil
}

// Release removes the claim; a claim released twice is released once.
func (cl *Claim) Release() {
	if cl == nil {
		return
	}
	cl.claims.mu.Lock()
	defer cl.claims.mu.Unlock()
	if cl.claims.held[cl.path] {
		os.Remove(cl.path)
		delete(cl.claims.held, cl.path)
		countHere(cl.path, -1)
	}
}

// Close releases every claim still held and stops the heartbeat.
func (c *Claims) Close() {
	c.mu.Lock()
	for path := range c.held {
		os.Remove(path)
		countHere(path, -1)
	}
	c.held = map[string]bool{}
	stop, done := c.stop, c.done
	c.stop = nil
	c.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}

// hold adds a claim, starting the heartbeat with the first one.
func (c *Claims) hold(path string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held[path] = true
	if c.stop == nil {
		c.stop, c.done = make(chan struct{}), make(chan struct{})
		go c.beat(c.stop, c.done)
	}
}

// beat touches the claims held every heartbeat, which tells processes on other hosts, which
// cannot see this process, that it is alive.
func (c *Claims) beat(stop, done chan struct{}) {
	defer close(done)
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-tick.C:
			c.mu.Lock()
			for path := range c.held {
				os.Chtimes(path, now, now)
			}
			c.mu.Unlock()
		}
	}
}

// tryClaim creates the claim file at path for this process, or takes over a stale one. It
// reports whether the claim is this process's now (counted in claimsHere until released);
// if not, holder is its live holder.
func tryClaim(path, item string) (taken bool, holder Holder, err error) {
	countHere(path, 1)
	defer func() {
		if !taken {
			countHere(path, -1)
		}
	}()
	for range 3 { // a claim released, or taken over, while we look: try again
		err := createClaim(path, item)
		if err == nil {
			return true, Holder{}, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return false, Holder{}, err
		}
		content, info, err := readClaim(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return false, Holder{}, err
		}
		json.Unmarshal(content, &holder) // unreadable: judged by its age alone
		if !isStale(holder, info.ModTime(), countHere(path, 0) > 0) {
			return false, holder, nil
		}
		if !takeOver(path, content) {
			return false, holder, nil
		}
	}
	return false, holder, nil
}

// claimNumber counts the claims this process made.
var claimNumber atomic.Uint64

// createClaim writes a claim naming this process at path, complete or not at all, unless a
// file has that name.
func createClaim(path, item string) error {
	h := me()
	h.Item = item
	h.Claimed = fmt.Sprintf("%s #%d", time.Now().Format(time.RFC3339Nano), claimNumber.Add(1))
	data, err := json.Marshal(h)
	if err != nil {
		return err
	}
	_, err = imageio.WriteFileExclusive(filepath.Dir(path), []string{filepath.Base(path)}, func(w io.Writer) error {
		_, err := w.Write(append(data, '\n'))
		return err
	})
	return err
}

func readClaim(path string) ([]byte, fs.FileInfo, error) {
	f, err := imageio.OpenRegular(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	content, err := io.ReadAll(io.LimitReader(f, 64<<10))
	return content, info, err
}

// isStale tells whether the holder of a claim touched at modified is gone. ours is true while
// another goroutine of this process holds the claim or is trying to (see claimsHere).
func isStale(h Holder, modified time.Time, ours bool) bool {
	self := me()
	if h.Host == self.Host && h.PIDNamespace == self.PIDNamespace && h.PID > 0 {
		if h.PID == self.PID && h.Start == self.Start {
			return !ours // left by this process earlier, and released in thought only
		}
		if running, known := processRunning(h.PID, h.Start); known {
			return !running
		}
	}
	return time.Since(modified) > staleAfter
}

// takeOver removes the stale claim at path whose content was seen, so that the caller can try
// to create its own. Two processes that find one stale claim at once must not both take it,
// nor one remove the fresh claim the other just made: a guard file, itself created
// exclusively, lets one of them check that the claim is still the stale one and remove it.
// It reports false when another process is taking it over.
func takeOver(path string, seen []byte) bool {
	guard := path + ".takeover"
	if err := createClaim(guard, "taking over "+filepath.Base(path)); err != nil {
		if info, statErr := os.Stat(guard); statErr == nil && time.Since(info.ModTime()) > guardStale {
			os.Remove(guard) // its taker died within those milliseconds; the next try goes on
		}
		return false
	}
	defer os.Remove(guard)
	now, err := os.ReadFile(path)
	if err == nil && bytes.Equal(now, seen) {
		os.Remove(path)
	}
	return true
}

// withLock runs fn while this process holds the lock named name in dir (a claim file that
// no item has), waiting up to wait for a holder to finish; stale locks are taken over.
func withLock(dir, name string, wait time.Duration, fn func() error) error {
	path := filepath.Join(dir, claimPrefix+name)
	deadline := time.Now().Add(wait)
	for {
		taken, holder, err := tryClaim(path, "lock")
		if err != nil {
			return err
		}
		if taken {
			defer countHere(path, -1)
			defer os.Remove(path)
			return fn()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s is locked by %s", path, holder)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
