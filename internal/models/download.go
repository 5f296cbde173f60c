package models

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Download installs e into dir: each source in turn is fetched into DIR/.FILE.part, checked
// against its sha256 when that is known, and only then renamed to the final name, so an
// interrupted or corrupt download never appears under the name dream loads. A .part left by
// an interrupted run is resumed with a Range request. A folder entry downloads each of its
// files into its folder. progress, when not nil, gets the bytes written so far and the total
// (-1 when unknown) for the file being fetched. A file already installed is left alone. Two
// Downloads of the same file into the same directory at once are not supported: they would
// share the .part.
func Download(ctx context.Context, client *http.Client, e Entry, dir string, progress func(done, total int64)) error {
	if !e.IsFolder() {
		return downloadFile(ctx, client, e, e.Name, dir, progress)
	}
	folder := filepath.Join(dir, e.File)
	for _, f := range e.Files {
		if err := downloadFile(ctx, client, f, e.Name, folder, progress); err != nil {
			return err
		}
	}
	return nil
}

// downloadFile installs one file; model names the model in messages.
func downloadFile(ctx context.Context, client *http.Client, e Entry, model, dir string, progress func(done, total int64)) error {
	final := filepath.Join(dir, e.File)
	if fileExists(final) {
		return nil
	}
	if len(e.Sources) == 0 {
		return fmt.Errorf("model %s has no download source: copy %s to %s by hand", model, filepath.Base(e.File), final)
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return err
	}
	part := partPath(final)
	var errs []error
	for i, src := range e.Sources {
		if i > 0 {
			// A partial file from another mirror may be a different export: start afresh.
			os.Remove(part)
		}
		err := fetchVerified(ctx, client, src, part, progress)
		if err == nil {
			return os.Rename(part, final)
		}
		if ctx.Err() != nil {
			// Keep the .part: the next run resumes it.
			return fmt.Errorf("download of %s stopped: %w", filepath.Base(final), ctx.Err())
		}
		errs = append(errs, err)
	}
	if allOffline(errs) {
		return fmt.Errorf("cannot download model %s, the network looks offline (%v): copy %s by hand to %s",
			model, errs[0], filepath.Base(final), final)
	}
	return fmt.Errorf("download %s: %w", filepath.Base(final), errors.Join(errs...))
}

// partPath is where a download is written until it is complete and checked: hidden, and with
// a suffix dream never loads.
func partPath(final string) string {
	return filepath.Join(filepath.Dir(final), "."+filepath.Base(final)+".part")
}

// fetchVerified fetches src into part and checks its hash. A wrong file is deleted, since
// resuming it could never succeed.
func fetchVerified(ctx context.Context, client *http.Client, src Source, part string, progress func(done, total int64)) error {
	if err := fetch(ctx, client, src, part, progress); err != nil {
		return err
	}
	if src.SHA256 == "" {
		return nil
	}
	got, err := FileSHA256(part)
	if err != nil {
		return err
	}
	if !strings.EqualFold(got, src.SHA256) {
		os.Remove(part)
		return fmt.Errorf("%s: sha256 %s, expected %s; the download was deleted", src.URL, got, src.SHA256)
	}
	return nil
}

// fetch appends the rest of src to part: a Range request continues an existing .part when
// the server answers 206, and a 200 (server without ranges) rewrites it from zero.
func fetch(ctx context.Context, client *http.Client, src Source, part string, progress func(done, total int64)) error {
	offset := fileSize(part)
	resp, err := get(ctx, client, src.URL, offset)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && offset > 0 {
		// The .part is as long as the file or longer: it cannot be resumed, so start over.
		resp.Body.Close()
		os.Remove(part)
		offset = 0
		if resp, err = get(ctx, client, src.URL, 0); err != nil {
			return err
		}
		defer resp.Body.Close()
	}
	flags := os.O_WRONLY | os.O_CREATE
	switch {
	case resp.StatusCode == http.StatusPartialContent && offset > 0 && rangeStart(resp) == offset:
		flags |= os.O_APPEND
	case resp.StatusCode == http.StatusOK:
		flags |= os.O_TRUNC
		offset = 0
	case resp.StatusCode == http.StatusPartialContent:
		// A range other than the one asked for cannot be appended; the next try starts over.
		os.Remove(part)
		return fmt.Errorf("%s: the server answered another range than bytes=%d-", src.URL, offset)
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%s: not found (HTTP 404)", src.URL)
	default:
		return fmt.Errorf("%s: unexpected answer %s", src.URL, resp.Status)
	}
	f, err := os.OpenFile(part, flags, 0o644)
	if err != nil {
		return err
	}
	total := int64(-1)
	if resp.ContentLength >= 0 {
		total = offset + resp.ContentLength
	} else if src.Size > 0 {
		total = src.Size
	}
	_, err = io.Copy(f, &progressReader{r: resp.Body, done: offset, total: total, report: progress})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", src.URL, err)
	}
	return nil
}

