package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"dream/internal/imageio"
	"dream/internal/pngmeta"
)

// save writes img atomically as out says, with its metadata, replacing what path holds: only
// for a file this command claimed itself (the original a processed image takes the place
// of). A cancel during encoding aborts the write and leaves nothing.
func save(ctx context.Context, path string, img *imageio.Image, out imageio.Output, meta []pngmeta.Chunk) error {
	return imageio.WriteFileAtomic(path, encoder(ctx, img, out, meta))
}

// saveNew writes img as out says, with its metadata, as a new file in dir, under the first of names that
// is free once the file is complete, and returns its path. Other processes may be writing
// into dir too; no file of theirs (or anyone's) is replaced. A cancel during encoding
// aborts the write and leaves nothing.
func saveNew(ctx context.Context, dir string, names []string, img *imageio.Image, out imageio.Output, meta []pngmeta.Chunk) (string, error) {
	return imageio.WriteFileExclusive(dir, names, encoder(ctx, img, out, meta))
}

// encoder writes img as out says, stopping early once ctx is done.
func encoder(ctx context.Context, img *imageio.Image, out imageio.Output, meta []pngmeta.Chunk) func(io.Writer) error {
	return func(w io.Writer) error {
		return imageio.EncodeAs(ctxWriter{ctx, w}, img, out, meta)
	}
}

// prepareOutdir creates the output directory and, the first time this process writes there,
// removes the temp files left by writers that were killed before they could clean up (a live
// writer's temp file stays). Once is enough: a batch of hundreds of images would otherwise
// list the whole folder again for each one.
func (p *Pipeline) prepareOutdir(outdir string) error {
	if err := os.MkdirAll(outdir, 0o755); err != nil {
		return fmt.Errorf("cannot create output directory %s: %v", outdir, err)
	}
	if !p.swept[outdir] {
		imageio.RemoveStaleTemps(outdir) // best effort: a leftover temp file hides no result
		p.swept[outdir] = true
	}
	return nil
}

// ctxWriter fails its writes once the context is done, which stops the encoder early.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(b)
}

// hashSoon starts hashing model files in the background, so their sha256 is ready when the
// result's metadata is written instead of adding to the job's time.
func (p *Pipeline) hashSoon(paths ...string) {
	for _, path := range paths {
		if path != "" {
			go p.modelRef(path)
		}
	}
}

// modelRef names a model file with its sha256, hashed once per process.
func (p *Pipeline) modelRef(path string) pngmeta.ModelRef {
	ref := pngmeta.ModelRef{Name: filepath.Base(path)}
	p.hashMu.Lock() // the generator hashes its models in the background
	defer p.hashMu.Unlock()
	if h, ok := p.hashes[path]; ok {
		ref.SHA256 = h
		return ref
	}
	f, err := os.Open(path)
	if err != nil {
		return ref
	}
	defer f.Close()
	sum := sha256.New()
	if _, err := io.Copy(sum, f); err == nil {
		ref.SHA256 = hex.EncodeToString(sum.Sum(nil))
		p.hashes[path] = ref.SHA256
	}
	return ref
}
