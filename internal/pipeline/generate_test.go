package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"dream/internal/imageio"
	"dream/internal/job"
	"dream/internal/ort"
	"dream/internal/pngmeta"
	"dream/internal/sd"
	"dream/internal/sd/sdtest"
	"dream/internal/version"
)

// sdPipeline gives a pipeline a Stable Diffusion test export, the shared upscaler and
// detector, and the identity GFPGAN test model.
func sdPipeline(t *testing.T, progress func(Task, int, int)) (*Pipeline, string) {
	t.Helper()
	modelDir := faceModels(t, 1, 0)
	sdDir := filepath.Join(modelDir, "sd")
	export := sdtest.Export{Mean: [4]float32{0.3, -0.2, 0.5, 0.1}, Spread: 0.5}
	if err := export.Write(sdDir); err != nil {
		t.Fatal(err)
	}
	if err := sdtest.WriteTokenizer(sdDir, filepath.Join(shared, "tokenizer", "bpe_simple_vocab_16e6.txt.gz")); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	p := New(Config{Outdir: out, ModelDir: modelDir, Upscaler: "general-x4v3", SDModel: sdDir,
		Runtime: func() (*ort.Runtime, error) { return runtime, nil }, Progress: progress})
	return p, out
}

func parseLine(t *testing.T, line string) job.Job {
	t.Helper()
	j, err := job.Parse(line)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// -n 3 with -U and -G: three images with one PREFIX and three seeds, all generated and
// saved before the first post-processing step starts, then replaced by their processed
// versions.
func TestGenerateThenPostprocess(t *testing.T) {
	var events []string
	var out string
	var p *Pipeline
	p, out = sdPipeline(t, func(task Task, done, total int) {
		if done != total {
			return
		}
		events = append(events, fmt.Sprintf("%s: %d files", strings.Fields(task.Name)[0], len(visibleFiles(out))))
	})
	j := parseLine(t, `a red fox -s 4 -W 64 -H 64 -n 3 -S 4294967295 -U 2 1 -G 0.5`)
	results, err := p.Generate(context.Background(), j)
	if err != nil {
		t.Fatal(err)
	}
	wantSeeds := []uint32{4294967295, 0, 1} // each image its own seed, wrapping round
	if len(results) != 3 {
		t.Fatalf("%d results, want 3", len(results))
	}
	for i, res := range results {
		want := filepath.Join(out, fmt.Sprintf("000001.%d.png", wantSeeds[i]))
		if res.Path != want || res.Seed != wantSeeds[i] || res.W != 128 || res.H != 128 {
			t.Errorf("result %d: %s seed %d %dx%d; want %s seed %d 128x128", i, res.Path, res.Seed, res.W, res.H, want, wantSeeds[i])
		}
		if len(res.Notes) == 0 || !strings.Contains(res.Notes[0], "face") {
			t.Errorf("result %d: notes %q, want the no-face note of -G", i, res.Notes)
		}
	}
	t.Logf("progress: %q", events)
	// The first upscale ends when all three originals exist.
	for i, e := range events {
		if strings.HasPrefix(e, "upscaling") {
			if e != "upscaling: 3 files" || i < 3 {
				t.Errorf("progress %q: the upscaler started before the three images existed", events)
			}
			break
		}
	}
}

// visibleFiles lists dir without hidden names: the PREFIX reservation marker is there while
// the line runs.
func visibleFiles(dir string) []string {
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	return names
}

// A generated image's metadata: the Dream command gives the same job back, the JSON record
// names the prompt, seed and every model with its hash, the parameters text is
// AUTOMATIC1111's, and the file passes pngcheck.
func TestGeneratedMetadata(t *testing.T) {
	p, _ := sdPipeline(t, nil)
	line := `"a red fox, in snow" -s 5 -W 64 -H 128 -C 9 -A k_euler -S 77 -U 2 0.5 --save_orig`
	j := parseLine(t, line)
	results, err := p.Generate(context.Background(), j)
	if err != nil {
		t.Fatal(err)
	}
	res := results[0]
	if res.Original == "" || !strings.HasSuffix(res.Path, "000001.77.postprocessed.png") {
		t.Fatalf("--save_orig: wrote %s, original %q", res.Path, res.Original)
	}
	for _, tc := range []struct {
		path    string
		command string
		steps   int
	}{
		{res.Original, `"a red fox, in snow" -s 5 -S 77 -W 64 -H 128 -C 9 -A k_euler`, 0},
		{res.Path, `"a red fox, in snow" -s 5 -S 77 -W 64 -H 128 -C 9 -A k_euler -U 2 0.5`, 1},
	} {
		pngcheck(t, tc.path)
		meta := readMeta(t, tc.path)
		if got := meta.Text[pngmeta.KeyDream]; got != tc.command {
			t.Errorf("%s: Dream %q, want %q", filepath.Base(tc.path), got, tc.command)
		}
		again := parseLine(t, meta.Text[pngmeta.KeyDream])
		if again.Command(77) != tc.command {
			t.Errorf("the stored command does not parse back to itself: %q", again.Command(77))
		}
		var record struct {
			App        string             `json:"app_id"`
			AppVersion string             `json:"app_version"`
			Models     []pngmeta.ModelRef `json:"models"`
			Image      struct {
				Type           string         `json:"type"`
				Prompt         string         `json:"prompt"`
				Seed           uint32         `json:"seed"`
				Width          int            `json:"width"`
				Height         int            `json:"height"`
				Sampler        string         `json:"sampler"`
				VAE            string         `json:"vae"`
				Postprocessing []pngmeta.Step `json:"postprocessing"`
			} `json:"image"`
		}
		if err := json.Unmarshal([]byte(meta.Text[pngmeta.KeySDMetadata]), &record); err != nil {
			t.Fatal(err)
		}
		if record.App != "dream" || record.Image.Prompt != "a red fox, in snow" || record.Image.Seed != 77 ||
			record.Image.Type != "txt2img" || record.Image.Sampler != "k_euler" || record.Image.VAE != "full" ||
			len(record.Image.Postprocessing) != tc.steps {
			t.Errorf("%s: record %+v", filepath.Base(tc.path), record)
		}
		if record.AppVersion != version.Version {
			t.Errorf("%s: app_version %q, want dream's %q", filepath.Base(tc.path), record.AppVersion, version.Version)
		}
		for _, m := range record.Models {
			if len(m.SHA256) != 64 {
				t.Errorf("model %s has no sha256", m.Name)
			}
		}
		names := []string{"sd/text_encoder/model.onnx", "sd/unet/model.onnx", "sd/unet/weights.pb", "sd/vae_decoder/model.onnx"}
		if len(record.Models) != len(names)+tc.steps || record.Models[2].Name != names[2] {
			t.Fatalf("models %+v, want %s and the post-processing models", record.Models, names)
		}
		params := meta.Text[pngmeta.KeyParameters]
		wantParams := "a red fox, in snow\nSteps: 5, Sampler: Euler, CFG scale: 9, Seed: 77, Size: 64x128, Model hash: " +
			record.Models[2].SHA256[:10] + ", Model: sd, VAE: full"
		if tc.steps > 0 {
			wantParams += ", Postprocess upscale by: 2, Postprocess upscaler: R-ESRGAN General 4xV3, Postprocess upscaler visibility: 0.5"
		}
		if params != wantParams {
			t.Errorf("parameters\n%q\nwant\n%q", params, wantParams)
		}
	}
}

// img2img keeps the source's path in the command and the record.
func TestImg2ImgMetadata(t *testing.T) {
	p, _ := sdPipeline(t, nil)
	src, _ := copyPhoto(t, t.TempDir())
	results, err := p.Generate(context.Background(), parseLine(t, fmt.Sprintf(`cat -s 4 -W 128 -H 64 -S 5 -I %q -f 0.6`, src)))
	if err != nil {
		t.Fatal(err)
	}
	meta := readMeta(t, results[0].Path)
	if want := fmt.Sprintf(`"cat" -s 4 -S 5 -W 128 -H 64 -C 7.5 -A k_lms -I %q -f 0.6`, src); meta.Text[pngmeta.KeyDream] != want {
		t.Errorf("Dream %q, want %q", meta.Text[pngmeta.KeyDream], want)
	}
	if !strings.Contains(meta.Text[pngmeta.KeySDMetadata], `"type":"img2img"`) ||
		!strings.Contains(meta.Text[pngmeta.KeyParameters], "Denoising strength: 0.6") {
		t.Errorf("record %s\nparameters %s", meta.Text[pngmeta.KeySDMetadata], meta.Text[pngmeta.KeyParameters])
	}
}

// Steps a sampler cannot take are refused in one line before any work: ddim and plms take at
// most 500, lcm 50, and lcm's img2img only as many as the int(50·f) timesteps strength f
// leaves it.
func TestGenerateRefusesImpossibleSchedules(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{"a cat -s 600 -A ddim", "-s 600 -A ddim: ddim and plms take 1 to 500 steps, not 600"},
		{"a cat -s 60 -A lcm", "-s 60 -A lcm: lcm takes 1 to 50 steps, not 60"},
		{"a cat -s 8 -A lcm -I in.png -f 0.1",
			"-s 8 -A lcm -f 0.1: lcm at strength 0.1 has 5 timesteps to choose from, fewer than the 8 steps asked for; lower -s or raise -f"},
	} {
		p, out := sdPipeline(t, nil)
		_, err := p.Generate(context.Background(), parseLine(t, tc.line))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s:\n got %v\nwant %s", tc.line, err, tc.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: the output directory was created", tc.line)
		}
	}
}

