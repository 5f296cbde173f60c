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
// output folder. The request as a whole is limited in bytes and each image in pixels (the
// limit every image dream reads has). An image is written only once it has arrived whole and
// its header checks out, under a sanitised name that no file has yet; a client that leaves
// halfway leaves nothing behind.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	limit := s.cfg.MaxUpload
	if r.ContentLength > limit {
		refuse(w, http.StatusRequestEntityTooLarge, tooLarge(limit))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	parts, err := r.MultipartReader()
	if err != nil {
		refuse(w, http.StatusBadRequest, "send the images as multipart/form-data, in fields named file")
		return
	}
	var stored []uploaded
	for {
		part, err := parts.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			refuseRead(w, err, limit)
			return
		}
		if part.FormName() != "file" {
			continue
		}
		data, err := io.ReadAll(part)
		if err != nil {
			refuseRead(w, err, limit)
			return
		}
		up, status, err := s.store(part.FileName(), data)
		if err != nil {
			refuse(w, status, err.Error())
			return
		}
		stored = append(stored, up)
	}
	if len(stored) == 0 {
		refuse(w, http.StatusBadRequest, "the request has no images: send them in fields named file")
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"files": stored})
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

// store checks one uploaded image and writes it under uploads/.
func (s *Server) store(fileName string, data []byte) (uploaded, int, error) {
	name := sanitise(fileName)
	w, h, err := imageio.Inspect(data, name)
	switch {
	case errors.Is(err, imageio.ErrTooLarge):
		return uploaded{}, http.StatusRequestEntityTooLarge, err
	case err != nil:
		return uploaded{}, http.StatusBadRequest, err
	}
	dir := filepath.Join(s.cfg.Outdir, uploadDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return uploaded{}, http.StatusInsufficientStorage, fmt.Errorf("%s could not be stored: %v", name, err)
	}
	ext := path.Ext(name)
	written, err := imageio.WriteFileExclusive(dir, imageio.NumberedNames(strings.TrimSuffix(name, ext), ext), func(out io.Writer) error {
		_, err := io.Copy(out, bytes.NewReader(data))
		return err
	})
	if err != nil {
		return uploaded{}, http.StatusInsufficientStorage, fmt.Errorf("%s could not be stored: %v", name, err)
	}
	return uploaded{Name: uploadDir + "/" + filepath.Base(written), Width: w, Height: h}, 0, nil
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
