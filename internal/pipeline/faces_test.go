package pipeline

import (
	"context"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"dream/internal/face"
	"dream/internal/imagecmp"
	"dream/internal/imageio"
	"dream/internal/job"
	"dream/internal/models"
	"dream/internal/onnxpb"
	"dream/internal/ort"
)

// faceModels makes a model directory with the real YuNet detector and the real upscaler,
// and a GFPGAN test model computing output = scale·input + shift (identity by default).
func faceModels(t *testing.T, scale, shift float32) string {
	t.Helper()
	dir := t.TempDir()
	linkShared(t, dir, models.GeneralX4v3)
	writeRestorerModel(t, dir, scale, shift)
	return dir
}

func linkShared(t *testing.T, dir string, names ...string) {
	for _, name := range append(names, models.YuNet) {
		abs, _ := filepath.Abs(filepath.Join(shared, "models", name))
		if err := os.Symlink(abs, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
}

func writeRestorerModel(t *testing.T, dir string, scale, shift float32) {
	image := func(n string) onnxpb.ValueInfo {
		return onnxpb.NewValueInfo(n, onnxpb.Float, onnxpb.Fixed(1), onnxpb.Fixed(3), onnxpb.Fixed(512), onnxpb.Fixed(512))
	}
	g := onnxpb.Graph{Inputs: []onnxpb.ValueInfo{image("input")}, Outputs: []onnxpb.ValueInfo{image("output")}}
	g.AddInitializer(onnxpb.Float32Tensor("scale", []int64{1}, []float32{scale}))
	g.AddInitializer(onnxpb.Float32Tensor("shift", []int64{1}, []float32{shift}))
	g.Add("Mul", []string{"input", "scale"}, []string{"scaled"})
	g.Add("Add", []string{"scaled", "shift"}, []string{"output"})
	m := onnxpb.Model{Graph: g}
	if err := m.WriteFile(filepath.Join(dir, models.FaceRestorers["gfpgan"])); err != nil {
		t.Fatal(err)
	}
}

// writeSmoothUpscaler writes a ×4 "upscaler" that enlarges bilinearly with half-pixel centres.
// Real-ESRGAN invents detail the enlarged original crop cannot have (its ×4 face is 30 dB from
// a plain enlargement), so the paste offset is checked against a smooth ×4 instead: a face
// pasted with a wrong offset (facexlib's 0.5·u is half an output pixel off) shows as a shift.
func writeSmoothUpscaler(t *testing.T, dir string) {
	g := onnxpb.Graph{
		Inputs:  []onnxpb.ValueInfo{onnxpb.NewValueInfo("input", onnxpb.Float, onnxpb.Fixed(1), onnxpb.Fixed(3), onnxpb.Sym("h"), onnxpb.Sym("w"))},
		Outputs: []onnxpb.ValueInfo{onnxpb.NewValueInfo("output", onnxpb.Float, onnxpb.Fixed(1), onnxpb.Fixed(3), onnxpb.Sym("H"), onnxpb.Sym("W"))},
	}
	g.AddInitializer(onnxpb.Float32Tensor("scales", []int64{4}, []float32{1, 1, 4, 4}))
	g.Add("Resize", []string{"input", "", "scales"}, []string{"output"}, onnxpb.AttrString("mode", "linear"),
		onnxpb.AttrString("coordinate_transformation_mode", "half_pixel"))
	m := onnxpb.Model{Graph: g}
	if err := m.WriteFile(filepath.Join(dir, models.GeneralX4v3)); err != nil {
		t.Fatal(err)
	}
}

func facePipeline(t *testing.T, modelDir string) (*Pipeline, string) {
	out := filepath.Join(t.TempDir(), "out")
	p := New(Config{Outdir: out, ModelDir: modelDir, Upscaler: "general-x4v3",
		Runtime: func() (*ort.Runtime, error) { return runtime, nil }})
	return p, out
}

func fixWith(t *testing.T, p *Pipeline, src string, up *job.Upscale, faces *job.Faces) (*imageio.Image, Result) {
	t.Helper()
	res, err := p.Fix(context.Background(), job.Job{Kind: job.Fix, Path: src, Upscale: up, Faces: faces})
	if err != nil {
		t.Fatal(err)
	}
	img, err := imageio.Load(res.Path)
	if err != nil {
		t.Fatal(err)
	}
	return img, res
}

var astronaut = filepath.Join(shared, "images", "astronaut.png")

// onePastedNote is the note of a -G job on the astronaut: one face, 44 px between the eyes
// by YuNet's refined landmarks (TestFixChosenFaces measures it).
var onePastedNote = regexp.MustCompile(`^1 face found \(4[345] px between the eyes\), 1 restored$`)

// faceBox is the astronaut's face, SPEC's acceptance box.
var faceBox = image.Rect(178, 63, 268, 176)

// With a restorer that gives its input back, -G 1 changes the face by little and nothing
// outside the mask; the same on a ×4 result checks the (u−1)/2 offset of the paste.
func TestFaceRoundTrip(t *testing.T) {
	dir := t.TempDir()
	linkShared(t, dir)
	writeRestorerModel(t, dir, 1, 0)
	writeSmoothUpscaler(t, dir)
	p, _ := facePipeline(t, dir)
	original, err := imageio.Load(astronaut)
	if err != nil {
		t.Fatal(err)
	}
	det, err := p.faceDetector(filepath.Join(p.cfg.ModelDir, models.YuNet))
	if err != nil {
		t.Fatal(err)
	}
	faces, err := det.Detect(context.Background(), original)
	if err != nil || len(faces) != 1 {
		t.Fatalf("want one face in astronaut.png, got %d (%v)", len(faces), err)
	}
	m := face.AlignTransform(faces[0].Landmarks)

	tests := []struct {
		name string
		up   *job.Upscale
		u    int
	}{
		{"-G 1", nil, 1},
		{"-U 4 1 -G 1", &job.Upscale{Factor: 4, Strength: 1}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := original
			if tt.up != nil {
				before, _ = fixWith(t, p, astronaut, tt.up, nil)
			}
			restored, res := fixWith(t, p, astronaut, tt.up, &job.Faces{Strength: 1, Tool: "gfpgan"})
			if len(res.Notes) != 1 || !onePastedNote.MatchString(res.Notes[0]) {
				t.Fatalf("notes %q, want one saying that 1 face was found and restored", res.Notes)
			}
			box := image.Rect(faceBox.Min.X*tt.u, faceBox.Min.Y*tt.u, faceBox.Max.X*tt.u, faceBox.Max.Y*tt.u)
			d, _ := imagecmp.Compare(crop(before, box), crop(restored, box))
			t.Logf("%s: face box %v: %v", tt.name, box, d)
			if d.PSNR < 38 {
				t.Errorf("the face box changed too much: %v, want PSNR ≥ 38 dB", d)
			}
			mask, _ := face.SoftMask(m, float64(tt.u), before.W, before.H)
			changedOutside := 0
			for y := 0; y < before.H; y++ {
				for x := 0; x < before.W; x++ {
					if mask.At(x, y) > 0 {
						continue
					}
					for c := 0; c < before.Channels; c++ {
						i := (y*before.W+x)*before.Channels + c
						if before.At(i) != restored.At(i) {
							changedOutside++
						}
					}
				}
			}
			if changedOutside > 0 {
				t.Errorf("%d samples outside the mask's support changed", changedOutside)
			}
			// Channel order and range: the face box's mean colour is kept within 1/255.
			mb, mr := meanColour(before, box), meanColour(restored, box)
			for c := range mb {
				if math.Abs(mb[c]-mr[c]) > 1 {
					t.Errorf("mean of channel %d moved from %.2f to %.2f", c, mb[c], mr[c])
				}
			}
		})
	}
}

// -G 0.5 is exactly the half blend of the image before the step and the pasted one.
func TestFaceStrengthBlend(t *testing.T) {
	p, _ := facePipeline(t, faceModels(t, 0.5, 0.25)) // a restorer that visibly changes the face
	original, _ := imageio.Load(astronaut)
	full, _ := fixWith(t, p, astronaut, nil, &job.Faces{Strength: 1, Tool: "gfpgan"})
	half, _ := fixWith(t, p, astronaut, nil, &job.Faces{Strength: 0.5, Tool: "gfpgan"})
	worst, differ := 0.0, 0
	for i := range half.W * half.H * half.Channels {
		want := (float64(original.At(i)) + float64(full.At(i))) / 2
		worst = max(worst, math.Abs(float64(half.At(i))-want))
		if full.At(i) != original.At(i) {
			differ++
		}
	}
	t.Logf("-G 0.5 against (before + pasted)/2: largest difference %.2f steps over %d changed samples", worst, differ)
	if differ < 1000 || worst > 0.5 {
		t.Errorf("-G 0.5 is not the half blend: largest difference %.2f steps (%d samples changed at -G 1)", worst, differ)
	}
}

// Images without faces, faces too small, many faces, faces at the border, and gray and RGBA
// images: each is handled, and "no faces" is a note while the rest of the job still runs.
func TestFaceCases(t *testing.T) {
	modelDir := faceModels(t, 1, 0)
	original, _ := imageio.Load(astronaut)
	dir := t.TempDir()
	save := func(name string, img *imageio.Image) string {
		path := filepath.Join(dir, name)
		if err := imageio.SavePNG(path, img); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name  string
		src   string
		up    *job.Upscale
		faces int // faces restored; 0 means the note
	}{
		{"no faces, upscaled anyway", filepath.Join(shared, "images", "coffee_crop128.png"), &job.Upscale{Factor: 2, Strength: 1}, 0},
		{"four faces", save("four.png", tile2x2(original)), nil, 4},
		{"face at the border", save("border.png", cropImage(original, image.Rect(190, 0, 512, 512))), nil, 1},
		{"face too small", save("tiny.png", shrink(original, 16)), nil, 0},
		{"gray", save("gray.png", toGray(original)), nil, 1},
		{"RGBA", save("rgba.png", withAlpha(original)), &job.Upscale{Factor: 2, Strength: 1}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := facePipeline(t, modelDir)
			img, res := fixWith(t, p, tt.src, tt.up, &job.Faces{Strength: 1, Tool: "gfpgan"})
			src, _ := imageio.Load(tt.src)
			if tt.up != nil && img.W != int(float64(src.W)*tt.up.Factor) {
				t.Errorf("width %d, want the ×%g upscale", img.W, tt.up.Factor)
			}
			if img.Channels != src.Channels {
				t.Errorf("%d channels out, %d in", img.Channels, src.Channels)
			}
			want := "no faces found, so -G changed nothing"
			if tt.faces > 0 {
				noun := "faces"
				if tt.faces == 1 {
					noun = "face"
				}
				want = fmt.Sprintf(`%d %s found \(.* px between the eyes\), %d restored`, tt.faces, noun, tt.faces)
			}
			if len(res.Notes) != 1 || !regexp.MustCompile("^"+want+"$").MatchString(res.Notes[0]) {
				t.Errorf("notes %q for an image with %d faces to restore, want %q", res.Notes, tt.faces, want)
			}
			steps := readMeta(t, res.Path).Text["sd-metadata"]
			if got := strings.Count(steps, `"type":"gfpgan"`); (tt.faces > 0) != (got == 1) {
				t.Errorf("sd-metadata records the face step %d times: %s", got, steps)
			}
		})
	}
}

