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
// munge first). Twelve images are shared by the tasks of an array, and each must come out
// exactly once: a range (--array=0-3), a list (--array=1,3,8, with DREAM_SHARD_COUNT=3), and
// some IDs of a range resubmitted as a list, which must redo exactly those tasks' images, and
// a range with one task SIGKILLed mid-image and then submitted again (the script always
// passes --resume): its stale claim is taken over, and nothing is left behind.
func TestSlurmArrayJob(t *testing.T) {
	began := time.Now()
	conf := startLocalSlurm(t)
	t.Logf("cluster up in %v", time.Since(began).Round(time.Millisecond))

	t.Run("range 0-3", func(t *testing.T) {
		job := newArrayJob(t, conf)
		logs := job.submit(t, "0-3")
		job.checkEveryImageOnce(t, logs)
		// Task i of --array=0-3 is shard i/4, and says so as it starts; with one CPU each,
		// it says that it runs one thread.
		for _, id := range []int{0, 1, 2, 3} {
			job.checkShard(t, logs, id, fmt.Sprintf("%d/4", id))
			if !strings.Contains(logs.byID[id], "threads 1 (from SLURM_CPUS_PER_TASK=1") {
				t.Errorf("the log of array task %d does not say it runs one thread, as --cpus-per-task=1 asks", id)
			}
		}
	})

	t.Run("list 1,3,8", func(t *testing.T) {
		job := newArrayJob(t, conf)
		logs := job.submit(t, "1,3,8", "DREAM_SHARD_COUNT=3")
		job.checkEveryImageOnce(t, logs)
		for id, shard := range map[int]string{1: "1/3", 3: "0/3", 8: "2/3"} {
			job.checkShard(t, logs, id, shard)
		}
	})

	t.Run("IDs 1,3 of 1-3 resubmitted", func(t *testing.T) {
		job := newArrayJob(t, conf)
		first := job.submit(t, "1-3")
		job.checkEveryImageOnce(t, first)
		// Tasks 1 and 3 "failed": their results are gone, and only they are submitted again.
		for _, id := range []int{1, 3} {
			for _, result := range first.results(id) {
				if err := os.Remove(result); err != nil { // OUTDIR is absolute
					t.Fatal(err)
				}
			}
		}
		again := job.submit(t, "1,3", "DREAM_SHARD_COUNT=3")
		for _, id := range []int{1, 3} {
			if got, want := again.results(id), first.results(id); !slices.Equal(got, want) || len(want) == 0 {
				t.Errorf("resubmitted task %d wrote %v; the first time it wrote %v", id, got, want)
			}
		}
		job.checkEveryImageOnce(t, again)
	})
	t.Run("range 0-3, task 1 killed, resubmitted", func(t *testing.T) {
		// Larger crops, so that task 1 is still at work on its second image when the kill
		// lands: a claim of it, and maybe a temp file, are left behind.
		job := newArrayJobOfSide(t, conf, 160)
		victimLog := job.killOneTask(t, "0-3", 1)
		if regexp.MustCompile(`(?m)^done \d+, skipped \d+, failed \d+ of`).MatchString(victimLog) {
			t.Errorf("array task 1 finished before the kill landed:\n%s", victimLog)
		}
		left := readDir(t, job.outdir)
		hidden := slices.DeleteFunc(slices.Clone(left), func(name string) bool { return !strings.HasPrefix(name, ".") })
		t.Logf("after the kill: %d files in the output folder, of which left by the kill: %s",
			len(left), strings.Join(hidden, " "))
		again := job.submit(t, "0-3")
		job.checkEveryImageOnce(t, again)
	})
	t.Logf("whole test: %v", time.Since(began).Round(time.Millisecond))
}

// arrayJob is the folder an array job works in: twelve images, a line for each, and the
// output folder.
type arrayJob struct {
	conf, work, outdir string
	sizes              []image.Point
}

const arrayImages = 12

func newArrayJob(t *testing.T, conf string) *arrayJob {
	return newArrayJobOfSide(t, conf, smallCrop)
}

// newArrayJobOfSide is newArrayJob with crops side to side+16 pixels a side.
func newArrayJobOfSide(t *testing.T, conf string, side int) *arrayJob {
	work := t.TempDir()
	j := &arrayJob{conf: conf, work: work, outdir: filepath.Join(work, "out"), sizes: writeCrops(t, work, arrayImages, side)}
	var lines strings.Builder
	for i := range arrayImages {
		fmt.Fprintf(&lines, "!fix img-%02d.png -U 2\n", i)
	}
	mustWrite(t, filepath.Join(work, "lines.txt"), []byte(lines.String()))
	return j
}

