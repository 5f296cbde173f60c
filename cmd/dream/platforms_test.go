//go:build linux && amd64

package main

// The cross-builds, run for real: dream for windows/amd64 under Wine and for linux/arm64
// under qemu-user, each with its own platform's ONNX Runtime from onnxruntime-node, doing
// the same !fix jobs as this host's build. Their images must equal the host's within 60 dB
// PSNR: the runtimes are built by different compilers for different CPUs, so the last bits
// may differ, nothing more. The runs also exercise what only those platforms have: Windows'
// file-sharing rules on every temp file, drive letters and backslashes in paths, the DLL
// beside dream.exe, the history file under %USERPROFILE%; and on arm64 the check that keeps
// the host's x86-64 CUDA build from being taken.
//
// scripts/install_cross_tools installs the compilers, Wine, qemu and the two runtimes;
// scripts/wine/setup prepares the Wine prefix. make test runs both first.

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"dream/internal/imagecmp"
	"dream/internal/imageio"
	"dream/internal/ort"
	"dream/internal/testenv"
)

// platformLines are the jobs every build runs: general-x4v3 ×4 of a small crop, and faces
// restored by the CodeFormer test model (output = input · w), so a restored face differs
// from the photo and a skipped restore would show.
var platformLines = []string{
	"!fix {in}crop.png -U 4",
	"!fix {in}face.png -G 1 -ft codeformer -cf 0.7",
}

// platformResults are the files the lines write.
var platformResults = []string{"crop.fixed.png", "face.fixed.png"}

// minPlatformPSNR is how close another platform's image must be to the host's.
const minPlatformPSNR = 60

func TestOtherPlatforms(t *testing.T) {
	inputs := t.TempDir()
	writePlatformInputs(t, inputs)
	native := runNative(t, inputs)
	for _, p := range []struct {
		target string
		run    func(t *testing.T, inputs string) string
	}{
		{"windows/amd64", runWindows},
		{"linux/arm64", runARM64},
	} {
		t.Run(strings.ReplaceAll(p.target, "/", "_"), func(t *testing.T) {
			t.Parallel()
			outdir := p.run(t, inputs)
			compareResults(t, p.target, native, outdir)
		})
	}
}

// writePlatformInputs puts the images and models the lines use into dir: a 40×40 crop
// (emulated arm64 runs general-x4v3 at about 130 input pixels a second), the astronaut
// photo, the real upscaler and detector, and the CodeFormer test restorer.
func writePlatformInputs(t *testing.T, dir string) {
	photo := testenv.SharedImage(t, "images", "coffee_crop128.png")
	if err := imageio.SavePNG(filepath.Join(dir, "crop.png"), cropOf(photo, 40, 40, 40, 40)); err != nil {
		t.Fatal(err)
	}
	testenv.CopyFile(t, testenv.Shared("images", "astronaut.png"), filepath.Join(dir, "face.png"))
	models := filepath.Join(dir, "models")
	if err := os.Mkdir(models, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"realesr-general-x4v3.onnx", "face_detection_yunet.onnx"} {
		testenv.CopyFile(t, testenv.Shared("models", name), filepath.Join(models, name))
	}
	testenv.WriteRestorer(t, "codeformer", filepath.Join(models, "codeformer.onnx"))
}

// cropOf copies the w×h rectangle at (x, y) of an 8-bit image.
func cropOf(src *imageio.Image, x, y, w, h int) *imageio.Image {
	out := imageio.New(w, h, src.Channels, src.Depth)
	row := w * src.Channels
	for r := range h {
		from := ((y+r)*src.W + x) * src.Channels
		copy(out.Pix[r*row:(r+1)*row], src.Pix[from:from+row])
	}
	return out
}

// platformArgs are the launch flags of every run; models is the model folder as the
// platform writes paths.
func platformArgs(models, outdir string) []string {
	return []string{"--models", models, "--outdir", outdir, "--device", "auto", "--esrgan_model", "general-x4v3"}
}

// stdinFor gives the lines with {in} replaced by the folder of the inputs, as typed on
// the platform.
func stdinFor(in string) string {
	var b strings.Builder
	for _, line := range platformLines {
		b.WriteString(strings.ReplaceAll(line, "{in}", in) + "\n")
	}
	return b.String()
}

func runNative(t *testing.T, inputs string) string {
	outdir := filepath.Join(t.TempDir(), "out")
	cmd := exec.Command(dreamBinary, platformArgs(filepath.Join(inputs, "models"), outdir)...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "DREAM_CACHE="+ort.CacheDir())
	runPlatform(t, "linux/amd64", cmd, stdinFor(inputs+"/"))
	return outdir
}

