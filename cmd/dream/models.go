package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"time"

	"dream/internal/models"
	"dream/internal/progress"
	"dream/internal/shell"
)

// preload installs the missing models (all of them, or those named) into dir: the ones built
// into dream (the face detector) from that copy, the others from the folder from when it has
// them (--from, for machines without network), else by download, one progress line per file
// on a terminal. It lists what could not be fetched with the path to place it at by
// hand, and returns the exit code.
func preload(dir, from string, names []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "dream:", err)
		return 1
	}
	failed := 0
	for _, e := range models.Missing(dir) {
		if len(names) > 0 && !slices.Contains(names, e.Name) {
			continue
		}
		if len(names) == 0 && e.Optional {
			continue // optional models are fetched only when named
		}
		if models.IsBundled(e) {
			if err := models.InstallBundled(e, dir); err != nil {
				fmt.Fprintln(os.Stderr, "dream:", err)
				failed++
				continue
			}
			fmt.Printf("installed %s (built into dream)\n", e.Name)
			continue
		}
		if from != "" {
			copied, err := models.InstallLocal(e, from, dir)
			if err != nil {
				fmt.Fprintln(os.Stderr, "dream:", err)
				failed++
				continue
			}
			if copied {
				fmt.Printf("installed %s from %s\n", e.Name, from)
				continue
			}
		}
		if err := models.Download(ctx, downloadClient, e, dir, progressLine(e.Name)); err != nil {
			endProgressLine()
			fmt.Fprintln(os.Stderr, "dream:", err)
			failed++
			continue
		}
		endProgressLine()
		fmt.Printf("installed %s\n", e.Name)
	}
	if failed > 0 {
		return 1
	}
	return 0
}

var showProgress = shell.IsTerminal(os.Stderr)

// downloadClient gives up on a source that does not answer, instead of hanging on a network
// that drops packets; a slow but moving download is never cut off.
var downloadClient = &http.Client{Transport: &http.Transport{
	Proxy:                 http.ProxyFromEnvironment,
	DialContext:           (&net.Dialer{Timeout: 20 * time.Second}).DialContext,
	TLSHandshakeTimeout:   20 * time.Second,
	ResponseHeaderTimeout: 60 * time.Second,
}}

// progressLine draws "name [####    ] 12.5/64.0 MiB, 8.1 MiB/s, ETA 6s" on a terminal, at
// most ten times a second (a report comes with every read), and nothing otherwise.
func progressLine(name string) func(done, total int64) {
	bar := progress.Transfer{Name: name}
	var drawn time.Time
	return func(done, total int64) {
		if !showProgress {
			return
		}
		now := time.Now()
		line := bar.Line(done, total, now)
		if now.Sub(drawn) < 100*time.Millisecond && done != total {
			return
		}
		drawn = now
		fmt.Fprint(os.Stderr, "\r\033[K"+line)
	}
}

func endProgressLine() {
	if showProgress {
		fmt.Fprint(os.Stderr, "\r\033[K")
	}
}
