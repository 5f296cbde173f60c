// Slurm runs on Unix only, and the test checks for leftover daemons with kill(pid, 0).

//go:build unix

package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"dream/internal/ort"
)

// The array job of scripts/slurm/dream-array.sbatch, submitted to a real Slurm: a one-node
// cluster that scripts/slurm/local_cluster starts for this test (make test installs Slurm and
// munge first). Four tasks share twelve images; each image must come out exactly once.
func TestSlurmArrayJob(t *testing.T) {
	const images, tasks = 12, 4
	began := time.Now()
	conf := startLocalSlurm(t)
	clusterUp := time.Since(began)

	work := t.TempDir()
	sizes := writeCrops(t, work, images)
	var lines strings.Builder
	for i := range images {
		fmt.Fprintf(&lines, "!fix img-%02d.png -U 2\n", i)
	}
	mustWrite(t, filepath.Join(work, "lines.txt"), []byte(lines.String()))
	outdir := filepath.Join(work, "out")

	// A job that never ends would otherwise hold the test until go test's own timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Second)
	defer cancel()
	script := mustAbs(filepath.Join("..", "..", "scripts", "slurm", "dream-array.sbatch"))
	sbatch := exec.CommandContext(ctx, "sbatch", "--wait", fmt.Sprintf("--array=0-%d", tasks-1), script)
	sbatch.Dir = work // where the tasks start, so the lines' relative image paths work
	// sbatch hands its environment to every task: that is how the job finds its inputs.
	sbatch.Env = append(withoutSlurm(os.Environ()), "SLURM_CONF="+conf,
		"DREAM="+dreamBinary, "LINES=lines.txt", "OUTDIR="+outdir,
		"MODELS="+filepath.Join(sharedDir, "models"),
		"DREAM_ARGS=--device cpu --esrgan_model general-x4v3",
		"HOME="+work, "DREAM_CACHE="+ort.CacheDir())
	jobStart := time.Now()
	out, err := sbatch.CombinedOutput()
	t.Logf("cluster up in %v; sbatch --wait of %d tasks × %d images took %v",
		clusterUp.Round(time.Millisecond), tasks, images, time.Since(jobStart).Round(time.Millisecond))
	logs := taskLogs(t, work, string(out), tasks)
	if ctx.Err() != nil {
		t.Fatalf("the job did not finish within 100 s\n%s\n%s", out, logs.all())
	}
	if err != nil {
		t.Fatalf("sbatch --wait: %v (a task failed)\n%s\n%s", err, out, logs.all())
	}

	var want []string
	for i := range images {
		name := fmt.Sprintf("img-%02d.fixed.png", i)
		want = append(want, name)
		checkUpscaled(t, filepath.Join(outdir, name), sizes[i].Mul(2))
	}
	entries, err := os.ReadDir(outdir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	// Anything else (img-03.fixed-01.png, a leftover temporary file) means an image was done
	// twice or a write was cut short.
	if !slices.Equal(got, want) {
		t.Errorf("%s holds %d files, want one result per image (%d):\n  got  %s\n  want %s",
			outdir, len(got), len(want), strings.Join(got, " "), strings.Join(want, " "))
	}

	// Task i of --array=0-3 is shard i/4, and says so as it starts.
	shard := regexp.MustCompile(`(?i)\bshard (\d+)/(\d+)\b`)
	for i, text := range logs.byTask {
		m := shard.FindStringSubmatch(text)
		if m == nil || m[1] != fmt.Sprint(i) || m[2] != fmt.Sprint(tasks) {
			t.Errorf("the log of array task %d does not name shard %d/%d", i, i, tasks)
		}
	}
	if t.Failed() {
		t.Logf("what the tasks printed:\n%s", logs.all())
	}
	t.Logf("whole test: %v", time.Since(began).Round(time.Millisecond))
}

// The test's clusters keep their state in folders named so, in the temporary folder, with the
// pid of the test process that started them in a file "owner".
const slurmStatePrefix = "dream-slurm-"

// withoutSlurm leaves out the variables of a Slurm job that the test itself may run in: sbatch
// reads SBATCH_* as options, and SLURM_* would describe the wrong job to the tasks.
func withoutSlurm(env []string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(v string) bool {
		return strings.HasPrefix(v, "SLURM_") || strings.HasPrefix(v, "SBATCH_")
	})
}

