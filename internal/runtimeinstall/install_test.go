package runtimeinstall

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"dream/internal/ort"
)

// host is the platform the tests install for, so that ort.FindLibrary can judge the result.
var host = runtime.GOOS + "/" + runtime.GOARCH

// fakeLibrary is the content of a platform's fabricated library: long enough to span many
// gzip blocks, and no real library's header, so that FindLibrary's platform check lets it be.
func fakeLibrary(platform string) []byte {
	return bytes.Repeat([]byte("not ONNX Runtime, a stand-in for "+platform+"\n"), 2000)
}

// fabricate builds a tarball in onnxruntime-node's layout, a library for each platform of the
// real package under the real member names between other files, and the Package that pins
// it: the real one's names and messages, with digests computed from this content.
func fabricate(t *testing.T) ([]byte, Package) {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	add := func(name string, data []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	add("package/package.json", []byte(`{"name":"onnxruntime-node","version":"1.30.0"}`))
	p := Package{Name: ONNXRuntimeNode.Name, Version: ONNXRuntimeNode.Version, Missing: ONNXRuntimeNode.Missing,
		Libraries: map[string]Library{}}
	for platform, lib := range ONNXRuntimeNode.Libraries {
		if err := tw.WriteHeader(&tar.Header{Name: path.Dir(lib.Member) + "/", Mode: 0o755, Typeflag: tar.TypeDir}); err != nil {
			t.Fatal(err)
		}
		data := fakeLibrary(platform)
		add(lib.Member, data)
		p.Libraries[platform] = Library{Member: lib.Member, SHA256: sha256Hex(data)}
	}
	add("package/dist/index.js", []byte("module.exports = {}\n"))
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	tgz := buf.Bytes()
	whole := sha512.Sum512(tgz)
	p.Integrity = "sha512-" + base64.StdEncoding.EncodeToString(whole[:])
	p.SHA256, p.Size = sha256Hex(tgz), int64(len(tgz))
	return tgz, p
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// registry is an npm registry over HTTPS that serves one tarball under /npm/, with ranges,
// and records the requests it gets.
type registry struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
}

func serveRegistry(t *testing.T, tarball []byte) *registry {
	r := &registry{}
	r.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.requests = append(r.requests, req)
		r.mu.Unlock()
		if req.URL.Path != "/npm/onnxruntime-node/-/onnxruntime-node-1.30.0.tgz" {
			http.NotFound(w, req)
			return
		}
		http.ServeContent(w, req, "onnxruntime-node-1.30.0.tgz", time.Time{}, bytes.NewReader(tarball))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *registry) requestCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.requests)
}

// install is what a case works with: the fabricated package, a registry serving served,
// and the folders.
type install struct {
	tarball []byte // the package's true tarball
	pkg     Package
	reg     *registry
	opts    Options
	dir     string // where the library goes: pkg.Dir() in the test's cache
	work    string // a folder for the case's own files
	ctx     context.Context
}

func (in *install) libraryPath() string {
	return filepath.Join(in.dir, in.pkg.Libraries[host].FileName())
}

