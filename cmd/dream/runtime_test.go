package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"dream/internal/ort"
	"dream/internal/runtimeinstall"
)

// runtimeEnv is the environment of a dream that has no ONNX Runtime: an empty cache, no
// library named, none on the loader's path, and a registry that refuses at once, so that no
// case reaches the network.
func runtimeEnv(cache string) []string {
	return []string{"DREAM_CACHE=" + cache, ort.EnvLibrary + "=", "LD_LIBRARY_PATH=",
		"npm_config_registry=http://127.0.0.1:1/", "NPM_CONFIG_REGISTRY="}
}

// --version, --install-runtime and the message of a missing runtime, through the binary. The
// pins are the real ones, so the tarballs here fail them; the install that succeeds is of the
// library make installed for the tests, which has the pinned sha256.
func TestRuntimeFlags(t *testing.T) {
	platform := runtime.GOOS + "/" + runtime.GOARCH
	lib := runtimeinstall.ONNXRuntimeNode.Libraries[platform]
	installed := filepath.Join(ort.CacheDir(), "onnxruntime", ort.WantedVersion, lib.FileName())
	cases := []struct {
		name   string
		args   []string
		setup  func(t *testing.T, cache, work string)
		stdin  string
		stdout []string // patterns as in transcripts: * matches any text; $CACHE and $WORK are expanded
		stderr []string
		exit   int
	}{
		{name: "version, with no runtime to load",
			args:   []string{"--version", "--ort-lib", "/nowhere/libonnxruntime.so.1"},
			stdout: []string{"dream * (" + platform + ", Go *, ONNX Runtime " + ort.WantedVersion + " wanted)"}},
		{name: "install, already there",
			args: []string{"--install-runtime"},
			setup: func(t *testing.T, cache, work string) {
				mustWrite(t, filepath.Join(cache, "onnxruntime", ort.WantedVersion, lib.FileName()), mustRead(t, installed))
			},
			stdout: []string{"ONNX Runtime " + ort.WantedVersion + " is already installed, with the sha256 dream expects",
				"$CACHE/onnxruntime/" + ort.WantedVersion + "/" + lib.FileName()}},
		{name: "install from a file that is not the package",
			args: []string{"--install-runtime", "--from", "$WORK/other.tgz"},
			setup: func(t *testing.T, cache, work string) {
				mustWrite(t, filepath.Join(work, "other.tgz"), []byte("not npm's"))
			},
			stderr: []string{"dream: $WORK/other.tgz has the wrong checksum: got sha512-*, want " + runtimeinstall.ONNXRuntimeNode.Integrity + "; nothing installed"},
			exit:   1},
		{name: "install from a folder without the tarball",
			args:   []string{"--install-runtime", "--from", "$WORK"},
			stderr: []string{"dream: $WORK has no onnxruntime-node-1.30.0.tgz: put the file that 'npm pack onnxruntime-node@1.30.0' makes there"},
			exit:   1},
		{name: "install from the registry npm_config_registry names, offline",
			args:   []string{"--install-runtime"},
			stderr: []string{"dream: *(http://127.0.0.1:1/onnxruntime-node/-/onnxruntime-node-1.30.0.tgz: *refused*"},
			exit:   1},
		{name: "from without install",
			args:   []string{"--from", "x.tgz"},
			stderr: []string{"dream: --from gives --install-runtime its npm tarball, or --preload its folder of model files; add one of them"},
			exit:   2},
		{name: "missing runtime, not a terminal: no question, the way to install it",
			args: []string{"--models", filepath.Join(sharedDir, "models"), "--device", "cpu"},
			setup: func(t *testing.T, cache, work string) {
				mustWrite(t, filepath.Join(work, "photo.png"), mustRead(t, filepath.Join(sharedDir, "images", "coffee_crop128.png")))
			},
			stdin:  "!fix photo.png -U 2\n",
			stderr: []string{"error: ONNX Runtime library not found (*): *'dream --install-runtime'*"},
			exit:   1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cache, work := t.TempDir(), t.TempDir()
			if tc.setup != nil {
				tc.setup(t, cache, work)
			}
			expand := strings.NewReplacer("$CACHE", cache, "$WORK", work)
			args := make([]string, len(tc.args))
			for i, a := range tc.args {
				args[i] = expand.Replace(a)
			}
			cmd := dreamCommand(work, args...)
			cmd.Env = append(cmd.Env, runtimeEnv(cache)...)
			cmd.Stdin = strings.NewReader(tc.stdin)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			cmd.Run()
			if code := cmd.ProcessState.ExitCode(); code != tc.exit {
				t.Errorf("exit status %d, want %d", code, tc.exit)
			}
			matchLines(t, "stdout", expandAll(expand, tc.stdout), stdout.String())
			matchLines(t, "stderr", expandAll(expand, tc.stderr), stderr.String())
			if tc.exit != 0 {
				if _, err := os.Stat(filepath.Join(cache, "onnxruntime", ort.WantedVersion, lib.FileName())); err == nil {
					t.Error("a failed run installed the library")
				}
			}
		})
	}
}

func expandAll(r *strings.Replacer, lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = r.Replace(l)
	}
	return out
}
