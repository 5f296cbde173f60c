package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"dream/internal/job"
)

// writeScans writes count copies of a small photo as scans/scanNN.png in work.
func writeScans(t *testing.T, work string, count int) {
	t.Helper()
	data := mustRead(t, filepath.Join(sharedDir, "images", "coffee_crop128.png"))
	for i := range count {
		mustWrite(t, filepath.Join(work, "scans", fmt.Sprintf("scan%02d.png", i)), data)
	}
}

// batchFlags fix with the small upscaler.
func batchFlags(extra ...string) []string {
	return append([]string{"--models", filepath.Join(sharedDir, "models"), "--device", "cpu",
		"--esrgan_model", "general-x4v3"}, extra...)
}

// countPrefixed counts the lines of output that start with prefix.
func countPrefixed(output, prefix string) int {
	n := 0
	for _, line := range strings.Split(output, "\n") {
		if strings.HasPrefix(line, prefix) {
			n++
		}
	}
	return n
}

// A folder that is its own output folder, split over two shards run one after the other: the
// second lists the same six images as the first did, not the first's results; every image
// comes out once; and --resume, given the folder by its absolute path this time, finds every
// result and makes no NAME.fixed.fixed.png nor NAME.fixed-01.png.
func TestFolderThatIsItsOwnOutput(t *testing.T) {
	const images = 6
	work := t.TempDir()
	writeScans(t, work, images)
	mustWrite(t, filepath.Join(work, "lines.txt"), []byte("!fix scans -U 2\n"))
	mustWrite(t, filepath.Join(work, "absolute.txt"), []byte("!fix "+job.Quote(filepath.Join(work, "scans"))+" -U 2\n"))
	run := func(args ...string) string {
		out, err := dreamCommand(work, batchFlags(append([]string{"--outdir", "scans"}, args...)...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("dream %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	first := run("--from_file", "lines.txt", "--shard", "0/2")
	second := run("--from_file", "lines.txt", "--shard", "1/2")
	if !strings.Contains(second, "shard 1/2 (from --shard): 3 items of 6") || countPrefixed(second, "ok ") != 3 ||
		!strings.Contains(second, "left out 3 results of earlier fixes") {
		t.Errorf("the second shard, after the first had written into the folder:\n%s", second)
	}
	resumed := run("--from_file", "absolute.txt", "--resume")
	if countPrefixed(resumed, "skipped ") != images || countPrefixed(resumed, "ok ") != 0 ||
		!strings.Contains(resumed, "left out 6 results of earlier fixes") {
		t.Errorf("--resume with the folder's absolute path:\n%s", resumed)
	}
	var want []string
	for i := range images {
		want = append(want, fmt.Sprintf("scan%02d.fixed.png", i), fmt.Sprintf("scan%02d.png", i))
	}
	if got := readDir(t, filepath.Join(work, "scans")); !slices.Equal(got, want) {
		t.Errorf("the folder holds %v\nwant %v\nfirst shard:\n%s", got, want, first)
	}
}

// An output folder that cannot be created (its parent is a file: root cannot either) is
// found before any image is computed: one line, no item tried, exit status 1.
func TestUnwritableOutputFolderStopsBeforeComputing(t *testing.T) {
	work := t.TempDir()
	writeScans(t, work, 3)
	mustWrite(t, filepath.Join(work, "lines.txt"), []byte("!fix scans -U 2\n"))
	mustWrite(t, filepath.Join(work, "notes.txt"), []byte("a file, not a folder\n"))
	cmd := dreamCommand(work, batchFlags("--outdir", "notes.txt/out", "--from_file", "lines.txt")...)
	out, _ := cmd.CombinedOutput()
	output := string(out)
	if countPrefixed(output, "error: cannot create the output folder notes.txt/out (") != 1 ||
		countPrefixed(output, "failed ") != 0 || countPrefixed(output, "ok ") != 0 ||
		!strings.Contains(output, "done 0, skipped 0, failed 0 of 3 images") || !strings.Contains(output, "stopped with 3 not started") {
		t.Errorf("dream printed:\n%s", output)
	}
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
}
