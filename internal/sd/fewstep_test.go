package sd

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dream/internal/sampler"
	"dream/internal/sd/sdtest"
)

// sampleLatent runs a whole sampler line on u and returns the model's latent.
func sampleLatent(t *testing.T, u *guidedUNet, name string, steps int, seed uint32) []float32 {
	t.Helper()
	rng := NewRand(seed)
	noise := Normal(rng, u.n)
	got, err := sampler.Sample(context.Background(), name, u.predict, noise, nil, sampler.Options{Steps: steps, Rand: rng})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// At -C 1 or less the UNet runs once per step, on the prompt alone, and the latent is the
// one the two-pass guidance gave at -C 1 (ε_u + 1·(ε_c − ε_u) = ε_c) within float rounding.
// The test UNet's halves differ (Guidance), so a run on the empty prompt would show.
func TestOnePassWithoutGuidance(t *testing.T) {
	m := openExport(t, sdtest.Export{Mean: oneLatent, Spread: 0.5, Guidance: 3})
	const h, w, steps = 4, 6, 8
	ctx := context.Background()
	if err := m.openUNet(); err != nil {
		t.Fatal(err)
	}
	both, _, err := m.encodePrompt(ctx, "a red fox", true)
	if err != nil {
		t.Fatal(err)
	}
	twoPass, err := m.newUNetRun(both, 1, true, h, w)
	if err != nil {
		t.Fatal(err)
	}
	defer twoPass.destroy()
	for _, name := range []string{"k_euler_a", "k_dpmpp_2m", "lcm"} {
		want := sampleLatent(t, twoPass, name, steps, 7)
		for _, scale := range []float64{1, 0.5, 0} {
			t.Run(fmt.Sprintf("%s/C=%g", name, scale), func(t *testing.T) {
				one, _ := guided(t, m, "a red fox", scale, h, w)
				got := sampleLatent(t, one, name, steps, 7)
				if one.runs != steps {
					t.Errorf("%d UNet runs for %d steps, want one each", one.runs, steps)
				}
				worst := 0.0
				for i := range got {
					worst = math.Max(worst, math.Abs(float64(got[i]-want[i])))
				}
				if worst > 1e-4 {
					t.Errorf("latent differs from the two-pass -C 1 latent by %.3g", worst)
				}
			})
		}
	}
	if twoPass.runs < 2*steps {
		t.Errorf("the two-pass run made %d UNet runs", twoPass.runs)
	}
}

// An LCM-distilled UNet (timestep_cond) runs once per step whatever -C is, and is told C − 1
// through the guidance embedding: the test UNet adds CondWeight × its mean.
func TestGuidanceEmbeddingReachesTheUNet(t *testing.T) {
	m := openExport(t, sdtest.Export{Mean: oneLatent, TimestepCond: 256})
	const h, w = 2, 3
	for _, scale := range []float64{1, 2, 8.5} {
		t.Run(fmt.Sprint(scale), func(t *testing.T) {
			u, emb := guided(t, m, "a cat", scale, h, w)
			if len(emb) != ContextLength*HiddenSize {
				t.Fatalf("%d embedding values: the empty prompt was encoded too", len(emb))
			}
			x := make([]float32, u.n)
			const sigma = 2.0
			got, err := u.predict(context.Background(), x, sigma, sigmaToTimestep(t, sigma))
			if err != nil {
				t.Fatal(err)
			}
			term := float64(sdtest.CondWeight) * mean(GuidanceEmbedding(scale-1, 256))
			for i, v := range got {
				want := -float64(oneLatent[i/(h*w)])/sigma + term
				if math.Abs(float64(v)-want) > 1e-5 {
					t.Fatalf("ε[%d] = %g, want %g", i, v, want)
				}
			}
			if u.runs != 1 {
				t.Errorf("%d UNet runs for one prediction", u.runs)
			}
		})
	}
}

// GuidanceEmbedding as diffusers computes it: sines then cosines of 1000·w at frequencies
// falling from 1 to 1/10000. Values worked out by hand: at w = 0 the sines are 0 and the
// cosines 1; at frequency 1 (i = 0) the pair is sin, cos of 1000·w.
func TestGuidanceEmbedding(t *testing.T) {
	zero := GuidanceEmbedding(0, 256)
	for i := range 128 {
		if zero[i] != 0 || zero[128+i] != 1 {
			t.Fatalf("w = 0: element %d is %g, %d is %g", i, zero[i], 128+i, zero[128+i])
		}
	}
	e := GuidanceEmbedding(7.5, 256)
	if math.Abs(float64(e[0])-math.Sin(7500)) > 1e-6 || math.Abs(float64(e[128])-math.Cos(7500)) > 1e-6 {
		t.Errorf("w = 7.5: first pair %g, %g; want sin, cos of 7500", e[0], e[128])
	}
	// The last frequency is 1/10000: 0.75 rad.
	if math.Abs(float64(e[127])-math.Sin(0.75)) > 1e-5 {
		t.Errorf("w = 7.5: last sine %g, want sin(0.75) = %g", e[127], math.Sin(0.75))
	}
	if odd := GuidanceEmbedding(1, 5); len(odd) != 5 || odd[4] != 0 {
		t.Errorf("odd width: %v, want a final 0", odd)
	}
}

// A v-prediction export (SD 2.x at 768) makes the same image as an ε one once its scheduler
// config is read; read as ε it would not.
func TestVPrediction(t *testing.T) {
	req := Request{Prompt: "a photo of a cat", Width: 32, Height: 24, Steps: 12, CFGScale: 7.5, Sampler: "k_dpmpp_2m"}
	eps := generateOne(t, openExport(t, sdtest.Export{Mean: oneLatent, Spread: 0.5}), req, 3)
	vm := openExport(t, sdtest.Export{Mean: oneLatent, Spread: 0.5, VPrediction: true})
	if vm.scheduler.PredictionType != "v_prediction" {
		t.Fatalf("prediction type %q read from the config", vm.scheduler.PredictionType)
	}
	v := generateOne(t, vm, req, 3)
	if d := maxPixelDiff(eps.Pix, v.Pix); d > 1 {
		t.Errorf("v-prediction image differs from the ε image by %d levels", d)
	}
	vm.scheduler.PredictionType = "epsilon"
	if d := maxPixelDiff(eps.Pix, generateOne(t, vm, req, 3).Pix); d < 10 {
		t.Errorf("read as ε, the v-prediction export still made the image (difference %d): the test shows nothing", d)
	}
}

func maxPixelDiff(a, b []byte) int {
	worst := 0
	for i := range a {
		worst = max(worst, int(a[i])-int(b[i]), int(b[i])-int(a[i]))
	}
	return worst
}

// SD-Turbo's scheduler config asks for trailing timesteps, which the sampler then uses.
func TestTrailingFromSchedulerConfig(t *testing.T) {
	m := openExport(t, sdtest.Export{Mean: oneLatent, Trailing: true})
	if m.scheduler.TimestepSpacing != "trailing" {
		t.Fatalf("timestep spacing %q read from the config", m.scheduler.TimestepSpacing)
	}
	req := Request{Prompt: "a cat", Width: 16, Height: 16, Steps: 1, CFGScale: 1, Sampler: "k_euler_a"}
	img := generateOne(t, m, req, 1)
	want := decodeByHand(pointLatent(4), 2, 2)
	for i, v := range img.Pix {
		if math.Abs(float64(v)-want[i]) > 0.5+1e-3 {
			t.Fatalf("one trailing step: sample %d is %d, want %.3f", i, v, want[i])
		}
	}
	bad := t.TempDir()
	if err := (sdtest.Export{Mean: oneLatent}).Write(bad); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(bad, "scheduler"), 0o755)
	os.WriteFile(filepath.Join(bad, SchedulerConfigFile), []byte(`{"prediction_type": "sample"}`), 0o644)
	if _, err := readSchedulerConfig(bad); err == nil || !strings.Contains(err.Error(), "prediction_type") {
		t.Errorf("an x0-prediction config: %v", err)
	}
}