// submit runs sbatch --wait --array=ARRAY on the example script, with env added to what every
// task gets, and returns the tasks' logs. One CPU a task: the node's cores run that many at once.
func (j *arrayJob) submit(t *testing.T, array string, env ...string) jobLogs {
	t.Helper()
	// A job that never ends would otherwise hold the test until go test's own timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Second)
	defer cancel()
	sbatch := j.sbatch(ctx, array, env, "--wait")
	start := time.Now()
	out, err := sbatch.CombinedOutput()
	logs := taskLogs(t, j.work, string(out), arrayIDs(t, array))
	t.Logf("sbatch --wait --array=%s %s took %v", array, strings.Join(env, " "), time.Since(start).Round(time.Millisecond))
	if ctx.Err() != nil {
		t.Fatalf("the job did not finish within 100 s\n%s\n%s", out, logs.all())
	}
	if err != nil {
		t.Fatalf("sbatch --wait: %v (a task failed)\n%s\n%s", err, out, logs.all())
	}
	return logs
}

// sbatch is the command that submits the example script as --array=ARRAY, with env added to
// what every task gets.
func (j *arrayJob) sbatch(ctx context.Context, array string, env []string, flags ...string) *exec.Cmd {
	script := mustAbs(filepath.Join("..", "..", "scripts", "slurm", "dream-array.sbatch"))
	args := append(flags, "--array="+array, "--cpus-per-task=1", script)
	sbatch := exec.CommandContext(ctx, "sbatch", args...)
	sbatch.Dir = j.work // where the tasks start, so the lines' relative image paths work
	// sbatch hands its environment to every task: that is how the job finds its inputs.
	sbatch.Env = append(withoutSlurm(os.Environ()), "SLURM_CONF="+j.conf,
		"DREAM="+dreamBinary, "LINES=lines.txt", "OUTDIR="+j.outdir,
		"MODELS="+filepath.Join(sharedDir, "models"),
		"DREAM_ARGS=--device cpu --esrgan_model general-x4v3",
		"HOME="+j.work, "DREAM_CACHE="+ort.CacheDir())
	sbatch.Env = append(sbatch.Env, env...)
	return sbatch
}