// With text-to-image, -f does not limit lcm's steps: only img2img truncates its schedule.
func TestGenerateLCMStrengthOnlyForImg2Img(t *testing.T) {
	p, _ := sdPipeline(t, nil)
	if _, err := p.Generate(context.Background(), parseLine(t, "a cat -s 8 -A lcm -f 0.1 -W 64 -H 64 -S 1")); err != nil {
		t.Errorf("-s 8 -A lcm -f 0.1 without -I: %v", err)
	}
}

// --vae tiny decodes with vae_decoder_tiny: the image's command keeps the switch (after -A),
// its record and parameters name the decoder, and its model list has the tiny decoder's file
// instead of the full one's. -A lcm alone brings 4 steps at guidance 1.
func TestGenerateWithTinyDecoder(t *testing.T) {
	p, _ := sdPipeline(t, nil)
	// The test export's decoder has the tiny one's inputs and outputs; as TAESD it is given
	// the latent unscaled, which changes the colours, not what the metadata says.
	full, err := os.ReadFile(filepath.Join(p.cfg.SDModel, sd.DecoderFile))
	if err != nil {
		t.Fatal(err)
	}
	tiny := filepath.Join(p.cfg.SDModel, sd.TinyDecoderFile)
	if err := os.MkdirAll(filepath.Dir(tiny), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tiny, full, 0o644); err != nil {
		t.Fatal(err)
	}
	results, err := p.Generate(context.Background(), parseLine(t, `a fox -W 64 -H 64 -S 3 -A lcm --vae tiny`))
	if err != nil {
		t.Fatal(err)
	}
	meta := readMeta(t, results[0].Path)
	if got, want := meta.Text[pngmeta.KeyDream], `"a fox" -s 4 -S 3 -W 64 -H 64 -C 1 -A lcm --vae tiny`; got != want {
		t.Errorf("Dream %q, want %q", got, want)
	}
	var record struct {
		Models []pngmeta.ModelRef `json:"models"`
		Image  struct {
			VAE string `json:"vae"`
		} `json:"image"`
	}
	if err := json.Unmarshal([]byte(meta.Text[pngmeta.KeySDMetadata]), &record); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range record.Models {
		names = append(names, m.Name)
	}
	if record.Image.VAE != "tiny" || !slices.Contains(names, "sd/"+sd.TinyDecoderFile) || slices.Contains(names, "sd/"+sd.DecoderFile) {
		t.Errorf("record: vae %q, models %q; want tiny and %s, not %s", record.Image.VAE, names, sd.TinyDecoderFile, sd.DecoderFile)
	}
	if params := meta.Text[pngmeta.KeyParameters]; !strings.Contains(params, "Steps: 4, Sampler: LCM, CFG scale: 1, Seed: 3,") ||
		!strings.HasSuffix(params, ", Model: sd, VAE: tiny") {
		t.Errorf("parameters %q", params)
	}
}

