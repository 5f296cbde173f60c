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

// Prompt lines split over two shards make every image once; run again with --resume, nothing
// is redone, and a deleted result is made again, alone. Lines with random seeds are
// recognised by their command without the seed.
func TestShardedGenerationResume(t *testing.T) {
	work := t.TempDir()
	writeStableDiffusion(t, filepath.Join(work, "sd"), nil)
	lines := strings.Join([]string{
		"a red fox -s 3 -W 64 -H 64 -S 1",
		"a red fox -s 3 -W 64 -H 64 -S 2 -U 2",
		"a blue fox -s 3 -W 64 -H 64 -n 2",
		"# a comment is no item",
		"a red fox -s 3 -W 64 -H 64 -S 3 -n 2",
		"a green fox -s 3 -W 64 -H 64",
	}, "\n")
	mustWrite(t, filepath.Join(work, "lines.txt"), []byte(lines+"\n"))
	flags := []string{"--models", filepath.Join(sharedDir, "models"), "--device", "cpu",
		"--esrgan_model", "general-x4v3", "--sd_model", "sd", "--from_file", "lines.txt"}
	run := func(extra ...string) (ok, skipped int) {
		out, err := dreamCommand(work, append(flags, extra...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("dream %v: %v\n%s", extra, err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			ok += boolInt(strings.HasPrefix(line, "ok "))
			skipped += boolInt(strings.HasPrefix(line, "skipped "))
		}
		return ok, skipped
	}
	ok0, _ := run("--shard", "0/2")
	ok1, _ := run("--shard", "1/2")
	outdir := filepath.Join(work, "outputs", "img-samples")
	images := pngs(t, outdir)
	if ok0 != 3 || ok1 != 2 || len(images) != 7 {
		t.Fatalf("the shards did %d and %d items and wrote %d images (%v), want 3, 2 and 7", ok0, ok1, len(images), images)
	}
	if ok, skipped := run("--resume"); ok != 0 || skipped != 5 {
		t.Errorf("resuming a finished run did %d items and skipped %d, want 0 and 5", ok, skipped)
	}
	// Shard 0 did lines 1, 3 and 6, in that order: the green fox is its third PREFIX.
	gone := filepath.Join(outdir, images[3])
	if !strings.HasPrefix(images[3], "000003.") {
		t.Fatalf("the images are %v", images)
	}
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}
	if ok, skipped := run("--resume"); ok != 1 || skipped != 4 {
		t.Errorf("with %s deleted, resuming did %d items and skipped %d, want 1 and 4", filepath.Base(gone), ok, skipped)
	}
	if n := len(pngs(t, outdir)); n != 7 {
		t.Errorf("%d images after resuming, want 7", n)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// pngs lists the PNG files in dir, in name order.
func pngs(t *testing.T, dir string) []string {
	var names []string
	for _, name := range readDir(t, dir) {
		if strings.HasSuffix(name, ".png") && !strings.HasPrefix(name, ".") {
			names = append(names, name)
		}
	}
	return names
}
