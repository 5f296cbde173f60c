package main

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"dream/internal/ort"
)

// A person who starts dream on a terminal without ONNX Runtime is asked whether to download
// it. No leaves the prompt as it was; yes (Enter) fetches it from the registry, and a
// download that is not the package installs nothing, says why, and ends dream.
func TestTerminalOffersRuntime(t *testing.T) {
	registry := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/npm/onnxruntime-node/-/onnxruntime-node-1.30.0.tgz" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("not the package npm publishes"))
	}))
	defer registry.Close()
	question := func(from, cache string) string {
		return "ONNX Runtime " + ort.WantedVersion + " is not installed. Download it from " + from + " (108 MiB) into " +
			filepath.Join(cache, "onnxruntime", ort.WantedVersion) + "? [Y/n] "
	}
	for _, tc := range []struct {
		name     string
		registry string
		answer   string
		want     []string // what the terminal shows after the question, in order
		exit     int
	}{
		{name: "no", answer: "n\r",
			want: []string{"not installed: dream --install-runtime installs it later", "dream> "}},
		{name: "yes, from a registry that serves another file", registry: registry.URL + "/npm/", answer: "\r",
			want: []string{"downloading onnxruntime-node-1.30.0.tgz (108.2 MiB) from " + registry.URL + "/npm/onnxruntime-node/-/onnxruntime-node-1.30.0.tgz",
				"dream: download onnxruntime-node-1.30.0.tgz: ", ": sha256 ", ", expected 6e3390d6b783e7be946fad629292799da28d0b42f84856e50d2c1b0383291e75; the download was deleted"},
			exit: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			work, cache := t.TempDir(), t.TempDir()
			env := append(runtimeEnv(cache), "npm_config_registry="+tc.registry)
			term := startInTerminalWith(t, work, env, "--device", "cpu")
			from := "the npm registry"
			if tc.registry != "" {
				from = tc.registry
			}
			term.waitFor(t, question(from, cache))
			term.send(t, tc.answer)
			for _, text := range tc.want {
				term.waitFor(t, text)
			}
			if tc.exit == 0 {
				term.send(t, "q\r")
			}
			code := 0
			var exit *exec.ExitError
			if err := term.cmd.Wait(); errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatalf("waiting for dream: %v", err)
			}
			if code != tc.exit {
				t.Errorf("dream exited with %d, want %d", code, tc.exit)
			}
			if entries, _ := os.ReadDir(filepath.Join(cache, "onnxruntime", ort.WantedVersion)); len(entries) != 0 {
				t.Errorf("the cache holds %d files after no install", len(entries))
			}
		})
	}
}
