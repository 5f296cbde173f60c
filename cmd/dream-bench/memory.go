package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/image/draw"
)

// memoryTarget is the peak, in MB, a ×4 upscale of a 1024×1024 photo may take with
// --max_memory 512M: the whole process, runtime and Go heap together. A 2048×2048 photo may
// take no more than that plus its 8-bit output (8192²×3 bytes): memory is bounded by the tile.
const memoryTarget = 800

// memoryBudget is the --max_memory of the memory runs.
const memoryBudget = "512M"

// memoryCase is one run of the dream binary on a side×side photo; tile is its
// --esrgan_bg_tile, 0 for the plan from the budget.
type memoryCase struct {
	label string
	side  int
	tile  int
}

var memoryCases = []memoryCase{
	{"1024² from the budget", 1024, 0},
	// One window over the whole image shows what the tiling saves.
	{"1024² whole (tile 1024)", 1024, 1024},
	{"2048² from the budget", 2048, 0},
}

func memorySection(ctx context.Context, c config, tmp string) error {
	fmt.Printf("\npeak memory, whole process, ×4 general-x4v3 with --max_memory %s (target: 1024² ≤ %d MB, "+
		"2048² ≤ that + its 8-bit output)\n", memoryBudget, memoryTarget)
	var errs []error
	peaks := map[int]int64{}
	for i, mc := range memoryCases {
		input := filepath.Join(tmp, fmt.Sprintf("astronaut%d.png", mc.side))
		if err := enlarge(c.image("astronaut.png"), input, mc.side); err != nil {
			fmt.Printf("  FAILED to make the %d² input: %v\n", mc.side, err)
			return err
		}
		outdir := filepath.Join(tmp, fmt.Sprintf("memory-%d", i))
		r, err := runDream(ctx, c, mc, input, outdir)
		os.RemoveAll(outdir)
		if err != nil {
			fmt.Printf("  %-24s FAILED: %v\n", mc.label, err)
			errs = append(errs, err)
			continue
		}
		fmt.Printf("  %-24s %5d MB  %5.1f s", mc.label, r.peak/1e6, r.wall.Seconds())
		if own, ok := selfPeakRSS(); ok && r.peak <= own {
			// The child's figure is this process's own peak (see run), not dream's.
			fmt.Printf("   (not measured: no more than the bench's own %d MB)", own/1e6)
		}
		if mc.tile == 0 {
			peaks[mc.side] = r.peak
		}
		fmt.Println()
	}
	if small, big := peaks[1024], peaks[2048]; small > 0 && big > 0 {
		output := int64(8192 * 8192 * 3)
		fmt.Printf("  2048² − 1024²: %d MB, against %d MB for the 2048² photo's 8-bit output\n",
			(big-small)/1e6, output/1e6)
	}
	return errors.Join(errs...)
}

// enlarge writes src resized to side×side as a PNG: the test needs a real photo at 1024², and
// a CatmullRom enlargement keeps it photo-like.
func enlarge(src, dst string, side int) error {
	return enlargeTo(src, dst, side, side)
}

// enlargeTo writes src resized to w×h as a PNG.
func enlargeTo(src, dst string, w, h int) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return fmt.Errorf("%s: %v", src, err)
	}
	big := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(big, big.Bounds(), img, img.Bounds(), draw.Src, nil)
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	// An opaque RGBA image is written as RGB, so dream sees a plain photo without alpha.
	if err := png.Encode(out, big); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

type dreamRun struct {
	peak int64 // bytes
	wall time.Duration
}

// runDream upscales input in a fresh dream process and reads its peak RSS from the kernel,
// which counts everything the process touched: Go heap, ONNX Runtime's arena and the weights.
func runDream(ctx context.Context, c config, mc memoryCase, input, outdir string) (dreamRun, error) {
	args := []string{"--models", c.models(), "--esrgan_model", "general-x4v3", "--device", "cpu",
		"--max_memory", memoryBudget, "--outdir", outdir}
	if mc.tile > 0 {
		args = append(args, "--esrgan_bg_tile", fmt.Sprint(mc.tile))
	}
	stdin := "!fix " + input + " -U 4 1\nq\n"
	name := strings.TrimSuffix(filepath.Base(input), ".png") + ".fixed.png"
	return measureDream(ctx, c, args, stdin, func() error {
		return checkOutput(filepath.Join(outdir, name), 4*mc.side, 4*mc.side)
	})
}

// measureDream runs the dream binary on the lines of stdin and reads its peak RSS from the
// kernel. The shell reports a failed job on stderr and carries on, so the exit code alone
// does not prove the job ran: check must find the outputs, at the right size.
func measureDream(ctx context.Context, c config, args []string, stdin string, check func() error) (dreamRun, error) {
	cmd := exec.CommandContext(ctx, c.dream, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return dreamRun{}, fmt.Errorf("%s: %v: %s", c.dream, err, lastLine(stderr.String()))
	}
	if err := check(); err != nil {
		return dreamRun{}, fmt.Errorf("%v (dream said: %s)", err, lastLine(stderr.String()+stdout.String()))
	}
	peak, ok := peakRSS(cmd.ProcessState)
	if !ok {
		return dreamRun{}, errors.New("peak RSS is not available on this system")
	}
	return dreamRun{peak: peak, wall: wall}, nil
}

func checkOutput(path string, w, h int) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("no output: %v", err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	if cfg.Width != w || cfg.Height != h {
		return fmt.Errorf("%s is %d×%d, want %d×%d", path, cfg.Width, cfg.Height, w, h)
	}
	return nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if last := lines[len(lines)-1]; last != "" {
		return last
	}
	return "(no output)"
}
