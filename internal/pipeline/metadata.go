package pipeline

import (
	"path/filepath"

	"dream/internal/imageio"
	"dream/internal/job"
	"dream/internal/pngmeta"
	"dream/internal/version"
)

// fixMetadata is the metadata of a !fix result: the command that reproduces it, the source's
// JSON record with this fix's steps appended, AUTOMATIC1111's texts (see a1111Texts), and the
// source's colour profile and EXIF, so a fixed photo keeps its colours and camera data.
// format is the source's (sourceFormat), read once by the caller.
func fixMetadata(src string, format imageio.Format, img *imageio.Image, j job.Job, steps []pngmeta.Step) []pngmeta.Chunk {
	text := img.Meta.Text
	chunks := []pngmeta.Chunk{pngmeta.Text(pngmeta.KeyDream, fixCommand(src, format, text[pngmeta.KeyDream], img, j))}
	chunks = append(chunks, pngmeta.InternationalText(pngmeta.KeySDMetadata, fixRecord(src, text[pngmeta.KeySDMetadata], steps)))
	chunks = append(chunks, a1111Texts(text[pngmeta.KeyParameters], steps)...)
	if len(img.Meta.ICCProfile) > 0 {
		chunks = append(chunks, pngmeta.ICCProfile("ICC profile", img.Meta.ICCProfile))
	}
	if len(img.Meta.Exif) > 0 {
		chunks = append(chunks, pngmeta.Exif(img.Meta.Exif))
	}
	return chunks
}

// a1111Texts are the texts AUTOMATIC1111's Extras tab leaves on an image it post-processed:
// the source's parameters as they were, and a "postprocessing" text saying what was done.
// We keep that split rather than appending this fix to the parameters, so that a tool
// reading the source's generation (prompt, seed, sampler) finds it unchanged and a tool
// reading Extras output finds the fix where A1111 puts it. (A1111 also copies the text under
// "extras", the name its save function gives every Extras image's text; one copy is enough.)
// A source without parameters, such as a photo, gets the postprocessing text as its
// parameters too, so that every PNG dream writes has them (SPEC §1). A fix that changed
// nothing (-G alone on an image without faces) has nothing to describe.
func a1111Texts(sourceParameters string, steps []pngmeta.Step) []pngmeta.Chunk {
	done := pngmeta.Postprocessing(steps)
	var chunks []pngmeta.Chunk
	switch {
	case sourceParameters != "":
		chunks = append(chunks, pngmeta.Text(pngmeta.KeyParameters, sourceParameters))
	case done != "":
		chunks = append(chunks, pngmeta.Text(pngmeta.KeyParameters, done))
	}
	if done != "" {
		chunks = append(chunks, pngmeta.Text(pngmeta.KeyPostprocessing, done))
	}
	return chunks
}

// fixCommand is the line that makes the fixed image again. A generated source that was not
// post-processed yet gets its own prompt line with this fix's switches, so !fetch brings the
// prompt back; anything else gets the !fix line itself, as does a fix to a target size, since
// -W and -H on a prompt line are the generated image's size. The -U of a target without one
// is spelled as the factor the target stood for (job.Upscale.Resolved), so the line carries
// the strength too; that needs the source image, img, which is nil where it is not read
// (--resume, whose matching ignores the factor of a target: see batch.Resume). j's Format and
// Quality say how the result is written (withOutput); the line names them where they differ
// from what it gives by default (storedOutput); format is the source's (sourceFormat), the
// !fix line's default.
func fixCommand(src string, format imageio.Format, sourceCommand string, img *imageio.Image, j job.Job) string {
	if j.Upscale != nil && img != nil {
		resolved := j.Upscale.Resolved(img.W, img.H)
		j.Upscale = &resolved
	}
	if prev, err := job.Parse(sourceCommand); err == nil && prev.Kind == job.Generate && prev.Seed.Set &&
		prev.Upscale == nil && !prev.Restores() && (j.Upscale == nil || !j.Upscale.Targets()) {
		prev.Upscale, prev.Upscaler, prev.Faces = j.Upscale, j.Upscaler, j.Faces
		prev.Format, prev.Quality = storedOutput(j, imageio.PNG) // a prompt line's natural format
		return prev.Command(prev.Seed.Value)
	}
	j.Path = src
	j.Format, j.Quality = storedOutput(j, format)
	return j.FixLine()
}

// fixRecord appends the steps to the source's JSON record, or starts a record that names the
// source when it has none (or one that cannot be read). Each step names the source by its
// absolute path, which the page's before/after view shows.
func fixRecord(src, sourceRecord string, steps []pngmeta.Step) string {
	steps = withSource(steps, src)
	if sourceRecord != "" {
		record := sourceRecord
		var err error
		for _, s := range steps {
			if record, err = pngmeta.AppendStep(record, s); err != nil {
				break
			}
		}
		if err == nil {
			return record
		}
	}
	r := pngmeta.Record{App: "dream", AppVersion: version.Version,
		Image: pngmeta.RecordImage{Source: filepath.Base(src), Postprocessing: steps}}
	for _, s := range steps {
		r.Models = append(r.Models, s.Model)
	}
	return r.String()
}

// withSource is a copy of steps that names src, made absolute, as the file they were applied to.
func withSource(steps []pngmeta.Step, src string) []pngmeta.Step {
	abs, err := filepath.Abs(src)
	if err != nil {
		return steps // the working directory is gone: the record names no source
	}
	named := make([]pngmeta.Step, len(steps))
	for i, s := range steps {
		s.Source = abs
		named[i] = s
	}
	return named
}