func crop(img *imageio.Image, r image.Rectangle) *imageio.Image { return cropImage(img, r) }

func cropImage(img *imageio.Image, r image.Rectangle) *imageio.Image {
	out := &imageio.Image{W: r.Dx(), H: r.Dy(), Channels: img.Channels, Depth: img.Depth}
	px := pixelBytes(img)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := img.Pix[(y*img.W+r.Min.X)*px:][:r.Dx()*px]
		out.Pix = append(out.Pix, row...)
	}
	return out
}

// pixelBytes is the size of one pixel of img in Pix.
func pixelBytes(img *imageio.Image) int {
	return img.Channels * img.Depth / 8
}

func meanColour(img *imageio.Image, r image.Rectangle) []float64 {
	sums := make([]float64, img.Channels)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			for c := range sums {
				sums[c] += float64(img.At((y*img.W+x)*img.Channels + c))
			}
		}
	}
	for c := range sums {
		sums[c] /= float64(r.Dx() * r.Dy())
	}
	return sums
}

func tile2x2(img *imageio.Image) *imageio.Image {
	out := imageio.New(2*img.W, 2*img.H, img.Channels, img.Depth)
	px := pixelBytes(img)
	for y := 0; y < out.H; y++ {
		for x := 0; x < out.W; x++ {
			copy(out.Pix[(y*out.W+x)*px:][:px], img.Pix[((y%img.H)*img.W+x%img.W)*px:])
		}
	}
	return out
}