// startLocalSlurm starts a one-node cluster and returns its slurm.conf; the cluster stops
// when the test ends. The state folder is short on purpose: munge's socket lives in it, and
// a Unix socket's path may not be longer than 107 bytes.
func startLocalSlurm(t *testing.T) string {
	t.Helper()
	script := mustAbs(filepath.Join("..", "..", "scripts", "slurm", "local_cluster"))
	stopAbandonedClusters(t, script)
	state, err := os.MkdirTemp("", slurmStatePrefix)
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(state, "owner"), []byte(strconv.Itoa(os.Getpid())))
	t.Cleanup(func() {
		if out, err := exec.Command(script, "stop", state).CombinedOutput(); err != nil {
			t.Errorf("local_cluster stop: %v\n%s", err, out)
		}
		os.RemoveAll(state)
	})
	cmd := exec.Command(script, "start", state)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("could not start a local Slurm cluster (%v):\n%s%s", err, out, stderr.String())
	}
	conf, ok := strings.CutPrefix(strings.TrimSpace(string(out)), "SLURM_CONF=")
	if !ok {
		t.Fatalf("local_cluster start printed %q, want SLURM_CONF=…\n%s", out, stderr.String())
	}
	return conf
}

// stopAbandonedClusters stops the clusters of earlier runs that were interrupted (Ctrl-C, a
// go test timeout) before their cleanup ran, so that their daemons do not pile up.
func stopAbandonedClusters(t *testing.T, script string) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), slurmStatePrefix+"*"))
	for _, dir := range dirs {
		owner, err := os.ReadFile(filepath.Join(dir, "owner"))
		if err != nil {
			continue // just created, or not ours
		}
		pid, err := strconv.Atoi(string(owner))
		if err != nil || syscall.Kill(pid, 0) == nil {
			continue // its test still runs
		}
		out, err := exec.Command(script, "stop", dir).CombinedOutput()
		t.Logf("stopped the cluster an interrupted run left in %s: %s", dir, bytes.TrimSpace(out))
		if err == nil {
			os.RemoveAll(dir)
		}
	}
}

// writeCrops writes count small, different crops of a photo as img-NN.png in dir and returns
// their sizes: 48 to 64 pixels a side, so that each upscale takes a moment.
func writeCrops(t *testing.T, dir string, count int) []image.Point {
	t.Helper()
	f, err := os.Open(filepath.Join(sharedDir, "images", "coffee.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	photo, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []image.Point
	for i := range count {
		size := image.Pt(48+8*(i%3), 64-8*(i%3))
		at := photo.Bounds().Min.Add(image.Pt(40*i, 25*i))
		crop := image.NewRGBA(image.Rectangle{Max: size})
		draw.Draw(crop, crop.Bounds(), photo, at, draw.Src)
		path := filepath.Join(dir, fmt.Sprintf("img-%02d.png", i))
		out, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(out, crop); err != nil {
			t.Fatal(err)
		}
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, size)
	}
	return sizes
}

// checkUpscaled decodes a result and checks its size.
func checkUpscaled(t *testing.T, path string, want image.Point) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Errorf("missing result: %v", err)
		return
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	if got := img.Bounds().Size(); got != want {
		t.Errorf("%s is %dx%d, want %dx%d", path, got.X, got.Y, want.X, want.Y)
	}
}

// jobLogs holds what each array task printed (dream-JOB_TASK.log, from the script's
// --output pattern).
type jobLogs struct{ byTask []string }

func (l jobLogs) all() string {
	var b strings.Builder
	for i, text := range l.byTask {
		fmt.Fprintf(&b, "--- array task %d:\n%s", i, text)
	}
	return b.String()
}

// taskLogs reads the tasks' logs of the job that sbatch reported submitting.
func taskLogs(t *testing.T, dir, sbatchOutput string, tasks int) jobLogs {
	t.Helper()
	m := regexp.MustCompile(`Submitted batch job (\d+)`).FindStringSubmatch(sbatchOutput)
	if m == nil {
		t.Fatalf("sbatch did not submit the job:\n%s", sbatchOutput)
	}
	var logs jobLogs
	for i := range tasks {
		path := filepath.Join(dir, fmt.Sprintf("dream-%s_%d.log", m[1], i))
		data, err := os.ReadFile(path)
		if err != nil {
			data = []byte(fmt.Sprintf("(no log: %v)\n", err))
		}
		logs.byTask = append(logs.byTask, string(data))
	}
	return logs
}
