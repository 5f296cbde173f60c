package pipeline

import (
	"context"

	"dream/internal/imageio"
	"dream/internal/job"
)

// Fix post-processes an existing image and writes NAME.fixed.png into the output directory,
// or NAME.fixed-01.png and so on when that name is taken, also by a fix another process
// finishes at the same moment. The source file is only read. Everything is checked before
// any work starts, and a cancelled or failed job writes nothing.
func (p *Pipeline) Fix(ctx context.Context, j job.Job) (Result, error) {
	src, err := p.Resolve(j.Path, j)
	if err != nil {
		return Result{}, err
	}
	names, err := imageio.FixedNames(src)
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
	if err := prepareOutdir(outdir); err != nil {
		return Result{}, err
	}
	dest, err := saveNew(ctx, outdir, names, out, fixMetadata(src, img, j, steps))
	if err != nil {
		return Result{}, err
	}
	return Result{Path: dest, W: out.W, H: out.H, Notes: notes}, nil
}
