package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"dream/internal/imageio"
)

// A run killed halfway (SIGKILL: no chance to clean up) and run again with --resume does only
// the images that have no result yet, and leaves no partial file behind.
func TestResumeAfterKill(t *testing.T) {
	const images = 10
	work := t.TempDir()
	for i := range images {
		data := mustRead(t, filepath.Join(sharedDir, "images", "coffee_crop128.png"))
		mustWrite(t, filepath.Join(work, "scans", fmt.Sprintf("scan%02d.png", i)), data)
	}
	mustWrite(t, filepath.Join(work, "lines.txt"), []byte("!fix scans -U 2\n"))
	flags := []string{"--models", filepath.Join(sharedDir, "models"), "--device", "cpu",
		"--esrgan_model", "general-x4v3", "--from_file", "lines.txt"}

	first := dreamCommand(work, flags...)
	stdout, _ := first.StdoutPipe()
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	out := lines(stdout)
	for range images / 2 {
		if line := next(t, out); !strings.HasPrefix(line, "ok ") {
			t.Fatalf("the first run printed %q", line)
		}
	}
	first.Process.Signal(syscall.SIGKILL)
	first.Wait()
	outdir := filepath.Join(work, "outputs", "img-samples")
	before := results(t, outdir)
	// A write cut short leaves its hidden temp file; make sure there is one to clean up.
	mustWrite(t, filepath.Join(outdir, ".scan09.fixed.png.tmp-1234"), []byte("\x89PNG partial"))

	second := dreamCommand(work, append(flags, "--resume")...)
	output, err := second.CombinedOutput()
	if err != nil {
		t.Fatalf("the resumed run failed: %v\n%s", err, output)
	}
	var skipped, done int
	for _, line := range strings.Split(string(output), "\n") {
		switch {
		case strings.HasPrefix(line, "skipped "):
			skipped++
		case strings.HasPrefix(line, "ok "):
			done++
		}
	}
	t.Logf("killed after %d results; the resumed run skipped %d and did %d", len(before), skipped, done)
	if skipped != len(before) || done != images-len(before) {
		t.Errorf("the resumed run skipped %d and did %d; %d results existed before it\n%s", skipped, done, len(before), output)
	}
	after := results(t, outdir)
	if len(after) != images {
		t.Errorf("%d results after resuming, want %d: %v", len(after), images, after)
	}
	for _, name := range after {
		if _, err := imageio.Load(filepath.Join(outdir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, e := range readDir(t, outdir) {
		if strings.HasPrefix(e, ".") || strings.Contains(e, "-01") {
			t.Errorf("the output folder holds %s", e)
		}
	}
}

// results lists the fixed images in dir.
func results(t *testing.T, dir string) []string {
	var names []string
	for _, name := range readDir(t, dir) {
		if strings.HasSuffix(name, ".fixed.png") && !strings.HasPrefix(name, ".") {
			names = append(names, name)
		}
	}
	return names
}

func readDir(t *testing.T, dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
