package main

// End-to-end tests: each file under testdata/transcripts holds the launch flags, the lines
// typed, and the output and files expected, and runs against the real binary with the real
// ONNX Runtime and the project's real models.
//
// A transcript is a list of sections, each started by a line "-- name --":
//
//	args:    launch flags, split like a shell line
//	setup:   one action per line (see runSetup): files to create before dream starts
//	stdin:   the lines typed
//	stdout:  the expected standard output, line by line; * matches any text
//	stderr:  the same for standard error
//	files:   one check per line (see checkFile), after dream exits
//	exit:    the exit status expected (0 when the section is absent)
//
// $SHARED, $CACHE and $WORK in any section are replaced by the shared folder, dream's cache
// folder and the test's working directory.

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"dream/internal/imagecmp"
	"dream/internal/imageio"
	"dream/internal/job"
	"dream/internal/ort"
	"dream/internal/sd/sdtest"
	"dream/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the stdout and stderr sections of the transcripts with what dream printed")

var (
	dreamBinary string
	sharedDir   = mustAbs(filepath.Join("..", "..", "..", "shared"))
)

func mustAbs(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		panic(err)
	}
	return abs
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dream-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	dreamBinary = filepath.Join(dir, "dream")
	build := exec.Command("go", "build", "-o", dreamBinary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building dream:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "transcripts", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts found: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			t.Parallel()
			runTranscript(t, file)
		})
	}
}

type transcript map[string][]string

func readTranscript(t *testing.T, path, work string) transcript {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	expand := strings.NewReplacer("$SHARED", sharedDir, "$CACHE", ort.CacheDir(), "$WORK", work)
	sections := transcript{}
	current := ""
	for _, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if name, ok := sectionName(line); ok {
			current = name
			if _, dup := sections[current]; dup {
				t.Fatalf("%s: section %s appears twice", path, current)
			}
			sections[current] = []string{}
			continue
		}
		if current == "" {
			continue // comments before the first section
		}
		sections[current] = append(sections[current], expand.Replace(line))
	}
	return sections
}

// dreamCommand runs the binary in work. HOME points at work, so history stays there; the
// runtime install stays where make put it.
func dreamCommand(work string, args ...string) *exec.Cmd {
	cmd := exec.Command(dreamBinary, args...)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "HOME="+work, "DREAM_CACHE="+ort.CacheDir())
	return cmd
}

// sectionName reads a section marker, "-- name --".
func sectionName(line string) (string, bool) {
	inner, ok := strings.CutPrefix(line, "-- ")
	if !ok {
		return "", false
	}
	name, ok := strings.CutSuffix(inner, " --")
	return name, ok && name != "" && !strings.ContainsAny(name, " \t")
}

func runTranscript(t *testing.T, path string) {
	work := t.TempDir()
	tr := readTranscript(t, path, work)
	for _, action := range tr["setup"] {
		runSetup(t, work, action)
	}
	args, err := job.Split(strings.Join(tr["args"], " "))
	if err != nil {
		t.Fatal(err)
	}
	cmd := dreamCommand(work, args...)
	cmd.Stdin = strings.NewReader(strings.Join(tr["stdin"], "\n") + "\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if code := cmd.ProcessState.ExitCode(); code != wantExit(t, tr["exit"]) {
		t.Errorf("dream exited with status %d (%v), want %d", code, err, wantExit(t, tr["exit"]))
	}
	if *update {
		rewriteOutput(t, path, work, stdout.String(), stderr.String())
		return
	}
	matchLines(t, "stdout", tr["stdout"], stdout.String())
	matchLines(t, "stderr", tr["stderr"], stderr.String())
	for _, check := range tr["files"] {
		checkFile(t, work, check)
	}
}

// wantExit is the exit status a transcript expects: 0 unless its exit section says otherwise.
func wantExit(t *testing.T, section []string) int {
	if len(section) == 0 {
		return 0
	}
	code, err := strconv.Atoi(strings.TrimSpace(section[0]))
	if err != nil {
		t.Fatalf("exit section %q: %v", section[0], err)
	}
	return code
}

