package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"unicode"

	"dream/internal/imageio"
)

// uploadDir is the folder inside the output folder where the page's uploads go.
const uploadDir = "uploads"

// uploaded is an image the page sent, stored under its new name.
type uploaded struct {
	Name   string `json:"name"` // inside the output folder: "uploads/cat.png"
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

// upload stores the images of a multipart request (field "file") under uploads/ in the
// output folder, all or none. The request as a whole is limited in bytes and each image in
// pixels (the limit every image dream reads has). Every image is checked once the request has
// arrived whole, before any is written: a bad one is named in the answer and nothing is
// stored, and a store that fails halfway removes the images it stored. Names are sanitised
// and never replace a file; a client that leaves halfway leaves nothing behind.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	limit := s.cfg.MaxUpload
	if r.ContentLength > limit {
		refuse(w, http.StatusRequestEntityTooLarge, tooLarge(limit))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	files, ok := readUploads(w, r, limit)
	if !ok {
		return
	}
	if len(files) == 0 {
		refuse(w, http.StatusBadRequest, "the request has no images: send them in fields named file")
		return
	}
	for i := range files {
		if status, err := files[i].check(); err != nil {
			refuseFile(w, status, files[i].name, fmt.Sprintf("%v; %s", err, noneStored(len(files))))
			return
		}
	}
	stored, status, err := s.storeAll(files)
	if err != nil {
		refuse(w, status, err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"files": stored})
}

// incoming is one image of an upload request, read whole and not stored yet.
type incoming struct {
	name   string // sanitised
	data   []byte
	width  int
	height int
}

// readUploads reads every file part of the request; on a failure it has answered.
func readUploads(w http.ResponseWriter, r *http.Request, limit int64) ([]incoming, bool) {
	parts, err := r.MultipartReader()
	if err != nil {
		refuse(w, http.StatusBadRequest, "send the images as multipart/form-data, in fields named file")
		return nil, false
	}
	var files []incoming
	for {
		part, err := parts.NextPart()
		if errors.Is(err, io.EOF) {
			return files, true
		}
		if err != nil {
			refuseRead(w, err, limit)
			return nil, false
		}
		if part.FormName() != "file" {
			continue
		}
		data, err := io.ReadAll(part)
		if err != nil {
			refuseRead(w, err, limit)
			return nil, false
		}
		files = append(files, incoming{name: sanitise(part.FileName()), data: data})
	}
}

// check reads the image's header: its format and its size within the pixel limit.
func (f *incoming) check() (int, error) {
	var err error
	f.width, f.height, err = imageio.Inspect(f.data, f.name)
	switch {
	case errors.Is(err, imageio.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, err
	case err != nil:
		return http.StatusBadRequest, err
	}
	return 0, nil
}

// noneStored says that a refused upload left nothing, so the user knows to send the others
// again.
func noneStored(count int) string {
	if count == 1 {
		return "it was not stored"
	}
	return fmt.Sprintf("none of the %d images was stored: send the others again without it", count)
}

// refuseFile refuses an upload because of one of its images, which the answer names (the page
// shows the reason under the drop zone).
func refuseFile(w http.ResponseWriter, status int, name, reason string) {
	writeJSON(w, status, map[string]string{"error": oneLine(reason), "file": name})
}

// storeAll writes the checked images under uploads/, or none: when one cannot be written,
// the ones written before it are removed.
func (s *Server) storeAll(files []incoming) ([]uploaded, int, error) {
	var stored []uploaded
	for _, f := range files {
		up, err := s.store(f)
		if err != nil {
			for _, done := range stored {
				os.Remove(filepath.Join(s.cfg.Outdir, filepath.FromSlash(done.Name)))
			}
			return nil, http.StatusInsufficientStorage, fmt.Errorf("%v; %s", err, noneStored(len(files)))
		}
		stored = append(stored, up)
	}
	return stored, 0, nil
}

// refuseRead answers a request whose body could not be read: too large, or cut off.
func refuseRead(w http.ResponseWriter, err error, limit int64) {
	if _, over := errors.AsType[*http.MaxBytesError](err); over {
		refuse(w, http.StatusRequestEntityTooLarge, tooLarge(limit))
		return
	}
	refuse(w, http.StatusBadRequest, "the upload was cut off; send it again")
}

func tooLarge(limit int64) string {
	return fmt.Sprintf("the upload is larger than %d MB: send fewer or smaller images, or start dream with a larger --web_max_upload", limit>>20)
}

// store writes one checked image under uploads/, under its name or the next free one.
func (s *Server) store(f incoming) (uploaded, error) {
	dir := filepath.Join(s.cfg.Outdir, uploadDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return uploaded{}, fmt.Errorf("%s could not be stored: %v", f.name, err)
	}
	ext := path.Ext(f.name)
	written, err := imageio.WriteFileExclusive(dir, imageio.NumberedNames(strings.TrimSuffix(f.name, ext), ext), func(out io.Writer) error {
		_, err := io.Copy(out, bytes.NewReader(f.data))
		return err
	})
	if err != nil {
		return uploaded{}, fmt.Errorf("%s could not be stored: %v", f.name, err)
	}
	return uploaded{Name: uploadDir + "/" + filepath.Base(written), Width: f.width, Height: f.height}, nil
}

// sanitise makes a file name from what the browser sent: its base name, letters, digits,
// '.', '-' and '_' only, no leading dot, at most 80 characters before the extension.
func sanitise(fileName string) string {
	base := path.Base(strings.ReplaceAll(fileName, `\`, "/"))
	ext := strings.ToLower(path.Ext(base))
	if !isImageName(base) {
		ext = ".png" // the content decides the format; the name only has to look like an image
	}
	stem := strings.Map(func(r rune) rune {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || r == '.') {
			return r
		}
		return '_'
	}, strings.TrimSuffix(base, path.Ext(base)))
	stem = strings.TrimLeft(stem, "._")
	if len(stem) > 80 {
		stem = stem[:80]
	}
	if stem == "" {
		stem = "upload"
	}
	return stem + ext
}
