package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"

	"dream/internal/ort"
	"dream/internal/progress"
	"dream/internal/runtimeinstall"
	"dream/internal/shell"
)

// installRuntime is dream --install-runtime: it installs the ONNX Runtime library for this
// platform from the npm registry, or from the tarball at from, where dream finds it at start,
// and prints its path on the last line. It returns the exit code.
func installRuntime(from string) int {
	path, err := fetchRuntime(from)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dream:", err)
		return 1
	}
	fmt.Println(path)
	return 0
}

// fetchRuntime installs the library, says what it did in one line and returns its path. On a
// terminal the download shows a progress line; Ctrl-C stops it, and the next install resumes
// it.
func fetchRuntime(from string) (string, error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	pkg := runtimeinstall.ONNXRuntimeNode
	opts := runtimeinstall.Options{Package: pkg, GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, From: from,
		Client: downloadClient}
	if showProgress {
		opts.Downloading = func(url string) {
			fmt.Fprintf(os.Stderr, "downloading %s (%s) from %s\n", pkg.Tarball(), progress.Size(pkg.Size), url)
		}
		opts.Progress = progressLine(pkg.Tarball())
	}
	res, err := runtimeinstall.Install(ctx, opts)
	endProgressLine()
	switch {
	case ctx.Err() != nil && from == "":
		return "", errors.New("download stopped: run dream --install-runtime again to resume it")
	case ctx.Err() != nil:
		return "", errors.New("install stopped: nothing installed")
	case err != nil:
		return "", err
	case res.Kept:
		fmt.Printf("ONNX Runtime %s is already installed, with the sha256 dream expects\n", pkg.Version)
	case res.Replaced:
		fmt.Printf("installed ONNX Runtime %s in place of a file with another sha256\n", pkg.Version)
	default:
		fmt.Printf("installed ONNX Runtime %s\n", pkg.Version)
	}
	return res.Path, nil
}

// offerRuntime asks, when a person starts dream on a terminal and dream cannot find ONNX
// Runtime, whether to install it now, and does so on yes. Elsewhere (a script, a pipe) it asks
// nothing: the first job that needs a model says the library is missing and how to get it. It
// returns false with an exit code when the install failed and dream should stop.
func offerRuntime(f *flags) (code int, ok bool) {
	if !shell.IsTerminal(os.Stdin) || !shell.IsTerminal(os.Stdout) || !runtimeMissing(f) {
		return 0, true
	}
	pkg := runtimeinstall.ONNXRuntimeNode
	from := "the npm registry"
	if registry := runtimeinstall.Registry(os.Getenv); registry != runtimeinstall.DefaultRegistry {
		from = registry
	}
	fmt.Printf("ONNX Runtime %s is not installed. Download it from %s (%d MiB) into %s? [Y/n] ",
		pkg.Version, from, pkg.Size>>20, pkg.Dir())
	if answer, ok := readAnswer(os.Stdin); !ok || !yes(answer) {
		fmt.Println("not installed: dream --install-runtime installs it later")
		return 0, true
	}
	path, err := fetchRuntime("")
	if err != nil {
		fmt.Fprintln(os.Stderr, "dream:", err)
		return 1, false
	}
	fmt.Println(path)
	return 0, true
}

// runtimeMissing tells whether dream would find no ONNX Runtime library to load and could
// install one: --ort-lib and $ONNXRUNTIME_LIB name none (a missing file they name is a typo
// to fix, not an install to make), the search finds none, the CUDA build is not installed
// either (a device that may use CUDA loads it), and onnxruntime-node has a library for this
// platform.
func runtimeMissing(f *flags) bool {
	if f.ortLib != "" || os.Getenv(ort.EnvLibrary) != "" {
		return false
	}
	if _, err := ort.FindLibrary(""); err == nil {
		return false
	}
	if _, err := os.Stat(ort.GPULibrary()); err == nil {
		return false
	}
	return runtimeinstall.ONNXRuntimeNode.HasLibrary(runtime.GOOS, runtime.GOARCH)
}

// readAnswer reads one line, a byte at a time so that nothing after it is taken from the
// prompt that reads stdin next. It is false when stdin ends (Ctrl-D) before a newline: no
// answer, which must not count as Enter's yes.
func readAnswer(r io.Reader) (string, bool) {
	var line []byte
	b := make([]byte, 1)
	for {
		n, err := r.Read(b)
		if n == 1 && b[0] == '\n' {
			return strings.TrimSpace(string(line)), true
		}
		if n == 1 {
			line = append(line, b[0])
		}
		if err != nil {
			return "", false
		}
	}
}

// yes reads an answer to a [Y/n] question: empty (Enter) or y/yes in any case is yes.
func yes(answer string) bool {
	switch strings.ToLower(answer) {
	case "", "y", "yes":
		return true
	}
	return false
}
