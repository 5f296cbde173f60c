package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The interactive shell, driven through a pseudo-terminal as a person would: the prompt,
// Ctrl-C at an empty prompt (a hint, not an exit), Ctrl-C during a job (cancelled, back at
// the prompt), the history file created 0600, and Ctrl-D to leave.
func TestTerminalSession(t *testing.T) {
	work := t.TempDir()
	big := filepath.Join(work, "big.png")
	writeTiledCopy(t, filepath.Join(sharedDir, "images", "astronaut.png"), big, 2)

	term := startInTerminal(t, work, longJobFlags()...)
	term.waitFor(t, "dream> ")

	term.send(t, "\x03") // Ctrl-C at an empty prompt
	term.waitFor(t, "(to leave, type q or press Ctrl-D)")

	term.send(t, "!fix big.png -U 4 1\r")
	term.waitFor(t, "tiles") // the progress bar shows on a terminal
	sent := time.Now()
	term.send(t, "\x03") // Ctrl-C during the job: the terminal sends SIGINT
	term.waitFor(t, "cancelled; nothing was written")
	t.Logf("cancelled %v after Ctrl-C", time.Since(sent).Round(time.Millisecond))
	term.waitFor(t, "dream> ")

	term.send(t, "\x04") // Ctrl-D leaves
	if err := term.cmd.Wait(); err != nil {
		t.Errorf("dream exited with %v after Ctrl-D", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(work, "outputs", "img-samples")); len(entries) != 0 {
		t.Errorf("the cancelled job left %d files", len(entries))
	}
	info, err := os.Stat(filepath.Join(work, ".dream_history"))
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("~/.dream_history has mode %o, want 600", mode)
	}
	history, _ := os.ReadFile(filepath.Join(work, ".dream_history"))
	if !strings.Contains(string(history), "!fix big.png -U 4 1") {
		t.Errorf("history file holds %q", history)
	}
}

// A long upscale shows its bar (0/N) before the first tile is done, then an ETA; the note
// that CUDA is missing comes once in a session of several jobs.
func TestTerminalUpscaleProgress(t *testing.T) {
	work := t.TempDir()
	big := filepath.Join(work, "big.png")
	writeTiledCopy(t, filepath.Join(sharedDir, "images", "astronaut.png"), big, 2)
	small := filepath.Join(sharedDir, "images", "coffee_crop128.png")
	// The default device tries CUDA first, which this build of ONNX Runtime lacks.
	term := startInTerminal(t, work, "--models", filepath.Join(sharedDir, "models"),
		"--esrgan_model", "general-x4v3", "--esrgan_bg_tile", "128")
	term.waitFor(t, "dream> ")

	term.send(t, "!fix big.png -U 4 1\r")
	sent := time.Now()
	term.waitFor(t, "upscaling ×4 [")
	term.waitFor(t, "] 0/64 tiles")
	t.Logf("the bar showed 0/64 tiles %v after the line was sent", time.Since(sent).Round(time.Millisecond))
	term.waitFor(t, "] 1/64 tiles, ")
	term.waitFor(t, ", ETA ")
	t.Logf("an ETA showed %v after the line was sent", time.Since(sent).Round(time.Millisecond))
	term.send(t, "\x03")
	term.waitFor(t, "cancelled; nothing was written")

	for _, name := range []string{"coffee_crop128.fixed.png", "coffee_crop128.fixed-01.png"} {
		term.waitFor(t, "dream> ")
		term.send(t, "!fix "+small+" -U 4 1\r")
		term.waitFor(t, "wrote outputs/img-samples/"+name)
	}
	term.waitFor(t, "dream> ")
	term.send(t, "q\r")
	if err := term.cmd.Wait(); err != nil {
		t.Errorf("dream exited with %v after q", err)
	}
	term.mu.Lock()
	defer term.mu.Unlock()
	if n := strings.Count(term.seen.String(), "CUDA is not available"); n != 1 {
		t.Errorf("the CUDA note showed %d times in three jobs, want once:\n%s", n, term.seen.String())
	}
}

