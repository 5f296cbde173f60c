package models

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"dream/internal/onnxpb"
	"dream/internal/ort"
	"dream/internal/testenv"
)

var testRuntime *ort.Runtime

func TestMain(m *testing.M) {
	testenv.Run(m, func(rt *ort.Runtime) { testRuntime = rt })
}

// repoFile returns a path relative to the repository root.
func repoFile(elem ...string) string {
	_, file, _, _ := runtime.Caller(0) // <repo>/internal/models/manifest_test.go
	return filepath.Join(append([]string{filepath.Dir(file), "..", ".."}, elem...)...)
}

// TestEmbeddedManifestIsCanonical keeps the embedded copy equal to models/manifest.json.
func TestEmbeddedManifestIsCanonical(t *testing.T) {
	canonical, err := os.ReadFile(repoFile("models", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(canonical, embeddedManifest) {
		t.Fatal("internal/models/manifest.json differs from models/manifest.json: " +
			"run 'cp models/manifest.json internal/models/manifest.json'")
	}
	if _, err := LoadManifest(repoFile("models", "manifest.json")); err != nil {
		t.Fatal(err)
	}
}

// TestManifestListsEveryModel checks the manifest names every file the rest of dream loads.
func TestManifestListsEveryModel(t *testing.T) {
	m := Embedded()
	want := []string{RealESRGANx4plus, RealESRGANx2plus, GeneralX4v3, YuNet, StableDiffusion,
		"gfpgan_1.2.onnx", "gfpgan_1.3.onnx"}
	for _, f := range Upscalers {
		want = append(want, f)
	}
	for _, f := range FaceRestorers {
		want = append(want, f)
	}
	for _, f := range want {
		e, ok := m.Lookup(f)
		if !ok {
			t.Errorf("manifest has no entry for %s", f)
			continue
		}
		if e.Licence == "" || (len(e.Sources) == 0 && !e.IsFolder()) {
			t.Errorf("%s: needs a licence and a source", e.Name)
		}
	}
	sd, _ := m.Lookup(StableDiffusion)
	var files []string
	for _, f := range sd.Files {
		files = append(files, f.File)
	}
	for _, f := range []string{"text_encoder/model.onnx", "unet/model.onnx", "unet/weights.pb",
		"vae_decoder/model.onnx", "vae_encoder/model.onnx", "tokenizer/vocab.json", "tokenizer/merges.txt"} {
		if !slices.Contains(files, f) {
			t.Errorf("%s folder lacks %s", StableDiffusion, f)
		}
	}
}

// TestReferenceHashes checks the hashes and sizes the manifest gives for the shared
// reference copies against the files themselves.
func TestReferenceHashes(t *testing.T) {
	for _, e := range Embedded().Models {
		if e.SHA256 == "" {
			continue
		}
		path := testenv.Shared("models", e.File)
		got, err := FileSHA256(path)
		if err != nil {
			t.Errorf("%s: %v", e.Name, err)
			continue
		}
		if got != e.SHA256 || fileSize(path) != e.Size {
			t.Errorf("%s: %s has sha256 %s and %d bytes, manifest says %s and %d",
				e.Name, path, got, fileSize(path), e.SHA256, e.Size)
		}
	}
}

func TestParseManifestRejectsUnknownType(t *testing.T) {
	_, err := ParseManifest([]byte(`{"models":[{"name":"x","file":"x.onnx","inputs":[{"types":["float8"]}]}]}`))
	if err == nil || !strings.Contains(err.Error(), "float8") {
		t.Errorf("got %v, want an error naming float8", err)
	}
	_, err = ParseManifest([]byte(`{"models":[{"name":"x","file":"../x.onnx"}]}`))
	if err == nil {
		t.Error("a file outside the model directory was accepted")
	}
}

func TestContractFromSpec(t *testing.T) {
	e, _ := Embedded().Lookup("codeformer")
	c := e.Contract()
	if len(c.Inputs) != 2 || len(c.Outputs) != 1 {
		t.Fatalf("codeformer contract %+v", c)
	}
	if c.Inputs[0].Type != ort.Float32 || !slices.Equal(c.Inputs[0].Dims, []int64{1, 3, 512, 512}) {
		t.Errorf("image input %v", c.Inputs[0])
	}
	if !slices.Equal(c.Inputs[1].Types, []ort.DataType{ort.Float64, ort.Float32}) || c.Inputs[1].Dims != nil {
		t.Errorf("fidelity input %v, want float64 or float32 of any shape", c.Inputs[1])
	}
}

// withContract lists every manifest entry, folder parts included, that declares a contract.
func withContract() []Entry {
	var out []Entry
	for _, e := range Embedded().Models {
		for _, f := range append([]Entry{e}, e.Files...) {
			if f.HasContract() {
				out = append(out, f)
			}
		}
	}
	return out
}

// TestContractsAcceptMatchingModels writes, for every contract, a tiny model with exactly
// the declared inputs and outputs and checks ONNX Runtime's session check accepts it.
func TestContractsAcceptMatchingModels(t *testing.T) {
	entries := withContract()
	if len(entries) < 12 {
		t.Fatalf("only %d entries declare a contract", len(entries))
	}
	for _, e := range entries {
		t.Run(e.Name, func(t *testing.T) {
			path := writeModel(t, e.Inputs, e.Outputs)
			if _, err := testRuntime.Session(path, e.Contract()); err != nil {
				t.Fatal(err)
			}
			// Where a tensor may have several types (CodeFormer's fidelity), the last
			// alternative must be accepted too.
			if alt, ok := lastTypes(e.Inputs); ok {
				path := writeModel(t, alt, e.Outputs)
				if _, err := testRuntime.Session(path, e.Contract()); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// lastTypes returns specs with every multi-type tensor set to its last type, and whether
// any had several.
func lastTypes(specs []TensorSpec) ([]TensorSpec, bool) {
	out := slices.Clone(specs)
	changed := false
	for i, s := range out {
		if len(s.Types) > 1 {
			out[i].Types = s.Types[len(s.Types)-1:]
			changed = true
		}
	}
	return out, changed
}

func TestContractRefusesWrongType(t *testing.T) {
	e, _ := Embedded().Lookup(RealESRGANx4plus)
	in := slices.Clone(e.Inputs)
	in[0].Types = []string{"float64"}
	path := writeModel(t, in, e.Outputs)
	_, err := testRuntime.Session(path, e.Contract())
	if err == nil {
		t.Fatal("a float64 input was accepted for a float32 contract")
	}
	t.Log(err)
	for _, want := range []string{filepath.Base(path), "input", "float64", "float32"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

func TestContractRefusesWrongShape(t *testing.T) {
	e, _ := Embedded().Lookup("gfpgan_1.4.onnx")
	in := slices.Clone(e.Inputs)
	in[0].Dims = []int64{1, 3, 256, 256}
	path := writeModel(t, in, e.Outputs)
	_, err := testRuntime.Session(path, e.Contract())
	if err == nil {
		t.Fatal("a 256×256 input was accepted for a 512×512 contract")
	}
	t.Log(err)
	for _, want := range []string{filepath.Base(path), "[1,3,256,256]", "[1,3,512,512]"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

// writeModel writes a model declaring the given inputs and outputs. Each output is a
// Constant of its declared type (dims of any size made 1); the inputs are declared but
// unused, which is all a contract check reads. It uses each spec's first element type.
func writeModel(t *testing.T, inputs, outputs []TensorSpec) string {
	t.Helper()
	var g onnxpb.Graph
	for i, s := range inputs {
		name := s.Name
		if name == "" {
			name = fmt.Sprintf("input_%d", i)
		}
		dims := s.Dims
		if dims == nil {
			dims = []int64{1} // any rank: a one-element tensor, as exporters write scalars
		}
		g.Inputs = append(g.Inputs, onnxpb.NewValueInfo(name, pbType(t, s.Types[0]), symDims(dims)...))
	}
	for i, s := range outputs {
		name := s.Name
		if name == "" {
			name = fmt.Sprintf("output_%d", i)
		}
		g.Outputs = append(g.Outputs, onnxpb.NewValueInfo(name, pbType(t, s.Types[0]), symDims(s.Dims)...))
		g.Add("Constant", nil, []string{name}, onnxpb.AttrTensor("value", zeros(t, s.Types[0], s.Dims)))
	}
	path := filepath.Join(t.TempDir(), strings.NewReplacer("/", "_", ".", "_").Replace(t.Name())+".onnx")
	if err := (&onnxpb.Model{Graph: g}).WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func symDims(dims []int64) []onnxpb.Dim {
	out := make([]onnxpb.Dim, len(dims))
	for i, d := range dims {
		if d < 0 {
			out[i] = onnxpb.Sym(fmt.Sprintf("d%d", i))
		} else {
			out[i] = onnxpb.Fixed(d)
		}
	}
	return out
}

func zeros(t *testing.T, typ string, dims []int64) onnxpb.Tensor {
	shape := make([]int64, len(dims))
	n := 1
	for i, d := range dims {
		shape[i] = max(d, 1)
		n *= int(shape[i])
	}
	switch typ {
	case "float32":
		return onnxpb.Float32Tensor("v", shape, make([]float32, n))
	case "float64":
		return onnxpb.Float64Tensor("v", shape, make([]float64, n))
	case "int32":
		return onnxpb.Int32Tensor("v", shape, make([]int32, n))
	case "int64":
		return onnxpb.Int64Tensor("v", shape, make([]int64, n))
	}
	t.Fatalf("no constant of type %s", typ)
	return onnxpb.Tensor{}
}

func pbType(t *testing.T, typ string) onnxpb.DataType {
	switch typ {
	case "float32":
		return onnxpb.Float
	case "float64":
		return onnxpb.Double
	case "float16":
		return onnxpb.Float16
	case "int32":
		return onnxpb.Int32
	case "int64":
		return onnxpb.Int64
	}
	t.Fatalf("unknown type %s", typ)
	return 0
}
