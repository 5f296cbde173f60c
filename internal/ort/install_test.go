package ort

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// installScript is scripts/install_onnxruntime.
var installScript = filepath.Join("..", "..", "scripts", "install_onnxruntime")

// runInstall runs the install script with DREAM_CACHE=cache and returns its stdout, stderr and
// error.
func runInstall(t *testing.T, cache string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(installScript, args...)
	cmd.Env = append(os.Environ(), "DREAM_CACHE="+cache)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

var cudaBuildFiles = []string{"libonnxruntime.so", "libonnxruntime_providers_shared.so",
	"libonnxruntime_providers_cuda.so", "libonnxruntime_providers_tensorrt.so"}

// TestInstallCUDABuild runs scripts/install_onnxruntime --cuda into an empty cache beside a
// CPU install: the CUDA build lands in gpu-1.29.0 whole, the CPU install is left as it was,
// the NVIDIA libraries are reported, a second run keeps the files, and a damaged file is
// fetched again. The packages come from npm (its cache, after make test's own install).
func TestInstallCUDABuild(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("the CUDA build exists for linux/amd64 only")
	}
	if testing.Short() {
		t.Skip("fetches and unpacks 330 MB of npm packages")
	}
	cache := t.TempDir()
	cpu := filepath.Join(cache, "onnxruntime", WantedVersion, libraryFileName())
	touch(t, cpu)
	cpuBefore, _ := os.ReadFile(cpu)
	old := time.Now().Add(-time.Hour)
	os.Chtimes(cpu, old, old)

	stdout, stderr, err := runInstall(t, cache, "--cuda")
	if err != nil {
		t.Fatalf("install --cuda: %v\n%s", err, stderr)
	}
	dir := filepath.Join(cache, "onnxruntime", "gpu-"+GPUVersion)
	if last := lastLine(stdout); last != filepath.Join(dir, "libonnxruntime.so") {
		t.Errorf("the script's last line is %q, want the library's path", last)
	}
	for _, name := range cudaBuildFiles {
		if !fileExists(filepath.Join(dir, name)) {
			t.Errorf("%s is not in %s", name, dir)
		}
	}
	if after, err := os.ReadFile(cpu); err != nil || !bytes.Equal(after, cpuBefore) {
		t.Errorf("the CPU install changed: %v", err)
	}
	if info, err := os.Stat(cpu); err != nil || !info.ModTime().Equal(old) {
		t.Errorf("the CPU install was written again")
	}
	for _, part := range append([]string{"the CUDA provider needs:"}, cudaLibraryNames...) {
		if !strings.Contains(stderr, part) {
			t.Errorf("the report lacks %q:\n%s", part, stderr)
		}
	}
	t.Logf("report:\n%s", stderr)

	// Again: nothing is fetched. Then a damaged provider is noticed by its sha256 and replaced.
	if _, stderr, err := runInstall(t, cache, "--cuda"); err != nil || strings.Contains(stderr, "fetching") {
		t.Errorf("a second run fetched again or failed (%v):\n%s", err, stderr)
	}
	provider := filepath.Join(dir, cudaProviderFile)
	if err := os.WriteFile(provider, []byte("damaged"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := runInstall(t, cache, "--cuda"); err != nil || !strings.Contains(stderr, "fetching") {
		t.Errorf("a damaged provider was not fetched again (%v):\n%s", err, stderr)
	}
	if info, err := os.Stat(provider); err != nil || info.Size() < 100<<20 {
		t.Errorf("the provider was not restored: %v", err)
	}
}

// TestInstallCUDABuildChecksSums gives the script (--from) packages whose files are not the
// ones it knows: it refuses them and installs nothing.
func TestInstallCUDABuildChecksSums(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("the CUDA build exists for linux/amd64 only")
	}
	from := t.TempDir()
	writePackage(t, filepath.Join(from, "com.github.asus4.onnxruntime-0.4.9.tgz"), "libonnxruntime.so")
	writePackage(t, filepath.Join(from, "com.github.asus4.onnxruntime.linux-x64-gpu-0.4.9.tgz"),
		cudaBuildFiles[1:]...)
	cache := t.TempDir()
	_, stderr, err := runInstall(t, cache, "--cuda", "--from", from)
	if err == nil {
		t.Fatal("the script installed packages with the wrong files")
	}
	want := "install_onnxruntime: sha256 mismatch for libonnxruntime.so from com.github.asus4.onnxruntime-0.4.9.tgz: got "
	if !strings.Contains(stderr, want) || !strings.Contains(stderr, "nothing installed") {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
	if _, err := os.Stat(filepath.Join(cache, "onnxruntime", "gpu-"+GPUVersion)); !os.IsNotExist(err) {
		t.Errorf("the CUDA build's folder exists after a refused install: %v", err)
	}

	_, stderr, err = runInstall(t, cache, "--cuda", "--from", t.TempDir())
	if err == nil || !strings.Contains(stderr, "has no com.github.asus4.onnxruntime-0.4.9.tgz: put the file from 'npm pack com.github.asus4.onnxruntime@0.4.9' there") {
		t.Errorf("an empty --from folder: %v\n%s", err, stderr)
	}
}

// writePackage writes an npm tarball whose package/Plugins/Linux/x64 holds files of those
// names with other bytes than the real ones.
func writePackage(t *testing.T, path string, names ...string) {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, name := range names {
		body := []byte("not the library " + name)
		hdr := &tar.Header{Name: "package/Plugins/Linux/x64/" + name, Mode: 0o644, Size: int64(len(body))}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		tw.Write(body)
	}
	tw.Close()
	gz.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}
