package web

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strings"
)

// checkName accepts a file name inside the output folder as the page gives it: relative,
// with forward slashes, no "." or ".." parts, and no hidden files (dream's own temp files
// and markers are hidden).
func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("needs a file name")
	case strings.HasPrefix(name, "/") || strings.Contains(name, `\`) || strings.Contains(name, ":"):
		return fmt.Errorf("%s: give a name inside the output folder, not a path", name)
	case !fs.ValidPath(name):
		return fmt.Errorf("%s: a name inside the output folder has no . or .. parts", name)
	}
	for _, part := range strings.Split(name, "/") {
		if strings.HasPrefix(part, ".") {
			return fmt.Errorf("%s: hidden files are not served", name)
		}
	}
	return nil
}

// isImageName tells whether a name has the extension of an image dream reads.
func isImageName(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".png", ".jpg", ".jpeg", ".webp":
		return true
	}
	return false
}

// openInOutdir opens a file by its name inside the output folder. os.Root refuses any name
// that leaves the folder, through ".." or through a symbolic link.
func (s *Server) openInOutdir(name string) (*os.File, error) {
	root, err := os.OpenRoot(s.cfg.Outdir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return root.Open(name)
}

func (s *Server) statInOutdir(name string) (fs.FileInfo, error) {
	root, err := os.OpenRoot(s.cfg.Outdir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return root.Stat(name)
}

// file serves an image of the output folder by name; ?download=1 asks the browser to save
// it.
func (s *Server) file(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	f, info, ok := s.openImage(w, name)
	if !ok {
		return
	}
	defer f.Close()
	if r.URL.Query().Get("download") != "" {
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", path.Base(name)))
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, name, info.ModTime(), f)
}

// openImage opens an image of the output folder for a request, or answers why not.
func (s *Server) openImage(w http.ResponseWriter, name string) (*os.File, fs.FileInfo, bool) {
	if err := checkName(name); err != nil {
		refuse(w, http.StatusBadRequest, err.Error())
		return nil, nil, false
	}
	if !isImageName(name) {
		refuse(w, http.StatusNotFound, fmt.Sprintf("%s: only images are served", name))
		return nil, nil, false
	}
	f, err := s.openInOutdir(name)
	if err != nil {
		refuse(w, http.StatusNotFound, fmt.Sprintf("%s: no such image in the output folder", name))
		return nil, nil, false
	}
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		f.Close()
		refuse(w, http.StatusNotFound, fmt.Sprintf("%s: no such image in the output folder", name))
		return nil, nil, false
	}
	return f, info, true
}
