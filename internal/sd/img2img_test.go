package sd

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	onnx "github.com/yalue/onnxruntime_go"

	"dream/internal/imageio"
	"dream/internal/onnxpb"
	"dream/internal/ort"
	"dream/internal/sampler"
	"dream/internal/sd/sdtest"
)

// gradient is a test photo: colours that change across the image, so each 8×8 block has
// its own mean.
func gradient(w, h int) *imageio.Image {
	img := imageio.New(w, h, 3, 8)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := 3 * (y*w + x)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2] = byte(4*x), byte(4*y), byte((x*y)%256)
		}
	}
	return img
}

// encodeByHand is the test encoder's mean in plain Go, times the latent scale.
func encodeByHand(img *imageio.Image) []float64 {
	lw, lh := img.W/8, img.H/8
	plane := lw * lh
	out := make([]float64, 4*plane)
	for by := 0; by < lh; by++ {
		for bx := 0; bx < lw; bx++ {
			var colour [3]float64
			for y := 8 * by; y < 8*by+8; y++ {
				for x := 8 * bx; x < 8*bx+8; x++ {
					for c := 0; c < 3; c++ {
						colour[c] += (float64(img.Pix[3*(y*img.W+x)+c])/127.5 - 1) / 64
					}
				}
			}
			for k := 0; k < 4; k++ {
				v := 0.0
				for c := 0; c < 3; c++ {
					v += float64(sdtest.Encoder[k][c]) * colour[c]
				}
				out[k*plane+by*lw+bx] = v * LatentScale
			}
		}
	}
	return out
}

// The export's encoder samples from an unseeded random node; dream's copy of it returns the
// distribution's mean, so img2img is reproducible.
func TestEncoderGivesTheMean(t *testing.T) {
	m := openExport(t, sdtest.Export{Mean: oneLatent})
	img := gradient(64, 48)
	a, err := m.encode(context.Background(), img, 64, 48)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.encode(context.Background(), img, 64, 48)
	if err != nil {
		t.Fatal(err)
	}
	want := encodeByHand(img)
	if d := maxAbsDiff(a, want); d > 1e-6 {
		t.Errorf("encoded latent is %.3g from the mean", d)
	}
	if d := maxAbsDiff(b, want); d > 1e-6 {
		t.Errorf("second encoding is %.3g from the mean", d)
	}
	// The export as written really is random: run it unchanged, twice.
	first, second := runRawEncoder(t, m, img), runRawEncoder(t, m, img)
	if maxAbsDiff(first, toFloat64(second)) == 0 {
		t.Error("the test encoder is not random, so this test proves nothing")
	}
}

func runRawEncoder(t *testing.T, m *Model, img *imageio.Image) []float32 {
	t.Helper()
	s, err := testRuntime.Session(m.path(EncoderFile), encoderContract)
	if err != nil {
		t.Fatal(err)
	}
	in, err := onnx.NewTensor(onnx.NewShape(1, 3, int64(img.H), int64(img.W)), toPlanar(resize(img, img.W, img.H)))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Destroy()
	out := []ort.Value{nil}
	if err := s.Run(context.Background(), []ort.Value{in}, out); err != nil {
		t.Fatal(err)
	}
	defer out[0].Destroy()
	return append([]float32(nil), out[0].(*onnx.Tensor[float32]).GetData()...)
}

func toFloat64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// img2img on a data set of spread s around mean μ: from x_s = init + σ_s·noise the
// probability-flow ODE ends at μ + (x_s − μ)·s/sqrt(s² + σ_s²) (each element on its own).
// The start level σ_s is that of step t_start = n − int(n·f) of the schedule.
func TestImg2ImgStartsFromTheNoisedImage(t *testing.T) {
	const spread, steps, strength, seed = 0.5, 50, 0.5, 3
	m := openExport(t, sdtest.Export{Mean: oneLatent, Spread: spread})
	img := gradient(64, 48)
	init := encodeByHand(img)
	plane := (64 / 8) * (48 / 8)
	sigmas, err := sampler.Sigmas("k_heun", sampler.Options{Steps: steps})
	if err != nil {
		t.Fatal(err)
	}
	tStart := steps - int(steps*strength)
	endFrom := func(sigmaStart float64) []float64 {
		noise := Normal(NewRand(seed), len(init))
		out := make([]float64, len(init))
		for i := range out {
			mu := float64(oneLatent[i/plane])
			x := init[i] + sigmaStart*float64(noise[i])
			out[i] = mu + (x-mu)*spread/math.Sqrt(spread*spread+sigmaStart*sigmaStart)
		}
		return out
	}
	var ran int
	req := Request{Prompt: "x", Width: 64, Height: 48, Steps: steps, CFGScale: 7.5, Sampler: "k_heun", Init: img, Strength: strength,
		Progress: func(_, done, total int) { ran = total }}
	if err := m.openUNet(); err != nil {
		t.Fatal(err)
	}
	emb, _, err := m.encodePrompt(context.Background(), req.Prompt, req.CFGScale > 1)
	if err != nil {
		t.Fatal(err)
	}
	unet, err := m.newGuidedUNet(emb, req.CFGScale, 6, 8)
	if err != nil {
		t.Fatal(err)
	}
	defer unet.destroy()
	initLatent, err := m.encode(context.Background(), img, 64, 48)
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.sample(context.Background(), unet, req, initLatent, seed, 0)
	if err != nil {
		t.Fatal(err)
	}
	if ran != steps-tStart {
		t.Errorf("ran %d steps, want %d", ran, steps-tStart)
	}
	// Heun's second-order error over 25 steps of this problem is below 1e-3 (measured:
	// see the log); starting one step early or late moves the end by more than 1e-2.
	const tolerance = 1e-3
	d := maxAbsDiff(got, endFrom(sigmas[tStart]))
	t.Logf("img2img end point: %.2g from the exact solution", d)
	if d > tolerance {
		t.Errorf("img2img result is %.3g from the ODE's end point", d)
	}
	for _, wrong := range []int{tStart - 1, tStart + 1} {
		if d := maxAbsDiff(got, endFrom(sigmas[wrong])); d < 10*tolerance {
			t.Errorf("a start at step %d instead of %d would pass too (%.3g): the test cannot tell them apart", wrong, tStart, d)
		}
	}
}

