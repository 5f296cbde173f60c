package pngmeta

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The text keywords dream writes. Dream holds the command that reproduces the image,
// sd-metadata a JSON record, and parameters the same facts in AUTOMATIC1111's layout so other
// tools can read our images; postprocessing is where AUTOMATIC1111's Extras tab says what it
// did to an image, which !fix does too.
const (
	KeyDream          = "Dream"
	KeySDMetadata     = "sd-metadata"
	KeyParameters     = "parameters"
	KeyPostprocessing = "postprocessing"
)

// ModelRef names a model file and its hash in the JSON record.
type ModelRef struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256,omitempty"`
}

// Step is one post-processing step of the JSON record's postprocessing list. An upscale has
// -U's factor as its Scale, or, for !fix's -W/-H, the size it made as Width and Height.
type Step struct {
	Type     string   `json:"type"` // "esrgan", "gfpgan" or "codeformer"
	Scale    float64  `json:"scale,omitempty"`
	Width    int      `json:"width,omitempty"`
	Height   int      `json:"height,omitempty"`
	Strength float64  `json:"strength"`
	Fidelity *float64 `json:"fidelity,omitempty"`
	Model    ModelRef `json:"model"`
	// Source is the absolute path of the file the !fix that made this step read; "" for a
	// step done at generation. The page's before/after view shows that file, and nothing
	// when it is gone: a name alone could match another picture.
	Source string `json:"source,omitempty"`
}

// Generation is what the JSON record and the parameters text say about how an image was made.
type Generation struct {
	Type      string  `json:"type"` // "txt2img" or "img2img"
	Prompt    string  `json:"prompt"`
	Steps     int     `json:"steps"`
	CFGScale  float64 `json:"cfg_scale"`
	Seed      uint32  `json:"seed"`
	Width     int     `json:"width"`
	Height    int     `json:"height"`
	Sampler   string  `json:"sampler"`
	VAE       string  `json:"vae,omitempty"` // the decoder: "full" or "tiny" (--vae)
	InitImage string  `json:"init_image,omitempty"`
	Strength  float64 `json:"strength,omitempty"`
}

// Record is the sd-metadata JSON: the app, the models used, and the image's own parameters
// with the post-processing applied to it, oldest first.
type Record struct {
	App        string      `json:"app_id"`
	AppVersion string      `json:"app_version"`
	Models     []ModelRef  `json:"models,omitempty"`
	Image      RecordImage `json:"image"`
}

// RecordImage is the "image" object of the record. Source names the file an image came from
// when dream did not generate it.
type RecordImage struct {
	*Generation           // nil for an image dream did not generate
	Source         string `json:"source,omitempty"`
	Postprocessing []Step `json:"postprocessing"`
}

// String is the record as JSON text.
func (r Record) String() string {
	if r.Image.Postprocessing == nil {
		r.Image.Postprocessing = []Step{}
	}
	out, _ := json.Marshal(r) // plain data: cannot fail
	return string(out)
}

// AppendStep adds a post-processing step to an existing sd-metadata text and returns the new
// text. Fields it does not know (another tool's, or a newer dream's) are kept as they were.
func AppendStep(record string, step Step) (string, error) {
	var doc map[string]any
	if err := json.Unmarshal([]byte(record), &doc); err != nil {
		return "", fmt.Errorf("sd-metadata is not JSON: %v", err)
	}
	image, _ := doc["image"].(map[string]any)
	if image == nil {
		image = map[string]any{}
		doc["image"] = image
	}
	steps, _ := image["postprocessing"].([]any)
	image["postprocessing"] = append(steps, step)
	out, err := json.Marshal(doc)
	return string(out), err
}

// Parameters writes the generation in the layout AUTOMATIC1111's web UI uses for its own
// "parameters" text: the prompt on the first line, then "Key: value" pairs, in the order of
// A1111's create_infotext (Steps, Sampler, CFG scale, Seed, Size, Model hash, Model, VAE,
// Denoising strength).
func Parameters(g Generation, model ModelRef, steps []Step) string {
	pairs := []string{
		fmt.Sprintf("Steps: %d", g.Steps),
		"Sampler: " + samplerName(g.Sampler),
		fmt.Sprintf("CFG scale: %g", g.CFGScale),
		fmt.Sprintf("Seed: %d", g.Seed),
		fmt.Sprintf("Size: %dx%d", g.Width, g.Height),
	}
	if model.SHA256 != "" {
		pairs = append(pairs, "Model hash: "+shortHash(model.SHA256))
	}
	if model.Name != "" {
		pairs = append(pairs, "Model: "+strings.TrimSuffix(model.Name, ".onnx"))
	}
	if g.VAE != "" {
		pairs = append(pairs, "VAE: "+g.VAE)
	}
	if g.InitImage != "" {
		pairs = append(pairs, fmt.Sprintf("Denoising strength: %g", g.Strength))
	}
	for _, s := range steps {
		switch s.Type {
		case "esrgan":
			pairs = append(pairs, extrasPairs(s)...)
		default:
			// txt2img's own key for faces restored during generation.
			pairs = append(pairs, fmt.Sprintf("Face restoration: %s", faceToolName(s.Type)))
		}
	}
	return g.Prompt + "\n" + strings.Join(pairs, ", ")
}

