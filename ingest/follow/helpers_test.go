package follow

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// patience bounds every wait of the tests for a condition: a test that
// reaches it has failed (nothing comes), it is no timing expectation.
const patience = 30 * time.Second

// reader drives a Follower and keeps what it delivered.
type reader struct {
	t      *testing.T
	f      *Follower
	got    bytes.Buffer
	chunks int
	lines  int
	long   int
	gaps   []*Gap
	last   Position
}

// open starts a reader of path from pos.
func open(t *testing.T, path string, pos Position, opt Options) *reader {
	t.Helper()
	f, err := New(context.Background(), path, pos, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return &reader{t: t, f: f, last: pos}
}

// next takes one chunk, checking what every chunk must be.
func (r *reader) next(ctx context.Context) error {
	r.t.Helper()
	c, err := r.f.Next(ctx)
	if err != nil {
		return err
	}
	r.check(c)
	r.got.Write(c.Lines)
	return nil
}

// check checks the shape of a chunk and counts it.
func (r *reader) check(c Chunk) {
	r.t.Helper()
	if len(c.Lines) > r.f.opt.ChunkSize {
		r.t.Fatalf("chunk of %d bytes, above the ChunkSize %d", len(c.Lines), r.f.opt.ChunkSize)
	}
	if n := bytes.Count(c.Lines, []byte{'\n'}); n != c.N || (n > 0 && c.Lines[len(c.Lines)-1] != '\n') {
		r.t.Fatalf("chunk says %d lines, holds %d newlines: %q", c.N, n, c.Lines)
	}
	if c.N == 0 && c.Long == 0 {
		r.t.Fatalf("chunk consumed no line: %+v", c)
	}
	if c.Pos.Offset <= 0 || c.Pos == r.last {
		r.t.Fatalf("chunk position %v does not move on from %v", c.Pos, r.last)
	}
	if err := c.Pos.check(); err != nil {
		r.t.Fatalf("chunk position %v: %v", c.Pos, err)
	}
	r.chunks++
	r.lines += c.N
	r.long += c.Long
	r.last = c.Pos
	if c.Gap != nil {
		r.gaps = append(r.gaps, c.Gap)
	}
}

// until reads until it has len(want) bytes, then checks they are want.
func (r *reader) until(want string) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	for r.got.Len() < len(want) {
		if err := r.next(ctx); err != nil {
			r.t.Fatalf("after %d of %d bytes: %v\ngot  %q\nwant %q", r.got.Len(), len(want), err, tail(r.got.String()), tail(want))
		}
	}
	if r.got.String() != want {
		r.t.Fatalf("delivered\n%q\nwant\n%q", tail(r.got.String()), tail(want))
	}
}

// idle checks that Next returns nothing for a moment: it returns the
// context's error (the Follower has read what there is and waits).
func (r *reader) idle() {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := r.next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		r.t.Fatalf("Next: %v, want it to wait (delivered so far %q)", err, tail(r.got.String()))
	}
}

// tail shortens long strings in messages.
func tail(s string) string {
	if len(s) > 600 {
		return "..." + s[len(s)-600:]
	}
	return s
}

// appender writes to a file opened for appending, as a logging server does.
type appender struct {
	t *testing.T
	f *os.File
}

// create opens path for appending, creating it.
func create(t *testing.T, path string) *appender {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return &appender{t: t, f: f}
}

// write appends s.
func (a *appender) write(s string) {
	a.t.Helper()
	if _, err := io.WriteString(a.f, s); err != nil {
		a.t.Fatal(err)
	}
}

// close closes the file.
func (a *appender) close() {
	a.t.Helper()
	if err := a.f.Close(); err != nil {
		a.t.Fatal(err)
	}
}

// lines makes n numbered log lines with a tag, all different.
func lines(tag string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%s line %d: GET /default.ida?NNNNNNNN%s HTTP/1.0\n", tag, i, strings.Repeat("x", i%23))
	}
	return b.String()
}

// gzipTo compresses src into dst and removes src, as logrotate's compress.
func gzipTo(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(src); err != nil {
		t.Fatal(err)
	}
}

// copyTruncate copies path to dst, then truncates path, as logrotate's
// copytruncate.
func copyTruncate(t *testing.T, path, dst string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
}

// rename renames, failing the test on error.
func rename(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

// logPath returns a path for a log in a new folder.
func logPath(t *testing.T) string {
	return filepath.Join(t.TempDir(), "access.log")
}

// modes are the two ways of noticing changes: fsnotify and polling only.
var modes = []struct {
	name string
	opt  Options
}{
	{"notify", Options{}},
	{"poll", Options{NoNotify: true, Poll: 5 * time.Millisecond}},
}
