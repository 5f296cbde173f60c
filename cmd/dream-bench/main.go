// Command dream-bench measures what `make bench` reports: how close a whole `!fix -U 4` job
// comes to one bare model run (the job's overhead beyond ONNX Runtime), and how much memory the
// real dream binary takes to upscale a 1024×1024 photo ×4. It prints a short report; it fails
// only when something cannot run, never because a number misses its target.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"

	"dream/internal/ort"
)

// config holds the flags.
type config struct {
	shared string // ../shared: models/ and images/
	dream  string // the binary the memory runs start
	reps   int
}

func (c config) models() string { return filepath.Join(c.shared, "models") }

func (c config) image(name string) string { return filepath.Join(c.shared, "images", name) }

func main() {
	var c config
	flag.StringVar(&c.shared, "shared", "../shared", "directory holding models/ and images/")
	flag.StringVar(&c.dream, "dream", "bin/dream", "dream binary for the memory runs")
	flag.IntVar(&c.reps, "reps", 3, "timed repetitions of each job and bare run")
	flag.Parse()
	if c.reps < 1 {
		fmt.Fprintln(os.Stderr, "dream-bench: --reps must be at least 1")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "dream-bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config) error {
	rt, err := ort.Open(ort.Options{Device: "cpu"})
	if err != nil {
		return err
	}
	fmt.Printf("dream bench — ONNX Runtime %s, CPU, %d cores\n", rt.Version, runtime.NumCPU())
	tmp, err := os.MkdirTemp("", "dream-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	// Both sections run even if the first fails, so one broken case still leaves a report.
	speedErr := speedSection(ctx, c, rt, tmp)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	memErr := memorySection(ctx, c, tmp)
	if speedErr != nil || memErr != nil {
		return fmt.Errorf("some measurements failed (see above)")
	}
	return nil
}