// Postprocessing describes the steps the way AUTOMATIC1111's Extras tab describes its work
// (modules/postprocessing.py joins each script's pairs with ", "), for example
// "Postprocess upscale by: 4, Postprocess upscaler: R-ESRGAN 4x+, GFPGAN visibility: 0.8".
// It is "" when there are no steps.
func Postprocessing(steps []Step) string {
	var pairs []string
	for _, s := range steps {
		pairs = append(pairs, extrasPairs(s)...)
	}
	return strings.Join(pairs, ", ")
}

// extrasPairs are one step's "Key: value" pairs under the keys of AUTOMATIC1111's
// scripts/postprocessing_upscale.py, postprocessing_gfpgan.py and postprocessing_codeformer.py.
func extrasPairs(s Step) []string {
	switch s.Type {
	case "esrgan":
		// A1111 writes "upscale to" for its "Scale to" mode, a size, and "upscale by" else.
		size := "Postprocess upscale by: " + extrasNumber(s.Scale)
		if s.Width > 0 {
			size = fmt.Sprintf("Postprocess upscale to: %dx%d", s.Width, s.Height)
		}
		pairs := []string{size, "Postprocess upscaler: " + upscalerName(s.Model.Name)}
		// A1111 has no key for -U's strength, the model's share of the result against a plain
		// bicubic enlargement. Without it a reader would take a 0.75 blend for the model's
		// own output, so it gets a key named like the Extras tab's other blend weights.
		if s.Strength < 1 {
			pairs = append(pairs, "Postprocess upscaler visibility: "+extrasNumber(s.Strength))
		}
		return pairs
	case "codeformer":
		// A1111's CodeFormer weight is dream's fidelity (-cf): 0 = strongest, 1 = weakest.
		pairs := []string{"CodeFormer visibility: " + extrasNumber(s.Strength)}
		if s.Fidelity != nil {
			pairs = append(pairs, "CodeFormer weight: "+extrasNumber(*s.Fidelity))
		}
		return pairs
	default:
		return []string{"GFPGAN visibility: " + extrasNumber(s.Strength)}
	}
}

// upscalerNames are the names AUTOMATIC1111 gives (modules/realesrgan_model.py) to the
// networks in dream's upscaler files, so that a reader recognises them.
var upscalerNames = map[string]string{
	"realesrgan-x4plus.onnx":    "R-ESRGAN 4x+",
	"realesrgan-x2plus.onnx":    "R-ESRGAN 2x+",
	"realesr-general-x4v3.onnx": "R-ESRGAN General 4xV3",
}

// upscalerName is A1111's name for an upscaler file, or the file's name without ".onnx", as
// A1111 names the ESRGAN models a user adds.
func upscalerName(file string) string {
	if name, ok := upscalerNames[file]; ok {
		return name
	}
	return strings.TrimSuffix(file, ".onnx")
}

// extrasNumber writes a weight as the Extras scripts do: rounded to 3 decimals.
func extrasNumber(v float64) string {
	return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
}

// samplerName is the name AUTOMATIC1111 gives each of dream's samplers. The Karras variant
// is the one name "DPM++ 2M Karras" as older versions wrote it; newer ones write the
// schedule apart ("Schedule type: Karras") and split a joined name when they read it.
func samplerName(s string) string {
	names := map[string]string{
		"ddim": "DDIM", "plms": "PLMS", "k_lms": "LMS", "k_euler": "Euler", "k_euler_a": "Euler a",
		"k_heun": "Heun", "k_dpm_2": "DPM2", "k_dpm_2_a": "DPM2 a",
		"k_dpmpp_2m": "DPM++ 2M", "k_dpmpp_2m_karras": "DPM++ 2M Karras", "lcm": "LCM",
	}
	if n, ok := names[s]; ok {
		return n
	}
	return s
}

func faceToolName(t string) string {
	if t == "codeformer" {
		return "CodeFormer"
	}
	return "GFPGAN"
}

// shortHash is the first ten hex digits, the length AUTOMATIC1111 shows as a model hash.
func shortHash(h string) string {
	if len(h) > 10 {
		return h[:10]
	}
	return h
}
