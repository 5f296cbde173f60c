package pipeline

import (
	"context"
	"fmt"
	"os"

	"dream/internal/face"
	"dream/internal/imageio"
	"dream/internal/job"
	"dream/internal/models"
	"dream/internal/pngmeta"
)

// restorerPath picks the model file for a face tool: the launch flag's, else the default
// file in the model directory.
func (p *Pipeline) restorerPath(tool string) (string, error) {
	if path := p.cfg.RestorerPaths[tool]; path != "" {
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("model %s (from --%s_model_path) not found", path, tool)
		}
		return path, nil
	}
	return models.Locate(p.cfg.ModelDir, p.restorerFile(tool))
}

// restorerFile is a face tool's model file name in the model directory: --gfpgan_version
// picks GFPGAN's.
func (p *Pipeline) restorerFile(tool string) string {
	if tool == "gfpgan" && p.cfg.GFPGANVersion != "" {
		return "gfpgan_" + p.cfg.GFPGANVersion + ".onnx"
	}
	return models.FaceRestorers[tool]
}

// restoreFaces runs -G: faces are found and cropped in before and pasted onto after (before
// itself, or its upscaled version). The note says how many faces were found, their sizes and
// how many were restored, or that there were none.
func (p *Pipeline) restoreFaces(ctx context.Context, before, after *imageio.Image, j job.Job, plan postprocessing) (*imageio.Image, *pngmeta.Step, string, error) {
	det, err := p.faceDetector(plan.detector)
	if err != nil {
		return nil, nil, "", err
	}
	r, err := p.restorer(j.Faces.Tool, plan.restorer)
	if err != nil {
		return nil, nil, "", err
	}
	// Detection on a large photo takes a while before the first face is known.
	p.report(Task{Name: "finding faces", Unit: "images"}, 0, 1)
	opts := faceOptions(j.Faces)
	if p.cfg.Progress != nil {
		task := Task{Name: "restoring faces", Unit: "faces"}
		opts.Progress = func(done, total int) { p.cfg.Progress(task, done, total) }
	}
	out, report, err := face.Restore(ctx, det, r, before, after, opts)
	if err != nil {
		return nil, nil, "", err
	}
	if len(report.Restored) == 0 {
		return after, nil, report.Summary(), nil
	}
	step := &pngmeta.Step{Type: j.Faces.Tool, Strength: j.Faces.Strength, Model: p.modelRef(plan.restorer)}
	if j.Faces.Tool == "codeformer" {
		w := j.Faces.Fidelity
		step.Fidelity = &w
	}
	return out, step, report.Summary(), nil
}

// faceOptions turns the line's face switches into package face's options.
func faceOptions(f *job.Faces) face.Options {
	return face.Options{
		Strength:    f.Strength,
		Fidelity:    f.Fidelity,
		Choice:      face.Choice(f.Which),
		MatchColour: !f.KeepColour,
	}
}

func (p *Pipeline) faceDetector(path string) (face.Detector, error) {
	if p.detector != nil {
		return p.detector, nil
	}
	rt, err := p.runtime()
	if err != nil {
		return nil, err
	}
	det, err := face.LoadYuNet(rt, path)
	if err != nil {
		return nil, err
	}
	p.detector = det
	return det, nil
}

func (p *Pipeline) restorer(tool, path string) (*face.Restorer, error) {
	if r, ok := p.restorers[path]; ok {
		return r, nil
	}
	rt, err := p.runtime()
	if err != nil {
		return nil, err
	}
	load := face.LoadGFPGAN
	if tool == "codeformer" {
		load = face.LoadCodeFormer
	}
	r, err := load(rt, path)
	if err != nil {
		return nil, err
	}
	p.restorers[path] = r
	return r, nil
}