// rewriteOutput replaces the stdout and stderr sections of a transcript with the output of
// this run, turned back into the transcript's terms: folders as $WORK, $SHARED and $CACHE,
// timings and ONNX Runtime's own words as *.
func rewriteOutput(t *testing.T, path, work, stdout, stderr string) {
	generalise := strings.NewReplacer(work, "$WORK", sharedDir, "$SHARED", ort.CacheDir(), "$CACHE")
	timing := regexp.MustCompile(` in [0-9.]+s$`)
	itemTiming := regexp.MustCompile(`\([0-9.]+ s\)$`)
	provider := regexp.MustCompile(`is not available \(.*\); `)
	section := func(text string) []string {
		var lines []string
		for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
			if text == "" {
				break
			}
			line = timing.ReplaceAllString(generalise.Replace(line), " in *s")
			line = itemTiming.ReplaceAllString(line, "(* s)")
			lines = append(lines, provider.ReplaceAllString(line, "is not available (*); "))
		}
		return lines
	}
	data := strings.Split(strings.TrimRight(string(mustRead(t, path)), "\n"), "\n")
	var out []string
	skipping := false
	for _, line := range data {
		name, isSection := sectionName(line)
		switch {
		case isSection && (name == "stdout" || name == "stderr"):
			out = append(out, line)
			if name == "stdout" {
				out = append(out, section(stdout)...)
			} else {
				out = append(out, section(stderr)...)
			}
			skipping = true
		case isSection:
			skipping = false
			out = append(out, line)
		case !skipping:
			out = append(out, line)
		}
	}
	mustWrite(t, path, []byte(strings.Join(out, "\n")+"\n"))
}

// runSetup performs one setup action:
//
//	copy SRC DEST         copy a file into the working directory
//	head SRC DEST BYTES   copy only the first BYTES bytes (a truncated file)
//	write DEST TEXT…      write the rest of the line as the file's content
//	mkdir DIR
//	link SRC DEST         a symbolic link to SRC (a large model, say)
//	restorer KIND DEST    a face restorer test model: gfpgan (gives its input back) or
//	                      codeformer (output = input · w, so -cf shows in the result)
//	sd DEST [spread=S]    a Stable Diffusion test export (internal/sd/sdtest) whose UNet
//	                      knows a data set of that spread (default 0.5)
func runSetup(t *testing.T, work, action string) {
	f := strings.Fields(action)
	if len(f) == 0 {
		return
	}
	switch {
	case f[0] == "copy" && len(f) == 3:
		data := mustRead(t, f[1])
		mustWrite(t, filepath.Join(work, f[2]), data)
	case f[0] == "head" && len(f) == 4:
		n, err := strconv.Atoi(f[3])
		if err != nil {
			t.Fatal(err)
		}
		mustWrite(t, filepath.Join(work, f[2]), mustRead(t, f[1])[:n])
	case f[0] == "write" && len(f) >= 2:
		mustWrite(t, filepath.Join(work, f[1]), []byte(strings.Join(f[2:], " ")+"\n"))
	case f[0] == "link" && len(f) == 3:
		mustWrite(t, filepath.Join(work, f[2]), nil) // creates the folder
		os.Remove(filepath.Join(work, f[2]))
		if err := os.Symlink(f[1], filepath.Join(work, f[2])); err != nil {
			t.Fatal(err)
		}
	case f[0] == "restorer" && len(f) == 3:
		testenv.WriteRestorer(t, f[1], filepath.Join(work, f[2]))
	case f[0] == "sd" && len(f) >= 2:
		writeStableDiffusion(t, filepath.Join(work, f[1]), f[2:])
	case f[0] == "mkdir" && len(f) == 2:
		if err := os.MkdirAll(filepath.Join(work, f[1]), 0o755); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("unknown setup action %q", action)
	}
}

