package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"dream/internal/imageio"
	"dream/internal/testenv"
)

// Several dream processes share one output folder (SPEC §1 "Files"): each name is claimed
// exclusively, so no process replaces a file another wrote, and no two commands share a PREFIX.

// processes is how many dream processes run at once in these tests; they start together
// and do the same work, so without exclusive names they pick the same ones.
const processes = 4

// TestConcurrentFixKeepsEveryResult runs 4 processes that each fix the same image 3 times
// into one folder: 12 results under 12 names, none replaced, nothing temporary left. The
// job is -G with the test restorer (it gives the face back): quick to run and slow to
// encode, so the processes save at nearly the same moments (with names chosen before the
// save, about 7 of the 12 files were left).
func TestConcurrentFixKeepsEveryResult(t *testing.T) {
	work := t.TempDir()
	mustWrite(t, filepath.Join(work, "img.png"), mustRead(t, filepath.Join(sharedDir, "images", "astronaut.png")))
	testenv.WriteRestorer(t, "gfpgan", filepath.Join(work, "gfpgan.onnx"))
	args := []string{"--models", filepath.Join(sharedDir, "models"), "--device", "cpu",
		"--gfpgan_model_path", "gfpgan.onnx", "--threads", "1", "--outdir", "out"}
	outputs := runAtOnce(t, work, args, strings.Repeat("!fix img.png -G 1\n", 3))

	wrote := regexp.MustCompile(`^wrote (out/img\.fixed(?:-\d\d)?\.png) \(512x512\) in `)
	var claimed []string
	for _, out := range outputs {
		claimed = append(claimed, wrotePaths(t, out, wrote)...)
	}
	checkDistinct(t, claimed, 3*processes)
	names := checkOutputFolder(t, filepath.Join(work, "out"), 3*processes)
	for _, name := range names {
		if !regexp.MustCompile(`^img\.fixed(-\d\d)?\.png$`).MatchString(name) {
			t.Errorf("unexpected file %s in the output folder", name)
		}
	}
}

// TestConcurrentGenerateClaimsPrefixes runs 4 processes with the same prompt and the same
// -S 42 -n 2 into one folder: 8 images under 4 PREFIXes, one per process.
func TestConcurrentGenerateClaimsPrefixes(t *testing.T) {
	work := t.TempDir()
	writeStableDiffusion(t, filepath.Join(work, "sd"), nil)
	args := []string{"--models", filepath.Join(sharedDir, "models"), "--device", "cpu",
		"--sd_model", "sd", "--threads", "1", "--outdir", "out"}
	outputs := runAtOnce(t, work, args, "a red fox -s 5 -W 64 -H 64 -S 42 -n 2\n")

	wrote := regexp.MustCompile(`^wrote (out/(\d{6})\.(42|43)\.png) \(64x64, seed \d+\)$`)
	owner := map[string]int{} // PREFIX → the process that wrote it
	var claimed []string
	for p, out := range outputs {
		paths := wrotePaths(t, out, wrote)
		claimed = append(claimed, paths...)
		prefixes := map[string]bool{}
		for _, path := range paths {
			prefixes[strings.SplitN(filepath.Base(path), ".", 2)[0]] = true
		}
		if len(paths) != 2 || len(prefixes) != 1 {
			t.Errorf("process %d wrote %v, want 2 images under one PREFIX", p, paths)
		}
		for prefix := range prefixes {
			if other, taken := owner[prefix]; taken {
				t.Errorf("processes %d and %d both used PREFIX %s", other, p, prefix)
			}
			owner[prefix] = p
		}
	}
	checkDistinct(t, claimed, 2*processes)
	checkOutputFolder(t, filepath.Join(work, "out"), 2*processes)
	if len(owner) != processes {
		t.Errorf("%d distinct PREFIXes, want %d", len(owner), processes)
	}
}

// runAtOnce starts the processes together, each reading stdin, and returns their standard
// outputs once all have exited.
func runAtOnce(t *testing.T, work string, args []string, stdin string) []string {
	t.Helper()
	cmds := make([]*exec.Cmd, processes)
	stdouts := make([]bytes.Buffer, processes)
	stderrs := make([]bytes.Buffer, processes)
	for i := range cmds {
		cmds[i] = dreamCommand(work, args...)
		cmds[i].Stdin = strings.NewReader(stdin)
		cmds[i].Stdout, cmds[i].Stderr = &stdouts[i], &stderrs[i]
	}
	var wg sync.WaitGroup
	errs := make([]error, processes)
	for i, cmd := range cmds {
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { errs[i] = cmd.Wait() })
	}
	wg.Wait()
	outputs := make([]string, processes)
	for i := range cmds {
		if errs[i] != nil || hasErrors(stderrs[i].String()) {
			t.Errorf("process %d exited with %v\n%s", i, errs[i], stderrs[i].String())
		}
		outputs[i] = stdouts[i].String()
	}
	return outputs
}

// hasErrors reports whether stderr holds anything but "note:" lines (such as the count of
// faces found and restored).
func hasErrors(stderr string) bool {
	for _, line := range strings.Split(stderr, "\n") {
		if line != "" && !strings.HasPrefix(line, "note: ") {
			return true
		}
	}
	return false
}

// summary is the line a command with several images ends with.
var summary = regexp.MustCompile(`^\d+ images in [0-9.]+s$`)

// wrotePaths is the path of every "wrote" line of out; any other line but a summary is an
// error.
func wrotePaths(t *testing.T, out string, wrote *regexp.Regexp) []string {
	t.Helper()
	var paths []string
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		m := wrote.FindStringSubmatch(line)
		switch {
		case m != nil:
			paths = append(paths, m[1])
		case !summary.MatchString(line):
			t.Errorf("unexpected output line %q", line)
		}
	}
	return paths
}

// checkDistinct fails when the processes reported fewer than want distinct paths.
func checkDistinct(t *testing.T, paths []string, want int) {
	t.Helper()
	distinct := slices.Compact(slices.Sorted(slices.Values(paths)))
	if len(paths) != want || len(distinct) != want {
		t.Errorf("the processes reported %d results under %d distinct names, want %d", len(paths), len(distinct), want)
	}
}

// checkOutputFolder wants exactly want files in dir, no hidden temp or marker among them,
// each a complete image pngcheck accepts; it returns their names.
func checkOutputFolder(t *testing.T, dir string, want int) []string {
	t.Helper()
	var names []string
	for _, name := range readDir(t, dir) {
		names = append(names, name)
		path := filepath.Join(dir, name)
		if strings.HasPrefix(name, ".") {
			t.Errorf("left behind: %s", name)
			continue
		}
		if _, err := imageio.Load(path); err != nil {
			t.Error(err)
		}
		if out, err := exec.Command("pngcheck", "-q", path).CombinedOutput(); err != nil {
			t.Errorf("pngcheck %s: %v\n%s", path, err, out)
		}
	}
	if len(names) != want {
		t.Errorf("the output folder holds %d files, want %d: %v", len(names), want, names)
	}
	return names
}
