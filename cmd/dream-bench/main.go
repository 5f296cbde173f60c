// Command dream-bench measures what `make bench` reports: how close a whole `!fix -U 4` job
// comes to one bare model run (the job's overhead beyond ONNX Runtime), how much memory the
// real dream binary takes to upscale a 1024×1024 photo ×4 and to generate two images under
// each memory policy, and how fast it starts. It prints a short report; it fails
// only when something cannot run, never because a number misses its target.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"

	"dream/internal/ort"
)

// config holds the flags.
type config struct {
	shared string // ../shared: models/ and images/
	dream  string // the binary the memory runs start
	reps   int
	// verbose prints every repetition, to tell a steady difference from noise.
	verbose bool
	// cpuProfile names a file for a Go CPU profile of the speed runs: it shows where the job
	// spends its time outside ONNX Runtime, whose own threads it does not sample.
	cpuProfile string
	// only, when set, names the sections to run (comma-separated).
	only string
}

// runs tells whether a section is asked for.
func (c config) runs(section string) bool {
	return c.only == "" || slices.Contains(strings.Split(c.only, ","), section)
}

func (c config) models() string { return filepath.Join(c.shared, "models") }

func (c config) image(name string) string { return filepath.Join(c.shared, "images", name) }

func main() {
	ort.UseHugePages() // as dream does, so the bare runs and the jobs get the same memory
	if len(os.Args) == 3 && os.Args[1] == childLoadFlag {
		if err := childLoad(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "dream-bench:", err)
			os.Exit(1)
		}
		return
	}
	var c config
	flag.StringVar(&c.shared, "shared", "../shared", "directory holding models/ and images/")
	flag.StringVar(&c.dream, "dream", "bin/dream", "dream binary for the memory runs")
	flag.IntVar(&c.reps, "reps", 5, "timed repetitions of each job and bare run")
	flag.BoolVar(&c.verbose, "v", false, "print every repetition's times")
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "write a Go CPU profile of the speed runs to `FILE`")
	flag.StringVar(&c.only, "only", "", "run only these sections: memory, generation, startup, firstfix, speed, faces, photo, batch, realsize, fast, cancel (comma-separated)")
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
	warnIfBusy()
	tmp, err := os.MkdirTemp("", "dream-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	// Memory runs first, while this process is small: Go starts children with vfork, so the
	// kernel folds the parent's peak RSS at exec time into the child's ru_maxrss, and after
	// the speed runs this process holds the sessions (about 1 GB). Every section runs even if
	// another fails, so one broken case still leaves a report.
	var errs []error
	section := func(name string, measure func() error) {
		if c.runs(name) && ctx.Err() == nil {
			err := measure()
			if err != nil {
				fmt.Printf("  %s failed: %v\n", name, err)
			}
			errs = append(errs, err)
		}
	}
	section("memory", func() error { return memorySection(ctx, c, tmp) })
	section("generation", func() error { return generationMemorySection(ctx, c, tmp) })
	section("startup", func() error { return startupSection(ctx, c, tmp) })
	section("firstfix", func() error { return firstFixSection(ctx, c, tmp) })
	section("fast", func() error { return fastSection(ctx, c, tmp) })
	section("cancel", func() error { return cancelSection(ctx, c, tmp) })
	if ctx.Err() != nil {
		return ctx.Err()
	}
	stopProfile, err := startProfile(c.cpuProfile)
	if err != nil {
		return err
	}
	section("speed", func() error { return speedSection(ctx, c, rt, tmp) })
	section("faces", func() error { return facesSection(ctx, c, rt, tmp) })
	section("photo", func() error { return photoSection(ctx, c, rt, tmp) })
	section("batch", func() error { return batchSection(ctx, c, rt, tmp) })
	section("realsize", func() error { return realSizeSection(ctx, c, rt, tmp) })
	stopProfile()
	if errors.Join(errs...) != nil {
		return fmt.Errorf("some measurements failed (see above)")
	}
	return nil
}

// warnIfBusy says when other work already keeps the cores busy: ONNX Runtime uses every core,
// so a shared machine stretches the runs unevenly and the ratios mean little. Linux only.
func warnIfBusy() {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return
	}
	fields := strings.Fields(string(data))
	if len(fields) == 0 {
		return
	}
	load, err := strconv.ParseFloat(fields[0], 64)
	if err != nil || load < 0.5*float64(runtime.NumCPU()) {
		return
	}
	fmt.Printf("note: load average %.1f before starting — other work shares the cores; timings are noisy\n", load)
}

// startProfile starts a CPU profile into path, or does nothing for an empty path.
func startProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
