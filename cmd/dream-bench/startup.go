package main

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// startupRuns is how many times the binary is started; the median is reported.
const startupRuns = 9

// startupSection times dream from exec until it has read its first line and quit, with the
// models present: models load on first use, so this is the time to a usable prompt.
func startupSection(ctx context.Context, c config, tmp string) error {
	fmt.Println("\nstartup to a usable prompt, models present (target < 200 ms)")
	var times []time.Duration
	for range startupRuns {
		cmd := exec.CommandContext(ctx, c.dream, "--models", c.models(), "--device", "cpu", "--outdir", tmp)
		cmd.Stdin = strings.NewReader("q\n")
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("starting %s: %v\n%s", c.dream, err, out)
		}
		times = append(times, time.Since(start))
	}
	slices.Sort(times)
	fmt.Printf("  dream, start to q      median %5.1f ms   fastest %5.1f ms   slowest %5.1f ms  (%d runs)\n",
		ms(times[len(times)/2]), ms(times[0]), ms(times[len(times)-1]), len(times))
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
