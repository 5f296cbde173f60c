package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"dream/internal/imageio"
	"dream/internal/job"
	"dream/internal/pngmeta"
	"dream/internal/version"
)

// A generated image's metadata survives !fix: the command comes back with the fix's
// switches, earlier post-processing entries are kept and the new one appended, the
// parameters text stays, and the colour profile and EXIF are carried over. pngcheck (a
// Debian package, installed by make test) checks every chunk's CRC.
func TestFixKeepsAndExtendsMetadata(t *testing.T) {
	dir := t.TempDir()
	photo, err := imageio.Load(filepath.Join(shared, "images", "coffee_crop128.png"))
	if err != nil {
		t.Fatal(err)
	}
	command := `"a cup of coffee" -s 30 -S 1234 -W 128 -H 128 -C 7.5 -A k_lms`
	record := `{"app_id":"dream","app_version":"0.0.9","future_field":{"kept":true},` +
		`"image":{"prompt":"a cup of coffee","seed":1234,"postprocessing":[{"type":"esrgan","scale":2,"strength":1}]}}`
	params := "a cup of coffee\nSteps: 30, Sampler: LMS, CFG scale: 7.5, Seed: 1234, Size: 128x128"
	profile := bytes.Repeat([]byte("ICC profile bytes "), 50)
	exif := []byte("MM\x00\x2a\x00\x00\x00\x08\x00\x00")
	src := filepath.Join(dir, "000001.1234.png")
	writePNG(t, src, photo,
		pngmeta.Text(pngmeta.KeyDream, command),
		pngmeta.InternationalText(pngmeta.KeySDMetadata, record),
		pngmeta.Text(pngmeta.KeyParameters, params),
		pngmeta.ICCProfile("camera", profile),
		pngmeta.Exif(exif))

	p := newPipeline(filepath.Join(dir, "out"), 0, nil)
	res, err := p.Fix(context.Background(), job.Job{Kind: job.Fix, Path: src, Upscale: &job.Upscale{Factor: 2, Strength: 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	info := readMeta(t, res.Path)

	if got, want := info.Text[pngmeta.KeyDream], `"a cup of coffee" -s 30 -S 1234 -W 128 -H 128 -C 7.5 -A k_lms -U 2 0.5`; got != want {
		t.Errorf("Dream = %s\nwant    %s", got, want)
	}
	if got := info.Text[pngmeta.KeyParameters]; got != params {
		t.Errorf("parameters = %q, want %q", got, params)
	}
	if got, want := info.Text[pngmeta.KeyPostprocessing], "Postprocess upscale by: 2, Postprocess upscaler: R-ESRGAN General 4xV3, Postprocess upscaler visibility: 0.5"; got != want {
		t.Errorf("postprocessing = %q, want %q", got, want)
	}
	if !bytes.Equal(info.ICC, profile) || !bytes.Equal(info.Exif, exif) {
		t.Errorf("colour profile or EXIF not carried over: %d and %d bytes", len(info.ICC), len(info.Exif))
	}
	var doc struct {
		Future map[string]any `json:"future_field"`
		Image  struct {
			Postprocessing []pngmeta.Step `json:"postprocessing"`
		} `json:"image"`
	}
	if err := json.Unmarshal([]byte(info.Text[pngmeta.KeySDMetadata]), &doc); err != nil {
		t.Fatal(err)
	}
	steps := doc.Image.Postprocessing
	if len(steps) != 2 || steps[0].Scale != 2 || steps[0].Strength != 1 ||
		steps[1].Type != "esrgan" || steps[1].Strength != 0.5 || steps[1].Model.Name != "realesr-general-x4v3.onnx" || len(steps[1].Model.SHA256) != 64 {
		t.Errorf("postprocessing = %+v", steps)
	}
	if doc.Future["kept"] != true {
		t.Error("a field dream does not know was dropped from sd-metadata")
	}
	pngcheck(t, res.Path)

	// A second fix appends again; the Dream command becomes the !fix line, since a prompt
	// line cannot say "upscaled twice".
	again, err := p.Fix(context.Background(), job.Job{Kind: job.Fix, Path: res.Path, Upscale: &job.Upscale{Factor: 2, Strength: 1}})
	if err != nil {
		t.Fatal(err)
	}
	info = readMeta(t, again.Path)
	if got, want := info.Text[pngmeta.KeyDream], `!fix "`+res.Path+`" -U 2 1`; got != want {
		t.Errorf("Dream = %s, want %s", got, want)
	}
	json.Unmarshal([]byte(info.Text[pngmeta.KeySDMetadata]), &doc)
	if len(doc.Image.Postprocessing) != 3 {
		t.Errorf("after two fixes, %d postprocessing entries, want 3", len(doc.Image.Postprocessing))
	}
	pngcheck(t, again.Path)
}

// !fix writes AUTOMATIC1111's texts: a source's parameters stay as they were and this fix
// goes into postprocessing, as A1111's Extras tab does; a source without parameters gets the
// postprocessing text as its parameters.
func TestFixA1111Texts(t *testing.T) {
	x4plus := pngmeta.ModelRef{Name: "realesrgan-x4plus.onnx"}
	upscale := pngmeta.Step{Type: "esrgan", Scale: 4, Strength: 1, Model: x4plus}
	gfpgan := pngmeta.Step{Type: "gfpgan", Strength: 0.8, Model: pngmeta.ModelRef{Name: "gfpgan_1.4.onnx"}}
	fidelity := 0.7
	codeformer := pngmeta.Step{Type: "codeformer", Strength: 1, Fidelity: &fidelity, Model: pngmeta.ModelRef{Name: "codeformer.onnx"}}
	generated := "a cup of coffee\nSteps: 30, Sampler: LMS, CFG scale: 7.5, Seed: 1234, Size: 128x128"
	for _, tc := range []struct {
		name           string
		source         string // the source's parameters; "" for none
		steps          []pngmeta.Step
		parameters     string
		postprocessing string // "" for no postprocessing chunk
	}{
		{"-U 4", "", []pngmeta.Step{upscale},
			"Postprocess upscale by: 4, Postprocess upscaler: R-ESRGAN 4x+",
			"Postprocess upscale by: 4, Postprocess upscaler: R-ESRGAN 4x+"},
		{"-G 0.8", "", []pngmeta.Step{gfpgan},
			"GFPGAN visibility: 0.8", "GFPGAN visibility: 0.8"},
		{"-G 1 -ft codeformer -cf 0.7", "", []pngmeta.Step{codeformer},
			"CodeFormer visibility: 1, CodeFormer weight: 0.7", "CodeFormer visibility: 1, CodeFormer weight: 0.7"},
		{"-U 4 -G 0.8", "", []pngmeta.Step{upscale, gfpgan},
			"Postprocess upscale by: 4, Postprocess upscaler: R-ESRGAN 4x+, GFPGAN visibility: 0.8",
			"Postprocess upscale by: 4, Postprocess upscaler: R-ESRGAN 4x+, GFPGAN visibility: 0.8"},
		{"-U 4 on a generated image", generated, []pngmeta.Step{upscale},
			generated, "Postprocess upscale by: 4, Postprocess upscaler: R-ESRGAN 4x+"},
		{"-G without faces found", "", nil, "", ""},
		{"-G without faces found, generated image", generated, nil, generated, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := &imageio.Image{Meta: imageio.Metadata{Text: map[string]string{}}}
			if tc.source != "" {
				img.Meta.Text[pngmeta.KeyParameters] = tc.source
			}
			got := map[string]string{}
			for _, c := range fixMetadata("photo.png", imageio.PNG, img, job.Job{Kind: job.Fix, Path: "photo.png"}, tc.steps) {
				if key, value, ok := textChunk(c); ok {
					got[key] = value
				}
			}
			if _, ok := got[pngmeta.KeyParameters]; ok != (tc.parameters != "") || got[pngmeta.KeyParameters] != tc.parameters {
				t.Errorf("parameters = %q, want %q", got[pngmeta.KeyParameters], tc.parameters)
			}
			if _, ok := got[pngmeta.KeyPostprocessing]; ok != (tc.postprocessing != "") || got[pngmeta.KeyPostprocessing] != tc.postprocessing {
				t.Errorf("postprocessing = %q, want %q", got[pngmeta.KeyPostprocessing], tc.postprocessing)
			}
		})
	}
}

// textChunk reads a tEXt chunk as fixMetadata writes it: keyword, NUL, Latin-1 text (ASCII here).
func textChunk(c pngmeta.Chunk) (key, value string, ok bool) {
	if c.Type != "tEXt" {
		return "", "", false
	}
	key, value, ok = strings.Cut(string(c.Data), "\x00")
	return key, value, ok
}

// !fix of a plain PNG, one no program wrote metadata into, gives a file with all three of
// dream's texts (Dream, sd-metadata, parameters) that pngcheck accepts; sd-metadata names
// the version dream runs as, which a release build stamps in (set here as -X would).
func TestFixOfPlainPNGWritesEveryText(t *testing.T) {
	stamped := version.Version
	version.Version = "1.2.3-test"
	t.Cleanup(func() { version.Version = stamped })
	dir := t.TempDir()
	photo, err := imageio.Load(filepath.Join(shared, "images", "coffee_crop128.png"))
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "plain.png")
	writePNG(t, src, photo)
	if len(readMeta(t, src).Text) != 0 {
		t.Fatal("the source is meant to have no text")
	}

	p := newPipeline(filepath.Join(dir, "out"), 0, nil)
	res, err := p.Fix(context.Background(), job.Job{Kind: job.Fix, Path: src, Upscale: &job.Upscale{Factor: 2, Strength: 1}})
	if err != nil {
		t.Fatal(err)
	}
	text := readMeta(t, res.Path).Text
	if got, want := text[pngmeta.KeyDream], `!fix "`+src+`" -U 2 1`; got != want {
		t.Errorf("Dream = %q, want %q", got, want)
	}
	if !strings.Contains(text[pngmeta.KeySDMetadata], `"source":"plain.png"`) {
		t.Errorf("sd-metadata = %s, want a record naming the source", text[pngmeta.KeySDMetadata])
	}
	var record struct {
		AppVersion string `json:"app_version"`
	}
	if err := json.Unmarshal([]byte(text[pngmeta.KeySDMetadata]), &record); err != nil || record.AppVersion != "1.2.3-test" {
		t.Errorf("sd-metadata's app_version = %q (%v), want the stamped 1.2.3-test", record.AppVersion, err)
	}
	if got, want := text[pngmeta.KeyParameters], "Postprocess upscale by: 2, Postprocess upscaler: R-ESRGAN General 4xV3"; got != want {
		t.Errorf("parameters = %q, want %q", got, want)
	}
	pngcheck(t, res.Path)
}

func writePNG(t *testing.T, path string, img *imageio.Image, meta ...pngmeta.Chunk) {
	t.Helper()
	var buf bytes.Buffer
	if err := imageio.Encode(&buf, img, meta...); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readMeta(t *testing.T, path string) pngmeta.Info {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, err := pngmeta.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func pngcheck(t *testing.T, path string) {
	t.Helper()
	out, err := exec.Command("pngcheck", "-q", path).CombinedOutput()
	if err != nil {
		t.Errorf("pngcheck %s: %v\n%s", path, err, out)
	}
}
