package web

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
)

// countingListener counts the connections it accepts.
type countingListener struct {
	net.Listener
	accepted atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
	}
	return c, err
}

// The server speaks unencrypted HTTP/2 besides HTTP/1.1 (issue 25): a client that knows it
// opens eight event streams and still gets an answer to a ninth request, all over one
// connection, where HTTP/1.1 needs a connection for each stream.
func TestServerSpeaksH2C(t *testing.T) {
	ts := startServer(t, serverOptions{})
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	counted := &countingListener{Listener: listener}
	server := NewHTTPServer(ts.web)
	go server.Serve(counted)
	t.Cleanup(func() { server.Close() })

	transport := &http.Transport{Protocols: new(http.Protocols)}
	transport.Protocols.SetUnencryptedHTTP2(true)
	client := &http.Client{Transport: transport}
	defer transport.CloseIdleConnections()
	base := "http://" + listener.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := range 8 {
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/events", nil)
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("event stream %d: %v", i+1, err)
		}
		defer res.Body.Close()
		if res.ProtoMajor != 2 || res.StatusCode != 200 {
			t.Fatalf("event stream %d: %s %d, want HTTP/2 200", i+1, res.Proto, res.StatusCode)
		}
		// The stream is open once its first event ("ready": the queue is empty) arrives.
		if line, err := bufio.NewReader(res.Body).ReadString('\n'); err != nil || line != "event: ready\n" {
			t.Fatalf("event stream %d began with %q, %v", i+1, line, err)
		}
	}
	res, err := client.Get(base + "/api/jobs")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("GET /api/jobs beside 8 streams: %d", res.StatusCode)
	}
	if n := counted.accepted.Load(); n != 1 {
		t.Errorf("the client opened %d connections, want 1", n)
	}
}