// SD 2.x: 1024-wide embeddings from a tokenizer that pads with "!" (id 0).
func TestSD2Export(t *testing.T) {
	dir := t.TempDir()
	if err := (sdtest.Export{Mean: oneLatent, Hidden: 1024}).Write(dir); err != nil {
		t.Fatal(err)
	}
	if err := sdtest.WriteTokenizer(dir, sharedMerges()); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, TokenizerDir, "tokenizer_config.json"), []byte(`{"pad_token": "!"}`), 0o644)
	m, err := Open(testRuntime, dir, Policy{})
	if err != nil {
		t.Fatal(err)
	}
	emb, _, err := m.encodePrompt(context.Background(), "a photo of a cat", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(emb) != ContextLength*1024 {
		t.Fatalf("%d embedding values, want 77×1024", len(emb))
	}
	for i, id := range []int32{49406, 320, 1125, 539, 320, 2368, 49407, 0, 0} {
		got := emb[i*1024] // element 0 of token i
		if want := float64(id) / (1024 * 49408); math.Abs(float64(got)-want) > 1e-6 {
			t.Fatalf("token %d: embedding %g, want %g (id %d)", i, got, want, id)
		}
	}
	img := generateOne(t, m, Request{Prompt: "a cat", Width: 16, Height: 16, Steps: 10, CFGScale: 7.5, Sampler: "k_euler"}, 1)
	want := decodeByHand(pointLatent(4), 2, 2)
	for i, v := range img.Pix {
		if math.Abs(float64(v)-want[i]) > 0.5+1e-3 {
			t.Fatalf("sample %d is %d, want %.3f", i, v, want[i])
		}
	}
}

// --vae tiny decodes with vae_decoder_tiny on the latent as the UNet gives it.
func TestTinyVAE(t *testing.T) {
	m := openExport(t, sdtest.Export{Mean: oneLatent, Tiny: true})
	req := Request{Prompt: "a cat", Width: 16, Height: 16, Steps: 10, CFGScale: 7.5, Sampler: "k_euler", VAE: TinyVAE}
	img := generateOne(t, m, req, 1)
	for i, v := range img.Pix {
		c := i % 3
		u := float64(sdtest.TinyDecoderBias[c])
		for k := range 4 {
			u += float64(sdtest.TinyDecoder[c][k]) * float64(oneLatent[k])
		}
		if want := (u + 1) / 2 * 255; math.Abs(float64(v)-want) > 0.5+1e-3 {
			t.Fatalf("sample %d is %d, want %.3f", i, v, want)
		}
	}
	if files := m.Files(false, TinyVAE); files[len(files)-1] != TinyDecoderFile {
		t.Errorf("model files %v do not name the tiny decoder", files)
	}
	plain := openExport(t, sdtest.Export{Mean: oneLatent})
	err := plain.Generate(context.Background(), req, []uint32{1}, func(Result) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "vae_decoder_tiny") {
		t.Errorf("--vae tiny without a tiny decoder: %v", err)
	}
}

// pointLatent is the one-latent data set's point for a latent of plane pixels, where every
// k-sampler's line ends.
func pointLatent(plane int) []float64 {
	out := make([]float64, 4*plane)
	for i := range out {
		out[i] = float64(oneLatent[i/plane])
	}
	return out
}