// checkFile performs one check:
//
//	exists PATH WxH               a PNG of that size
//	exists PATH                   any file
//	absent PATH
//	same PATH OTHER               byte-identical files
//	differ PATH OTHER             images whose pixels differ
//	only DIR NAME…                the directory holds exactly these names (no temp files)
//	matches PATH REF DB MAX255    PSNR ≥ DB and max abs difference ≤ MAX255/255 against REF
func checkFile(t *testing.T, work, check string) {
	f := strings.Fields(check)
	at := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(work, p)
	}
	switch {
	case f[0] == "exists" && len(f) == 3:
		img, err := imageio.Load(at(f[1]))
		if err != nil {
			t.Errorf("%s: %v", check, err)
			return
		}
		if got := fmt.Sprintf("%dx%d", img.W, img.H); got != f[2] {
			t.Errorf("%s: size is %s", check, got)
		}
	case f[0] == "exists" && len(f) == 2:
		if _, err := os.Stat(at(f[1])); err != nil {
			t.Errorf("%s: %v", check, err)
		}
	case f[0] == "absent" && len(f) == 2:
		if _, err := os.Stat(at(f[1])); err == nil {
			t.Errorf("%s: the file exists", check)
		}
	case f[0] == "same" && len(f) == 3:
		if !bytes.Equal(mustRead(t, at(f[1])), mustRead(t, at(f[2]))) {
			t.Errorf("%s: the files differ", check)
		}
	case f[0] == "differ" && len(f) == 3:
		a, errA := imageio.Load(at(f[1]))
		b, errB := imageio.Load(at(f[2]))
		if errA != nil || errB != nil {
			t.Errorf("%s: %v %v", check, errA, errB)
		} else if slices.Equal(a.Pix, b.Pix) {
			t.Errorf("%s: the images have the same pixels", check)
		}
	case f[0] == "only" && len(f) >= 2:
		entries, _ := os.ReadDir(at(f[1]))
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if got, want := strings.Join(names, " "), strings.Join(f[2:], " "); got != want {
			t.Errorf("%s: the directory holds [%s]", check, got)
		}
	case f[0] == "matches" && len(f) == 5:
		checkMatches(t, at(f[1]), at(f[2]), f[3], f[4])
	default:
		t.Fatalf("unknown file check %q", check)
	}
}

func checkMatches(t *testing.T, path, ref, minDB, maxSteps string) {
	got, err := imageio.Load(path)
	if err != nil {
		t.Error(err)
		return
	}
	want, err := imageio.Load(ref)
	if err != nil {
		t.Fatal(err)
	}
	d, err := imagecmp.Compare(got, want)
	if err != nil {
		t.Error(err)
		return
	}
	db, _ := strconv.ParseFloat(minDB, 64)
	steps, _ := strconv.ParseFloat(maxSteps, 64)
	t.Logf("%s vs %s: %v", filepath.Base(path), filepath.Base(ref), d)
	if d.PSNR < db || d.MaxAbs > steps/255+1e-9 {
		t.Errorf("%s vs %s: %v; want PSNR ≥ %s dB and max abs ≤ %s/255", path, ref, d, minDB, maxSteps)
	}
}

// matchLines compares output with the expected lines; * in an expected line matches any text.
func matchLines(t *testing.T, stream string, want []string, output string) {
	got := strings.Split(strings.TrimRight(output, "\n"), "\n")
	if output == "" {
		got = nil
	}
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = lineMatches(want[i], got[i])
	}
	if !ok {
		t.Errorf("%s differs\n--- want\n%s\n--- got\n%s", stream, strings.Join(want, "\n"), output)
	}
}

func lineMatches(pattern, line string) bool {
	parts := strings.Split(pattern, "*")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$").MatchString(line)
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mustWrite(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeStableDiffusion writes a test export with the real tokenizer. The options are
// spread=S (sdtest.Export.Spread) and stepwork=N (sdtest.Export.StepWork).
func writeStableDiffusion(t testing.TB, dir string, options []string) {
	export := sdtest.Export{Mean: [4]float32{0.3, -0.2, 0.5, 0.1}, Spread: 0.5}
	for _, o := range options {
		key, value, _ := strings.Cut(o, "=")
		var err error
		switch key {
		case "spread":
			var spread float64
			spread, err = strconv.ParseFloat(value, 32)
			export.Spread = float32(spread)
		case "stepwork":
			export.StepWork, err = strconv.Atoi(value)
		default:
			err = errors.New("unknown option")
		}
		if err != nil {
			t.Fatalf("sd option %q: %v", o, err)
		}
	}
	if err := export.Write(dir); err != nil {
		t.Fatal(err)
	}
	if err := sdtest.WriteTokenizer(dir, filepath.Join(sharedDir, "tokenizer", "bpe_simple_vocab_16e6.txt.gz")); err != nil {
		t.Fatal(err)
	}
}
