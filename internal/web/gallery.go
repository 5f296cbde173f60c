package web

import (
	"bufio"
	"cmp"
	"encoding/json"
	"image"
	_ "image/jpeg" // the gallery reads the sizes of JPEGs
	_ "image/png"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	_ "golang.org/x/image/webp"

	"dream/internal/imageio"
	"dream/internal/job"
	"dream/internal/pngmeta"
)

const (
	defaultPerPage = 24
	maxPerPage     = 200
)

// galleryImage is one image of the gallery as the page shows it.
type galleryImage struct {
	Name     string    `json:"name"`
	URL      string    `json:"url"`
	Thumb    string    `json:"thumb"`
	Width    int       `json:"width"`
	Height   int       `json:"height"`
	Modified time.Time `json:"modified"`
	// Command is the dream> line stored in the image, "" when it has none.
	Command string  `json:"command"`
	Kind    string  `json:"kind"` // "generated", "fixed" or "other"
	Seed    *uint32 `json:"seed,omitempty"`
	// Source is the image a fixed one was made from, while it is in the output folder: the
	// "before" of the page's before/after slider.
	Source *imageRef `json:"source,omitempty"`
}

type imageRef struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// gallery lists the images of the output folder, newest first, a page at a time. Only the
// page's images are opened (to read their size and command): listing costs one stat per
// file, so a folder of thousands stays quick.
func (s *Server) gallery(w http.ResponseWriter, r *http.Request) {
	pageNo, perPage := intParam(r, "page", 0), intParam(r, "per_page", defaultPerPage)
	if pageNo < 0 || perPage < 1 || perPage > maxPerPage {
		refuse(w, http.StatusBadRequest, "page counts from 0, and per_page is from 1 to 200")
		return
	}
	files := s.listImages()
	from := min(pageNo*perPage, len(files))
	to := min(from+perPage, len(files))
	images := make([]galleryImage, 0, to-from)
	// One handle on the folder for the page: os.Root keeps every lookup inside it.
	if root, err := os.OpenRoot(s.cfg.Outdir); err == nil {
		defer root.Close()
		for _, f := range files[from:to] {
			images = append(images, s.describe(root, f))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": len(files), "page": pageNo, "perPage": perPage, "images": images})
}

type listed struct {
	name     string
	modified time.Time
}

// listImages is the images at the top of the output folder, newest first.
func (s *Server) listImages() []listed {
	entries, err := os.ReadDir(s.cfg.Outdir)
	if err != nil {
		return nil
	}
	var files []listed
	for _, e := range entries {
		if !e.Type().IsRegular() || !isImageName(e.Name()) || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if info, err := e.Info(); err == nil {
			files = append(files, listed{name: e.Name(), modified: info.ModTime()})
		}
	}
	slices.SortFunc(files, func(a, b listed) int {
		return cmp.Or(b.modified.Compare(a.modified), strings.Compare(b.name, a.name))
	})
	return files
}

// describe reads an image's size and stored command, and finds what it is.
func (s *Server) describe(root *os.Root, f listed) galleryImage {
	img := galleryImage{Name: f.name, URL: fileURL(f.name), Thumb: "/thumbs/" + url.PathEscape(f.name),
		Modified: f.modified.UTC(), Kind: "other"}
	var record string
	if file, err := root.Open(f.name); err == nil {
		if cfg, _, err := image.DecodeConfig(bufio.NewReader(file)); err == nil {
			img.Width, img.Height = cfg.Width, cfg.Height
		}
		// The texts are read from the start again: DecodeConfig's buffer read past the header.
		if _, err := file.Seek(0, io.SeekStart); err == nil {
			texts, _ := imageio.TextsOf(file, f.name) // PNG, JPEG or WebP
			img.Command, record = texts[pngmeta.KeyDream], texts[pngmeta.KeySDMetadata]
		}
		file.Close()
	}
	parsed, err := job.Parse(img.Command)
	source, fixed := fixSource(record)
	_, namedFixed := imageio.FixedStem(f.name) // an image fixed by an older dream has no source
	switch {
	case fixed || namedFixed:
		img.Kind = "fixed"
		img.Source = s.sourceRef(root, source)
	case err == nil && parsed.Kind == job.Generate && parsed.Seed.Set:
		img.Kind = "generated"
		img.Seed = &parsed.Seed.Value
	}
	return img
}

// fixSource is the file the last !fix of an image read, as its sd-metadata record names it
// (see pipeline's fixRecord), and whether the record says a !fix made the image. An image
// fixed by an older dream, or by another tool, names no source.
func fixSource(record string) (source string, fixed bool) {
	var doc pngmeta.Record
	if record == "" || json.Unmarshal([]byte(record), &doc) != nil || len(doc.Image.Postprocessing) == 0 {
		return "", false
	}
	steps := doc.Image.Postprocessing
	last := steps[len(steps)-1].Source
	return last, last != ""
}

// sourceRef is the "before" of a fixed image: the file its record names, while that file is
// still in the output folder (the page serves nothing else). Nothing is guessed from names:
// another picture of the same name would be shown as the "before".
func (s *Server) sourceRef(root *os.Root, source string) *imageRef {
	if source == "" {
		return nil
	}
	name, ok := s.inOutdir(source)
	if !ok || !isImageName(name) {
		return nil
	}
	if info, err := root.Stat(name); err != nil || !info.Mode().IsRegular() {
		return nil // gone
	}
	return &imageRef{Name: name, URL: fileURL(name)}
}

// fileURL is the address of an image of the output folder.
func fileURL(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return "/files/" + strings.Join(parts, "/")
}

func intParam(r *http.Request, key string, fallback int) int {
	text := r.URL.Query().Get(key)
	if text == "" {
		return fallback
	}
	n, err := strconv.Atoi(text)
	if err != nil {
		return -1
	}
	return n
}
