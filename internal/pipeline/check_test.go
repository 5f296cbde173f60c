package pipeline

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"dream/internal/job"
	"dream/internal/models"
	"dream/internal/pngmeta"
)

// --esrgan_model on a line picks the network -U runs, for every pass, whatever the launch
// flag says and whether or not a ×2 model is installed; the result's stored command names it.
// A line without it keeps the launch flag's choice, x2plus for ×2 included; a line naming the
// launch flag's network keeps --esrgan_model_path's file.
func TestLineUpscalerRuns(t *testing.T) {
	dir := t.TempDir()
	modelDir := filepath.Join(dir, "models")
	if err := os.Mkdir(modelDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for file, scale := range map[string]float32{models.RealESRGANx4plus: 4, models.GeneralX4v3: 4, models.RealESRGANx2plus: 2} {
		writeNearestModel(t, filepath.Join(modelDir, file), scale)
	}
	ownFile := filepath.Join(dir, "my-esrgan.onnx")
	writeNearestModel(t, ownFile, 4)
	src := cropPhoto(t, dir, "small.png", 20, 10)
	for _, tt := range []struct {
		switches string
		ownPath  bool // --esrgan_model_path names ownFile for the launch flag's network
		loaded   []string
	}{
		{"-U 2", false, []string{models.RealESRGANx2plus}},
		{"-U 2 --esrgan_model x4plus", false, []string{models.RealESRGANx4plus}},
		{"-U 8 --esrgan_model general-x4v3", false, []string{models.GeneralX4v3}},
		{"-W 30 --esrgan_model x4plus", false, []string{models.RealESRGANx4plus}},
		{"-U 3", true, []string{"my-esrgan.onnx"}},
		{"-U 3 --esrgan_model general-x4v3", true, []string{"my-esrgan.onnx"}},
		{"-U 3 --esrgan_model x4plus", true, []string{models.RealESRGANx4plus}},
	} {
		t.Run(tt.switches, func(t *testing.T) {
			p := newPipeline(filepath.Join(dir, "out"), 0, nil)
			p.cfg.ModelDir = modelDir
			if tt.ownPath {
				p.cfg.UpscalerPath = ownFile
			}
			res := fixLine(t, p, "!fix "+src+" "+tt.switches)
			var loaded []string
			for path := range p.upscalers {
				loaded = append(loaded, filepath.Base(path))
			}
			slices.Sort(loaded)
			if !slices.Equal(loaded, tt.loaded) {
				t.Errorf("loaded %v, want %v", loaded, tt.loaded)
			}
			stored, err := pngmeta.ReadCommand(res.Path)
			if err != nil {
				t.Fatal(err)
			}
			_, named, _ := strings.Cut(tt.switches, "--esrgan_model ")
			if named != "" && !strings.HasSuffix(stored, " --esrgan_model "+named) || named == "" && strings.Contains(stored, "--esrgan_model") {
				t.Errorf("the result stores %q, want --esrgan_model %q at its end", stored, named)
			}
		})
	}
}

// CheckModels finds a missing model before the job is queued, with the job's own error: the
// file and where it belongs. It loads nothing.
func TestCheckModels(t *testing.T) {
	dir := t.TempDir()
	modelDir := filepath.Join(dir, "models")
	if err := os.Mkdir(modelDir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeNearestModel(t, filepath.Join(modelDir, models.GeneralX4v3), 4)
	if err := os.WriteFile(filepath.Join(modelDir, models.YuNet), []byte("detector"), 0o644); err != nil {
		t.Fatal(err)
	}
	gfpgan := filepath.Join(dir, "gfpgan.onnx")
	if err := os.WriteFile(gfpgan, []byte("restorer"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := New(Config{ModelDir: modelDir, Upscaler: "general-x4v3", RestorerPaths: map[string]string{"gfpgan": gfpgan}})
	for _, tt := range []struct{ line, want string }{
		{"!fix a.png -U 2", ""},
		{"!fix a.png -U 2 -G 0.5", ""},
		{"!fix a.png -U 2 --esrgan_model x4plus", "model realesrgan-x4plus.onnx not found in " + modelDir},
		{"!fix a.png -G 0.5 -ft codeformer", "model codeformer.onnx not found in " + modelDir},
		{"a cat", "no Stable Diffusion model is installed: put a diffusers ONNX export of Stable Diffusion 1.5 " +
			"(text_encoder, unet, vae_decoder, tokenizer) in " + filepath.Join(modelDir, models.StableDiffusion)},
	} {
		j, err := job.Parse(tt.line)
		if err != nil {
			t.Fatal(err)
		}
		err = p.CheckModels(j)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v, want no error", tt.line, err)
		case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
			t.Errorf("%s: %v, want %q", tt.line, err, tt.want)
		}
	}
	if len(p.upscalers) != 0 || len(p.restorers) != 0 {
		t.Errorf("checking loaded %d upscalers and %d restorers", len(p.upscalers), len(p.restorers))
	}
}

// The networks a line may name are those the pipeline knows.
func TestLineUpscalersAreTheModels(t *testing.T) {
	var names []string
	for name := range models.Upscalers {
		names = append(names, name)
	}
	slices.Sort(names)
	if want := slices.Sorted(slices.Values(job.Upscalers)); !slices.Equal(names, want) {
		t.Errorf("--esrgan_model takes %v on a line, the pipeline knows %v", want, names)
	}
}