// --vae accepts exactly the decoders package sd has.
func TestVAEsMatchPackageSD(t *testing.T) {
	if want := []string{sd.FullVAE, sd.TinyVAE}; !slices.Equal(job.VAEs, want) || job.DefaultVAE != sd.FullVAE {
		t.Errorf("--vae accepts %v (default %s), package sd decodes with %v (default %s)", job.VAEs, job.DefaultVAE, want, sd.FullVAE)
	}
}

// Without an export, a prompt line says where to put one, and nothing is written.
func TestGenerateWithoutModel(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	p := newPipeline(out, 0, nil)
	_, err := p.Generate(context.Background(), parseLine(t, "a cat"))
	if err == nil || !strings.Contains(err.Error(), "no Stable Diffusion model is installed") || strings.Contains(err.Error(), "\n") {
		t.Errorf("Generate without a model: %v", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("the output directory was created")
	}
}

// Each image of a -n line reports 0 when its sampling starts, so that a bar's clock starts
// there, then every step; its task tells its place in the line. Before the first image, the
// models being opened are reported.
func TestGenerateReportsEachImage(t *testing.T) {
	var got []string
	p, _ := sdPipeline(t, func(task Task, done, total int) {
		got = append(got, fmt.Sprintf("%s (part %d of %d): %d/%d", task.Name, task.Part, task.Parts, done, total))
	})
	if _, err := p.Generate(context.Background(), parseLine(t, `a fox -s 2 -W 64 -H 64 -n 2 -S 1 -A k_euler`)); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"loading Stable Diffusion (part 0 of 0): 0/2", "loading Stable Diffusion (part 0 of 0): 1/2",
		"generating 1/2 (part 0 of 2): 0/2", "generating 1/2 (part 0 of 2): 1/2", "generating 1/2 (part 0 of 2): 2/2",
		"generating 2/2 (part 1 of 2): 0/2", "generating 2/2 (part 1 of 2): 1/2", "generating 2/2 (part 1 of 2): 2/2",
	}
	if !slices.Equal(got, want) {
		t.Errorf("progress %q\nwant     %q", got, want)
	}
}

