package follow

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSiblings lists the rotated files of a path by the documented
// patterns, oldest first, and nothing else.
func TestSiblings(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	for _, name := range []string{
		"access.log", "access.log.1", "access.log.2.gz", "access.log.10", "access.log.4", "access.log.4.gz",
		"access.log-20240101.gz", "access.log-20240102", "access.log-20240102-1704153600",
		"access.log.tmp", "access.log.1.bz2", "access.log1", "access.logs", "access.log.12345",
		"access.log-1", "access.log.gz", "access.log-2024x0101", "error.log.1", "access.log.",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "access.log.3"), 0o755); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range siblings(path) {
		got = append(got, filepath.Base(s.name))
	}
	want := []string{
		"access.log-20240101.gz", "access.log-20240102", "access.log-20240102-1704153600",
		"access.log.10", "access.log.4", "access.log.2.gz", "access.log.1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("siblings\n%q\nwant\n%q", got, want)
	}
}

// TestPositionText writes a Position as text and reads it back, and
// refuses malformed ones.
func TestPositionText(t *testing.T) {
	path := logPath(t)
	create(t, path).write(lines("a", 50))
	r := open(t, path, Position{}, Options{})
	r.until(lines("a", 50))
	p := r.last
	text, err := p.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	var q Position
	if err := q.UnmarshalText(text); err != nil || q != p {
		t.Fatalf("read back %v (%v), want %v", q, err, p)
	}
	if q, err := ParsePosition(Position{}.String()); err != nil || !q.IsZero() {
		t.Fatalf("zero position read back as %v, %v", q, err)
	}
	good := p.String()
	for _, bad := range []string{
		"", "v2" + good[2:], strings.Replace(good, ":", ";", 1), good + ":1", good[:len(good)-2],
		"v1:1:2:-3:0:" + strings.Repeat("0", 64), "v1:1:2:3:1025:" + strings.Repeat("0", 64),
		"v1:1:2:3000:10:" + strings.Repeat("0", 64), "v1:1:2:0:0:" + strings.Repeat("1", 64),
		"v1:x:2:3:3:" + strings.Repeat("0", 64), "v1:1:2:3:3:" + strings.Repeat("g", 64),
	} {
		if _, err := ParsePosition(bad); err == nil {
			t.Errorf("ParsePosition(%q) accepted it", bad)
		}
	}
}

// TestFollowAll follows three paths (one appearing later) on one channel,
// each in order; an input that cannot be set up is reported and dropped;
// cancelling closes the channel.
func TestFollowAll(t *testing.T) {
	dir := t.TempDir()
	paths := []string{filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log"), filepath.Join(dir, "c.log")}
	ws := []*appender{create(t, paths[0]), create(t, paths[1]), nil}
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	inputs := []Input{{Path: paths[0]}, {Path: paths[1]}, {Path: paths[2]}, {Path: paths[0], From: Position{Offset: 9}}}
	out := FollowAll(ctx, inputs, Options{})
	want := make([]string, 3)
	got := make([]strings.Builder, 3)
	for round := range 5 {
		for i := range 3 {
			if ws[i] == nil && round == 2 {
				ws[i] = create(t, paths[i])
			}
			if ws[i] != nil {
				s := lines(filepath.Base(paths[i]), 5+round)
				ws[i].write(s)
				want[i] += s
			}
		}
	}
	bad := 0
	for got[0].Len() < len(want[0]) || got[1].Len() < len(want[1]) || got[2].Len() < len(want[2]) || bad == 0 {
		select {
		case d := <-out:
			if d.Err != nil {
				if d.Input != 3 {
					t.Fatalf("input %d: %v", d.Input, d.Err)
				}
				bad++
				continue
			}
			if d.Path != paths[d.Input] {
				t.Fatalf("delivery of input %d says path %s", d.Input, d.Path)
			}
			got[d.Input].Write(d.Chunk.Lines)
		case <-ctx.Done():
			t.Fatalf("waiting for deliveries: %v", ctx.Err())
		}
	}
	for i := range 3 {
		if got[i].String() != want[i] {
			t.Errorf("input %d: delivered %q, want %q", i, tail(got[i].String()), tail(want[i]))
		}
	}
	cancel()
	for d := range out {
		if d.Err == nil && len(d.Chunk.Lines) > 0 {
			t.Errorf("delivery after all was read: %+v", d)
		}
	}
}

// TestRunSetUp: when New fails, Run passes each failure to fn and, with
// retry, tries again every Poll until fn says stop; without retry, or with
// options New refuses, it stops after the first.
func TestRunSetUp(t *testing.T) {
	bad := Input{Path: filepath.Join(t.TempDir(), "a.log"), From: Position{Offset: 9}} // a head shorter than its offset
	for _, tc := range []struct {
		name  string
		opt   Options
		retry bool
		want  int
	}{
		{"retry", Options{Poll: time.Millisecond}, true, 3},
		{"no retry", Options{Poll: time.Millisecond}, false, 1},
		{"bad options", Options{Poll: time.Microsecond}, true, 1},
	} {
		var errs []error
		Run(context.Background(), bad, tc.opt, tc.retry, func(c Chunk, err error) bool {
			if err == nil || c.Lines != nil {
				t.Errorf("%s: a chunk of %d bytes and error %v, want an error only", tc.name, len(c.Lines), err)
			}
			errs = append(errs, err)
			return len(errs) < 3
		})
		if len(errs) != tc.want {
			t.Errorf("%s: fn called %d times (%v), want %d", tc.name, len(errs), errs, tc.want)
		}
	}
}

// fds counts this process's open descriptors.
func fds(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd:", err)
	}
	return len(ents)
}

