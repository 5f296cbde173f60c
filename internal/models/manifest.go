package models

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"dream/internal/ort"
)

// embeddedManifest is a copy of the repository's models/manifest.json, the canonical one.
// //go:embed cannot reach outside this package's folder, so the file is copied here and
// TestEmbeddedManifestIsCanonical fails when the two differ. A copy kept honest by a test is
// simpler than a second package under models/ or an embed in every command that needs it.
//
//go:embed manifest.json
var embeddedManifest []byte

// Manifest lists every model dream knows: where to download it, how to check it, and what
// its inputs and outputs must be.
type Manifest struct {
	Version int     `json:"version"`
	Models  []Entry `json:"models"`
}

// Entry is one model: a single file, or a folder (Files set) such as a diffusers export.
type Entry struct {
	Name string `json:"name"`
	Task string `json:"task"`
	// File is the file name dream expects in the model directory; for a folder entry, the
	// folder's name, and for an entry inside a folder, its path relative to that folder.
	File string `json:"file"`
	// Sources are download locations, primary first. Different mirrors may serve different
	// exports of the same network, so each carries its own hash and size.
	Sources []Source `json:"sources,omitempty"`
	// SHA256 and Size describe dream's reference copy (the file in ../shared/models that the
	// tests and benchmarks use), when there is one; "" and 0 mean unknown. Downloads are
	// checked against their Source's hash instead, since a mirror's export may differ.
	SHA256  string `json:"sha256,omitempty"`
	Size    int64  `json:"size,omitempty"`
	Licence string `json:"licence"`
	Note    string `json:"note,omitempty"`
	// Optional entries are not needed for dream to work (x2plus: ×2 falls back to ×4 and a
	// downscale); --preload still fetches them.
	Optional bool         `json:"optional,omitempty"`
	Inputs   []TensorSpec `json:"inputs,omitempty"`
	Outputs  []TensorSpec `json:"outputs,omitempty"`
	// Files are the parts of a folder entry. Each is downloaded into the folder.
	Files []Entry `json:"files,omitempty"`
}

// Source is one download location.
type Source struct {
	URL string `json:"url"`
	// SHA256 is the hex digest of the file at URL; "" means unknown and the file is not
	// checked.
	SHA256 string `json:"sha256,omitempty"`
	// Size is the file's length in bytes, 0 when unknown; it gives the progress bar a total
	// when the server sends none.
	Size int64 `json:"size,omitempty"`
}

// TensorSpec is an ort.Tensor as data. An empty Name matches any name, a dim of -1 any size,
// and a missing dims any rank; Types lists every element type accepted.
type TensorSpec struct {
	Name  string   `json:"name"`
	Types []string `json:"types"`
	Dims  []int64  `json:"dims"`
}

// typeNames maps the manifest's element type names to ONNX Runtime's.
var typeNames = map[string]ort.DataType{
	"float32": ort.Float32,
	"float64": ort.Float64,
	"float16": ort.Float16,
	"int32":   ort.Int32,
	"int64":   ort.Int64,
}

// LoadManifest reads and checks a manifest file.
func LoadManifest(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := ParseManifest(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// ParseManifest decodes a manifest and checks every entry, so a typo in a type name or a
// missing file name fails at load rather than when the model is first used.
func ParseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	seen := map[string]bool{}
	for _, e := range m.Models {
		if seen[e.Name] {
			return nil, fmt.Errorf("manifest: model %q listed twice", e.Name)
		}
		seen[e.Name] = true
		if err := e.check(); err != nil {
			return nil, fmt.Errorf("manifest: %w", err)
		}
	}
	return &m, nil
}

var embedded = sync.OnceValues(func() (*Manifest, error) { return ParseManifest(embeddedManifest) })

// Embedded returns the manifest built into dream. It is checked by the tests, so an error
// here means a broken build.
func Embedded() *Manifest {
	m, err := embedded()
	if err != nil {
		panic(err)
	}
	return m
}

func (e Entry) check() error {
	if e.Name == "" || e.File == "" {
		return fmt.Errorf("entry %q needs a name and a file", e.Name)
	}
	if filepath.IsAbs(e.File) || !filepath.IsLocal(e.File) {
		return fmt.Errorf("%s: file %q must be a relative path inside the model directory", e.Name, e.File)
	}
	for _, t := range append(append([]TensorSpec{}, e.Inputs...), e.Outputs...) {
		if _, err := t.dataTypes(); err != nil {
			return fmt.Errorf("%s: %w", e.Name, err)
		}
	}
	for _, f := range e.Files {
		if err := f.check(); err != nil {
			return fmt.Errorf("%s: %w", e.Name, err)
		}
	}
	return nil
}

// IsFolder reports whether the entry is a folder of files rather than one file.
func (e Entry) IsFolder() bool { return len(e.Files) > 0 }

// HasContract reports whether the manifest declares the entry's inputs and outputs.
func (e Entry) HasContract() bool { return len(e.Inputs) > 0 || len(e.Outputs) > 0 }

// Contract turns the declared inputs and outputs into what ort.Runtime.Session checks a
// model against. ParseManifest has checked the type names, so none is unknown here.
func (e Entry) Contract() ort.Contract {
	return ort.Contract{Inputs: tensors(e.Inputs), Outputs: tensors(e.Outputs)}
}

func tensors(specs []TensorSpec) []ort.Tensor {
	out := make([]ort.Tensor, len(specs))
	for i, s := range specs {
		types, _ := s.dataTypes()
		out[i] = ort.Tensor{Name: s.Name, Dims: s.Dims}
		if len(types) == 1 {
			out[i].Type = types[0]
		} else {
			out[i].Types = types
		}
	}
	return out
}

func (s TensorSpec) dataTypes() ([]ort.DataType, error) {
	if len(s.Types) == 0 {
		return nil, fmt.Errorf("tensor %q has no element type", s.Name)
	}
	types := make([]ort.DataType, len(s.Types))
	for i, name := range s.Types {
		t, ok := typeNames[name]
		if !ok {
			return nil, fmt.Errorf("tensor %q: unknown element type %q", s.Name, name)
		}
		types[i] = t
	}
	return types, nil
}

// Lookup returns the entry with the given name or file name.
func (m *Manifest) Lookup(name string) (Entry, bool) {
	for _, e := range m.Models {
		if e.Name == name || e.File == name {
			return e, true
		}
	}
	return Entry{}, false
}
