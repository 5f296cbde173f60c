package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// cancelSide is the photo of the cancel run: 8000² ×2 makes a 16000² output (768 MB at 8
// bits), large enough for the memory a job holds to show, small enough to make quickly.
const cancelSide = 8000

// cancelTarget is how far above its pre-job RSS a dream --web may stay 10 s after its large
// job was cancelled, in MB.
const cancelTarget = 300

// cancelSection runs dream --web, sends it !fix of a cancelSide² photo with -U 2 from the
// page's API, cancels the job once it has grown to its working size, and reads dream's RSS
// before the job, at the cancel, and 10 s after.
func cancelSection(ctx context.Context, c config, tmp string) error {
	fmt.Printf("\nmemory after a cancelled job: dream --web, !fix of a %d² photo -U 2 (x4plus), cancelled while it runs "+
		"(target: RSS within %d MB of its pre-job value 10 s after)\n", cancelSide, cancelTarget)
	outdir := filepath.Join(tmp, "cancel")
	if err := os.MkdirAll(outdir, 0o755); err != nil {
		return err
	}
	defer os.RemoveAll(outdir)
	if err := enlarge(c.image("astronaut.png"), filepath.Join(outdir, "big.png"), cancelSide); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, c.dream, "--web", "--port", "0", "--outdir", outdir, "--models", c.models(), "--device", "cpu")
	stdin, _ := cmd.StdinPipe() // held open: the shell waits on it while the page's job runs
	defer stdin.Close()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	url, err := pageAddress(stdout)
	if err != nil {
		return err
	}
	rss := func() int64 { return processRSS(cmd.Process.Pid) }
	before := rss()
	if err := post(url+"api/jobs", `{"line": "!fix big.png -U 2"}`); err != nil {
		return err
	}
	// The job has reached its working size once its RSS stops growing for 2 s (the image
	// is decoded, the output allocated, the first window runs), or after 60 s.
	peak, steady := before, time.Now()
	for start := time.Now(); time.Since(start) < 60*time.Second && time.Since(steady) < 2*time.Second; {
		time.Sleep(200 * time.Millisecond)
		if now := rss(); now > peak+10<<20 {
			peak, steady = now, time.Now()
		}
	}
	if err := post(url+"api/jobs/1/cancel", ""); err != nil {
		return err
	}
	cancelled := time.Now()
	time.Sleep(10 * time.Second)
	after := rss()
	fmt.Printf("  RSS before the job %d MB, at the cancel %d MB, 10 s after it %d MB: %+d MB over the pre-job value (%.0f s after the cancel)\n",
		before>>20, peak>>20, after>>20, (after-before)>>20, time.Since(cancelled).Seconds())
	if peak-before < 1<<30 {
		return fmt.Errorf("the job grew by only %d MB before the cancel: it did not reach its working size", (peak-before)>>20)
	}
	return nil
}

// pageAddress reads dream --web's output up to the line with the page's address.
func pageAddress(stdout io.Reader) (string, error) {
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if u, found := strings.CutPrefix(lines.Text(), "the page is at "); found {
			go io.Copy(io.Discard, stdout)
			return u, nil
		}
	}
	return "", errors.New("dream --web printed no address")
}

// post sends a request as the page does; anything but a 2xx is an error.
func post(url, body string) error {
	res, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return err
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %d %s", url, res.StatusCode, answer)
	}
	return nil
}

// processRSS is a process's resident memory now, from /proc (Linux); 0 where unknown.
func processRSS(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, found := strings.CutPrefix(line, "VmRSS:"); found {
			kib, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kib << 10
		}
	}
	return 0
}
