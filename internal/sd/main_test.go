package sd

import (
	"context"
	"math"
	"testing"

	"dream/internal/ort"
	"dream/internal/sd/sdtest"
	"dream/internal/testenv"
)

var testRuntime *ort.Runtime

func TestMain(m *testing.M) {
	testenv.Run(m, func(rt *ort.Runtime) { testRuntime = rt })
}

// openExport writes a test export into a fresh folder and opens it.
func openExport(t testing.TB, e sdtest.Export) *Model {
	t.Helper()
	dir := t.TempDir()
	if err := e.Write(dir); err != nil {
		t.Fatal(err)
	}
	if err := sdtest.WriteTokenizer(dir, sharedMerges()); err != nil {
		t.Fatal(err)
	}
	m, err := Open(testRuntime, dir, Policy{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// guided sets up the UNet of m with the embeddings of prompt, for a latent of h×w.
func guided(t testing.TB, m *Model, prompt string, scale float64, h, w int) (*guidedUNet, []float32) {
	t.Helper()
	ctx := context.Background()
	if _, err := m.describeUNet(); err != nil {
		t.Fatal(err)
	}
	emb, _, err := m.encodePrompt(ctx, prompt, m.guides(scale))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.openUNet(); err != nil {
		t.Fatal(err)
	}
	g, err := m.newGuidedUNet(emb, scale, h, w)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.destroy)
	return g, emb
}

// maxAbsDiff is the largest |a[i] − b[i]|.
func maxAbsDiff[T float32 | float64](a []T, b []float64) float64 {
	worst := 0.0
	for i := range a {
		worst = math.Max(worst, math.Abs(float64(a[i])-b[i]))
	}
	return worst
}

// sharedMerges is CLIP's own merges file, in the shared folder.
func sharedMerges() string { return testenv.Shared("tokenizer", "bpe_simple_vocab_16e6.txt.gz") }
