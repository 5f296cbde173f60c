package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"

	"dream/internal/imageio"
	"dream/internal/pngmeta"
)

// save writes img atomically with its metadata; a cancel during encoding aborts the write and
// leaves nothing.
func save(ctx context.Context, path string, img *imageio.Image, meta []pngmeta.Chunk) error {
	return imageio.WriteFileAtomic(path, func(w io.Writer) error {
		return imageio.Encode(ctxWriter{ctx, w}, img, meta...)
	})
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