// The Dream line stored in a few-step image makes the same image again, byte for byte: the
// defaults -A lcm filled in, guidance at or below 1, the tiny decoder.
func TestFewStepCommandsReproduce(t *testing.T) {
	p, _ := sdPipeline(t, nil)
	full, err := os.ReadFile(filepath.Join(p.cfg.SDModel, sd.DecoderFile))
	if err != nil {
		t.Fatal(err)
	}
	tiny := filepath.Join(p.cfg.SDModel, sd.TinyDecoderFile)
	if err := os.MkdirAll(filepath.Dir(tiny), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tiny, full, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		`a fox -W 64 -H 64 -A lcm --vae tiny`,
		`a fox -W 64 -H 64 -s 1 -C 0 -A k_euler_a`,
		`a fox -W 64 -H 64 -s 3 -C 1 -A k_dpmpp_2m --vae tiny`,
	} {
		t.Run(line, func(t *testing.T) {
			first, err := p.Generate(context.Background(), parseLine(t, line))
			if err != nil {
				t.Fatal(err)
			}
			stored := readMeta(t, first[0].Path).Text[pngmeta.KeyDream]
			again, err := p.Generate(context.Background(), parseLine(t, stored))
			if err != nil {
				t.Fatal(err)
			}
			if got := readMeta(t, again[0].Path).Text[pngmeta.KeyDream]; got != stored {
				t.Errorf("the stored line %q was stored again as %q", stored, got)
			}
			a, errA := imageio.Load(first[0].Path)
			b, errB := imageio.Load(again[0].Path)
			if errA != nil || errB != nil {
				t.Fatal(errA, errB)
			}
			if !slices.Equal(a.Pix, b.Pix) {
				t.Errorf("%q made another image", stored)
			}
		})
	}
}