// shrink averages f×f blocks: at 1/16 the astronaut's eyes are 3 px apart.
func shrink(img *imageio.Image, f int) *imageio.Image {
	out := imageio.New(img.W/f, img.H/f, img.Channels, img.Depth)
	for y := 0; y < out.H; y++ {
		for x := 0; x < out.W; x++ {
			for c := 0; c < img.Channels; c++ {
				sum := 0
				for dy := 0; dy < f; dy++ {
					for dx := 0; dx < f; dx++ {
						sum += int(img.At(((y*f+dy)*img.W+x*f+dx)*img.Channels + c))
					}
				}
				out.Set((y*out.W+x)*img.Channels+c, uint16(sum/(f*f)))
			}
		}
	}
	return out
}

func toGray(img *imageio.Image) *imageio.Image {
	out := imageio.New(img.W, img.H, 1, img.Depth)
	for i := range img.W * img.H {
		r, g, b := float64(img.At(i*3)), float64(img.At(i*3+1)), float64(img.At(i*3+2))
		out.Set(i, uint16(0.299*r+0.587*g+0.114*b+0.5))
	}
	return out
}

func withAlpha(img *imageio.Image) *imageio.Image {
	out := imageio.New(img.W, img.H, 4, img.Depth)
	for i := 0; i < img.W*img.H; i++ {
		for c := range 3 {
			out.Set(i*4+c, img.At(i*3+c))
		}
		out.Set(i*4+3, uint16(128+i%128))
	}
	return out
}
