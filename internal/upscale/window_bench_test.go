// cpuTime reads getrusage, which Windows lacks.

//go:build unix

package upscale

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	onnx "github.com/yalue/onnxruntime_go"
)

// BenchmarkWindow runs each model bare on square windows of several sides, to show how the
// cost per input pixel depends on the window: the tile chooser prefers the fastest size that
// fits the memory budget. It reports input pixels a second of wall time and CPU nanoseconds a
// pixel (the latter moves less when other work shares the machine).
func BenchmarkWindow(b *testing.B) {
	sides := map[string][]int{
		"realesrgan-x4plus.onnx":    {64, 128, 192, 256, 384, 512, 640},
		"realesr-general-x4v3.onnx": {128, 256, 384, 512, 768, 1024},
	}
	for _, name := range []string{"realesrgan-x4plus.onnx", "realesr-general-x4v3.onnx"} {
		m := sharedModel(b, name)
		for _, side := range sides[name] {
			b.Run(fmt.Sprintf("%s/%d", name, side), func(b *testing.B) {
				in, err := onnx.NewEmptyTensor[float32](onnx.NewShape(1, 3, int64(side), int64(side)))
				if err != nil {
					b.Fatal(err)
				}
				defer in.Destroy()
				s := int64(m.Scale * side)
				out, err := onnx.NewEmptyTensor[float32](onnx.NewShape(1, 3, s, s))
				if err != nil {
					b.Fatal(err)
				}
				defer out.Destroy()
				run := func() {
					if err := m.runWindow(context.Background(), in, out, countRange{}); err != nil {
						b.Fatal(err)
					}
				}
				run() // the first run of a shape plans its memory
				b.ResetTimer()
				cpu0, wall0 := cpuTime(), time.Now()
				for range b.N {
					run()
				}
				pixels := float64(b.N * side * side)
				b.ReportMetric(pixels/time.Since(wall0).Seconds(), "px/s")
				b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/pixels, "cpu-ns/px")
			})
		}
	}
}

func cpuTime() time.Duration {
	var u syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
