// Package version says which dream this is: the number a release build stamps in, else what
// the Go toolchain recorded about the build. It is written into every image's metadata and
// shown by dream --version.
package version

import (
	"regexp"
	"runtime/debug"
	"strings"
)

// Version is dream's version. A release build sets it:
//
//	go build -ldflags "-X dream/internal/version.Version=1.2.0" ./cmd/dream
//
// Left empty, it is filled in at start from the build information (see fromBuild). It must
// stay a plain string variable without an initialiser: -X cannot set anything else.
var Version string

// Base is the version of a build that carries no other: go test, or a build outside a
// repository.
const Base = "0.1.0"

func init() {
	if Version == "" {
		info, ok := debug.ReadBuildInfo()
		Version = fromBuild(info, ok)
	}
}

// pseudoVersion matches the date and commit of a Go pseudo-version
// (v0.0.0-20260301120000-abcdef123456), which the go command stamps into a build from an
// untagged commit; the commit alone says the same in fewer characters.
var pseudoVersion = regexp.MustCompile(`\d{14}-[0-9a-f]{12}`)

// fromBuild picks the version a build records: the main module's tagged version (without its
// "v"), else Base with the commit it was built from ("0.1.0-1a2b3c4d5e6f", and "-dirty" when the
// working tree had changes), else Base.
func fromBuild(info *debug.BuildInfo, ok bool) string {
	if !ok || info == nil {
		return Base
	}
	module := info.Main.Version
	tagged := module != "" && module != "(devel)" && !pseudoVersion.MatchString(module)
	if tagged {
		return strings.TrimPrefix(module, "v")
	}
	revision, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if revision == "" {
		if module != "" && module != "(devel)" {
			return strings.TrimPrefix(module, "v") // a pseudo-version without the commit recorded apart
		}
		return Base
	}
	v := Base + "-" + revision[:min(12, len(revision))]
	if dirty {
		v += "-dirty"
	}
	return v
}