// runWindows runs dream.exe under Wine from a folder that also holds onnxruntime.dll, the
// way a user unpacks the release archive next to the runtime. Every path it is given is a
// Windows path: a drive letter and backslashes, unquoted at the prompt.
func runWindows(t *testing.T, inputs string) string {
	prefix := scriptOutput(t, "scripts/wine/setup")
	dir := t.TempDir()
	exe := filepath.Join(dir, "dream.exe")
	crossBuild(t, "windows/amd64", exe)
	testenv.CopyFile(t, filepath.Join(ort.CacheDir(), "onnxruntime", "1.30.0-windows-amd64", "onnxruntime.dll"),
		filepath.Join(dir, "onnxruntime.dll"))
	outdir := filepath.Join(dir, "out")
	cmd := exec.Command("wine", append([]string{exe}, platformArgs(winPath(filepath.Join(inputs, "models")), winPath(outdir))...)...)
	cmd.Dir = dir
	// Not DREAM_CACHE: dream finds its cache under %LOCALAPPDATA%, and the DLL beside it.
	cmd.Env = append(withoutEnv(os.Environ(), "DREAM_CACHE", "ONNXRUNTIME_LIB"), "WINEPREFIX="+prefix, "WINEDEBUG=-all")
	runPlatform(t, "windows/amd64", cmd, stdinFor(winPath(inputs)+`\`))

	return outdir
}

// runARM64 runs the linux/arm64 build under qemu-user with the arm64 runtime. qemu shows
// the host's /proc/cpuinfo, whose x86 fields make the runtime's CPU probe crash while the
// library loads; a private mount namespace shows it an arm64 one instead (testdata).
func runARM64(t *testing.T, inputs string) string {
	dir := t.TempDir()
	bin := filepath.Join(dir, "dream")
	crossBuild(t, "linux/arm64", bin)
	lib := filepath.Join(ort.CacheDir(), "onnxruntime", "1.30.0-linux-arm64", "libonnxruntime.so.1")
	cpuinfo, err := filepath.Abs(filepath.Join("testdata", "arm64-cpuinfo"))
	if err != nil {
		t.Fatal(err)
	}
	outdir := filepath.Join(dir, "out")
	args := append([]string{"-m", "sh", "-c", `mount --bind "$0" /proc/cpuinfo && exec qemu-aarch64 -L /usr/aarch64-linux-gnu "$@"`,
		cpuinfo, bin, "--ort-lib", lib}, platformArgs(filepath.Join(inputs, "models"), outdir)...)
	cmd := exec.Command("unshare", args...)
	// The host's cache holds an x86-64 CUDA build, which --device auto must pass over.
	cmd.Env = append(os.Environ(), "HOME="+dir, "DREAM_CACHE="+ort.CacheDir())
	runPlatform(t, "linux/arm64", cmd, stdinFor(inputs+"/"))
	return outdir
}

// runPlatform runs one build with the lines on stdin and checks it ended well: exit 0, a
// "wrote" line per job, and nothing on stderr but notes and the runtime's harmless noise.
func runPlatform(t *testing.T, target string, cmd *exec.Cmd, stdin string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	t.Logf("%s: ran the jobs in %.1fs", target, time.Since(start).Seconds())
	for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if line != "" && !harmlessPlatformNoise(line) {
			t.Errorf("%s: unexpected on stderr: %s", target, line)
		}
	}
	if err != nil {
		t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", target, err, stdout.String(), stderr.String())
	}
	if n := strings.Count(stdout.String(), "wrote "); n != len(platformLines) {
		t.Fatalf("%s: %d of %d jobs wrote a file:\n%s", target, n, len(platformLines), stdout.String())
	}
}

// harmlessPlatformNoise is what may appear on stderr: dream's notes (which device runs,
// what a job found), and what ONNX Runtime prints under the emulators — Wine has no
// DirectX (DXGI), qemu shows no CPU vendor.
func harmlessPlatformNoise(line string) bool {
	return strings.HasPrefix(line, "note: ") || strings.Contains(line, "Failed to create DXGI factory") ||
		strings.Contains(line, "Unknown CPU vendor")
}

// compareResults holds each of the platform's images to the host's, and checks the output
// folder holds the results and nothing else: no temp file stayed behind.
func compareResults(t *testing.T, target, native, outdir string) {
	entries, err := os.ReadDir(outdir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, platformResults) {
		t.Errorf("%s: the output folder holds %q, want %q", target, names, platformResults)
	}
	for _, name := range platformResults {
		want, err := imageio.Load(filepath.Join(native, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := imageio.Load(filepath.Join(outdir, name))
		if err != nil {
			t.Errorf("%s: %v", target, err)
			continue
		}
		diff, err := imagecmp.Compare(want, got)
		if err != nil {
			t.Errorf("%s: %s: %v", target, name, err)
			continue
		}
		t.Logf("%s: %s against linux/amd64: %v", target, name, diff)
		if diff.PSNR < minPlatformPSNR {
			t.Errorf("%s: %s is %.2f dB from linux/amd64's, want at least %d", target, name, diff.PSNR, minPlatformPSNR)
		}
	}
}

// crossBuild builds dream for target into out through scripts/cross_build, which knows
// each target's C compiler.
func crossBuild(t *testing.T, target, out string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(repoRoot(t), "scripts", "cross_build"), target, out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building dream for %s: %v\n%s", target, err, msg)
	}
}

// scriptOutput runs a script of the repository and returns the last line it printed.
func scriptOutput(t *testing.T, script string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(repoRoot(t), script))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

func repoRoot(t *testing.T) string {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// winPath is how a Windows program under Wine names a host path: drive Z: is the root.
func winPath(path string) string {
	return `Z:` + strings.ReplaceAll(path, "/", `\`)
}

// withoutEnv drops the named variables from env.
func withoutEnv(env []string, names ...string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		return slices.Contains(names, name)
	})
}
