package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"dream/internal/imageio"
)

// Ctrl-C (SIGINT) during a long !fix cancels it: one line, no output file, no temporary file,
// the original untouched, and the shell takes the next command.
func TestInterruptCancelsJob(t *testing.T) {
	work := t.TempDir()
	big := filepath.Join(work, "big.png")
	writeTiledCopy(t, filepath.Join(sharedDir, "images", "astronaut.png"), big, 2)
	original := mustRead(t, big)

	cmd := dreamCommand(work, longJobFlags()...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	errLines, outLines := lines(stderr), lines(stdout)

	io.WriteString(stdin, "!fix big.png -U 4 1\n")
	time.Sleep(2 * time.Second) // model loaded, tiles running: the whole job takes about 15 s
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	line := next(t, errLines)
	t.Logf("%q %v after SIGINT", line, time.Since(sent).Round(time.Millisecond))
	if line != "cancelled; nothing was written" {
		t.Fatalf("after SIGINT dream said %q", line)
	}
	if elapsed := time.Since(sent); elapsed > 5*time.Second {
		t.Errorf("cancelling took %v", elapsed)
	}
	if entries, _ := os.ReadDir(filepath.Join(work, "outputs", "img-samples")); len(entries) != 0 {
		t.Errorf("a cancelled job left %d files in the output directory", len(entries))
	}

	io.WriteString(stdin, "!fix "+filepath.Join(sharedDir, "images", "coffee_crop128.png")+" -U 4 1\nq\n")
	if line := next(t, outLines); !strings.HasPrefix(line, "wrote outputs/img-samples/coffee_crop128.fixed.png") {
		t.Errorf("the command after the cancel printed %q", line)
	}
	// A script whose job was cancelled did not do all it asked: the exit status says so.
	if err := cmd.Wait(); cmd.ProcessState.ExitCode() != 1 {
		t.Errorf("dream exited with %v, want status 1 (a job was cancelled)", err)
	}
	if string(mustRead(t, big)) != string(original) {
		t.Error("the original image changed")
	}
	entries, _ := os.ReadDir(filepath.Join(work, "outputs", "img-samples"))
	if len(entries) != 1 {
		t.Errorf("output directory holds %d entries, want only coffee_crop128.fixed.png", len(entries))
	}
}

// longJobFlags make a ×4 of a 1024×1024 image run in 16 tiles, long enough to interrupt.
func longJobFlags() []string {
	return []string{"--models", filepath.Join(sharedDir, "models"), "--device", "cpu",
		"--esrgan_model", "general-x4v3", "--esrgan_bg_tile", "256"}
}

// writeTiledCopy writes an image made of n×n copies of src, a large input from a real photo.
func writeTiledCopy(t *testing.T, src, dest string, n int) {
	img, err := imageio.Load(src)
	if err != nil {
		t.Fatal(err)
	}
	big := imageio.New(img.W*n, img.H*n, img.Channels, img.Depth)
	px := img.Channels * img.Depth / 8 // bytes a pixel
	for y := 0; y < big.H; y++ {
		row := img.Pix[(y%img.H)*img.W*px:][:img.W*px]
		for k := 0; k < n; k++ {
			copy(big.Pix[(y*big.W+k*img.W)*px:], row)
		}
	}
	if err := imageio.SavePNG(dest, big); err != nil {
		t.Fatal(err)
	}
}

func lines(r io.Reader) <-chan string {
	ch := make(chan string, 16)
	go func() {
		scanner := bufio.NewScanner(r)
		for scanner.Scan() {
			ch <- scanner.Text()
		}
		close(ch)
	}()
	return ch
}

func next(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case line, ok := <-ch:
		if !ok {
			t.Fatal("dream closed its output")
		}
		return line
	case <-time.After(60 * time.Second):
		t.Fatal("dream printed nothing for 60 s")
	}
	return ""
}

// One Ctrl-C in a --from_file run lets the current item finish and stops there; the items
// not started make the exit status 130, so a scheduler or a script does not count the run
// as done.
func TestInterruptedFileExitsNotFinished(t *testing.T) {
	work := t.TempDir()
	var file strings.Builder
	for i := range 5 {
		name := filepath.Join(work, fmt.Sprintf("scan%d.png", i))
		writeTiledCopy(t, filepath.Join(sharedDir, "images", "coffee_crop128.png"), name, 2)
		fmt.Fprintf(&file, "!fix %s -U 4 1\n", name)
	}
	lineFile := filepath.Join(work, "lines.txt")
	if err := os.WriteFile(lineFile, []byte(file.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := dreamCommand(work, append(longJobFlags(), "--from_file", lineFile)...)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	outLines := lines(stdout)
	if line := next(t, outLines); !strings.HasPrefix(line, "ok ") {
		t.Fatalf("the first item printed %q", line)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var summary string
	for line := range outLines {
		if strings.HasPrefix(line, "done ") {
			summary = line
		}
	}
	cmd.Wait()
	if !strings.Contains(summary, "not started") {
		t.Errorf("summary %q does not say items were left", summary)
	}
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Errorf("dream exited with status %d after Ctrl-C left items not started, want 130", code)
	}
}

// SIGTERM (scancel, a time limit, Kubernetes) is Ctrl-C twice: the running item is cancelled
// with no file of it left, the summary is printed, and the exit status is 143.
func TestTerminateFinishesCleanly(t *testing.T) {
	work := t.TempDir()
	var file strings.Builder
	for i := range 4 {
		name := filepath.Join(work, fmt.Sprintf("scan%d.png", i))
		writeTiledCopy(t, filepath.Join(sharedDir, "images", "coffee_crop128.png"), name, 3)
		fmt.Fprintf(&file, "!fix %s -U 4 1\n", name)
	}
	lineFile := filepath.Join(work, "lines.txt")
	if err := os.WriteFile(lineFile, []byte(file.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := dreamCommand(work, append(longJobFlags(), "--from_file", lineFile)...)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	outLines := lines(stdout)
	if line := next(t, outLines); !strings.HasPrefix(line, "ok ") {
		t.Fatalf("the first item printed %q", line)
	}
	time.Sleep(300 * time.Millisecond) // into the second item
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var summary string
	for line := range outLines {
		if strings.HasPrefix(line, "done ") {
			summary = line
		}
	}
	cmd.Wait()
	t.Logf("%q, exit %d, %v after SIGTERM", summary, cmd.ProcessState.ExitCode(), time.Since(sent).Round(time.Millisecond))
	if !strings.HasPrefix(summary, "done 1,") || !strings.Contains(summary, "not started") {
		t.Errorf("summary %q, want 1 done and the rest not started", summary)
	}
	if code := cmd.ProcessState.ExitCode(); code != 143 {
		t.Errorf("exit status %d after SIGTERM, want 143", code)
	}
	entries, _ := os.ReadDir(filepath.Join(work, "outputs", "img-samples"))
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("output folder holds %v, want the first item's result alone", names)
	}
}
