package sd

import (
	"testing"
	"time"

	"dream/internal/imageio"
	"dream/internal/sd/sdtest"
)

// The test export's StepWork makes every step slower by a fixed amount of arithmetic and
// leaves the image exactly as it was: the timing tests of the progress bar rely on both.
func TestStepWorkSlowsStepsOnly(t *testing.T) {
	req := Request{Prompt: "a fox", Width: 64, Height: 64, Steps: 4, CFGScale: 7.5, Sampler: "k_euler"}
	export := sdtest.Export{Mean: oneLatent, Spread: 0.5}
	plain := generateTimed(t, openExport(t, export), req)
	export.StepWork = 40
	slow := generateTimed(t, openExport(t, export), req)
	t.Logf("a step takes %v, %v with StepWork %d", plain.step, slow.step, export.StepWork)
	if !equalPix(plain.image, slow.image) {
		t.Error("StepWork changed the image")
	}
	if slow.step <= plain.step {
		t.Errorf("StepWork %d made a step take %v, no longer than %v", export.StepWork, slow.step, plain.step)
	}
}

type timedImage struct {
	image *imageio.Image
	step  time.Duration // the mean time of a step, model loading left out
}

func generateTimed(t *testing.T, m *Model, req Request) timedImage {
	t.Helper()
	var first, last time.Time
	req.Progress = func(_, done, _ int) {
		if done == 1 { // the first step also warms the session up
			first = time.Now()
		}
		last = time.Now()
	}
	img := generateOne(t, m, req, 7)
	return timedImage{image: img, step: last.Sub(first) / time.Duration(req.Steps-1)}
}
