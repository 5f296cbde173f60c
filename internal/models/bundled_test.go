package models

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBundledFilesAreCanonical keeps each file built into dream equal to the repository's
// copy under models/ and to the manifest's hash and size for it.
func TestBundledFilesAreCanonical(t *testing.T) {
	if len(bundled) == 0 {
		t.Fatal("no model is built into dream")
	}
	for file, data := range bundled {
		canonical, err := os.ReadFile(repoFile("models", file))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(canonical, data) {
			t.Errorf("internal/models/%s differs from models/%s: run 'cp models/%s internal/models/'", file, file, file)
		}
		e, ok := Embedded().Lookup(file)
		if !ok {
			t.Fatalf("the manifest has no entry for the built-in %s", file)
		}
		if got, _ := FileSHA256(repoFile("models", file)); got != e.SHA256 || int64(len(data)) != e.Size {
			t.Errorf("models/%s has sha256 %s and %d bytes, the manifest says %s and %d", file, got, len(data), e.SHA256, e.Size)
		}
	}
	if _, err := os.Stat(repoFile("models", "LICENSE.yunet")); err != nil {
		t.Errorf("YuNet ships without its licence: %v", err)
	}
}

// InstallBundled writes the detector complete, into a folder it creates, leaves no temp file
// behind, and leaves a file already there alone.
func TestInstallBundled(t *testing.T) {
	e, _ := Embedded().Lookup(YuNet)
	if !IsBundled(e) {
		t.Fatal("YuNet is not built into dream")
	}
	dir := filepath.Join(t.TempDir(), "new", "models")
	if err := InstallBundled(e, dir); err != nil {
		t.Fatal(err)
	}
	if got, _ := FileSHA256(filepath.Join(dir, YuNet)); got != e.SHA256 {
		t.Errorf("installed file has sha256 %s, want %s", got, e.SHA256)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("model directory holds %d entries, want only %s", len(entries), YuNet)
	}

	mine := filepath.Join(dir, YuNet)
	os.WriteFile(mine, []byte("a user's own detector"), 0o644)
	if err := InstallBundled(e, dir); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(mine); string(data) != "a user's own detector" {
		t.Error("an installed file was replaced")
	}
}

// A built-in copy that does not match the manifest is refused, and nothing is written.
func TestInstallBundledChecksHash(t *testing.T) {
	e, _ := Embedded().Lookup(YuNet)
	e.SHA256 = strings.Repeat("0", 64)
	dir := t.TempDir()
	if err := InstallBundled(e, dir); err == nil || !strings.Contains(err.Error(), "sha256") {
		t.Fatalf("got %v, want a sha256 mismatch", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a refused copy left %d files behind", len(entries))
	}
	other, _ := Embedded().Lookup(RealESRGANx4plus)
	if IsBundled(other) || InstallBundled(other, dir) == nil {
		t.Error("an upscaler was installed as if built into dream")
	}
}
