package pipeline

import (
	"dream/internal/imageio"
	"dream/internal/job"
)

// A result's file format comes from the line's --format, else the launch flag's, else its
// natural format: PNG for a generated image, and for !fix the source's own (a JPEG stays a
// JPEG, a WebP a WebP). Its quality comes from --quality the same way, else the format's
// default. The command stored in the result names them only where they differ from the
// natural format and the default quality, so that the line makes the same file again in a
// dream started without the launch flags.

// outputFor is how a result of j whose natural format is natural is written.
func (p *Pipeline) outputFor(j job.Job, natural imageio.Format) imageio.Output {
	format := natural
	for _, f := range []string{p.cfg.Format, j.Format} {
		if f != "" {
			format = imageio.Format(f)
		}
	}
	quality := job.DefaultQuality(string(format))
	for _, q := range []int{p.cfg.Quality, j.Quality} {
		if q != 0 && format.Lossy() {
			quality = q
		}
	}
	return imageio.Output{Format: format, Quality: quality}
}

// withOutput is j with its Format and Quality set to how the result is written, for
// storedOutput to spell.
func withOutput(j job.Job, out imageio.Output) job.Job {
	j.Format, j.Quality = string(out.Format), out.Quality
	return j
}

// storedOutput is what a stored command says of a result written as j's Format and Quality
// (withOutput): the format where it is not natural, the format the command's result gets by
// default, and the quality where it is not that format's default. A job without a Format
// (one that did not pass through withOutput) is taken as written naturally.
func storedOutput(j job.Job, natural imageio.Format) (format string, quality int) {
	f := imageio.Format(j.Format)
	if f == "" {
		f = natural
	}
	if f != natural {
		format = string(f)
	}
	if f.Lossy() && j.Quality != 0 && j.Quality != job.DefaultQuality(string(f)) {
		quality = j.Quality
	}
	return format, quality
}

// sourceFormat is a !fix source's format, its result's natural one; PNG when the file
// cannot be read (the fix then fails on reading it anyway).
func sourceFormat(path string) imageio.Format {
	format, err := imageio.FileFormat(path)
	if err != nil {
		return imageio.PNG
	}
	return format
}

// checkOutput refuses, before any work, a result the format cannot hold: a JPEG of an
// image with transparency, or one larger than the format allows. w and h are the source's
// size, which -U enlarges.
func checkOutput(j job.Job, out imageio.Output, w, h int, transparent bool) error {
	if j.Upscale != nil {
		var err error
		if w, h, err = j.Upscale.Size(w, h); err != nil {
			return err
		}
	}
	return imageio.CheckOutput(out, w, h, transparent)
}

// generationOutput is how the images of prompt line j are written, and j with the --format
// and --quality their stored commands name.
func (p *Pipeline) generationOutput(j job.Job) (job.Job, imageio.Output) {
	out := p.outputFor(j, imageio.PNG)
	j.Format, j.Quality = storedOutput(withOutput(j, out), imageio.PNG)
	return j, out
}
