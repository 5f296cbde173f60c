package pipeline

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dream/internal/job"
	"dream/internal/onnxpb"
	"dream/internal/ort"
	"dream/internal/testenv"
	"dream/internal/upscale"
)

var shared = testenv.Shared()

var runtime *ort.Runtime

func TestMain(m *testing.M) {
	testenv.Run(m, func(rt *ort.Runtime) { runtime = rt })
}

func newPipeline(outdir string, tile int, progress func(Task, int, int)) *Pipeline {
	return New(Config{
		Outdir:   outdir,
		ModelDir: filepath.Join(shared, "models"),
		Upscaler: "general-x4v3",
		Tile:     tile,
		Runtime:  func() (*ort.Runtime, error) { return runtime, nil },
		Progress: progress,
	})
}

// copyPhoto puts a copy of the shared 128-pixel photo in dir and returns its path and bytes.
func copyPhoto(t *testing.T, dir string) (string, []byte) {
	data, err := os.ReadFile(filepath.Join(shared, "images", "coffee_crop128.png"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "photo.png")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, data
}

// writeSizeBoundModel writes a ×4 model that only runs on 16×16 inputs: it passes the
// upscaler's probe and then fails on the first real tile, an error in the middle of a job.
func writeSizeBoundModel(t *testing.T, path string) {
	g := onnxpb.Graph{
		Name:    "fails-after-probe",
		Inputs:  []onnxpb.ValueInfo{onnxpb.NewValueInfo("input", onnxpb.Float, onnxpb.Fixed(1), onnxpb.Fixed(3), onnxpb.Sym("h"), onnxpb.Sym("w"))},
		Outputs: []onnxpb.ValueInfo{onnxpb.NewValueInfo("output", onnxpb.Float, onnxpb.Fixed(1), onnxpb.Fixed(3), onnxpb.Sym("H"), onnxpb.Sym("W"))},
	}
	g.AddInitializer(onnxpb.Int64Tensor("shape16", []int64{4}, []int64{1, 3, 16, 16}))
	g.AddInitializer(onnxpb.Float32Tensor("scales", []int64{4}, []float32{1, 1, 4, 4}))
	g.Add("Reshape", []string{"input", "shape16"}, []string{"fixed"})
	g.Add("Resize", []string{"fixed", "", "scales"}, []string{"output"}, onnxpb.AttrString("mode", "nearest"))
	m := onnxpb.Model{Graph: g}
	if err := m.WriteFile(path); err != nil {
		t.Fatal(err)
	}
}

// A job that fails or is cancelled at any point writes nothing, leaves no temporary file,
// and never changes the original.
func TestFixLeavesNothingWhenInterrupted(t *testing.T) {
	tests := []struct {
		name string
		// prepare returns the pipeline and the context to run it with.
		prepare func(t *testing.T, dir, outdir string) (*Pipeline, context.Context)
		wantErr string
	}{
		{
			name: "model fails on the first tile",
			prepare: func(t *testing.T, dir, outdir string) (*Pipeline, context.Context) {
				model := filepath.Join(dir, "bad.onnx")
				writeSizeBoundModel(t, model)
				p := newPipeline(outdir, 0, nil)
				p.cfg.UpscalerPath = model
				return p, context.Background()
			},
			wantErr: "upscaling with bad.onnx",
		},
		{
			name: "cancelled between tiles",
			prepare: func(t *testing.T, dir, outdir string) (*Pipeline, context.Context) {
				ctx, cancel := context.WithCancel(context.Background())
				return newPipeline(outdir, 32, func(_ Task, done, _ int) {
					if done == 2*upscale.ProgressPerTile { // the end of the second tile
						cancel()
					}
				}), ctx
			},
			wantErr: context.Canceled.Error(),
		},
		{
			name: "cancelled after the last tile, while encoding",
			prepare: func(t *testing.T, dir, outdir string) (*Pipeline, context.Context) {
				ctx, cancel := context.WithCancel(context.Background())
				return newPipeline(outdir, 64, func(_ Task, done, total int) {
					if done == total {
						cancel()
					}
				}), ctx
			},
			wantErr: context.Canceled.Error(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			outdir := filepath.Join(dir, "out")
			photo, original := copyPhoto(t, dir)
			p, ctx := tt.prepare(t, dir, outdir)
			_, err := p.Fix(ctx, job.Job{Kind: job.Fix, Path: photo, Upscale: &job.Upscale{Factor: 4, Strength: 1}})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Fix returned %v, want an error containing %q", err, tt.wantErr)
			}
			if entries, _ := os.ReadDir(outdir); len(entries) != 0 {
				t.Errorf("the output directory holds %d entries after a failed job: %v", len(entries), entries)
			}
			if now, _ := os.ReadFile(photo); !bytes.Equal(now, original) {
				t.Error("the original image changed")
			}
			if errors.Is(err, context.Canceled) != (tt.wantErr == context.Canceled.Error()) {
				t.Errorf("error %v: errors.Is(context.Canceled) is wrong", err)
			}
		})
	}
}

// Models are loaded once and reused by later jobs.
func TestFixReusesModels(t *testing.T) {
	dir := t.TempDir()
	photo, _ := copyPhoto(t, dir)
	p := newPipeline(filepath.Join(dir, "out"), 0, nil)
	for i, factor := range []float64{4, 2, 4} {
		res, err := p.Fix(context.Background(), job.Job{Kind: job.Fix, Path: photo, Upscale: &job.Upscale{Factor: factor, Strength: 0.75}})
		if err != nil {
			t.Fatal(err)
		}
		if res.W != int(128*factor) {
			t.Errorf("job %d: width %d, want %g", i, res.W, 128*factor)
		}
	}
	if len(p.upscalers) != 1 {
		t.Errorf("%d upscalers loaded for one model file", len(p.upscalers))
	}
}
