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
// including its own run), the aligned crop, and the paste-back, next to one run of a
// restorer test model of GFPGAN's size (no GFPGAN weights can be had here).
func facesSection(ctx context.Context, c config, rt *ort.Runtime, tmp string) error {
	fmt.Printf("\nface restoration, one face in a 1024×1024 photo (median of %d; target: work besides the restorer < %v)\n",
		max(c.reps, 5), facesTarget)
	input := filepath.Join(tmp, "faces1024.png")
	if err := enlarge(c.image("astronaut.png"), input, 1024); err != nil {
		return err
	}
	img, err := imageio.Load(input)
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
	fmt.Printf("  detection %5.1f ms (YuNet's own run %5.1f ms)   alignment %5.1f ms   paste-back %5.1f ms\n",
		ms(median(detect)), ms(model), ms(median(align)), ms(median(paste)))
	fmt.Printf("  work besides the models %5.1f ms per face   restorer test model %5.1f ms   detector model %5.1f ms\n",
		ms(besides), ms(median(restore)), ms(model))
	return nil
}

// timeDetectorModel times one bare run of the detector on the 640×640 input a 1024×1024
// image becomes, so the detection time can be split into the model and the rest.
func timeDetectorModel(ctx context.Context, det *face.YuNet) (time.Duration, error) {
	in, err := onnx.NewEmptyTensor[float32](onnx.NewShape(1, 3, 640, 640))
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
