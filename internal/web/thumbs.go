package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"golang.org/x/image/draw"

	"dream/internal/imageio"
)

// thumbSide is the long side of a thumbnail, in pixels: sharp in a gallery cell on a
// high-density screen.
const thumbSide = 256

// thumbnails makes each image's thumbnail once and keeps it in the user's cache folder,
// named by the image's path, size and time, so that an image written anew gets a new one.
// At most one is made per core at a time, and one image's thumbnail once however many ask:
// a gallery of hundreds of new images does not take every core from a running job for long.
type thumbnails struct {
	dir   string
	slots chan struct{}
	mu    sync.Mutex
	busy  map[string]chan struct{} // the thumbnails being made, closed when made
}

func newThumbnails(dir string) *thumbnails {
	return &thumbnails{dir: dir, slots: make(chan struct{}, runtime.GOMAXPROCS(0)), busy: map[string]chan struct{}{}}
}

// thumbnail serves an image's thumbnail as JPEG.
func (s *Server) thumbnail(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	f, info, ok := s.openImage(w, name)
	if !ok {
		return
	}
	f.Close()
	data, err := s.thumbs.get(filepath.Join(s.cfg.Outdir, filepath.FromSlash(name)), info)
	if err != nil {
		refuse(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "private, max-age=3600")
	http.ServeContent(w, r, "", info.ModTime(), bytes.NewReader(data))
}

// get returns the cached thumbnail of the image at path, making it when there is none.
func (t *thumbnails) get(path string, info fs.FileInfo) ([]byte, error) {
	abs, _ := filepath.Abs(path)
	key := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d\x00%d", abs, info.Size(), info.ModTime().UnixNano()))
	cached := filepath.Join(t.dir, hex.EncodeToString(key[:16])+".jpg")
	for {
		if data, err := os.ReadFile(cached); err == nil {
			return data, nil
		}
		t.mu.Lock()
		made, busy := t.busy[cached]
		if !busy {
			t.busy[cached] = make(chan struct{})
			t.mu.Unlock()
			break // this request makes it
		}
		t.mu.Unlock()
		<-made // another request is making it: read it when it is made
	}
	defer t.done(cached)
	t.slots <- struct{}{}
	data, err := makeThumbnail(path)
	<-t.slots
	if err != nil {
		return nil, err
	}
	t.keep(cached, data)
	return data, nil
}

func (t *thumbnails) done(cached string) {
	t.mu.Lock()
	close(t.busy[cached])
	delete(t.busy, cached)
	t.mu.Unlock()
}

// keep writes a thumbnail into the cache; a cache that cannot be written only costs time.
// Processes that race write the same bytes, so the last one may replace the file.
func (t *thumbnails) keep(path string, data []byte) {
	if os.MkdirAll(t.dir, 0o755) == nil {
		imageio.WriteFileAtomic(path, func(w io.Writer) error { _, err := w.Write(data); return err })
	}
}

// makeThumbnail decodes an image as dream reads it (turned as its EXIF says) and scales it
// to at most thumbSide pixels on its long side.
func makeThumbnail(path string) ([]byte, error) {
	img, err := imageio.Load(path)
	if err != nil {
		return nil, err
	}
	scale := min(1, float64(thumbSide)/float64(max(img.W, img.H)))
	w, h := max(1, int(float64(img.W)*scale+0.5)), max(1, int(float64(img.H)*scale+0.5))
	small := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(small, small.Bounds(), image.White, image.Point{}, draw.Src) // transparency shows white
	draw.ApproxBiLinear.Scale(small, small.Bounds(), imageio.GoImage(img), image.Rect(0, 0, img.W, img.H), draw.Over, nil)
	var out bytes.Buffer
	if err := jpeg.Encode(&out, small, &jpeg.Options{Quality: 85}); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
