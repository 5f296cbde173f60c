package upscale

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"dream/internal/ort"
)

// The out-of-memory test makes ONNX Runtime really fail to allocate: a child process (this test
// binary run again) lowers its own address-space limit (RLIMIT_AS) to a little above what it
// already uses, then upscales an image whose whole-image run needs more than that. Upscale must
// take the allocation failure for what it is, halve the tile and finish.
//
// The limit is set after the runtime and model are loaded, relative to the address space they
// take, rather than as an absolute figure before ort.Open: the library, Go's reservations and
// thread stacks make up gigabytes of address space that vary between machines, while the
// headroom the test needs does not. Four things in the child would otherwise die at the limit
// instead of failing politely, and are dealt with first:
//   - Go's heap: a fatal "out of memory" when it needs address space. A ballast grows the heap
//     beforehand; once freed, its address space stays with Go and is reused.
//   - Go's threads: pthread_create fails and Go aborts. Threads are started beforehand; idle
//     ones are kept by Go for reuse.
//   - ONNX Runtime's threads: after an allocation failure it starts short-lived threads (seen
//     with strace; normal runs start none). By then its arena has taken nearly all the
//     headroom, as it retries ever smaller extensions until one fits, so the 8 MB stack cannot
//     be mapped and the uncaught std::system_error aborts the process, in about half the runs.
//     A few ended threads leave their stacks in glibc's cache for these threads to reuse.
//   - glibc's per-thread malloc arenas reserve 64 MB of address space each, which would make
//     the headroom arbitrary: MALLOC_ARENA_MAX=1 keeps one.
const (
	oomChildEnv = "DREAM_UPSCALE_OOM_CHILD"
	// oomSide is the image's side. A whole-image run of general-x4v3 at 384×384 takes about
	// 60–100 MB of new address space; the halved tiles (192, in 240-pixel windows) about 25.
	oomSide = 384
	// oomHeadroom is the address space allowed beyond what the child uses before the run.
	oomHeadroom = 48 << 20
	// oomBallast is more than Go's heap grows to during the run: the output image (14 MB),
	// the network's input and output tensors (30 MB), and the garbage of the failed attempt.
	oomBallast  = 256 << 20
	oomThreads  = 8
	oomRecycled = 4
	oomDone     = "OOM-CHILD-FINISHED"
)

func TestUpscaleRetriesAfterAllocationFailure(t *testing.T) {
	if os.Getenv(oomChildEnv) != "" {
		oomChild(t)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestUpscaleRetriesAfterAllocationFailure$", "-test.v")
	cmd.Env = append(os.Environ(), oomChildEnv+"=1", "MALLOC_ARENA_MAX=1")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("child (%v):\n%s", time.Since(start).Round(time.Millisecond), indent(string(out)))
	if err != nil {
		t.Fatalf("the child failed: %v", err)
	}
	if !strings.Contains(string(out), oomDone) {
		t.Fatal("the child did not report that it finished")
	}
}

// oomChild runs in the child process.
func oomChild(t *testing.T) {
	m := sharedModel(t, "realesr-general-x4v3.onnx")
	src := noiseImage(oomSide, oomSide, 3, 8, 51)

	ballast := make([]byte, oomBallast)
	ballast[0] = 1
	ballast = nil
	runtime.GC()
	debug.FreeOSMemory()
	startThreads(oomThreads)
	recycleThreadStacks(t, oomRecycled)

	used := procStatus(t, "VmSize") << 10
	var limit syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &limit); err != nil {
		t.Fatal(err)
	}
	limit.Cur = uint64(used + oomHeadroom)
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, &limit); err != nil {
		t.Fatal(err)
	}
	t.Logf("address space in use %d MB; limit set to %d MB", used>>20, limit.Cur>>20)

	// Progress reports the number of tiles: 1 for the whole image, more once Upscale has
	// retried with smaller tiles.
	var totals []int
	opts := Options{Factor: 4, Strength: 1, Budget: 1 << 40, Progress: func(done, total int) {
		if done == ProgressPerTile {
			totals = append(totals, total/ProgressPerTile)
		}
	}}
	start := time.Now()
	out, err := m.Upscale(context.Background(), src, opts)
	if err != nil {
		t.Fatalf("Upscale failed under the limit: %v", err)
	}
	t.Logf("upscaled %dx%d to %dx%d in %v; the attempts that got as far as a tile had %v tiles",
		src.W, src.H, out.W, out.H, time.Since(start).Round(time.Millisecond), totals)
	if len(totals) == 0 || totals[len(totals)-1] == 1 {
		t.Fatalf("tile counts %v: want the successful attempt to have run more than one tile, "+
			"after the whole image failed", totals)
	}
	// The limit must really stop a whole-image run, with an error Upscale recognises.
	if _, err := m.run(context.Background(), src, Options{Factor: 4, Strength: 1}, 0, DefaultPad); !ort.IsAllocationFailure(err) {
		t.Fatalf("a whole-image run under the limit gave %v, want an allocation failure", err)
	} else {
		t.Logf("a whole-image run under the limit fails with: %v", err)
	}
	t.Logf("threads at the end: %d", procStatus(t, "Threads"))
	fmt.Println(oomDone)
}

// startThreads makes Go start n more OS threads now: each goroutine locked to a thread holds it
// until all are running. Unlocked afterwards, the threads stay with Go, idle, for reuse.
func startThreads(n int) {
	holdThreads(n, func() { runtime.UnlockOSThread() })
}

// recycleThreadStacks ends n of Go's idle threads: a goroutine that exits locked to its thread
// takes the thread with it. glibc keeps the stacks of ended threads (up to 40 MB) and hands them
// to the next threads anyone starts, which then need no new address space.
func recycleThreadStacks(t *testing.T, n int) {
	before := procStatus(t, "Threads")
	holdThreads(n, func() {})
	deadline := time.Now().Add(time.Second)
	for procStatus(t, "Threads") > before-int64(n) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	t.Logf("threads: %d before ending %d, %d after", before, n, procStatus(t, "Threads"))
}

// holdThreads runs n goroutines, each locked to its own OS thread, until all are running; then
// each calls done and returns.
func holdThreads(n int, done func()) {
	var running, finished sync.WaitGroup
	release := make(chan struct{})
	for range n {
		running.Add(1)
		finished.Add(1)
		go func() {
			defer finished.Done()
			runtime.LockOSThread()
			running.Done()
			<-release
			done()
		}()
	}
	running.Wait()
	close(release)
	finished.Wait()
}

// procStatus reads a number from /proc/self/status: kB for sizes.
func procStatus(t *testing.T, field string) int64 {
	t.Helper()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}

func indent(s string) string {
	return "\t" + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n\t")
}
