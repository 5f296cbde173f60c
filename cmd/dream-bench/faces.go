package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	onnx "github.com/yalue/onnxruntime_go"

	"dream/internal/face"
	"dream/internal/imageio"
	"dream/internal/models"
	"dream/internal/onnxpb"
	"dream/internal/ort"
)

// facesTarget is the most the work around the restorer may take per face on a 1024×1024
// image: detection, alignment and paste-back.
const facesTarget = 50 * time.Millisecond

// facesSection times the steps of -G on one face of a 1024×1024 photo: detection (YuNet,
// including its own runs), the aligned crop, and the paste-back, next to one run of a
// restorer test model of GFPGAN's size (no GFPGAN weights can be had here). Detection's cost
// grows with the image and the restorer's with the faces, so detection is also given per
// megapixel, on that photo and on a 3072×3072 one that the full-size pass cuts into windows.
func facesSection(ctx context.Context, c config, rt *ort.Runtime, tmp string) error {
	fmt.Printf("\nface restoration, one face in a 1024×1024 photo (median of %d; target: work besides the restorer < %v)\n",
		max(c.reps, 5), facesTarget)
	img, err := enlargedPhoto(c, tmp, 1024)
	if err != nil {
		return err
	}
	det, err := face.LoadYuNet(rt, filepath.Join(c.models(), models.YuNet))
	if err != nil {
		return err
	}
	restorerPath := filepath.Join(tmp, "gfpgan-sized.onnx")
	if err := writeRestorerStandIn(restorerPath); err != nil {
		return err
	}
	r, err := face.LoadGFPGAN(rt, restorerPath)
	if err != nil {
		return err
	}
	var detect, detector, align, restore, paste []time.Duration
	for i := 0; i < max(c.reps, 5)+1; i++ { // the first round warms the sessions up
		t0 := time.Now()
		faces, err := det.Detect(ctx, img)
		if err != nil || len(faces) != 1 {
			return fmt.Errorf("expected one face, found %d (%v)", len(faces), err)
		}
		t1 := time.Now()
		m := face.AlignTransform(faces[0].Landmarks)
		crop := face.WarpFace(img, m, face.CropSize)
		t2 := time.Now()
		restored, err := r.Restore(ctx, crop, 0)
		if err != nil {
			return err
		}
		t3 := time.Now()
		pasted := *img
		pasted.Pix = append([]byte(nil), img.Pix...)
		t4 := time.Now() // the copy is the pipeline's, not the paste's
		face.PasteFace(&pasted, restored, m, 1)
		t5 := time.Now()
		model, err := timeDetectorModel(ctx, det)
		if err != nil {
			return err
		}
		detector = append(detector, model)
		if i > 0 {
			detect, align, restore, paste = append(detect, t1.Sub(t0)), append(align, t2.Sub(t1)),
				append(restore, t3.Sub(t2)), append(paste, t5.Sub(t4))
		}
	}
	model := median(detector[1:])
	besides := median(detect) - model + median(align) + median(paste)
	fmt.Printf("  detection %5.1f ms (YuNet's own runs %5.1f ms)   alignment %5.1f ms   paste-back %5.1f ms\n",
		ms(median(detect)), ms(model), ms(median(align)), ms(median(paste)))
	fmt.Printf("  work besides the models %5.1f ms per face   restorer test model %5.1f ms   detector model %5.1f ms\n",
		ms(besides), ms(median(restore)), ms(model))

	large, err := enlargedPhoto(c, tmp, 3072)
	if err != nil {
		return err
	}
	largeDetect, err := timeDetect(ctx, det, large, max(c.reps, 5))
	if err != nil {
		return err
	}
	fmt.Printf("  detection %5.1f ms per megapixel at 1024×1024, %5.1f at 3072×3072 (%.0f ms)   restorer test model %5.1f ms per face\n",
		perMegapixel(median(detect), img), perMegapixel(largeDetect, large), ms(largeDetect), ms(median(restore)))
	return nil
}

// enlargedPhoto is the astronaut photo enlarged to side×side.
func enlargedPhoto(c config, tmp string, side int) (*imageio.Image, error) {
	path := filepath.Join(tmp, fmt.Sprintf("faces%d.png", side))
	if err := enlarge(c.image("astronaut.png"), path, side); err != nil {
		return nil, err
	}
	return imageio.Load(path)
}

// timeDetect is the median time of reps detections on img, after one that warms up.
func timeDetect(ctx context.Context, det *face.YuNet, img *imageio.Image, reps int) (time.Duration, error) {
	var times []time.Duration
	for i := 0; i <= reps; i++ {
		start := time.Now()
		if _, err := det.Detect(ctx, img); err != nil {
			return 0, err
		}
		if i > 0 {
			times = append(times, time.Since(start))
		}
	}
	return median(times), nil
}

// perMegapixel is d in milliseconds per million pixels of img.
func perMegapixel(d time.Duration, img *imageio.Image) float64 {
	return ms(d) / (float64(img.W*img.H) / 1e6)
}

// timeDetectorModel times bare runs of the detector on the inputs Detect makes of a
// 1024×1024 image, the image at its own size and the copy shrunk to 640×640, so the detection
// time can be split into the model and the rest.
func timeDetectorModel(ctx context.Context, det *face.YuNet) (time.Duration, error) {
	var total time.Duration
	for _, side := range []int64{1024, 640} {
		elapsed, err := timeDetectorRun(ctx, det, side)
		if err != nil {
			return 0, err
		}
		total += elapsed
	}
	return total, nil
}

// timeDetectorRun times one bare run of the detector on a side×side input.
func timeDetectorRun(ctx context.Context, det *face.YuNet, side int64) (time.Duration, error) {
	in, err := onnx.NewEmptyTensor[float32](onnx.NewShape(1, 3, side, side))
	if err != nil {
		return 0, err
	}
	defer in.Destroy()
	outputs := make([]ort.Value, len(det.Session.Outputs))
	start := time.Now()
	err = det.Session.Run(ctx, []ort.Value{in}, outputs)
	elapsed := time.Since(start)
	for _, v := range outputs {
		if v != nil {
			v.Destroy()
		}
	}
	return elapsed, err
}

// writeRestorerStandIn writes a model with GFPGAN's contract and some real work: two 3×3
// convolutions through 16 channels at 512×512.
func writeRestorerStandIn(path string) error {
	image := func(n string) onnxpb.ValueInfo {
		return onnxpb.NewValueInfo(n, onnxpb.Float, onnxpb.Fixed(1), onnxpb.Fixed(3), onnxpb.Fixed(512), onnxpb.Fixed(512))
	}
	g := onnxpb.Graph{Inputs: []onnxpb.ValueInfo{image("input")}, Outputs: []onnxpb.ValueInfo{image("output")}}
	weights := func(name string, out, in int) string {
		w := make([]float32, out*in*9)
		for i := range w {
			w[i] = float32((i*7919)%13-6) / 200
		}
		return g.AddInitializer(onnxpb.Float32Tensor(name, []int64{int64(out), int64(in), 3, 3}, w))
	}
	pads := onnxpb.AttrInts("pads", 1, 1, 1, 1)
	g.Add("Conv", []string{"input", weights("w1", 16, 3)}, []string{"features"}, pads)
	g.Add("Relu", []string{"features"}, []string{"relu"})
	g.Add("Conv", []string{"relu", weights("w2", 3, 16)}, []string{"output"}, pads)
	m := onnxpb.Model{Graph: g}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return m.WriteFile(path)
}
