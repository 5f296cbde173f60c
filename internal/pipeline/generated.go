package pipeline

import (
	"context"
	"strings"

	"dream/internal/imageio"
	"dream/internal/job"
	"dream/internal/pngmeta"
	"dream/internal/sd"
	"dream/internal/version"
)

// generated collects the images of one prompt line as they are made.
type generated struct {
	job     job.Job
	seeds   []uint32
	outdir  string
	prefix  string // shared by every image of the line
	output  imageio.Output
	results []Result
	images  []*imageio.Image
	refs    []pngmeta.ModelRef
}

// save writes a freshly generated image as PREFIX.SEED.png (or .jpg, .webp). The PREFIX is reserved for this
// line, so the name is free; if a file has it anyway (another program made it), that is an
// error naming it, never a replacement.
func (g *generated) save(ctx context.Context, r sd.Result, refs []pngmeta.ModelRef) error {
	g.refs = refs
	name := imageio.GeneratedFileName(g.prefix, r.Seed, false, g.output.Format)
	path, err := saveNew(ctx, g.outdir, []string{name}, r.Image, g.output, generationMetadata(g.job, r.Seed, refs, nil))
	if err != nil {
		return err
	}
	res := Result{Path: path, W: r.Image.W, H: r.Image.H, Seed: r.Seed}
	if r.Truncated {
		res.Notes = append(res.Notes, "the prompt is longer than the 75 tokens the text encoder takes; the end was left out")
	}
	g.results = append(g.results, res)
	g.images = append(g.images, r.Image)
	return nil
}

// postprocessGenerated runs -U and -G on every image of the line, after all of them exist.
// The result replaces the original under its name (the line's own file, claimed by save),
// or, with --save_orig, goes beside it as PREFIX.SEED.postprocessed.png, claimed the same
// way as the original.
func (p *Pipeline) postprocessGenerated(ctx context.Context, j job.Job, plan postprocessing, g *generated) ([]Result, error) {
	if plan.upscaler == "" && plan.restorer == "" {
		return g.results, nil
	}
	for i, img := range g.images {
		res := &g.results[i]
		out, steps, notes, err := p.postprocess(ctx, img, j, plan)
		if err != nil {
			return g.results, err
		}
		dest, err := g.savePostprocessed(ctx, res, j.SaveOriginal, out, generationMetadata(j, res.Seed, g.refs, steps))
		if err != nil {
			return g.results, err
		}
		if j.SaveOriginal {
			res.Original = res.Path
		}
		res.Path, res.W, res.H = dest, out.W, out.H
		res.Notes = append(res.Notes, notes...)
	}
	return g.results, nil
}

// savePostprocessed writes the processed image of res where postprocessGenerated says, and
// returns its path.
func (g *generated) savePostprocessed(ctx context.Context, res *Result, keepOriginal bool, out *imageio.Image,
	meta []pngmeta.Chunk) (string, error) {
	if !keepOriginal {
		return res.Path, save(ctx, res.Path, out, g.output, meta)
	}
	name := imageio.GeneratedFileName(g.prefix, res.Seed, true, g.output.Format)
	return saveNew(ctx, g.outdir, []string{name}, out, g.output, meta)
}

// generationMetadata is the metadata of a generated image: the line that makes it again
// (with the post-processing it went through, and only that), the JSON record, and the
// AUTOMATIC1111 parameters text.
func generationMetadata(j job.Job, seed uint32, refs []pngmeta.ModelRef, steps []pngmeta.Step) []pngmeta.Chunk {
	if steps == nil {
		j.Upscale, j.Faces = nil, nil
	}
	gen := pngmeta.Generation{Type: "txt2img", Prompt: j.Prompt, Steps: j.Steps, CFGScale: j.CFGScale, Seed: seed,
		Width: j.Width, Height: j.Height, Sampler: j.Sampler, VAE: j.VAE}
	if gen.VAE == "" {
		gen.VAE = sd.FullVAE // what sd decodes with when the job does not say
	}
	if j.InitImage != "" {
		gen.Type, gen.InitImage, gen.Strength = "img2img", j.InitImage, j.Strength
	}
	record := pngmeta.Record{App: "dream", AppVersion: version.Version, Models: append([]pngmeta.ModelRef(nil), refs...),
		Image: pngmeta.RecordImage{Generation: &gen, Postprocessing: steps}}
	for _, s := range steps {
		record.Models = append(record.Models, s.Model)
	}
	return []pngmeta.Chunk{
		pngmeta.Text(pngmeta.KeyDream, j.Command(seed)),
		pngmeta.InternationalText(pngmeta.KeySDMetadata, record.String()),
		pngmeta.Text(pngmeta.KeyParameters, pngmeta.Parameters(gen, checkpoint(refs), steps)),
	}
}

// checkpoint names the model for the parameters text the way AUTOMATIC1111 names a
// checkpoint: the export's folder, with the hash of the UNet's weights.
func checkpoint(refs []pngmeta.ModelRef) pngmeta.ModelRef {
	var ref pngmeta.ModelRef
	for _, r := range refs {
		folder, file, _ := strings.Cut(r.Name, "/")
		switch file {
		case sd.UNetFile:
			if ref.SHA256 == "" {
				ref = pngmeta.ModelRef{Name: folder, SHA256: r.SHA256}
			}
		case sd.UNetWeightsFile:
			ref = pngmeta.ModelRef{Name: folder, SHA256: r.SHA256}
		}
	}
	return ref
}