// get sends a GET, asking for the bytes from offset on when it is not zero.
func get(ctx context.Context, client *http.Client, url string, offset int64) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if offset > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-")
	}
	resp, err := client.Do(req)
	if err != nil {
		// url.Error repeats the method and URL; the cause alone reads better after ours.
		var uerr *neturl.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	return resp, nil
}

// rangeStart reads the first byte position of a 206's Content-Range ("bytes 100-199/200"),
// or -1. A server that answers another range than asked is not appended to.
func rangeStart(resp *http.Response) int64 {
	spec, ok := strings.CutPrefix(resp.Header.Get("Content-Range"), "bytes ")
	if !ok {
		return -1
	}
	first, _, ok := strings.Cut(spec, "-")
	if !ok {
		return -1
	}
	n, err := strconv.ParseInt(first, 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// progressReader reports the bytes read so far after every read.
type progressReader struct {
	r           io.Reader
	done, total int64
	report      func(done, total int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.done += int64(n)
	if p.report != nil && n > 0 {
		p.report(p.done, p.total)
	}
	return n, err
}

// allOffline reports whether every failure was a network that cannot be reached (refused
// connection, unknown host), rather than a server that answered.
func allOffline(errs []error) bool {
	if len(errs) == 0 {
		return false
	}
	for _, err := range errs {
		if !isOffline(err) {
			return false
		}
	}
	return true
}

func isOffline(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EHOSTUNREACH) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}

// FileSHA256 is the hex sha256 of the file at path.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func fileSize(path string) int64 {
	info, err := os.Stat(path)
	if err != nil || !info.Mode().IsRegular() {
		return 0
	}
	return info.Size()
}

func fileExists(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular()
}

// Installed is one model's state in a model directory, for --models-list.
type Installed struct {
	Entry Entry
	// Path is where dream loads the model from, or where to copy it by hand.
	Path string
	// Present is true when the file (every file of a folder) is there.
	Present bool
	// Missing lists the absent files' paths; for a single file, Path itself.
	Missing []string
	// From is the launch flag that names the file dream loads in the model folder's stead
	// ("--gfpgan_model_path"); "" for the model folder's own.
	From string
}

// Status reports every model of the manifest as installed or missing in dir.
func (m *Manifest) Status(dir string) []Installed {
	out := make([]Installed, len(m.Models))
	for i, e := range m.Models {
		out[i] = status(e, dir)
	}
	return out
}

func status(e Entry, dir string) Installed {
	return StatusAt(e, filepath.Join(dir, e.File))
}

// StatusAt reports model e as installed or missing at path, the file (or folder) a launch
// flag names in the model folder's stead.
func StatusAt(e Entry, path string) Installed {
	s := Installed{Entry: e, Path: path}
	files := []Entry{{File: filepath.Base(path)}}
	base := filepath.Dir(path)
	if e.IsFolder() {
		files, base = e.Files, path
	}
	for _, f := range files {
		if p := filepath.Join(base, f.File); !fileExists(p) {
			s.Missing = append(s.Missing, p)
		}
	}
	s.Present = len(s.Missing) == 0
	return s
}

// Missing lists the manifest's models that are not (completely) in dir.
func (m *Manifest) Missing(dir string) []Entry {
	var out []Entry
	for _, s := range m.Status(dir) {
		if !s.Present {
			out = append(out, s.Entry)
		}
	}
	return out
}

// Status reports the built-in manifest's models as installed or missing in dir.
func Status(dir string) []Installed { return Embedded().Status(dir) }

// Missing lists the built-in manifest's models missing from dir.
func Missing(dir string) []Entry { return Embedded().Missing(dir) }

// WriteStatus prints every model of the built-in manifest as installed or missing, with the
// path dream loads it from or where to copy it by hand (--models-list and !models).
func WriteStatus(w io.Writer, dir string) { WriteList(w, dir, Status(dir)) }

// WriteList prints models as WriteStatus does; a model that a launch flag names says so.
func WriteList(w io.Writer, dir string, list []Installed) {
	fmt.Fprintf(w, "models in %s:\n", dir)
	for _, s := range list {
		state := "installed"
		if !s.Present {
			state = "missing"
		}
		var notes []string
		if s.From != "" {
			notes = append(notes, "from "+s.From)
		}
		if s.Entry.Optional {
			notes = append(notes, "optional")
		}
		note := ""
		if len(notes) > 0 {
			note = " (" + strings.Join(notes, ", ") + ")"
		}
		fmt.Fprintf(w, "  %-10s %-22s %s%s\n", state, s.Entry.Name, s.Path, note)
	}
}