func TestWithoutSamplingLeavesOtherModelsAlone(t *testing.T) {
	dir := t.TempDir()
	if err := (sdtest.Export{}).Write(dir); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(dir + "/" + DecoderFile)
	if err != nil {
		t.Fatal(err)
	}
	out, changed, err := withoutSampling(data)
	if err != nil || changed || &out[0] != &data[0] {
		t.Errorf("decoder: changed %v, err %v; want it returned as it was", changed, err)
	}
	if _, _, err := withoutSampling(data[:len(data)/2]); err == nil {
		t.Error("half a model was accepted")
	}
}

// RandomNormal (with a fixed shape, no input) becomes a zero that broadcasts.
func TestWithoutSamplingRandomNormal(t *testing.T) {
	var g onnxpb.Graph
	g.Inputs = []onnxpb.ValueInfo{onnxpb.NewValueInfo("sample", onnxpb.Float, onnxpb.Fixed(1), onnxpb.Fixed(3), onnxpb.Sym("h"), onnxpb.Sym("w"))}
	g.Outputs = []onnxpb.ValueInfo{onnxpb.NewValueInfo("latent_sample", onnxpb.Float, onnxpb.Fixed(1), onnxpb.Fixed(4), onnxpb.Sym("h"), onnxpb.Sym("w"))}
	w := g.AddInitializer(onnxpb.Float32Tensor("w", []int64{4, 3, 1, 1}, []float32{1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1}))
	mean := g.Add("Conv", []string{"sample", w}, []string{"mean"})[0]
	noise := g.Add("RandomNormal", nil, []string{"noise"}, onnxpb.AttrInts("shape", 1, 4, 1, 1), onnxpb.AttrFloat("scale", 5))[0]
	g.Add("Add", []string{mean, noise}, []string{"latent_sample"})
	path := filepath.Join(t.TempDir(), "encoder.onnx")
	if err := (&onnxpb.Model{Graph: g}).WriteFile(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fixed, changed, err := withoutSampling(data)
	if err != nil || !changed {
		t.Fatalf("withoutSampling: changed %v, %v", changed, err)
	}
	s, err := testRuntime.SessionFromData(path, fixed, encoderContract)
	if err != nil {
		t.Fatal(err)
	}
	defer testRuntime.Release(s)
	in, _ := onnx.NewTensor(onnx.NewShape(1, 3, 1, 2), []float32{1, 2, 3, 4, 5, 6})
	defer in.Destroy()
	out, _ := onnx.NewEmptyTensor[float32](onnx.NewShape(1, 4, 1, 2))
	defer out.Destroy()
	if err := s.Run(context.Background(), []ort.Value{in}, []ort.Value{out}); err != nil {
		t.Fatal(err)
	}
	want := []float64{1, 2, 3, 4, 5, 6, 9, 12}
	if d := maxAbsDiff(out.GetData(), want); d != 0 {
		t.Errorf("output %v, want %v", out.GetData(), want)
	}
}

// A text-to-image export without the VAE encoder refuses -I with one line, before any work.
func TestImg2ImgNeedsTheEncoder(t *testing.T) {
	m := openExport(t, sdtest.Export{Mean: oneLatent, NoEncoder: true})
	err := m.CanEncode()
	if err == nil || !strings.Contains(err.Error(), "-I needs the VAE encoder") || !strings.Contains(err.Error(), EncoderFile) {
		t.Errorf("CanEncode: %v", err)
	}
	req := Request{Prompt: "x", Width: 16, Height: 16, Steps: 2, CFGScale: 7.5, Sampler: "k_euler", Init: gradient(16, 16), Strength: 0.5}
	if err := m.Generate(context.Background(), req, []uint32{1}, func(Result) error { return nil }); err == nil {
		t.Error("img2img ran without an encoder")
	}
}
