package models

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInstallLocal(t *testing.T) {
	content := []byte("a model's bytes")
	sum := sha256.Sum256(content)
	good := hex.EncodeToString(sum[:])
	tests := []struct {
		name      string
		entry     Entry
		present   bool
		installed bool
		wantErr   string
	}{
		{"reference hash", Entry{Name: "m", File: "m.onnx", SHA256: good}, true, true, ""},
		{"source hash", Entry{Name: "m", File: "m.onnx", SHA256: strings.Repeat("0", 64),
			Sources: []Source{{URL: "https://example.invalid/m.onnx", SHA256: strings.ToUpper(good)}}}, true, true, ""},
		{"no hash known", Entry{Name: "m", File: "m.onnx"}, true, true, ""},
		{"another file", Entry{Name: "m", File: "m.onnx", SHA256: strings.Repeat("0", 64)}, true, false,
			"which is none of model m's"},
		{"not in the folder", Entry{Name: "m", File: "m.onnx", SHA256: good}, false, false, ""},
		{"a folder entry", Entry{Name: "sd", File: "sd", Files: []Entry{{File: "unet/model.onnx"}}}, true, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, dir := t.TempDir(), t.TempDir()
			if tt.present {
				if err := os.WriteFile(filepath.Join(from, "m.onnx"), content, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			installed, err := InstallLocal(tt.entry, from, dir)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
			if installed != tt.installed {
				t.Errorf("installed = %v, want %v", installed, tt.installed)
			}
			got, readErr := os.ReadFile(filepath.Join(dir, "m.onnx"))
			if tt.installed && string(got) != string(content) {
				t.Errorf("the installed file holds %q (%v)", got, readErr)
			}
			if !tt.installed && readErr == nil {
				t.Errorf("a file was installed although InstallLocal said no")
			}
		})
	}
}
