//go:build ignore

// psnr prints how far two images are apart, for scripts/gpu_check: "identical" when every
// sample is equal, else "PSNR_DB MAX_DIFF/255" (the PSNR in dB and the largest difference of
// one sample, in 8-bit steps), on one line.
//
//	go run scripts/gpu_check.d/psnr.go A.png B.png
package main

import (
	"fmt"
	"math"
	"os"

	"dream/internal/imagecmp"
	"dream/internal/imageio"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: psnr A.png B.png")
		os.Exit(2)
	}
	a, err := imageio.Load(os.Args[1])
	if err == nil {
		var b *imageio.Image
		if b, err = imageio.Load(os.Args[2]); err == nil {
			var d imagecmp.Diff
			if d, err = imagecmp.Compare(a, b); err == nil {
				if math.IsInf(d.PSNR, 1) {
					fmt.Println("identical")
				} else {
					fmt.Printf("%.2f %.1f\n", d.PSNR, d.MaxAbs*255)
				}
				return
			}
		}
	}
	fmt.Fprintln(os.Stderr, "psnr:", err)
	os.Exit(1)
}
