package pipeline

import (
	"context"
	"path/filepath"

	"dream/internal/imageio"
	"dream/internal/job"
	"dream/internal/pngmeta"
)

// Fix post-processes an existing image and writes NAME.fixed.png (.jpg, .webp: see
// outputFor) into the output directory, or NAME.fixed-01.png and so on when that name is
// taken, also by a fix another process finishes at the same moment. The source file is only
// read. Everything is checked before any work starts, and a cancelled or failed job writes
// nothing.
func (p *Pipeline) Fix(ctx context.Context, j job.Job) (Result, error) {
	f, err := p.fix(ctx, j)
	if err != nil {
		return Result{}, err
	}
	return f.save(ctx)
}

// FixThenSave does a fix up to its finished image and saves it in the background, so that the
// next image of a batch runs its model while this one is encoded and written (on small
// images, saving is an eighth of the work). saved is called, from another goroutine, once the
// file is written or the write failed; an error returned here means nothing will be saved and
// saved is not called. One save runs at a time: a call waits for the save before it once its
// own image is ready, so a batch holds at most two results. Call WaitSaves at the end.
//
// A save runs to its end even when ctx is cancelled afterwards: the image is finished, and
// Ctrl-C cancels the work still to do, not the work done.
func (p *Pipeline) FixThenSave(ctx context.Context, j job.Job, saved func(Result, error)) error {
	f, err := p.fix(ctx, j)
	if err != nil {
		return err
	}
	p.WaitSaves()
	p.saving.Add(1)
	go func() {
		defer p.saving.Done()
		saved(f.save(context.WithoutCancel(ctx)))
	}()
	return nil
}

// WaitSaves waits for the save FixThenSave left running, if any.
func (p *Pipeline) WaitSaves() { p.saving.Wait() }

// fixed is a fix whose image is made and not yet saved.
type fixed struct {
	outdir string
	names  []string
	out    *imageio.Image
	output imageio.Output
	meta   []pngmeta.Chunk
	notes  []string
}

func (p *Pipeline) fix(ctx context.Context, j job.Job) (*fixed, error) {
	src, err := p.Resolve(j.Path, j)
	if err != nil {
		return nil, err
	}
	format := sourceFormat(src)
	output := p.outputFor(j, format)
	names, err := imageio.FixedNames(src, output.Format)
	if err != nil {
		return nil, err
	}
	plan, err := p.planPostprocessing(j)
	if err != nil {
		return nil, err
	}
	// A photo of many megapixels takes most of a second to decode: the bar shows first.
	p.report(Task{Name: "reading " + filepath.Base(src), Unit: "images"}, 0, 1)
	img, err := imageio.Load(src)
	if err != nil {
		return nil, err
	}
	if err := checkOutput(j, output, img.W, img.H, output.Format == imageio.JPEG && imageio.HasTransparency(img)); err != nil {
		return nil, err
	}
	j = withOutput(j, output)
	out, steps, notes, err := p.postprocess(ctx, img, j, plan)
	if err != nil {
		return nil, err
	}
	outdir := p.outdir(j)
	if err := p.prepareOutdir(outdir); err != nil {
		return nil, err
	}
	return &fixed{outdir: outdir, names: names, out: out, output: output, meta: fixMetadata(src, format, img, j, steps), notes: notes}, nil
}

// save writes the image under the first of its names that no file has.
func (f *fixed) save(ctx context.Context) (Result, error) {
	dest, err := saveNew(ctx, f.outdir, f.names, f.out, f.output, f.meta)
	if err != nil {
		return Result{}, err
	}
	return Result{Path: dest, W: f.out.W, H: f.out.H, Notes: f.notes}, nil
}
