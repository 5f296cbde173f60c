//go:build ignore

// crop cuts a W×H rectangle at (X, Y) out of an image and writes it as PNG, for
// scripts/gpu_check, which compares CUDA and CPU upscales on a crop the CPU can do in time.
//
//	go run scripts/gpu_check.d/crop.go IN X Y W H OUT.png
package main

import (
	"fmt"
	"os"
	"strconv"

	"dream/internal/imageio"
)

func main() {
	if len(os.Args) != 7 {
		fmt.Fprintln(os.Stderr, "usage: crop IN X Y W H OUT.png")
		os.Exit(2)
	}
	var n [4]int
	for i := range n {
		v, err := strconv.Atoi(os.Args[2+i])
		if err != nil || v < 0 {
			fail(fmt.Errorf("%q is not a pixel count", os.Args[2+i]))
		}
		n[i] = v
	}
	x, y, w, h := n[0], n[1], n[2], n[3]
	src, err := imageio.Load(os.Args[1])
	if err != nil {
		fail(err)
	}
	if w < 1 || h < 1 || x+w > src.W || y+h > src.H {
		fail(fmt.Errorf("%dx%d at (%d,%d) does not fit in the %dx%d image", w, h, x, y, src.W, src.H))
	}
	dst := imageio.New(w, h, src.Channels, src.Depth)
	c := src.Channels
	for row := range h {
		for i := range w * c {
			dst.Set(row*w*c+i, src.At((y+row)*src.W*c+x*c+i))
		}
	}
	if err := imageio.SavePNG(os.Args[6], dst); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "crop:", err)
	os.Exit(1)
}
