package ort

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sessionEnv names the model that TestHelperFirstSession opens.
const sessionEnv = "DREAM_ORT_TEST_SESSION"

// sessionPrefix marks the subprocess's timing line among whatever else the test binary prints.
const sessionPrefix = "first-session-us: "

// TestHelperFirstSession is not a test by itself: BenchmarkFirstSession runs it in a fresh
// process, where nothing is loaded yet, as for the first job that uses a model. It prints how
// long opening ONNX Runtime and then the model's session took, in microseconds.
func TestHelperFirstSession(t *testing.T) {
	path := os.Getenv(sessionEnv)
	if path == "" {
		t.Skip("runs only as a subprocess of BenchmarkFirstSession")
	}
	start := time.Now()
	rt, err := Open(Options{Library: goodLibrary(t), Device: "cpu"})
	if err != nil {
		t.Fatal(err)
	}
	opened := time.Now()
	if _, err := rt.Session(path, imageContract); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("%s%d %d\n", sessionPrefix, opened.Sub(start).Microseconds(), time.Since(opened).Microseconds())
}

// BenchmarkFirstSession times what the first upscale job waits for before its first tile:
// opening ONNX Runtime and a session for x4plus, in a new process each time, since ONNX
// Runtime's environment is one per process and Open caches it. It reports both parts.
func BenchmarkFirstSession(b *testing.B) {
	path := filepath.Join("..", "..", "..", "shared", "models", "realesrgan-x4plus.onnx")
	var open, session time.Duration
	for b.Loop() {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperFirstSession$", "-test.count=1")
		cmd.Env = append(os.Environ(), sessionEnv+"="+path)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("subprocess failed: %v\n%s%s", err, out, stderr.Bytes())
		}
		o, s, ok := parseFirstSession(out)
		if !ok {
			b.Fatalf("subprocess printed no timing line:\n%s", out)
		}
		open, session = open+o, session+s
	}
	b.ReportMetric(float64(open.Milliseconds())/float64(b.N), "open-ms/op")
	b.ReportMetric(float64(session.Milliseconds())/float64(b.N), "session-ms/op")
}

func parseFirstSession(out []byte) (open, session time.Duration, ok bool) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if rest, found := strings.CutPrefix(sc.Text(), sessionPrefix); found {
			var o, s int64
			if _, err := fmt.Sscan(rest, &o, &s); err != nil {
				return 0, 0, false
			}
			return time.Duration(o) * time.Microsecond, time.Duration(s) * time.Microsecond, true
		}
	}
	return 0, 0, false
}
