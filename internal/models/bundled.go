package models

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"dream/internal/imageio"
)

// bundledYuNet is the face detector every -G needs. At 230 KB it is built into dream, so
// that --preload installs it into any model directory without a network or a checkout of
// the repository. It is a copy of the repository's models/face_detection_yunet.onnx (MIT,
// see models/LICENSE.yunet): //go:embed cannot reach outside this folder, and
// TestBundledFilesAreCanonical fails when the two differ.
//
//go:embed face_detection_yunet.onnx
var bundledYuNet []byte

// bundled maps a manifest file name to the copy built into dream.
var bundled = map[string][]byte{YuNet: bundledYuNet}

// IsBundled reports whether dream carries e's file itself.
func IsBundled(e Entry) bool {
	_, ok := bundled[e.File]
	return ok
}

// InstallBundled writes the copy of e's file built into dream into dir, after checking it
// against the manifest's sha256 (a mismatch is a broken build, but a wrong detector must
// never be installed silently). The file appears complete or not at all. A file already
// installed is left alone.
func InstallBundled(e Entry, dir string) error {
	data, ok := bundled[e.File]
	if !ok {
		return fmt.Errorf("model %s is not built into dream", e.Name)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != e.SHA256 {
		return fmt.Errorf("dream's built-in %s has sha256 %s, the manifest says %s", e.File, got, e.SHA256)
	}
	final := filepath.Join(dir, e.File)
	if fileExists(final) {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return imageio.WriteFileAtomic(final, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
