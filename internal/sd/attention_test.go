package sd

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	onnx "github.com/yalue/onnxruntime_go"

	"dream/internal/ort"
	"dream/internal/sd/sdtest"
)

// The UNet loads with its attention blocks fused, and computes what the export computes:
// within 1e-3 of the UNet loaded as exported, on random latents and text embeddings.
func TestFusedAttentionMatchesExport(t *testing.T) {
	export := sdtest.Export{Mean: oneLatent, Spread: 0.5, Attention: true}
	fused := openExport(t, export)
	plain, err := Open(testRuntime, fused.Dir, Policy{PlainAttention: true})
	if err != nil {
		t.Fatal(err)
	}
	withoutAttention := openExport(t, sdtest.Export{Mean: oneLatent, Spread: 0.5})
	for _, m := range []*Model{fused, plain, withoutAttention} {
		if err := m.openUNet(); err != nil {
			t.Fatal(err)
		}
	}
	if fused.FusedAttention() != 2 || plain.FusedAttention() != 0 || withoutAttention.FusedAttention() != 0 {
		t.Fatalf("attention blocks fused: %d by default, %d with PlainAttention, %d without any; want 2, 0, 0",
			fused.FusedAttention(), plain.FusedAttention(), withoutAttention.FusedAttention())
	}
	rng := NewRand(7)
	sample := Normal(rng, 2*4*16*16)
	text := Normal(rng, 2*ContextLength*HiddenSize)
	for _, timestep := range []float32{999, 500.5, 20} {
		want := runUNet(t, plain, sample, timestep, text)
		got := runUNet(t, fused, sample, timestep, text)
		d := maxAbsDiff(got, widen(want))
		t.Logf("timestep %g: the fused UNet differs from the export by up to %g", timestep, d)
		if d > 1e-3 {
			t.Errorf("timestep %g: the fused UNet differs from the export by up to %g", timestep, d)
		}
		// The attention must weigh in, or the comparison above would prove nothing.
		bare := runUNet(t, withoutAttention, sample, timestep, text)
		if d := maxAbsDiff(bare, widen(want)); d < 0.1 {
			t.Errorf("timestep %g: the attention blocks change the prediction by only %g", timestep, d)
		}
	}
}

// runUNet runs m's UNet once on a batch of 2 latents of 16×16.
func runUNet(t *testing.T, m *Model, sample []float32, timestep float32, text []float32) []float32 {
	t.Helper()
	x, err := onnx.NewTensor(onnx.NewShape(2, 4, 16, 16), sample)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Destroy()
	ts, err := onnx.NewTensor(onnx.NewShape(1), []float32{timestep})
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Destroy()
	c, err := onnx.NewTensor(onnx.NewShape(2, ContextLength, HiddenSize), text)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Destroy()
	out, err := onnx.NewEmptyTensor[float32](onnx.NewShape(2, 4, 16, 16))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Destroy()
	if err := m.unet.Run(context.Background(), []ort.Value{x, ts, c}, []ort.Value{out}); err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), out.GetData()...)
}

func widen(v []float32) []float64 {
	w := make([]float64, len(v))
	for i, x := range v {
		w[i] = float64(x)
	}
	return w
}

// The same comparison on a real-size export, with the time of a sampler step's UNet run
// (512×512, batch 2 for guidance) each way. It takes minutes and gigabytes, so it runs only
// when DREAM_SD_REALSIZE names such an export (SD 1.x or 2.x; see tools/sdgen). The two
// UNets are loaded one at a time, alternating, DREAM_REALSIZE_ROUNDS times each (default 1);
// each load runs realSizeRuns steps after a first one, which also sizes ONNX Runtime's
// memory and is not counted.
func TestFusedAttentionRealSize(t *testing.T) {
	dir := os.Getenv("DREAM_SD_REALSIZE")
	if dir == "" {
		t.Skip("DREAM_SD_REALSIZE is not set")
	}
	rounds, _ := strconv.Atoi(os.Getenv("DREAM_REALSIZE_ROUNDS"))
	rng := NewRand(3)
	x := Normal(rng, 4*64*64)
	for i := range x {
		x[i] *= 14.6 // the first step's noise level
	}
	embeddings := Normal(rng, 2*ContextLength*1024) // enough for SD 2.x's width; SD 1.x's takes the start
	outs := map[bool][]float32{}
	times := map[bool][]time.Duration{}
	for range max(rounds, 1) {
		for _, plain := range []bool{true, false} {
			var runs []time.Duration
			outs[plain], runs = realSizeSteps(t, dir, plain, x, embeddings)
			times[plain] = append(times[plain], runs...)
		}
	}
	before, after := median(times[true]), median(times[false])
	t.Logf("seconds per step, median of %d: %.2f as exported, %.2f fused (%.0f%% less)",
		len(times[true]), before.Seconds(), after.Seconds(), 100*(1-after.Seconds()/before.Seconds()))
	d := maxAbsDiff(outs[false], widen(outs[true]))
	t.Logf("the fused UNet differs from the export by up to %g", d)
	if d > 1e-3 {
		t.Errorf("the fused UNet differs from the export by up to %g", d)
	}
}

const realSizeRuns = 3

// realSizeSteps loads the UNet of dir, runs it as a 512×512 sampler step does, once and
// then realSizeRuns times, logs the times, closes it, and returns the last run's output
// (both halves of the batch) and the times of the counted runs.
func realSizeSteps(t *testing.T, dir string, plain bool, x, embeddings []float32) ([]float32, []time.Duration) {
	m, err := Open(testRuntime, dir, Policy{PlainAttention: plain, KeepAll: true})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := m.openUNet(); err != nil {
		t.Fatal(err)
	}
	load := time.Since(start)
	defer m.closeUNet()
	g, err := m.newGuidedUNet(embeddings[:2*ContextLength*m.shape.hidden], 7.5, 64, 64)
	if err != nil {
		t.Fatal(err)
	}
	defer g.destroy()
	if !plain && m.FusedAttention() != 32 {
		t.Errorf("%d of the UNet's 32 attention blocks fused", m.FusedAttention())
	}
	var runs []time.Duration
	for range 1 + realSizeRuns {
		start := time.Now()
		if _, err := g.predict(context.Background(), x, 14.6, 999); err != nil {
			t.Fatal(err)
		}
		runs = append(runs, time.Since(start))
	}
	name := "as exported"
	if !plain {
		name = fmt.Sprintf("%d attention blocks fused", m.FusedAttention())
	}
	t.Logf("%s: load %.1f s, runs %s, %s", name, load.Seconds(), seconds(runs), residentMemory())
	var out []float32
	for _, o := range g.outs {
		out = append(out, o.GetData()...)
	}
	return out, runs[1:]
}

func seconds(ds []time.Duration) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = fmt.Sprintf("%.2f", d.Seconds())
	}
	return strings.Join(s, " ") + " s"
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// residentMemory is the process's resident memory as /proc reports it (Linux), where ONNX
// Runtime's arena keeps what a run needed until the session closes.
func residentMemory() string {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "resident memory unknown"
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return "resident " + strings.TrimSpace(rest)
		}
	}
	return "resident memory unknown"
}
