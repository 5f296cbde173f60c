package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"dream/internal/models"
	"dream/internal/shell"
	"dream/internal/web"
)

// serveWithShell runs dream --web: the page's server and the dream> shell in one process,
// on one job queue. On a terminal, q at the prompt ends both; without one, the lines of
// standard input run as they come, and the server goes on after them until it is
// interrupted.
func serveWithShell(f *flags, sh *shell.Shell, input shell.LineReader) int {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	token := f.webToken
	if token == "" && !web.IsLoopback(f.host) {
		token = web.NewToken() // the page is reachable from other machines: never without one
	}
	listener, err := net.Listen("tcp", net.JoinHostPort(f.host, strconv.Itoa(f.port)))
	if err != nil {
		fmt.Fprintf(os.Stderr, "dream: --web: %v; choose another --port\n", err)
		return 1
	}
	server := web.NewHTTPServer(web.New(ctx, web.Config{
		Pipeline: sh.Pipeline, Queue: sh.Queue, Outdir: f.outdir, ModelDir: models.Dir(f.models),
		Token: token, Host: f.host, MaxUpload: f.webMaxUploadBytes, ThumbDir: thumbDir(), Upscaler: f.upscaler,
	}))
	go server.Serve(listener)
	fmt.Printf("the page is at %s\n", pageURL(listener.Addr().(*net.TCPAddr), f.host, token))

	if err := sh.Run(ctx, input); err != nil {
		fmt.Fprintln(os.Stderr, "dream:", err)
	}
	if !sh.Interactive {
		waitForInterrupt() // the input ended; the page goes on
	}
	fmt.Fprint(os.Stderr, shell.CancelledPageJobs(sh.PageJobs()))
	stop() // cancels the page's jobs
	shutdown, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	server.Shutdown(shutdown)
	return 0
}

// pageURL is the address to open: the listening address, with the token when there is one.
func pageURL(addr *net.TCPAddr, host, token string) string {
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1" // listening everywhere: this machine's own address works
	}
	u := "http://" + net.JoinHostPort(host, strconv.Itoa(addr.Port)) + "/"
	if token != "" {
		u += "?token=" + token
	}
	return u
}

// thumbDir is where the page's thumbnails are cached: the user's cache folder.
func thumbDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "dream", "thumbs")
}

func waitForInterrupt() {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	<-signals
	signal.Stop(signals)
}