// terminal is dream running on the slave side of a pseudo-terminal.
type terminal struct {
	cmd    *exec.Cmd
	master *os.File
	mu     sync.Mutex
	seen   bytes.Buffer
	offset int // how much of seen waitFor has consumed
}

func startInTerminal(t *testing.T, dir string, args ...string) *terminal {
	master, slave := openPTY(t)
	cmd := dreamCommand(dir, args...)
	cmd.Env = append(cmd.Env, "TERM=xterm")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	term := &terminal{cmd: cmd, master: master}
	go term.read()
	t.Cleanup(func() {
		cmd.Process.Kill()
		master.Close()
	})
	return term
}

func (term *terminal) read() {
	buf := make([]byte, 4096)
	for {
		n, err := term.master.Read(buf)
		term.mu.Lock()
		term.seen.Write(buf[:n])
		term.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func (term *terminal) send(t *testing.T, keys string) {
	t.Helper()
	if _, err := term.master.WriteString(keys); err != nil {
		t.Fatal(err)
	}
}

// waitFor waits until text appears after what earlier calls consumed.
func (term *terminal) waitFor(t *testing.T, text string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		term.mu.Lock()
		rest := term.seen.String()[term.offset:]
		if i := strings.Index(rest, text); i >= 0 {
			term.offset += i + len(text)
			term.mu.Unlock()
			return
		}
		term.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	term.mu.Lock()
	defer term.mu.Unlock()
	t.Fatalf("waited 60 s for %q; the terminal shows %q", text, term.seen.String()[term.offset:])
}

// openPTY opens a pseudo-terminal pair with the kernel's /dev/ptmx.
func openPTY(t *testing.T) (master, slave *os.File) {
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return master, slave
}

// Sampling shows a step bar with its rate on a terminal, then the file it wrote.
func TestTerminalGenerationProgress(t *testing.T) {
	work := t.TempDir()
	writeStableDiffusion(t, filepath.Join(work, "sd"), nil)
	term := startInTerminal(t, work, "--models", filepath.Join(sharedDir, "models"), "--device", "cpu", "--sd_model", "sd")
	term.waitFor(t, "dream> ")
	term.send(t, "a fox -s 40 -W 256 -H 256 -S 3\r")
	term.waitFor(t, "generating [")
	term.waitFor(t, "/40 steps, ")
	term.waitFor(t, " it/s")
	term.waitFor(t, "wrote outputs/img-samples/000001.3.png (256x256, seed 3)")
	term.send(t, "q\r")
	if err := term.cmd.Wait(); err != nil {
		t.Errorf("dream exited with %v after q", err)
	}
}

// !fix of a folder on a terminal: the batch line shows at once, then with an ETA beside each
// image's own bar; the first Ctrl-C lets the current image finish and stops the batch there.
func TestTerminalBatchProgress(t *testing.T) {
	work := t.TempDir()
	if err := os.Mkdir(filepath.Join(work, "scans"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		writeTiledCopy(t, filepath.Join(sharedDir, "images", "coffee_crop128.png"),
			filepath.Join(work, "scans", fmt.Sprintf("scan%d.png", i)), 2)
	}
	term := startInTerminal(t, work, "--models", filepath.Join(sharedDir, "models"), "--device", "cpu",
		"--esrgan_model", "general-x4v3", "--esrgan_bg_tile", "64")
	term.waitFor(t, "dream> ")
	term.send(t, "!fix scans -U 4 1\r")
	term.waitFor(t, "fixing 0/4")
	term.waitFor(t, "ok scans/scan0.png -> outputs/img-samples/scan0.fixed.png")
	term.waitFor(t, "fixing 1/4, ETA ")
	term.waitFor(t, " · upscaling ×4 [")
	term.send(t, "\x03")
	term.waitFor(t, "stopping after the current item")
	term.waitFor(t, "ok scans/scan1.png")
	term.waitFor(t, "done 2, skipped 0, failed 0 of 4 images in ")
	term.waitFor(t, "stopped with 2 not started")
	term.waitFor(t, "dream> ")
	term.send(t, "q\r")
	if err := term.cmd.Wait(); err != nil {
		t.Errorf("dream exited with %v after q", err)
	}
}
