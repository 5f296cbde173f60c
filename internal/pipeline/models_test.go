package pipeline

import (
	"os"
	"path/filepath"
	"testing"

	"dream/internal/models"
)

// The model list follows the launch flags as the loaders do (issue 25): a model whose file
// a flag names is listed at that file, installed when it is there, whatever the model
// folder holds.
func TestModelsFollowTheLaunchFlags(t *testing.T) {
	work := t.TempDir()
	gfpgan := filepath.Join(work, "my-gfpgan.onnx")
	upscaler := filepath.Join(work, "my-esrgan.onnx")
	for _, f := range []string{gfpgan, upscaler} {
		if err := os.WriteFile(f, []byte("weights"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sd := filepath.Join(work, "sd") // a folder without the export's files
	os.MkdirAll(sd, 0o755)
	p := New(Config{ModelDir: filepath.Join(work, "models"), Upscaler: "x4plus", UpscalerPath: upscaler,
		SDModel: sd, RestorerPaths: map[string]string{"gfpgan": gfpgan, "codeformer": filepath.Join(work, "none.onnx")}})
	want := map[string]models.Installed{
		"gfpgan-1.4":            {Path: gfpgan, Present: true, From: "--gfpgan_model_path"},
		"codeformer":            {Path: filepath.Join(work, "none.onnx"), Present: false, From: "--codeformer_model_path"},
		"realesrgan-x4plus":     {Path: upscaler, Present: true, From: "--esrgan_model_path"},
		"stable-diffusion-v1-5": {Path: sd, Present: false, From: "--sd_model"},
		"gfpgan-1.3":            {Path: filepath.Join(work, "models", "gfpgan_1.3.onnx"), Present: false},
		"realesr-general-x4v3":  {Path: filepath.Join(work, "models", "realesr-general-x4v3.onnx"), Present: false},
	}
	seen := 0
	for _, got := range p.Models() {
		w, listed := want[got.Entry.Name]
		if !listed {
			continue
		}
		seen++
		if got.Path != w.Path || got.Present != w.Present || got.From != w.From {
			t.Errorf("%s: at %s, installed %v, from %q; want %s, %v, %q", got.Entry.Name, got.Path, got.Present, got.From, w.Path, w.Present, w.From)
		}
	}
	if seen != len(want) {
		t.Errorf("%d of the %d models looked for are listed", seen, len(want))
	}
	// --gfpgan_version picks another file, which the flag's file then stands for.
	p = New(Config{ModelDir: filepath.Join(work, "models"), GFPGANVersion: "1.3", RestorerPaths: map[string]string{"gfpgan": gfpgan}})
	for _, got := range p.Models() {
		if got.Entry.Name == "gfpgan-1.3" && (got.Path != gfpgan || !got.Present) {
			t.Errorf("with --gfpgan_version 1.3, gfpgan-1.3 is at %s (installed %v), want %s", got.Path, got.Present, gfpgan)
		}
	}
}