func (in *install) writeWork(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(in.work, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// corrupt is tarball with one byte of its compressed data changed.
func corrupt(tarball []byte) []byte {
	bad := bytes.Clone(tarball)
	bad[len(bad)/2] ^= 0xff
	return bad
}

// Install for this machine, from the fabricated package served by a test registry or read
// from a file, in each situation a person meets: the library lands where ort.FindLibrary
// looks, and a wrong file or platform installs nothing and says which file and digests.
func TestInstall(t *testing.T) {
	good, _ := fabricate(t)
	cases := []struct {
		name    string
		served  []byte                          // what the registry serves; nil: the package
		prepare func(t *testing.T, in *install) // sets the options and files up
		// wantErr are the parts of the error; none for success.
		wantErr      []string
		wantKept     bool
		wantReplaced bool
		wantRequests int
	}{
		{name: "download", wantRequests: 1},
		{name: "registry from npm_config_registry", wantRequests: 1,
			prepare: func(t *testing.T, in *install) {
				in.opts.Registry = ""
				t.Setenv("npm_config_registry", in.reg.URL+"/npm/")
			}},
		{name: "from a file",
			prepare: func(t *testing.T, in *install) {
				in.opts.From = in.writeWork(t, "saved.tgz", in.tarball)
			}},
		{name: "from a folder",
			prepare: func(t *testing.T, in *install) {
				in.writeWork(t, "offline/onnxruntime-node-1.30.0.tgz", in.tarball)
				in.opts.From = filepath.Join(in.work, "offline")
			}},
		{name: "from a folder without the tarball",
			prepare: func(t *testing.T, in *install) {
				in.writeWork(t, "offline/other.tgz", in.tarball)
				in.opts.From = filepath.Join(in.work, "offline")
			},
			wantErr: []string{"offline has no onnxruntime-node-1.30.0.tgz", "npm pack onnxruntime-node@1.30.0"}},
		{name: "from a missing file",
			prepare: func(t *testing.T, in *install) { in.opts.From = filepath.Join(in.work, "nowhere.tgz") },
			wantErr: []string{"nowhere.tgz does not exist"}},
		{name: "corrupt download", served: corrupt(good), wantRequests: 1,
			wantErr: []string{"onnxruntime-node-1.30.0.tgz", sha256Hex(corrupt(good)), "the download was deleted"}},
		{name: "corrupt local tarball",
			prepare: func(t *testing.T, in *install) {
				in.opts.From = in.writeWork(t, "saved.tgz", corrupt(in.tarball))
			},
			wantErr: []string{"saved.tgz has the wrong checksum: got sha512-", "want sha512-", "nothing installed"}},
		{name: "wrong member hash", wantRequests: 1,
			prepare: func(t *testing.T, in *install) {
				lib := in.pkg.Libraries[host]
				lib.SHA256 = sha256Hex([]byte("another build"))
				in.pkg.Libraries = map[string]Library{host: lib}
				in.opts.Package = in.pkg
			},
			wantErr: []string{"in onnxruntime-node-1.30.0.tgz has the wrong checksum: got " + sha256Hex(fakeLibrary(host)),
				"want " + sha256Hex([]byte("another build")), "nothing installed; the download was deleted"}},
		{name: "member missing from the package", wantRequests: 1,
			prepare: func(t *testing.T, in *install) {
				in.pkg.Libraries = map[string]Library{host: {Member: "package/bin/napi-v9/libonnxruntime.so.1",
					SHA256: in.pkg.Libraries[host].SHA256}}
				in.opts.Package = in.pkg
			},
			wantErr: []string{"has no package/bin/napi-v9/libonnxruntime.so.1"}},
		{name: "Intel Mac refused",
			prepare: func(t *testing.T, in *install) { in.opts.GOOS, in.opts.GOARCH = "darwin", "amd64" },
			wantErr: []string{ONNXRuntimeNode.Missing["darwin/amd64"]}},
		{name: "platform without a library",
			prepare: func(t *testing.T, in *install) { in.opts.GOOS, in.opts.GOARCH = "plan9", "386" },
			wantErr: []string{"onnxruntime-node 1.30.0 has no ONNX Runtime library for plan9/386", "--ort-lib PATH"}},
		{name: "already installed", wantKept: true,
			prepare: func(t *testing.T, in *install) {
				writeFile(t, in.libraryPath(), fakeLibrary(host))
				old := time.Now().Add(-time.Hour)
				os.Chtimes(in.libraryPath(), old, old)
			}},
		{name: "another file installed is replaced", wantReplaced: true, wantRequests: 1,
			prepare: func(t *testing.T, in *install) { writeFile(t, in.libraryPath(), []byte("truncated")) }},
		{name: "interrupted download resumes", wantRequests: 1,
			prepare: func(t *testing.T, in *install) {
				writeFile(t, filepath.Join(in.dir, ".onnxruntime-node-1.30.0.tgz.part"), in.tarball[:len(in.tarball)/3])
			}},
		{name: "cancelled",
			prepare: func(t *testing.T, in *install) {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				in.ctx = ctx
			},
			wantErr: []string{"context canceled"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("DREAM_CACHE", t.TempDir())
			t.Setenv(ort.EnvLibrary, "")
			t.Setenv("npm_config_registry", "")
			t.Setenv("NPM_CONFIG_REGISTRY", "")
			tarball, pkg := fabricate(t)
			served := tc.served
			if served == nil {
				served = tarball
			}
			in := &install{tarball: tarball, pkg: pkg, reg: serveRegistry(t, served), dir: pkg.Dir(),
				work: t.TempDir(), ctx: context.Background()}
			in.opts = Options{Package: pkg, GOOS: runtime.GOOS, GOARCH: runtime.GOARCH,
				Registry: in.reg.URL + "/npm", Client: in.reg.Client()}
			var toldURL string
			in.opts.Downloading = func(url string) { toldURL = url }
			var before os.FileInfo
			if tc.prepare != nil {
				tc.prepare(t, in)
				before, _ = os.Stat(in.libraryPath())
			}

			res, err := Install(in.ctx, in.opts)

			if got := in.reg.requestCount(); got != tc.wantRequests {
				t.Errorf("the registry got %d requests, want %d", got, tc.wantRequests)
			}
			if len(tc.wantErr) > 0 {
				checkFailed(t, in, err, tc.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("Install: %v", err)
			}
			checkInstalled(t, in, res)
			if res.Kept != tc.wantKept || res.Replaced != tc.wantReplaced {
				t.Errorf("Kept %v, Replaced %v; want %v, %v", res.Kept, res.Replaced, tc.wantKept, tc.wantReplaced)
			}
			if after, _ := os.Stat(res.Path); tc.wantKept && !after.ModTime().Equal(before.ModTime()) {
				t.Errorf("the installed library was rewritten")
			}
			if tc.name == "interrupted download resumes" && in.reg.requests[0].Header.Get("Range") == "" {
				t.Error("the partial download was not resumed with a Range request")
			}
			if wantURL := in.reg.URL + "/npm/onnxruntime-node/-/onnxruntime-node-1.30.0.tgz"; tc.wantRequests > 0 && toldURL != wantURL {
				t.Errorf("Downloading was told %q, want %q", toldURL, wantURL)
			}
			if in.opts.From != "" {
				if _, err := os.Stat(in.opts.From); err != nil {
					t.Errorf("the tarball given with From is gone: %v", err)
				}
			}
		})
	}
}

// checkInstalled asserts that the library is where ort.FindLibrary looks, holds the host's
// library, and is the only file in its folder: the download and temporary files are gone.
func checkInstalled(t *testing.T, in *install, res Result) {
	t.Helper()
	found, err := ort.FindLibrary("")
	if err != nil {
		t.Fatalf("ort.FindLibrary after the install: %v", err)
	}
	if res.Path != found {
		t.Errorf("installed %s, but ort.FindLibrary finds %s", res.Path, found)
	}
	data, err := os.ReadFile(res.Path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, fakeLibrary(host)) {
		t.Errorf("%s holds %d bytes that are not %s's library", res.Path, len(data), host)
	}
	if got := names(t, in.dir); got != filepath.Base(res.Path) {
		t.Errorf("the install folder holds [%s], want the library alone", got)
	}
}

// checkFailed asserts a one-line error with every part of want, and that nothing was
// installed or left behind but a partial download.
func checkFailed(t *testing.T, in *install, err error, want []string) {
	t.Helper()
	if err == nil {
		t.Fatal("Install succeeded, want an error")
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("the error has several lines:\n%s", msg)
	}
	for _, part := range want {
		if !strings.Contains(msg, part) {
			t.Errorf("the error does not say %q:\n%s", part, msg)
		}
	}
	if data, err := os.ReadFile(in.libraryPath()); err == nil && bytes.Equal(data, fakeLibrary(host)) {
		t.Errorf("%s was installed", in.libraryPath())
	}
	for _, name := range strings.Fields(names(t, in.dir)) {
		if strings.Contains(name, ".tmp-") || strings.HasSuffix(name, ".tgz") {
			t.Errorf("the failed install left %s in %s", name, in.dir)
		}
	}
}

// names lists a folder's entries, "" when it does not exist.
func names(t *testing.T, dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return strings.Join(out, " ")
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// The real package needs no network to refuse an Intel Mac, and its message says what to do
// instead.
func TestIntelMacIsRefused(t *testing.T) {
	t.Setenv("DREAM_CACHE", t.TempDir())
	_, err := Install(context.Background(), Options{Package: ONNXRuntimeNode, GOOS: "darwin", GOARCH: "amd64",
		Registry: "https://registry.invalid", From: ""})
	if err == nil {
		t.Fatal("Install for darwin/amd64 succeeded")
	}
	for _, part := range []string{"no ONNX Runtime library for Intel Macs (darwin/amd64)", "from source", "osx-x86_64",
		"--ort-lib PATH"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("the refusal does not say %q: %s", part, err)
		}
	}
	if ONNXRuntimeNode.HasLibrary("darwin", "amd64") || !ONNXRuntimeNode.HasLibrary("windows", "amd64") {
		t.Error("HasLibrary disagrees with the table")
	}
}

// The registry's address, from the variables npm reads, and the tarball's URL on it.
func TestRegistryURL(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{nil, "https://registry.npmjs.org/onnxruntime-node/-/onnxruntime-node-1.30.0.tgz"},
		{map[string]string{"npm_config_registry": "https://mirror.example/npm/"},
			"https://mirror.example/npm/onnxruntime-node/-/onnxruntime-node-1.30.0.tgz"},
		{map[string]string{"NPM_CONFIG_REGISTRY": "https://mirror.example"},
			"https://mirror.example/onnxruntime-node/-/onnxruntime-node-1.30.0.tgz"},
		{map[string]string{"npm_config_registry": "https://a.example", "NPM_CONFIG_REGISTRY": "https://b.example"},
			"https://a.example/onnxruntime-node/-/onnxruntime-node-1.30.0.tgz"},
	} {
		if got := ONNXRuntimeNode.URL(Registry(func(k string) string { return tc.env[k] })); got != tc.want {
			t.Errorf("with %v: %s, want %s", tc.env, got, tc.want)
		}
	}
}
