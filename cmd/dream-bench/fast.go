package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// The real-size exports the fast section runs (made by tools/sdgen): SD 1.5 (also run with
// -A lcm, as an export with LCM-LoRA merged in has SD 1.5's graph), an LCM-distilled UNet
// with timestep_cond, and SD-Turbo. Each may have vae_decoder_tiny/ beside its models.
const (
	EnvLCMRealSize   = "DREAM_LCM_REALSIZE"
	EnvTurboRealSize = "DREAM_TURBO_REALSIZE"
)

// fastCase is one line of the fast section: the export, the line, and its warm-up line,
// which opens the same models first so that the line is timed with them open.
type fastCase struct {
	label string
	env   string // the variable naming the export
	line  string
}

var fastCases = []fastCase{
	{"SD 1.5 -s 25 -A k_dpmpp_2m_karras -C 7.5", EnvRealSize, "a fox in the snow -s 25 -S 1 -A k_dpmpp_2m_karras -C 7.5"},
	{"SD 1.5+LCM-LoRA -s 4 -A lcm", EnvRealSize, "a fox in the snow -s 4 -S 1 -A lcm"},
	{"LCM-distilled -s 4 -A lcm", EnvLCMRealSize, "a fox in the snow -s 4 -S 1 -A lcm"},
	{"SD-Turbo -s 1 -C 1 -A k_euler_a", EnvTurboRealSize, "a fox in the snow -s 1 -S 1 -C 1 -A k_euler_a"},
}

// fastSection times the whole line from prompt to PNG, models already open, for the few-step
// ways of making a 512×512 image against today's 25-step one, each with the full VAE and the
// tiny one, in one run on one machine; and each process's peak RSS.
func fastSection(ctx context.Context, c config, tmp string) error {
	fmt.Println("\nfew-step generation at real size, 512×512, the line from prompt to PNG with the models open (--keep_models yes)")
	var errs []error
	for _, fc := range fastCases {
		dir := os.Getenv(fc.env)
		if dir == "" {
			fmt.Printf("  %-34s skipped: set %s to its export (tools/sdgen)\n", fc.label, fc.env)
			continue
		}
		for _, vae := range []string{"full", "tiny"} {
			took, peak, err := timeLine(ctx, c, dir, fc.line+" --vae "+vae, filepath.Join(tmp, "fast"))
			if err != nil {
				fmt.Printf("  %-34s --vae %s FAILED: %v\n", fc.label, vae, err)
				errs = append(errs, err)
				continue
			}
			fmt.Printf("  %-34s --vae %-4s %6.1f s   peak %4.2f GB\n", fc.label, vae, took.Seconds(), float64(peak)/1e9)
		}
	}
	return errors.Join(errs...)
}

// timeLine runs a dream process that makes a one-step warm-up image with the same models and
// decoder, then the line, and returns the time between the two "wrote" reports: the line
// from being read to its PNG written, with nothing to open.
func timeLine(ctx context.Context, c config, dir, line, outdir string) (time.Duration, int64, error) {
	os.RemoveAll(outdir)
	defer os.RemoveAll(outdir)
	warmup := strings.Replace(warmupOf(line), " -S 1 ", " -S 2 ", 1)
	args := []string{"--sd_model", dir, "--keep_models", "yes", "--device", "cpu", "--models", c.models(), "--outdir", outdir}
	cmd := exec.CommandContext(ctx, c.dream, args...)
	cmd.Stdin = strings.NewReader(warmup + "\n" + line + "\nq\n")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	var reports []time.Time
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "wrote ") {
			reports = append(reports, time.Now())
		}
	}
	io.Copy(io.Discard, stdout)
	if err := cmd.Wait(); err != nil {
		return 0, 0, fmt.Errorf("%v: %s", err, lastLine(stderr.String()))
	}
	if len(reports) != 2 {
		return 0, 0, fmt.Errorf("%d images reported, want 2: %s", len(reports), lastLine(stderr.String()))
	}
	peak, ok := peakRSS(cmd.ProcessState)
	if !ok {
		return 0, 0, errors.New("peak RSS is not available on this system")
	}
	return reports[1].Sub(reports[0]), peak, nil
}

// warmupOf is the line with one step, which opens every model the line uses.
func warmupOf(line string) string {
	words := strings.Fields(line)
	for i := range words[:len(words)-1] {
		if words[i] == "-s" {
			words[i+1] = "1"
		}
	}
	return strings.Join(words, " ")
}
