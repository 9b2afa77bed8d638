package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
)

// synthetic writes a log of n combined-format lines to path (gzip'ed if
// it ends in .gz), the i-th at from plus at(i), and returns its lines.
func synthetic(t *testing.T, path string, n int, from time.Time, at func(i int) time.Duration) []string {
	t.Helper()
	var b bytes.Buffer
	lines := make([]string, n)
	for i := range lines {
		ts := from.Add(at(i)).Format(clfLayout)
		lines[i] = fmt.Sprintf("10.%d.%d.%d - - [%s] \"GET /default.ida?NNNN HTTP/1.0\" 404 283 \"-\" \"-\"\n", i>>16&255, i>>8&255, i&255, ts)
		b.WriteString(lines[i])
	}
	data := b.Bytes()
	if strings.HasSuffix(path, ".gz") {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(data)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		data = z.Bytes()
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return lines
}

// lines returns the lines of a file, each with its newline; it fails the
// test if the file does not end with one.
func lines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		t.Fatalf("%s ends with a partial line: %q", path, b[max(0, len(b)-40):])
	}
	return strings.SplitAfter(string(b), "\n")[:bytes.Count(b, []byte{'\n'})]
}

var july19 = time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC)

// TestFeedExact feeds a log of 6 simulated hours fast, plain and gzip'ed,
// with and without rotation every hour: the rotated files (oldest first)
// and dst hold exactly the source's lines in order, each rotated file the
// lines of its hour; with Keep, only the newest rotated files stay.
func TestFeedExact(t *testing.T) {
	for _, tc := range []struct {
		name   string
		src    string
		rotate time.Duration
		keep   int
	}{
		{"plain", "src.log", 0, 0},
		{"gzip", "src.log.gz", 0, 0},
		{"rotate", "src.log.gz", time.Hour, 0},
		{"keep", "src.log", time.Hour, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			src, dst := filepath.Join(dir, tc.src), filepath.Join(dir, "out", "access.log")
			if err := os.Mkdir(filepath.Dir(dst), 0o755); err != nil {
				t.Fatal(err)
			}
			want := synthetic(t, src, 3000, july19, func(i int) time.Duration { return time.Duration(i) * 7 * time.Second })
			opt := FeedOptions{Speed: 200_000, Batch: 5 * time.Millisecond, Rotate: tc.rotate, Keep: tc.keep}
			if err := Feed(t.Context(), src, dst, opt); err != nil {
				t.Fatal(err)
			}
			rotated, err := Rotated(dst)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range rotated {
				ls := lines(t, r)
				end, _ := time.Parse(stampLayout, strings.TrimPrefix(r, dst+"-"))
				for _, l := range ls {
					if ts, _ := stamp([]byte(l), 0); !ts.Before(end) || ts.Before(end.Add(-tc.rotate)) {
						t.Errorf("%s holds a line of %s", filepath.Base(r), ts)
					}
				}
				got = append(got, ls...)
			}
			got = append(got, lines(t, dst)...)
			files := 5 // 3000 lines 7 s apart from 10:00, to 15:49:53: rotated at 11:00 to 15:00
			switch {
			case tc.rotate == 0:
				files = 0
			case tc.keep > 0:
				files = tc.keep
				want = want[len(want)-len(got):]
			}
			if len(rotated) != files {
				t.Errorf("%d rotated files, want %d", len(rotated), files)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%d lines written, the source has %d; first difference at %d", len(got), len(want), firstDiff(got, want))
			}
		})
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestFeedPace feeds 40 lines a simulated second apart at speed 20 (a
// line every 50 ms) and reads dst as it grows: no line is there before its
// time (Offset), and the feed ends soon after the last line's.
func TestFeedPace(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src.log"), filepath.Join(dir, "access.log")
	want := synthetic(t, src, 40, july19, func(i int) time.Duration { return time.Duration(i) * time.Second })
	opt := FeedOptions{Speed: 20, Lead: -1, Batch: 10 * time.Millisecond}
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- Feed(t.Context(), src, dst, opt) }()
	for finished := false; !finished; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			finished = true
		case <-time.After(5 * time.Millisecond):
		}
		b, _ := os.ReadFile(dst)
		elapsed := time.Since(start)
		if n := bytes.Count(b, []byte{'\n'}); n > 0 {
			if due := opt.Offset(july19, july19.Add(time.Duration(n-1)*time.Second)); due > elapsed {
				t.Fatalf("line %d written %v after the start, before its time %v", n, elapsed, due)
			}
		}
	}
	if took := time.Since(start); took < opt.Offset(july19, july19.Add(39*time.Second)) {
		t.Errorf("fed in %v, before the last line's time", took)
	}
	if got := lines(t, dst); !slices.Equal(got, want) {
		t.Errorf("%d lines written, want %d", len(got), len(want))
	}
}

