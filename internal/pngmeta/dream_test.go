package pngmeta

import (
	"encoding/json"
	"testing"
)

// The parameters text follows AUTOMATIC1111's layout: prompt line, then "Key: value" pairs.
func TestParameters(t *testing.T) {
	g := Generation{Type: "txt2img", Prompt: "a cat on a hill", Steps: 50, CFGScale: 7.5, Seed: 123,
		Width: 512, Height: 768, Sampler: "k_euler_a"}
	model := ModelRef{Name: "stable-diffusion-v1-5.onnx", SHA256: "cc6cb27103417325ff94f52b7a5d2dde45a7515b25c255d8e396c90014281516"}
	steps := []Step{{Type: "esrgan", Scale: 2, Strength: 0.75, Model: ModelRef{Name: "realesrgan-x4plus.onnx"}},
		{Type: "codeformer", Strength: 0.5}}
	want := "a cat on a hill\nSteps: 50, Sampler: Euler a, CFG scale: 7.5, Seed: 123, Size: 512x768, " +
		"Model hash: cc6cb27103, Model: stable-diffusion-v1-5, Postprocess upscale by: 2, " +
		"Postprocess upscaler: realesrgan-x4plus, Face restoration: CodeFormer"
	if got := Parameters(g, model, steps); got != want {
		t.Errorf("Parameters =\n%s\nwant\n%s", got, want)
	}
	g.InitImage, g.Strength = "in.png", 0.6
	if got := Parameters(g, ModelRef{}, nil); got != "a cat on a hill\nSteps: 50, Sampler: Euler a, CFG scale: 7.5, Seed: 123, Size: 512x768, Denoising strength: 0.6" {
		t.Errorf("img2img parameters = %q", got)
	}
}

func TestRecordAndAppend(t *testing.T) {
	r := Record{App: "dream", AppVersion: "1", Image: RecordImage{Source: "old.png"}}
	text := r.String()
	if text != `{"app_id":"dream","app_version":"1","image":{"source":"old.png","postprocessing":[]}}` {
		t.Errorf("record without generation = %s", text)
	}
	g := &Generation{Type: "txt2img", Prompt: "p", Seed: 0, Steps: 1}
	r.Image = RecordImage{Generation: g}
	var back map[string]map[string]any
	json.Unmarshal([]byte(r.String()), &back)
	if back["image"]["seed"] != float64(0) || back["image"]["prompt"] != "p" {
		t.Errorf("generated record lost its seed 0 or prompt: %s", r.String())
	}
	appended, err := AppendStep(`{"image":{"postprocessing":[{"type":"gfpgan"}]},"other":1}`, Step{Type: "esrgan", Scale: 4})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Other int `json:"other"`
		Image struct {
			Postprocessing []Step `json:"postprocessing"`
		} `json:"image"`
	}
	json.Unmarshal([]byte(appended), &doc)
	if doc.Other != 1 || len(doc.Image.Postprocessing) != 2 || doc.Image.Postprocessing[1].Scale != 4 {
		t.Errorf("AppendStep = %s", appended)
	}
	if _, err := AppendStep("not json", Step{}); err == nil {
		t.Error("AppendStep accepted text that is not JSON")
	}
}
