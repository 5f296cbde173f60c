// Named pipes and ulimit -f are Unix's.

//go:build unix

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"dream/internal/ort"
)

// A named pipe called pipe.png in a folder is skipped with its reason, and named on its own
// it is refused in one line; dream never waits on it (os.Open of a FIFO would wait for a
// writer, beyond the reach of Ctrl-C).
func TestNamedPipeIsNeverRead(t *testing.T) {
	work := t.TempDir()
	writeScans(t, work, 2)
	pipe := filepath.Join(work, "scans", "pipe.png")
	if err := syscall.Mkfifo(pipe, 0o644); err != nil {
		t.Fatal(err)
	}
	defer func() { // a dream that did open it is released
		if f, err := os.OpenFile(pipe, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	}()
	mustWrite(t, filepath.Join(work, "lines.txt"), []byte("!fix scans -U 2\n!fix scans/pipe.png -U 2\n"))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	plain := dreamCommand(work, batchFlags("--from_file", "lines.txt")...)
	cmd := exec.CommandContext(ctx, plain.Path, plain.Args[1:]...)
	cmd.Dir, cmd.Env = plain.Dir, plain.Env
	out, _ := cmd.CombinedOutput()
	output := string(out)
	if ctx.Err() != nil {
		t.Fatalf("dream still ran after 60 s, waiting on the named pipe:\n%s", output)
	}
	for _, want := range []string{
		"skipped scans/pipe.png: a named pipe (FIFO), not a regular file\n",
		"failed !fix scans/pipe.png -U 2: scans/pipe.png is a named pipe (FIFO), not a regular file: give an image file\n",
		"done 2, skipped 1, failed 1 of 4 items",
	} {
		if !strings.Contains(output, want) {
			t.Errorf("dream did not print %q:\n%s", want, output)
		}
	}
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
}

// A full disk stops a batch at the first result it cannot write, instead of computing the
// rest in vain; the line it prints says how far it came and the command that finishes the
// job, which then does. The limit is the shell's ulimit -f (RLIMIT_FSIZE): a write past it
// fails with EFBIG, for root too, as a write to a full disk fails with ENOSPC.
func TestFullDiskStopsTheBatch(t *testing.T) {
	const images = 6
	work := t.TempDir()
	writeScans(t, work, images)
	mustWrite(t, filepath.Join(work, "lines.txt"), []byte("!fix scans -U 2\n"))
	// ulimit -f counts 512-byte blocks in dash, 1024 in bash: 40 is 20 or 40 KB, enough for the
	// check that the folder takes files and too little for one 256×256 result (over 100 KB).
	args := append([]string{"-c", `ulimit -f 40 && exec "$0" "$@"`, dreamBinary}, batchFlags("--from_file", "lines.txt")...)
	cmd := exec.Command("/bin/sh", args...)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "HOME="+work, "DREAM_CACHE="+ort.CacheDir())
	out, _ := cmd.CombinedOutput()
	output := string(out)
	t.Logf("dream under ulimit -f 40:\n%s", output)
	stop := regexp.MustCompile(`(?m)^error: stopped, as no result can be written \(.*(file too large|no space left).*\): 0 of 6 done, (\d) not started; once that is fixed, finish with: (.*--resume)$`)
	m := stop.FindStringSubmatch(output)
	if m == nil {
		t.Fatalf("no line saying the batch stopped at a write error")
	}
	notStarted, _ := strconv.Atoi(m[2])
	// The next image may be past its computing when the save fails; no more than that.
	if failed := countPrefixed(output, "failed "); failed < 1 || failed > 2 || notStarted < images-2 {
		t.Errorf("%d images failed and %d were not started, want 1 or 2 failed and the rest not started", failed, notStarted)
	}
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	outdir := filepath.Join(work, "outputs", "img-samples")
	if left := readDir(t, outdir); len(left) != 0 {
		t.Errorf("the output folder holds %v", left)
	}

	finish := exec.Command("/bin/sh", "-c", m[3])
	finish.Dir, finish.Env = work, cmd.Env
	if out, err := finish.CombinedOutput(); err != nil || countPrefixed(string(out), "ok ") != images {
		t.Errorf("the command it printed (%s): %v\n%s", m[3], err, out)
	}
}
