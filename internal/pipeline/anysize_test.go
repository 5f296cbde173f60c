package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"dream/internal/imagecmp"
	"dream/internal/imageio"
	"dream/internal/job"
	"dream/internal/models"
	"dream/internal/onnxpb"
	"dream/internal/pngmeta"
)

// python is Debian's python3, which has PIL (python3-pil, installed by scripts/install_test_tools);
// the python3 first on PATH may lack it.
const python = "/usr/bin/python3"

// cropPhoto writes the top-left w×h of the shared coffee photo into dir as name, a JPEG
// (quality 90) when name ends in .jpg, else a PNG.
func cropPhoto(t *testing.T, dir, name string, w, h int) string {
	t.Helper()
	photo, err := imageio.Load(filepath.Join(shared, "images", "coffee.png"))
	if err != nil {
		t.Fatal(err)
	}
	crop := imageio.New(w, h, photo.Channels, photo.Depth)
	for y := range h {
		for x := range w * photo.Channels {
			crop.Set(y*w*photo.Channels+x, photo.At(y*photo.W*photo.Channels+x))
		}
	}
	path := filepath.Join(dir, name)
	if !strings.HasSuffix(name, ".jpg") {
		writePNG(t, path, crop)
		return path
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := jpeg.Encode(f, imageio.GoImage(crop), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return path
}

// fixLine parses a typed !fix line and runs it.
func fixLine(t *testing.T, p *Pipeline, line string) Result {
	t.Helper()
	j, err := job.Parse(line)
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Fix(context.Background(), j)
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	return res
}

func load(t *testing.T, path string) *imageio.Image {
	t.Helper()
	img, err := imageio.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// !fix photo.jpg -U 2 --width 1600 makes exactly 1600 pixels across, the height keeping the
// aspect ratio, and is what people would make by hand: the network's own ×4 output (dream's
// -U 4 at strength 1) resized by PIL's Image.resize(LANCZOS), to 40 dB or better. The
// target wins over -U's factor, and the network runs at the scale the target needs.
func TestFixToWidth(t *testing.T) {
	dir := t.TempDir()
	photo := cropPhoto(t, dir, "photo.jpg", 432, 288) // 1600 is ×3.7: the ×4 network, then shrunk
	p := newPipeline(filepath.Join(dir, "out"), 0, nil)
	// --format png (a JPEG's result is a JPEG by default): what is measured is the resize,
	// not JPEG's compression.
	p.cfg.Format = "png"
	native := fixLine(t, p, "!fix "+photo+" -U 4 1")
	sized := fixLine(t, p, "!fix "+photo+" -U 2 1 --width 1600")
	if sized.W != 1600 || sized.H != 1067 {
		t.Fatalf("got %d×%d, want 1600×1067 (288·1600/432 = 1066.7, rounded)", sized.W, sized.H)
	}
	reference := filepath.Join(dir, "reference.png")
	script := filepath.Join("testdata", "pil_resize.py")
	out, err := exec.Command(python, script, native.Path, "1600", "1067", reference).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s\nthe test needs Debian's python3 with PIL: scripts/install_test_tools installs python3-pil", python, script, err, out)
	}
	d, err := imagecmp.Compare(load(t, sized.Path), load(t, reference))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("!fix photo.jpg -U 2 1 --width 1600 against PIL's Lanczos of the ×4 output: %v", d)
	if d.PSNR < 40 {
		t.Errorf("%v, want PSNR ≥ 40 dB", d)
	}
	stored := readMeta(t, sized.Path).Text[pngmeta.KeyDream]
	if j, err := job.Parse(stored); err != nil || j.Kind != job.Fix || j.Path != photo ||
		*j.Upscale != (job.Upscale{Factor: 2, Strength: 1, Width: 1600}) {
		t.Errorf("Dream = %s: want !fix %s -U 2 1 -W 1600", stored, photo)
	}
}

// The command stored in a result made to a target size makes the same pixels again. -W or -H
// alone stands for -U, which the stored command spells as the network scale the target
// needed, with the strength; and it stays a !fix line even for a generated source, since on a
// prompt line -W and -H are the generated image's size.
func TestFixToSizeStoredCommand(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "000001.1234.png")
	photo := load(t, filepath.Join(shared, "images", "coffee_crop128.png"))
	writePNG(t, src, photo, pngmeta.Text(pngmeta.KeyDream, `"a cup of coffee" -s 30 -S 1234 -W 128 -H 128 -C 7.5 -A k_lms`))
	p := newPipeline(filepath.Join(dir, "out"), 0, nil)
	for _, tt := range []struct{ line, stored string }{
		{"!fix " + src + " -H 300", `!fix "` + src + `" -U 4 0.75 -H 300`},
		{"!fix " + src + " -W 250 -H 200 -U 1.5 0.6", `!fix "` + src + `" -U 1.5 0.6 -W 250 -H 200`},
		{"!fix " + src + " -U 1.5 0.6", `"a cup of coffee" -s 30 -S 1234 -W 128 -H 128 -C 7.5 -A k_lms -U 1.5 0.6`},
	} {
		t.Run(tt.line, func(t *testing.T) {
			first := fixLine(t, p, tt.line)
			meta := readMeta(t, first.Path)
			stored := meta.Text[pngmeta.KeyDream]
			if stored != tt.stored {
				t.Fatalf("Dream = %s\nwant    %s", stored, tt.stored)
			}
			var again Result
			if j, _ := job.Parse(stored); j.Kind == job.Generate {
				// A prompt line's post-processing: made again by the same fix of the source.
				again = fixLine(t, p, "!fix "+src+" "+strings.Join(j.PostprocessingSwitches(), " "))
			} else {
				again = fixLine(t, p, stored)
			}
			if err := sameImage(load(t, first.Path), load(t, again.Path)); err != nil {
				t.Errorf("the stored command made another image: %v", err)
			}
			var doc struct {
				Image struct{ Postprocessing []pngmeta.Step } `json:"image"`
			}
			if err := json.Unmarshal([]byte(meta.Text[pngmeta.KeySDMetadata]), &doc); err != nil {
				t.Fatal(err)
			}
			steps := doc.Image.Postprocessing
			if len(steps) != 1 || steps[0].Width+steps[0].Height > 0 && (steps[0].Width != first.W || steps[0].Height != first.H) {
				t.Errorf("sd-metadata postprocessing %+v for a %d×%d result", steps, first.W, first.H)
			}
			pngcheck(t, first.Path)
		})
	}
}

// Beyond ×4 the network runs twice, and the progress bar says so: -U 8 is ×4, then ×4
// again shrunk to ×2, blended with the original's bicubic enlargement.
func TestFixEightTimes(t *testing.T) {
	dir := t.TempDir()
	src := cropPhoto(t, dir, "small.png", 24, 16)
	var tasks []string
	p := newPipeline(filepath.Join(dir, "out"), 0, func(task Task, done, total int) {
		if len(tasks) == 0 || tasks[len(tasks)-1] != task.Name {
			tasks = append(tasks, task.Name)
		}
	})
	res := fixLine(t, p, "!fix "+src+" -U 8 0.5")
	if res.W != 192 || res.H != 128 {
		t.Errorf("got %d×%d, want 192×128", res.W, res.H)
	}
	want := []string{"reading small.png", "upscaling ×8, pass 1 of 2", "upscaling ×8, pass 2 of 2"}
	if strings.Join(tasks, "|") != strings.Join(want, "|") {
		t.Errorf("progress tasks %q, want %q", tasks, want)
	}
	meta := readMeta(t, res.Path)
	if got, want := meta.Text[pngmeta.KeyDream], `!fix "`+src+`" -U 8 0.5`; got != want {
		t.Errorf("Dream = %s, want %s", got, want)
	}
	if got, want := meta.Text[pngmeta.KeyPostprocessing], "Postprocess upscale by: 8, Postprocess upscaler: R-ESRGAN General 4xV3, Postprocess upscaler visibility: 0.5"; got != want {
		t.Errorf("postprocessing = %q, want %q", got, want)
	}
}

// Sizes past the limits are refused in one line before any work: a target side outside 1 to 8
// times the image's, more pixels than dream reads back (imageio.MaxPixels), and -G on an
// image whose aspect ratio the target changes, since faces are pasted at one scale.
func TestUpscaleLimits(t *testing.T) {
	for _, tt := range []struct {
		line string
		w, h int
		want string
	}{
		{"!fix a.png -W 39", 40, 30, "-W 39: the target width must be from 40 to 320 pixels for this image, whose width is 40 (!fix enlarges 1 to 8 times)"},
		{"!fix a.png -U 2 -H 241", 40, 30, "-H 241: the target height must be from 30 to 240 pixels for this image, whose height is 30 (!fix enlarges 1 to 8 times)"},
		{"!fix a.png -U 8", 3000, 2000, ""},
		{"!fix a.png -U 8", 4000, 3000, "upscaling 4000×3000 to 32000×24000 would make 768 megapixels, over dream's limit of 400: ask for a smaller size"},
		{"!fix a.png -W 20000 -H 20000", 5000, 5000, ""},
		{"!fix a.png -W 80 -H 90 -G 0.5", 40, 30, "-G needs the image's aspect ratio kept, and -W with -H changes it: give one of them, or leave -G out"},
		{"!fix a.png -W 80 -H 61 -G 0.5", 40, 30, ""}, // a pixel off the aspect ratio: rounding
		{"!fix a.png -W 80 -H 90", 40, 30, ""},
	} {
		j, err := job.Parse(tt.line)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = checkUpscaleSize(j, tt.w, tt.h)
		if got := fmt.Sprint(err); tt.want == "" && err != nil || tt.want != "" && got != tt.want {
			t.Errorf("%s on %d×%d: error %v\nwant %q", tt.line, tt.w, tt.h, err, tt.want)
		}
	}
}

// A refused size writes nothing, and a prompt line's -U is checked before the image is
// generated.
func TestUpscaleLimitsBeforeWork(t *testing.T) {
	dir := t.TempDir()
	src := cropPhoto(t, dir, "small.png", 40, 30)
	out := filepath.Join(dir, "out")
	p := newPipeline(out, 0, nil)
	j, err := job.Parse("!fix " + src + " -W 330")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Fix(context.Background(), j); err == nil || !strings.HasPrefix(err.Error(), "-W 330: ") {
		t.Errorf("!fix -W 330 of a 40-pixel image: error %v, want the -W limits", err)
	}
	if entries, _ := os.ReadDir(out); len(entries) > 0 {
		t.Errorf("a refused fix left %d files in the output folder", len(entries))
	}
	if j, err = job.Parse("a cat -W 4096 -H 4096 -U 8"); err != nil {
		t.Fatal(err)
	}
	want := "upscaling 4096×4096 to 32768×32768 would make 1073 megapixels, over dream's limit of 400: ask for a smaller size"
	if _, err := p.planPostprocessing(j); err == nil || err.Error() != want {
		t.Errorf("a cat -W 4096 -H 4096 -U 8: error %v\nwant %s", err, want)
	}
}

// writeNearestModel writes a nearest-neighbour upscaler of the given scale: a stand-in for a
// Real-ESRGAN file, whose name says which model the pipeline took.
func writeNearestModel(t *testing.T, path string, scale float32) {
	t.Helper()
	g := onnxpb.Graph{
		Name:    "nearest",
		Inputs:  []onnxpb.ValueInfo{onnxpb.NewValueInfo("input", onnxpb.Float, onnxpb.Fixed(1), onnxpb.Fixed(3), onnxpb.Sym("h"), onnxpb.Sym("w"))},
		Outputs: []onnxpb.ValueInfo{onnxpb.NewValueInfo("output", onnxpb.Float, onnxpb.Fixed(1), onnxpb.Fixed(3), onnxpb.Sym("H"), onnxpb.Sym("W"))},
	}
	g.AddInitializer(onnxpb.Float32Tensor("scales", []int64{4}, []float32{1, 1, scale, scale}))
	g.Add("Resize", []string{"input", "", "scales"}, []string{"output"}, onnxpb.AttrString("mode", "nearest"))
	if err := (&onnxpb.Model{Graph: g}).WriteFile(path); err != nil {
		t.Fatal(err)
	}
}

// Each pass runs the ×2 model when what is left is ×2 or less and one is installed, else the
// ×4 model: -U 1.5 needs only the ×2 model, -U 3 only the ×4, -U 8 both (×4, then ×2), and a
// target decides as its scale does, whatever -U says.
func TestUpscalePassModels(t *testing.T) {
	dir := t.TempDir()
	modelDir := filepath.Join(dir, "models")
	if err := os.Mkdir(modelDir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeNearestModel(t, filepath.Join(modelDir, models.GeneralX4v3), 4)
	writeNearestModel(t, filepath.Join(modelDir, models.RealESRGANx2plus), 2)
	src := cropPhoto(t, dir, "small.png", 20, 10)
	for _, tt := range []struct {
		switches string
		w, h     int
		loaded   []string
	}{
		{"-U 1.5", 30, 15, []string{models.RealESRGANx2plus}},
		{"-U 2 1", 40, 20, []string{models.RealESRGANx2plus}},
		{"-U 3", 60, 30, []string{models.GeneralX4v3}},
		{"-U 8 0.5", 160, 80, []string{models.GeneralX4v3, models.RealESRGANx2plus}},
		{"-U 6", 120, 60, []string{models.GeneralX4v3, models.RealESRGANx2plus}},
		{"-U 8 -W 30", 30, 15, []string{models.RealESRGANx2plus}},
		{"-H 50", 100, 50, []string{models.GeneralX4v3, models.RealESRGANx2plus}},
		// ×5 across, ×1.2 down: the second pass shrinks the first's ×4 height.
		{"-W 100 -H 12", 100, 12, []string{models.GeneralX4v3, models.RealESRGANx2plus}},
	} {
		t.Run(tt.switches, func(t *testing.T) {
			p := newPipeline(filepath.Join(dir, "out"), 0, nil)
			p.cfg.ModelDir = modelDir
			res := fixLine(t, p, "!fix "+src+" "+tt.switches)
			if res.W != tt.w || res.H != tt.h {
				t.Errorf("got %d×%d, want %d×%d", res.W, res.H, tt.w, tt.h)
			}
			var loaded []string
			for path := range p.upscalers {
				loaded = append(loaded, filepath.Base(path))
			}
			slices.Sort(loaded)
			slices.Sort(tt.loaded)
			if !slices.Equal(loaded, tt.loaded) {
				t.Errorf("loaded %v, want %v", loaded, tt.loaded)
			}
		})
	}
}

// sameImage reports how a and b differ, if they do.
func sameImage(a, b *imageio.Image) error {
	d, err := imagecmp.Compare(a, b)
	if err == nil && d.MaxAbs != 0 {
		err = errors.New(d.String())
	}
	return err
}
