package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"dream/internal/imageio"
)

// Processes that resume one folder at once (shells with !fix DIR --resume, dream --from_file
// --resume) share its images: each image is claimed by one of them and done once.

// sharer is one of the processes: its launch flags and what it reads on stdin.
type sharer struct {
	args  []string
	stdin string
}

// sharers are two shells and two --from_file runs on the folder scans.
func sharers() []sharer {
	shell := sharer{args: batchFlags("--threads", "1"), stdin: "!fix scans -U 2 --resume\n"}
	file := sharer{args: batchFlags("--threads", "1", "--from_file", "lines.txt", "--resume")}
	return []sharer{shell, file, shell, file}
}

var (
	okLine      = regexp.MustCompile(`^ok (scans/scan\d\d\.png) -> (outputs/img-samples/scan\d\d\.fixed\.png) \(`)
	skipLine    = regexp.MustCompile(`^skipped (scans/scan\d\d\.png): outputs/img-samples/scan\d\d\.fixed\.png holds its result$`)
	summaryLine = regexp.MustCompile(`^done (\d+), skipped (\d+), failed 0 of (\d+) images in `)
)

// checkShare reads a process's output: every line is an image done, one skipped as done, or
// the summary, whose counts add up to images. It returns the sources it fixed.
func checkShare(t *testing.T, p int, stdout string, images int) []string {
	t.Helper()
	var fixed []string
	summarised := false
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if m := okLine.FindStringSubmatch(line); m != nil {
			fixed = append(fixed, m[1])
			continue
		}
		if m := summaryLine.FindStringSubmatch(line); m != nil {
			done, _ := strconv.Atoi(m[1])
			skipped, _ := strconv.Atoi(m[2])
			total, _ := strconv.Atoi(m[3])
			summarised = done+skipped == images && total == images && done == len(fixed)
			continue
		}
		if !skipLine.MatchString(line) {
			t.Errorf("process %d printed %q", p, line)
		}
	}
	if !summarised {
		t.Errorf("process %d ended without the summary of %d images:\n%s", p, images, stdout)
	}
	return fixed
}

// checkSharedFolder wants exactly one result for each of the images in outdir, under its
// first name (no -NN), each a whole image, and no claim left; temps lists the hidden files
// it tolerates.
func checkSharedFolder(t *testing.T, outdir string, images int, temps *regexp.Regexp) {
	t.Helper()
	var results int
	for _, name := range readDir(t, outdir) {
		switch {
		case regexp.MustCompile(`^scan\d\d\.fixed\.png$`).MatchString(name):
			results++
			if _, err := imageio.Load(filepath.Join(outdir, name)); err != nil {
				t.Error(err)
			}
		case temps != nil && temps.MatchString(name):
		default:
			t.Errorf("the output folder holds %s", name)
		}
	}
	if results != images {
		t.Errorf("%d results, want %d", results, images)
	}
}

// TestConcurrentResumeDoesEachImageOnce runs four processes at once on a folder of 8 images:
// together they fix each image once, and leave nothing but the 8 results.
func TestConcurrentResumeDoesEachImageOnce(t *testing.T) {
	const images = 8
	work := t.TempDir()
	writeScans(t, work, images)
	mustWrite(t, filepath.Join(work, "lines.txt"), []byte("!fix scans -U 2\n"))
	procs := sharers()
	cmds := make([]*exec.Cmd, len(procs))
	stdouts := make([]bytes.Buffer, len(procs))
	stderrs := make([]bytes.Buffer, len(procs))
	for i, p := range procs {
		cmds[i] = dreamCommand(work, p.args...)
		cmds[i].Stdin = strings.NewReader(p.stdin)
		cmds[i].Stdout, cmds[i].Stderr = &stdouts[i], &stderrs[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	fixedBy := map[string]int{}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil || hasErrors(stderrs[i].String()) {
			t.Errorf("process %d exited with %v\n%s", i, err, stderrs[i].String())
		}
		fixed := checkShare(t, i, stdouts[i].String(), images)
		t.Logf("process %d fixed %d images", i, len(fixed))
		for _, src := range fixed {
			if other, twice := fixedBy[src]; twice {
				t.Errorf("%s was fixed by processes %d and %d", src, other, i)
			}
			fixedBy[src] = i
		}
	}
	if len(fixedBy) != images {
		t.Errorf("%d images fixed, want %d", len(fixedBy), images)
	}
	checkSharedFolder(t, filepath.Join(work, "outputs", "img-samples"), images, nil)
}

// TestConcurrentResumeSurvivesAKill kills one of the four processes (SIGKILL: no chance to
// clean up) once it has fixed an image and claimed its next: the others take its stale claim
// over, and the folder ends with each image fixed once.
func TestConcurrentResumeSurvivesAKill(t *testing.T) {
	const images = 12
	work := t.TempDir()
	writeScans(t, work, images)
	mustWrite(t, filepath.Join(work, "lines.txt"), []byte("!fix scans -U 2\n"))
	procs := sharers()
	cmds := make([]*exec.Cmd, len(procs))
	stdouts := make([]bytes.Buffer, len(procs))
	stderrs := make([]bytes.Buffer, len(procs))
	var victim <-chan string
	for i, p := range procs {
		cmds[i] = dreamCommand(work, p.args...)
		cmds[i].Stdin = strings.NewReader(p.stdin)
		cmds[i].Stderr = &stderrs[i]
		if i == 0 {
			pipe, err := cmds[i].StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			victim = lines(pipe)
		} else {
			cmds[i].Stdout = &stdouts[i]
		}
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	// A process that starts late may first skip images the others have fixed already.
	first := next(t, victim)
	for skipLine.MatchString(first) {
		first = next(t, victim)
	}
	cmds[0].Process.Signal(syscall.SIGKILL)
	cmds[0].Wait() // reaped: its PID is gone, not a zombie's
	if !okLine.MatchString(first) {
		t.Fatalf("the killed process printed %q", first)
	}
	claims := 0
	for _, name := range readDir(t, filepath.Join(work, "outputs", "img-samples")) {
		if strings.HasPrefix(name, ".dream-claim-") {
			claims++
		}
	}
	t.Logf("killed after %q, %d claims in the folder", first, claims)

	for i, cmd := range cmds[1:] {
		i++
		if err := cmd.Wait(); err != nil || hasErrors(stderrs[i].String()) {
			t.Errorf("process %d exited with %v\n%s", i, err, stderrs[i].String())
		}
		checkShare(t, i, stdouts[i].String(), images)
	}
	// The killed process may have left the temp file of a result or of a claim it was
	// writing; the next batch in the folder removes it (see imageio.RemoveStaleTemps).
	checkSharedFolder(t, filepath.Join(work, "outputs", "img-samples"), images,
		regexp.MustCompile(`^\.(scan\d\d\.fixed\.png|\.dream-claim-[0-9a-f]+)\.tmp-\d+$`))
}