// TestFeedCancel cancels a feed of 10 simulated seconds at speed 1 after
// 300 ms: Feed returns the context's error at once, and dst holds the
// first lines of the source, whole, not all of them.
func TestFeedCancel(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src.log"), filepath.Join(dir, "access.log")
	want := synthetic(t, src, 2000, july19, func(i int) time.Duration { return time.Duration(i) * 5 * time.Millisecond })
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := Feed(ctx, src, dst, FeedOptions{Speed: 1, Lead: -1})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Feed returned %v, want the context's error", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Feed took %v to stop", took)
	}
	got := lines(t, dst)
	if len(got) == 0 || len(got) == len(want) || !slices.Equal(got, want[:len(got)]) {
		t.Errorf("%d lines written of %d, want the first ones (some, not all)", len(got), len(want))
	}
}

// TestFeedLoop loops over a log of one simulated hour until dst holds
// more than two passes: pass k is the source with its timestamps 3k days
// later (the span plus two days, in whole days).
func TestFeedLoop(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src.log"), filepath.Join(dir, "access.log")
	want := synthetic(t, src, 100, july19, func(i int) time.Duration { return time.Duration(i) * 36 * time.Second })
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- Feed(ctx, src, dst, FeedOptions{Speed: 36_000, Lead: -1, Batch: 5 * time.Millisecond, Loop: true})
	}()
	for {
		b, _ := os.ReadFile(dst)
		if bytes.Count(b, []byte{'\n'}) > 250 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("Feed returned %v before it was stopped", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Feed returned %v, want context.Canceled", err)
	}
	got := lines(t, dst)
	for i, l := range got {
		w := []byte(want[i%len(want)])
		stamp(w, time.Duration(i/len(want))*3*24*time.Hour)
		if l != string(w) {
			t.Fatalf("line %d: %q, want %q", i+1, l, w)
		}
	}
}

// TestFeedOptions: options that cannot be used are refused before dst is
// touched; the pacing formula.
func TestFeedOptions(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src.log"), filepath.Join(dir, "access.log")
	synthetic(t, src, 1, july19, func(int) time.Duration { return 0 })
	for _, o := range []FeedOptions{{Speed: -1}, {Speed: math.NaN()}, {Speed: math.Inf(1)}, {Batch: -1}, {Rotate: time.Millisecond}, {Rotate: -time.Hour}, {Keep: -1}} {
		if err := Feed(t.Context(), src, dst, o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dst made by refused options: %v", err)
	}
	if err := Feed(t.Context(), filepath.Join(dir, "none.log"), dst, FeedOptions{}); err == nil {
		t.Error("a missing source accepted")
	}
	var o FeedOptions
	if got := o.Offset(july19, july19.Add(4*time.Hour)); got != (4*time.Hour+DefaultLead)/DefaultSpeed {
		t.Errorf("Offset of 4 h at the defaults: %v", got)
	}
	o = FeedOptions{Speed: 60, Lead: -1}
	if got := o.Offset(july19, july19.Add(time.Hour)); got != time.Minute {
		t.Errorf("Offset of 1 h at speed 60 without lead: %v", got)
	}
}
