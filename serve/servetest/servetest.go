// Package servetest holds what the tests of serve and of its packages
// (serve/metrics, serve/dashboard) share to run a real service: the
// settings of a test service, its log lines in the test's log, running it
// until the test ends, HTTP requests to it, a Code Red web server's log to
// follow and an ordinary web server's (WebLog, for benchmarks), waiting for
// a condition. It does not import serve, so that
// serve's own (internal) tests can import it too; each test package
// builds and starts the service itself (serve.Load and serve.New, then
// Run here). Only tests import it.
package servetest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// Sets are the assignments of a test service: the data folder data, any
// free port on loopback, no wall clock, short commit and poll intervals,
// 20 s to shut down; then more, which may override them.
func Sets(data string, more ...string) []string {
	return append([]string{"service.data=" + data, "service.listen=127.0.0.1:0", "service.clock=false",
		"service.commit_interval=20ms", "service.poll=10ms", "service.shutdown_grace=20s"}, more...)
}

// Logger returns a logger that writes the service's log lines of level
// and above to the test's log.
func Logger(t testing.TB, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(&testWriter{t: t}, &slog.HandlerOptions{Level: level}))
}

// testWriter sends log lines to the test's log.
type testWriter struct {
	mu sync.Mutex
	t  testing.TB
}

// Write logs one line.
func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Run runs run (a service's Run) in a goroutine until stop is called or
// the test ends; stop cancels its context and returns its error (at once
// after the first call). An error of Run fails the test when it ends.
func Run(t testing.TB, run func(context.Context) error) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			runErr = <-done
		})
		return runErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return stop
}

// Get requests url and returns the status and the body; header holds
// name, value pairs.
func Get(t testing.TB, url string, header ...string) (int, []byte) {
	t.Helper()
	return Request(t, http.DefaultClient, "GET", url, nil, header...)
}

// Request makes a request with headers given as name, value pairs and
// returns the status and the body.
func Request(t testing.TB, c *http.Client, method, url string, body io.Reader, header ...string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

// WaitFor polls cond every 5 ms until it holds, failing after 30 s.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// AppendFile appends data to the file at path (made when missing).
func AppendFile(t testing.TB, path string, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// LockedBuffer is a buffer written from several goroutines (log lines, a
// process's output) and read by the test.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns what was written.
func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
