package pipeline

import (
	"context"
	"fmt"
	"os"

	"dream/internal/imageio"
	"dream/internal/job"
)

// Fix post-processes an existing image and writes NAME.fixed.png into the output directory.
// The source file is only read. Everything is checked before any work starts, and a
// cancelled or failed job writes nothing.
func (p *Pipeline) Fix(ctx context.Context, j job.Job) (Result, error) {
	src, err := p.Resolve(j.Path, j)
	if err != nil {
		return Result{}, err
	}
	plan, err := p.planPostprocessing(j)
	if err != nil {
		return Result{}, err
	}
	img, err := imageio.Load(src)
	if err != nil {
		return Result{}, err
	}
	out, steps, notes, err := p.postprocess(ctx, img, j, plan)
	if err != nil {
		return Result{}, err
	}
	outdir := p.outdir(j)
	if err := os.MkdirAll(outdir, 0o755); err != nil {
		return Result{}, fmt.Errorf("cannot create output directory %s: %v", outdir, err)
	}
	dest, err := imageio.FixedName(outdir, src)
	if err != nil {
		return Result{}, err
	}
	meta := fixMetadata(src, img, j, steps)
	if err := save(ctx, dest, out, meta); err != nil {
		return Result{}, err
	}
	return Result{Path: dest, W: out.W, H: out.H, Notes: notes}, nil
}