// killOneTask submits --array=ARRAY, SIGKILLs the task with ID victim as soon as its log shows
// its first result (it has then claimed its next image and is working on it), and waits for
// the job to end. It returns the victim's log.
func (j *arrayJob) killOneTask(t *testing.T, array string, victim int) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Second)
	defer cancel()
	out, err := j.sbatch(ctx, array, nil, "--parsable").Output()
	if err != nil {
		t.Fatalf("sbatch --parsable: %v", err)
	}
	jobID, _, _ := strings.Cut(strings.TrimSpace(string(out)), ";") // "ID" or "ID;cluster"
	logPath := filepath.Join(j.work, fmt.Sprintf("dream-%s_%d.log", jobID, victim))
	task := fmt.Sprintf("%s_%d", jobID, victim)
	for {
		data, _ := os.ReadFile(logPath)
		if regexp.MustCompile(`(?m)^ok `).Match(data) {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("array task %s showed no result within 100 s:\n%s", task, data)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// SIGKILL to dream itself: scancel --signal=KILL would cancel the task instead, with the
	// SIGTERM first that dream answers cleanly.
	pid := taskProcess(t, jobID, victim)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 %d (array task %s): %v", pid, task, err)
	}
	env := append(withoutSlurm(os.Environ()), "SLURM_CONF="+j.conf)
	for {
		queue := exec.CommandContext(ctx, "squeue", "--noheader", "--jobs", jobID)
		queue.Env = env
		if out, err := queue.Output(); err == nil && strings.TrimSpace(string(out)) == "" {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("job %s did not end within 100 s of its start", jobID)
		}
		time.Sleep(100 * time.Millisecond)
	}
	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// taskProcess finds the dream process of an array task on this node by what Slurm put in its
// environment.
func taskProcess(t *testing.T, jobID string, taskID int) int {
	t.Helper()
	want := []string{"SLURM_ARRAY_JOB_ID=" + jobID, "SLURM_ARRAY_TASK_ID=" + strconv.Itoa(taskID)}
	environs, _ := filepath.Glob("/proc/[0-9]*/environ")
	for _, path := range environs {
		environ, err := os.ReadFile(path)
		if err != nil {
			continue // gone, or not ours
		}
		vars := strings.Split(string(environ), "\x00")
		if !slices.Contains(vars, want[0]) || !slices.Contains(vars, want[1]) {
			continue
		}
		if exe, err := os.Readlink(filepath.Join(filepath.Dir(path), "exe")); err != nil || exe != dreamBinary {
			continue // the batch script before its exec, or a step's helper
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		return pid
	}
	t.Fatalf("no dream process of array task %s_%d on this node", jobID, taskID)
	return 0
}

// arrayIDs reads the IDs of an --array value made of IDs and ranges, such as 1,3,8 or 0-3.
func arrayIDs(t *testing.T, array string) []int {
	var ids []int
	for _, part := range strings.Split(array, ",") {
		first, last, isRange := strings.Cut(part, "-")
		lo, err := strconv.Atoi(first)
		hi := lo
		if err == nil && isRange {
			hi, err = strconv.Atoi(last)
		}
		if err != nil {
			t.Fatalf("--array=%s: %v", array, err)
		}
		for id := lo; id <= hi; id++ {
			ids = append(ids, id)
		}
	}
	return ids
}

// checkEveryImageOnce checks that the output folder holds one result per image, of the
// right size, and nothing else: no second result of an image (img-03.fixed-01.png), no temp
// file left by a write cut short. It logs the figures.
func (j *arrayJob) checkEveryImageOnce(t *testing.T, logs jobLogs) {
	t.Helper()
	var want []string
	for i := range arrayImages {
		name := fmt.Sprintf("img-%02d.fixed.png", i)
		want = append(want, name)
		checkUpscaled(t, filepath.Join(j.outdir, name), j.sizes[i].Mul(2))
	}
	got := readDir(t, j.outdir)
	var results, duplicates, temps int
	for _, name := range got {
		switch {
		case strings.HasPrefix(name, "."):
			temps++
		case slices.Contains(want, name):
			results++
		default:
			duplicates++
		}
	}
	t.Logf("%d of %d images have their result; %d more results (duplicates), %d temp files", results, arrayImages, duplicates, temps)
	if !slices.Equal(got, want) {
		t.Errorf("%s holds %d files, want one result per image (%d):\n  got  %s\n  want %s\n%s",
			j.outdir, len(got), len(want), strings.Join(got, " "), strings.Join(want, " "), logs.all())
	}
}

// checkShard checks that the array task with this ID named its shard as it started.
func (j *arrayJob) checkShard(t *testing.T, logs jobLogs, id int, want string) {
	t.Helper()
	m := regexp.MustCompile(`(?i)\bshard (\d+/\d+)\b`).FindStringSubmatch(logs.byID[id])
	if m == nil || m[1] != want {
		t.Errorf("the log of array task %d does not name shard %s:\n%s", id, want, logs.byID[id])
	}
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

// smallCrop is the side of writeCrops' smallest crop that most tests use: 48 to 64 pixels a
// side, so that each upscale takes a moment.
const smallCrop = 48

// writeCrops writes count different crops of a photo as img-NN.png in dir and returns their
// sizes: side to side+16 pixels a side.
func writeCrops(t *testing.T, dir string, count, side int) []image.Point {
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
		size := image.Pt(side+8*(i%3), side+16-8*(i%3))
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
// --output pattern), by task ID.
type jobLogs struct {
	ids  []int
	byID map[int]string
}

func (l jobLogs) all() string {
	var b strings.Builder
	for _, id := range l.ids {
		fmt.Fprintf(&b, "--- array task %d:\n%s", id, l.byID[id])
	}
	return b.String()
}

// results are the files the task with this ID wrote, relative to the folder the job ran in,
// from its "ok SOURCE -> RESULT (TIME)" lines.
func (l jobLogs) results(id int) []string {
	var paths []string
	for _, m := range regexp.MustCompile(`(?m)^ok \S+ -> (\S+) \(`).FindAllStringSubmatch(l.byID[id], -1) {
		paths = append(paths, m[1])
	}
	slices.Sort(paths)
	return paths
}

// taskLogs reads the tasks' logs of the job that sbatch reported submitting.
func taskLogs(t *testing.T, dir, sbatchOutput string, ids []int) jobLogs {
	t.Helper()
	m := regexp.MustCompile(`Submitted batch job (\d+)`).FindStringSubmatch(sbatchOutput)
	if m == nil {
		t.Fatalf("sbatch did not submit the job:\n%s", sbatchOutput)
	}
	logs := jobLogs{ids: ids, byID: map[int]string{}}
	for _, id := range ids {
		path := filepath.Join(dir, fmt.Sprintf("dream-%s_%d.log", m[1], id))
		data, err := os.ReadFile(path)
		if err != nil {
			data = []byte(fmt.Sprintf("(no log: %v)\n", err))
		}
		logs.byID[id] = string(data)
	}
	return logs
}
