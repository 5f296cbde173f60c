package runtimeinstall

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// mismatch is a file whose digest is not the pinned one.
type mismatch struct {
	file      string // the file, as people know it
	got, want string
	deleted   bool // the file was a download, now deleted
}

func (m *mismatch) Error() string {
	deleted := ""
	if m.deleted {
		deleted = "; the download was deleted"
	}
	return fmt.Sprintf("%s has the wrong checksum: got %s, want %s; nothing installed%s",
		m.file, m.got, m.want, deleted)
}

// extract writes lib's member of the tarball to w, and checks the whole tarball against p's
// integrity and the member against its sha256, in one pass over the file: it is read through
// to its end even after the member, since the integrity covers every byte. A tarball that is
// not the package is reported as such before anything inside it (a missing member, a broken
// gzip stream) is, since that is the cause.
func extract(ctx context.Context, tarball string, p Package, lib Library, w io.Writer) error {
	f, err := os.Open(tarball)
	if err != nil {
		return err
	}
	defer f.Close()
	whole := sha512.New()
	raw := io.TeeReader(contextReader{ctx, f}, whole)
	member := sha256.New()
	found, readErr := copyMember(raw, lib.Member, io.MultiWriter(w, member))
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if _, err := io.Copy(io.Discard, raw); err != nil {
		return err
	}
	if got := "sha512-" + base64.StdEncoding.EncodeToString(whole.Sum(nil)); got != p.Integrity {
		return &mismatch{file: tarball, got: got, want: p.Integrity}
	}
	if readErr != nil {
		return fmt.Errorf("%s: %v", tarball, readErr)
	}
	if !found {
		return fmt.Errorf("%s has no %s: the package's layout changed, so this dream cannot install it", tarball, lib.Member)
	}
	if got := hex.EncodeToString(member.Sum(nil)); got != lib.SHA256 {
		return &mismatch{file: lib.FileName() + " in " + filepath.Base(tarball), got: got, want: lib.SHA256}
	}
	return nil
}

// copyMember copies the tar member named name from the gzipped tar stream r to w, reading
// the stream to its end, which checks the gzip checksum.
func copyMember(r io.Reader, name string, w io.Writer) (found bool, err error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return false, err
	}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return false, err
		}
		if hdr.Name != name || found {
			continue
		}
		if hdr.Typeflag != tar.TypeReg {
			return false, fmt.Errorf("%s is not a plain file in the package", name)
		}
		if _, err := io.Copy(w, tr); err != nil {
			return false, err
		}
		found = true
	}
	_, err = io.Copy(io.Discard, gz)
	return found, err
}

// contextReader stops reading once ctx is cancelled, so Ctrl-C stops an extraction too.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}
