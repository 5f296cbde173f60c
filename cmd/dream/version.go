package main

import (
	"fmt"
	"runtime"
	"strings"

	"dream/internal/ort"
	"dream/internal/version"
)

// versionLine is what dream --version prints: dream's version, the platform it was built for,
// the Go release that built it, and the ONNX Runtime release it looks for. It loads nothing,
// so it works where ONNX Runtime is missing or broken.
func versionLine() string {
	return fmt.Sprintf("dream %s (%s/%s, Go %s, ONNX Runtime %s wanted)", version.Version, runtime.GOOS, runtime.GOARCH,
		strings.TrimPrefix(runtime.Version(), "go"), ort.WantedVersion)
}
