package pngmeta

import (
	"encoding/json"
	"strings"
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
		"Postprocess upscaler: R-ESRGAN 4x+, Postprocess upscaler visibility: 0.75, Face restoration: CodeFormer"
	if got := Parameters(g, model, steps); got != want {
		t.Errorf("Parameters =\n%s\nwant\n%s", got, want)
	}
	g.InitImage, g.Strength = "in.png", 0.6
	if got := Parameters(g, ModelRef{}, nil); got != "a cat on a hill\nSteps: 50, Sampler: Euler a, CFG scale: 7.5, Seed: 123, Size: 512x768, Denoising strength: 0.6" {
		t.Errorf("img2img parameters = %q", got)
	}
}

// The decoder goes where A1111 writes its VAE: after the model, before the img2img strength.
func TestParametersVAE(t *testing.T) {
	model := ModelRef{Name: "sd", SHA256: "cc6cb27103417325ff94f52b7a5d2dde45a7515b25c255d8e396c90014281516"}
	for _, tc := range []struct {
		vae, init, want string
	}{
		{"", "", "Size: 512x512, Model hash: cc6cb27103, Model: sd"},
		{"full", "", "Size: 512x512, Model hash: cc6cb27103, Model: sd, VAE: full"},
		{"tiny", "", "Size: 512x512, Model hash: cc6cb27103, Model: sd, VAE: tiny"},
		{"tiny", "in.png", "Size: 512x512, Model hash: cc6cb27103, Model: sd, VAE: tiny, Denoising strength: 0.5"},
	} {
		g := Generation{Type: "txt2img", Prompt: "a cat", Steps: 4, CFGScale: 1, Seed: 1, Width: 512, Height: 512,
			Sampler: "lcm", VAE: tc.vae, InitImage: tc.init, Strength: 0.5}
		want := "a cat\nSteps: 4, Sampler: LCM, CFG scale: 1, Seed: 1, " + tc.want
		if got := Parameters(g, model, nil); got != want {
			t.Errorf("--vae %q -I %q: parameters\n%q\nwant\n%q", tc.vae, tc.init, got, want)
		}
	}
}

// Each sampler goes by AUTOMATIC1111's name for it.
func TestParametersSamplerNames(t *testing.T) {
	for sampler, want := range map[string]string{
		"k_lms": "LMS", "k_dpm_2_a": "DPM2 a", "k_dpmpp_2m": "DPM++ 2M", "k_dpmpp_2m_karras": "DPM++ 2M Karras", "lcm": "LCM",
	} {
		g := Generation{Type: "txt2img", Prompt: "a cat", Steps: 20, CFGScale: 7, Seed: 1, Width: 512, Height: 512, Sampler: sampler}
		if got, line := Parameters(g, ModelRef{}, nil), "Steps: 20, Sampler: "+want+", CFG scale: 7,"; !strings.Contains(got, line) {
			t.Errorf("%s: parameters %q, want them to contain %q", sampler, got, line)
		}
	}
}

// Postprocessing writes what AUTOMATIC1111's Extras tab writes for the same work: its keys,
// its upscaler names, weights rounded to 3 decimals, steps in the order they ran.
func TestPostprocessing(t *testing.T) {
	x4plus := ModelRef{Name: "realesrgan-x4plus.onnx"}
	w := func(v float64) *float64 { return &v }
	for _, tc := range []struct {
		name  string
		steps []Step
		want  string
	}{
		{"nothing", nil, ""},
		{"-U 4 1", []Step{{Type: "esrgan", Scale: 4, Strength: 1, Model: x4plus}},
			"Postprocess upscale by: 4, Postprocess upscaler: R-ESRGAN 4x+"},
		{"-U 2 0.6, fast model", []Step{{Type: "esrgan", Scale: 2, Strength: 0.6, Model: ModelRef{Name: "realesr-general-x4v3.onnx"}}},
			"Postprocess upscale by: 2, Postprocess upscaler: R-ESRGAN General 4xV3, Postprocess upscaler visibility: 0.6"},
		{"-U 2, x2 model", []Step{{Type: "esrgan", Scale: 2, Strength: 1, Model: ModelRef{Name: "realesrgan-x2plus.onnx"}}},
			"Postprocess upscale by: 2, Postprocess upscaler: R-ESRGAN 2x+"},
		{"-U 1.5", []Step{{Type: "esrgan", Scale: 1.5, Strength: 1, Model: x4plus}},
			"Postprocess upscale by: 1.5, Postprocess upscaler: R-ESRGAN 4x+"},
		{"!fix -W 1600, as A1111's Scale to", []Step{{Type: "esrgan", Width: 1600, Height: 1067, Strength: 0.75, Model: x4plus}},
			"Postprocess upscale to: 1600x1067, Postprocess upscaler: R-ESRGAN 4x+, Postprocess upscaler visibility: 0.75"},
		{"-U 4, a model of the user's", []Step{{Type: "esrgan", Scale: 4, Strength: 1, Model: ModelRef{Name: "4x-UltraSharp.onnx"}}},
			"Postprocess upscale by: 4, Postprocess upscaler: 4x-UltraSharp"},
		{"-G 0.8", []Step{{Type: "gfpgan", Strength: 0.8}},
			"GFPGAN visibility: 0.8"},
		{"-G 1 -ft codeformer -cf 0.7", []Step{{Type: "codeformer", Strength: 1, Fidelity: w(0.7)}},
			"CodeFormer visibility: 1, CodeFormer weight: 0.7"},
		{"-G 0.12345 -ft codeformer -cf 0", []Step{{Type: "codeformer", Strength: 0.12345, Fidelity: w(0)}},
			"CodeFormer visibility: 0.123, CodeFormer weight: 0"},
		{"-U 4 -G 0.5", []Step{{Type: "esrgan", Scale: 4, Strength: 1, Model: x4plus}, {Type: "gfpgan", Strength: 0.5}},
			"Postprocess upscale by: 4, Postprocess upscaler: R-ESRGAN 4x+, GFPGAN visibility: 0.5"},
	} {
		if got := Postprocessing(tc.steps); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
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
	g.VAE = "tiny"
	if !strings.Contains(r.String(), `"sampler":"","vae":"tiny",`) {
		t.Errorf("the record does not name the decoder after the sampler: %s", r.String())
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
