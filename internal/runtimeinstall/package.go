// Package runtimeinstall installs the ONNX Runtime shared library dream loads, the way
// scripts/install_onnxruntime does but without bash or npm: it fetches the npm package
// onnxruntime-node (the CPU build ships inside it) from the npm registry or takes a local
// copy, checks the tarball against npm's integrity and the one library it needs against a
// pinned sha256, and puts that library where ort.FindLibrary looks.
package runtimeinstall

import (
	"fmt"
	"path"
	"strings"
)

// Package is one release of an npm package that carries ONNX Runtime libraries, with the
// checks for what dream takes from it.
type Package struct {
	Name    string // "onnxruntime-node"
	Version string // the package's version, also the ONNX Runtime version it carries
	// Integrity is npm's dist.integrity for the tarball ("sha512-" and the base64 digest).
	Integrity string
	// SHA256 and Size describe the tarball too: the download is checked (and a partial one
	// resumed) with them before the integrity is.
	SHA256 string
	Size   int64
	// Libraries are the library for each platform, by "GOOS/GOARCH".
	Libraries map[string]Library
	// Missing says, for a platform the package has no library for, what to do instead.
	Missing map[string]string
}

// Library is the member of the tarball that holds one platform's library.
type Library struct {
	Member string // its path in the tarball
	SHA256 string // pinned when the package was checked
}

// FileName is the name the library is installed under: its name in the package.
func (l Library) FileName() string { return path.Base(l.Member) }

// ONNXRuntimeNode is onnxruntime-node 1.30.0, the package scripts/install_onnxruntime
// installs from; the member sums are the script's (TestPinsMatchTheScript keeps them equal).
var ONNXRuntimeNode = Package{
	Name:      "onnxruntime-node",
	Version:   "1.30.0",
	Integrity: "sha512-twhs1C2C/BFkz1yc5OY0KIU2GUq6DURO7hD4bx5Q2Qy3nAMJwRXW8xU3NVczE29VA9lolLOYepoD8fjTGOfIqw==",
	SHA256:    "6e3390d6b783e7be946fad629292799da28d0b42f84856e50d2c1b0383291e75",
	Size:      113507888,
	Libraries: map[string]Library{
		"linux/amd64": {"package/bin/napi-v6/linux/x64/libonnxruntime.so.1",
			"ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23"},
		"linux/arm64": {"package/bin/napi-v6/linux/arm64/libonnxruntime.so.1",
			"1f549d46250b005580b597f4164984aaf75b3bcb9f3aeb07c7f8a8fe60b23c76"},
		"darwin/arm64": {"package/bin/napi-v6/darwin/arm64/libonnxruntime.1.30.0.dylib",
			"685d2be5dba1309c89d3a5324b7fd06a5c42f1a61bfea32d14c4cc28d072121d"},
		"windows/amd64": {"package/bin/napi-v6/win32/x64/onnxruntime.dll",
			"508c362f5673483dd3a086379c392795b2e42d10d5e6f3f90ebd7ac21c97af67"},
		"windows/arm64": {"package/bin/napi-v6/win32/arm64/onnxruntime.dll",
			"6c3a2abf5c6aca11c48a0d338a91af309f2266f25ce2e4084e6a87bbcb0fbfd0"},
	},
	Missing: map[string]string{
		// onnxruntime-node dropped Intel Macs before 1.30.0.
		"darwin/amd64": "onnxruntime-node 1.30.0 has no ONNX Runtime library for Intel Macs (darwin/amd64): " +
			"build ONNX Runtime 1.30.0 from source, or take libonnxruntime.1.30.0.dylib from the osx-x86_64 archive " +
			"of Microsoft's ONNX Runtime 1.30.0 release, and pass --ort-lib PATH",
	},
}

// Tarball is the file name npm gives the package: "onnxruntime-node-1.30.0.tgz".
func (p Package) Tarball() string { return p.Name + "-" + p.Version + ".tgz" }

// URL is where registry serves the tarball, in the npm registry's layout.
func (p Package) URL(registry string) string {
	return strings.TrimRight(registry, "/") + "/" + p.Name + "/-/" + p.Tarball()
}

// library is the package's library for goos/goarch, or why there is none.
func (p Package) library(goos, goarch string) (Library, error) {
	platform := goos + "/" + goarch
	if lib, ok := p.Libraries[platform]; ok {
		return lib, nil
	}
	if why, ok := p.Missing[platform]; ok {
		return Library{}, fmt.Errorf("%s", why)
	}
	return Library{}, fmt.Errorf("%s %s has no ONNX Runtime library for %s: build ONNX Runtime %s from source and pass --ort-lib PATH",
		p.Name, p.Version, platform, p.Version)
}

// HasLibrary tells whether the package carries a library for goos/goarch.
func (p Package) HasLibrary(goos, goarch string) bool {
	_, err := p.library(goos, goarch)
	return err == nil
}

// DefaultRegistry is the public npm registry.
const DefaultRegistry = "https://registry.npmjs.org"

// Registry is the npm registry to fetch from: $npm_config_registry, the variable npm itself
// reads for a mirror (npm accepts it in capitals too), else DefaultRegistry.
func Registry(getenv func(string) string) string {
	for _, name := range []string{"npm_config_registry", "NPM_CONFIG_REGISTRY"} {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
	}
	return DefaultRegistry
}
