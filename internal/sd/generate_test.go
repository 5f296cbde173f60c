package sd

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"dream/internal/imageio"
	"dream/internal/sampler"
	"dream/internal/sd/sdtest"
)

func generateOne(t *testing.T, m *Model, req Request, seed uint32) *imageio.Image {
	t.Helper()
	var img *imageio.Image
	err := m.Generate(context.Background(), req, []uint32{seed}, func(r Result) error {
		if r.Seed != seed {
			t.Errorf("result for seed %d, asked for %d", r.Seed, seed)
		}
		img = r.Image
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// The whole chain on the one-latent data set: the image is the test decoder's picture of the
// ODE's end point (the latent itself, or for ddim and plms its point at σ_0), at the
// requested size, for every sampler. Rounding to 8 bits is the only loss allowed.
func TestGenerateMakesTheDataSetsImage(t *testing.T) {
	m := openExport(t, sdtest.Export{Mean: oneLatent})
	const seed, w, h = 1, 64, 40
	for _, name := range sampler.Names {
		t.Run(name, func(t *testing.T) {
			req := Request{Prompt: "a photo of a cat", Width: w, Height: h, Steps: 20, CFGScale: 7.5, Sampler: name}
			img := generateOne(t, m, req, seed)
			if img.W != w || img.H != h || img.Channels != 3 || img.Depth != 8 {
				t.Fatalf("image is %dx%d, %d channels, depth %d; want %dx%d RGB 8-bit", img.W, img.H, img.Channels, img.Depth, w, h)
			}
			noise := Normal(NewRand(seed), 4*(w/8)*(h/8))
			latent := lineEnd(t, name, req.Steps, false, noise, (w/8)*(h/8))
			want := decodeByHand(latent, w/8, h/8)
			for i, v := range img.Pix {
				if d := math.Abs(float64(v) - want[i]); d > 0.5+1e-3 {
					t.Fatalf("sample %d is %d, want %.3f", i, v, want[i])
				}
			}
		})
	}
}

// decodeByHand is the test decoder in plain Go, before rounding: Decoder·z + DecoderBias for
// each latent pixel, spread over its 8×8 block, mapped from [-1,1] to [0,255].
func decodeByHand(latent []float64, lw, lh int) []float64 {
	plane := lw * lh
	out := make([]float64, 3*plane*64)
	for y := 0; y < 8*lh; y++ {
		for x := 0; x < 8*lw; x++ {
			at := (y/8)*lw + x/8
			for c := 0; c < 3; c++ {
				v := float64(sdtest.DecoderBias[c])
				for k := 0; k < 4; k++ {
					v += float64(sdtest.Decoder[c][k]) * latent[k*plane+at]
				}
				out[3*(y*8*lw+x)+c] = math.Min(math.Max((v+1)/2*255, 0), 255)
			}
		}
	}
	return out
}

// With a spread-out data set the image depends on the seed: the same seed gives the same
// pixels, another seed others.
func TestSeedsDecideTheImage(t *testing.T) {
	m := openExport(t, sdtest.Export{Mean: oneLatent, Spread: 0.5})
	for _, name := range []string{"k_lms", "k_euler_a", "ddim"} {
		t.Run(name, func(t *testing.T) {
			req := Request{Prompt: "a photo of a cat", Width: 32, Height: 32, Steps: 10, CFGScale: 7.5, Sampler: name}
			a, b, c := generateOne(t, m, req, 5), generateOne(t, m, req, 5), generateOne(t, m, req, 6)
			if !equalPix(a, b) {
				t.Error("the same seed gave two different images")
			}
			if equalPix(a, c) {
				t.Error("seeds 5 and 6 gave the same image")
			}
		})
	}
}

func equalPix(a, b *imageio.Image) bool {
	if len(a.Pix) != len(b.Pix) {
		return false
	}
	for i := range a.Pix {
		if a.Pix[i] != b.Pix[i] {
			return false
		}
	}
	return true
}

// -n: one encoding of the prompt, one image per seed, the same images whatever the policy.
// With every model kept, each image is handed over before the next starts; otherwise all are
// sampled first, so the UNet can close before decoding.
func TestGenerateManySeeds(t *testing.T) {
	var images [2][]*imageio.Image
	for k, keep := range []bool{true, false} {
		m := openExport(t, sdtest.Export{Mean: oneLatent, Spread: 0.5})
		m.policy = Policy{KeepAll: keep}
		req := Request{Prompt: "cat", Width: 16, Height: 16, Steps: 5, CFGScale: 7.5, Sampler: "k_euler"}
		var got []uint32
		var progress []int
		req.Progress = func(image, done, total int) {
			if done == total {
				progress = append(progress, image)
			}
		}
		err := m.Generate(context.Background(), req, []uint32{10, 11, 12}, func(r Result) error {
			got = append(got, r.Seed)
			images[k] = append(images[k], r.Image)
			sampled := len(got)
			if !keep {
				sampled = 3
			}
			if len(progress) != sampled {
				t.Errorf("KeepAll %v: image %d handed over after %d images finished sampling", keep, len(got), len(progress))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || got[0] != 10 || got[2] != 12 {
			t.Errorf("KeepAll %v: seeds %v, want [10 11 12]", keep, got)
		}
	}
	for i := range images[0] {
		if !equalPix(images[0][i], images[1][i]) {
			t.Errorf("image %d differs between the policies", i)
		}
	}
}

// Text encoder and VAE close after use unless the policy keeps them, and so does the UNet
// once the line's images are sampled.
func TestPolicy(t *testing.T) {
	for _, keep := range []bool{false, true} {
		m := openExport(t, sdtest.Export{Mean: oneLatent})
		m.policy = Policy{KeepAll: keep}
		generateOne(t, m, Request{Prompt: "x", Width: 16, Height: 16, Steps: 2, CFGScale: 7.5, Sampler: "k_euler",
			Init: gradient(16, 16), Strength: 0.5}, 1)
		if kept := m.encoder != nil; kept != keep {
			t.Errorf("KeepAll %v: VAE encoder kept = %v", keep, kept)
		}
		for _, f := range []string{TextEncoderFile, DecoderFile} {
			if got := m.rt.Loaded(m.path(f)); got != keep {
				t.Errorf("KeepAll %v: %s loaded = %v", keep, f, got)
			}
		}
		if got := m.rt.Loaded(m.path(UNetFile)); got != keep {
			t.Errorf("KeepAll %v: UNet loaded = %v", keep, got)
		}
	}
}

func TestCancelStopsSampling(t *testing.T) {
	m := openExport(t, sdtest.Export{Mean: oneLatent})
	ctx, cancel := context.WithCancel(context.Background())
	req := Request{Prompt: "x", Width: 16, Height: 16, Steps: 50, CFGScale: 7.5, Sampler: "k_lms"}
	req.Progress = func(_, done, _ int) {
		if done == 3 {
			cancel()
		}
	}
	called := false
	err := m.Generate(ctx, req, []uint32{1}, func(Result) error { called = true; return nil })
	if !errors.Is(err, context.Canceled) || called {
		t.Errorf("Generate after cancel: %v, image handed over %v", err, called)
	}
}

func TestOpenRefusesIncompleteExports(t *testing.T) {
	tests := []struct {
		name   string
		breaks func(dir string) error
		want   string
	}{
		{"no unet", func(dir string) error { return os.Remove(filepath.Join(dir, UNetFile)) }, "lacks unet/model.onnx"},
		{"no tokenizer", func(dir string) error { return os.RemoveAll(filepath.Join(dir, TokenizerDir)) }, "tokenizer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := (sdtest.Export{}).Write(dir); err != nil {
				t.Fatal(err)
			}
			if err := sdtest.WriteTokenizer(dir, sharedMerges()); err != nil {
				t.Fatal(err)
			}
			if err := tc.breaks(dir); err != nil {
				t.Fatal(err)
			}
			_, err := Open(testRuntime, dir, Policy{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Open: %v; want one line mentioning %q", err, tc.want)
			}
		})
	}
}

// A UNet made for another text encoder (a hidden size of 1024, as SD 2.x) is refused before
// the first run, with the file and the mismatch named.
func TestContractMismatchIsNamed(t *testing.T) {
	m := openExport(t, sdtest.Export{Mean: oneLatent})
	if err := sdtest.WriteMismatchedUNet(m.path(UNetFile)); err != nil {
		t.Fatal(err)
	}
	err := m.Generate(context.Background(), Request{Prompt: "x", Width: 16, Height: 16, Steps: 2, CFGScale: 7.5, Sampler: "k_euler"},
		[]uint32{1}, func(Result) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "model.onnx") || !strings.Contains(err.Error(), "encoder_hidden_states") {
		t.Errorf("Generate with a 1024-wide UNet: %v", err)
	}
}

// The test UNet keeps its weights in weights.pb, as real exports do; the model file alone
// cannot run, so the pipeline's runs prove it loads the UNet by path.
func TestUNetWeightsLiveBesideIt(t *testing.T) {
	m := openExport(t, sdtest.Export{Mean: oneLatent})
	info, err := os.Stat(m.path(UNetWeightsFile))
	if err != nil || info.Size() < 4000 {
		t.Fatalf("weights.pb: %v (size %v)", err, info)
	}
	alone := filepath.Join(t.TempDir(), "model.onnx")
	data, err := os.ReadFile(m.path(UNetFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(alone, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := testRuntime.Session(alone, UNetContract()); err == nil {
		t.Error("the UNet opened without its weights.pb")
	}
	generateOne(t, m, Request{Prompt: "x", Width: 16, Height: 16, Steps: 2, CFGScale: 7.5, Sampler: "k_euler"}, 1)
}

// The memory workload of the benchmark's export changes nothing in the image.
func TestWorkloadChangesNothing(t *testing.T) {
	req := Request{Prompt: "x", Width: 32, Height: 32, Steps: 3, CFGScale: 7.5, Sampler: "k_euler"}
	plain := generateOne(t, openExport(t, sdtest.Export{Mean: oneLatent, Spread: 0.5}), req, 1)
	heavy := generateOne(t, openExport(t, sdtest.Export{Mean: oneLatent, Spread: 0.5, Workload: 8}), req, 1)
	if !equalPix(plain, heavy) {
		t.Error("the workload changed the image")
	}
}

// The models' opening is reported before the first step, and not again while the UNet stays
// open (--keep_models yes); a line after the UNet was closed reports it again.
func TestLoadingIsReported(t *testing.T) {
	m := openExport(t, sdtest.Export{Mean: [4]float32{0.3, -0.2, 0.5, 0.1}})
	for _, keep := range []bool{true, false} {
		m.policy.KeepAll = keep
		for line := range 2 {
			var reports []string
			req := Request{Prompt: "a fox", Width: 32, Height: 32, Steps: 1, CFGScale: 7.5, Sampler: "k_euler",
				Loading: func(done, total int) { reports = append(reports, fmt.Sprintf("%d/%d", done, total)) }}
			if err := m.Generate(context.Background(), req, []uint32{1}, func(Result) error { return nil }); err != nil {
				t.Fatal(err)
			}
			want := []string{"0/2", "1/2"}
			if keep && line == 1 {
				want = nil // the UNet is still open
			}
			if !slices.Equal(reports, want) {
				t.Errorf("keep %v, line %d: loading reported %q, want %q", keep, line+1, reports, want)
			}
		}
		m.closeUNet()
	}
}