// TestNoLeak: after Close (and after FollowAll's channel is closed) no
// descriptor and no goroutine of the Followers is left, whatever they were
// holding: the path's file, a deleted old file, rotated files queued at a
// restart, a gzip'ed one, the fsnotify watch.
func TestNoLeak(t *testing.T) {
	// The runtime opens its poller's descriptors once, at the first file
	// that uses it: let that happen before counting.
	warm := open(t, logPath(t), Position{}, Options{})
	warm.f.Close()
	fd0, g0 := fds(t), runtime.NumGoroutine()

	func() {
		path := logPath(t)
		w := create(t, path)
		r := open(t, path, Position{}, Options{})
		a := lines("a", 30)
		w.write(a)
		r.until(a)
		stored := r.last
		rotateRename(t, path, false)
		w.write("b\n")
		w.close()
		w = create(t, path)
		b := lines("b", 30)
		w.write(b)
		r.until(a + "b\n" + b) // holds the new file, and held the old one
		os.Remove(path)
		r.idle() // holds a deleted file
		r.f.Close()
		w.close()

		gzipTo(t, path+".1", path+".2.gz") // the stored file, gzip'ed
		if err := os.WriteFile(path+".1", []byte(lines("mid", 5)), 0o644); err != nil {
			t.Fatal(err)
		}
		w = create(t, path)
		w.write(lines("c", 3))
		w.close()
		r2 := open(t, path, stored, Options{ChunkSize: 256, MaxLine: 200})
		if err := r2.next(context.Background()); err != nil { // in the gzip'ed file, with PATH.1 queued
			t.Fatal(err)
		}
		if len(r2.f.queue) == 0 || r2.f.cur.zr == nil {
			t.Fatalf("want a gzip'ed file read and one queued, have %s and %d queued", r2.f.cur.name, len(r2.f.queue))
		}
		r2.f.Close()

		ctx, cancel := context.WithCancel(context.Background())
		out := FollowAll(ctx, []Input{{Path: path}, {Path: path + ".missing"}}, Options{})
		<-out
		cancel()
		for range out {
		}
	}()

	if n := fds(t); n != fd0 {
		t.Errorf("%d descriptors open after Close, %d before", n, fd0)
		ents, _ := os.ReadDir("/proc/self/fd")
		for _, e := range ents {
			l, _ := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
			t.Log(e.Name(), l)
		}
	}
	deadline := time.Now().Add(patience)
	for runtime.NumGoroutine() > g0 && time.Now().Before(deadline) {
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > g0 {
		t.Errorf("%d goroutines after Close, %d before", n, g0)
	}
}

// TestCancelUnpacking: a context done while a restart unpacks a large
// gzip'ed file up to the stored offset stops New.
func TestCancelUnpacking(t *testing.T) {
	path := logPath(t)
	big := strings.Repeat(lines("a", 1000), 50) // about 2.5 MB
	w := create(t, path)
	w.write(big)
	r := open(t, path, Position{}, Options{})
	r.until(big)
	stored := r.last
	r.f.Close()
	rotateRename(t, path, true)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New(ctx, path, stored, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("New: %v, want context.Canceled", err)
	}
	r2 := open(t, path, stored, Options{}) // with time to do it, it finds the place
	create(t, path).write("after\n")
	r2.until("after\n")
}
