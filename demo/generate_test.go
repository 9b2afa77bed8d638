package demo

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"wormwatch/detect"
	"wormwatch/watch"
)

// The log of the default Config, generated once for the tests that read
// it.
var (
	genOnce sync.Once
	genDir  string
	genLog  *Log
	genErr  error
	genTime time.Duration
)

func TestMain(m *testing.M) {
	code := m.Run()
	if genDir != "" {
		os.RemoveAll(genDir)
	}
	os.Exit(code)
}

// generated returns the demo's log, generated once.
func generated(t *testing.T) *Log {
	t.Helper()
	genOnce.Do(func() {
		if genDir, genErr = os.MkdirTemp("", "demo-test-"); genErr != nil {
			return
		}
		start := time.Now()
		genLog, genErr = Generate(t.Context(), genDir, Config{})
		genTime = time.Since(start)
	})
	if genErr != nil {
		t.Fatal(genErr)
	}
	return genLog
}

// TestGenerateDeterministic generates the demo's log twice with the
// default seed and gets the same bytes; the log is what Log says (lines,
// times, size) and every line is a Code Red request; an earlier feed's
// files are removed, nothing else.
func TestGenerateDeterministic(t *testing.T) {
	first := generated(t)
	t.Logf("generated in %v: %d lines, %d bytes (%s), %s to %s", genTime, first.Lines, first.Bytes,
		fileSize(t, first.Source), first.First.Format(time.RFC3339), first.Last.Format(time.RFC3339))
	dir := t.TempDir()
	for _, n := range []string{LiveName, LiveName + "-20010719-120000", LiveName + ".1", "keep.txt"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	again, err := Generate(t.Context(), dir, Config{Seed: DefaultSeed, Prefix: DefaultPrefix})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := digest(t, first.Source), digest(t, again.Source); a != b {
		t.Errorf("two logs of seed %d differ: sha-256 %x and %x", DefaultSeed, a, b)
	}
	a, b := *first, *again
	a.Source, a.Live, b.Source, b.Live = "", "", "", ""
	if a != b {
		t.Errorf("Log %+v, then %+v", a, b)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if len(names) != 2 || names[0] != "keep.txt" || names[1] != SourceName {
		t.Errorf("the folder holds %q, want keep.txt and %s only", names, SourceName)
	}
	checkContent(t, first)
}

// TestGenerateRefuses: a block that is not one, or larger than a /8, is
// refused before anything is run or written.
func TestGenerateRefuses(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	for _, p := range []string{"44.1.0.0", "300.1.0.0/16", "::/64", "0.0.0.0/4", `44.1.0.0/16"`} {
		if _, err := Generate(t.Context(), dir, Config{Prefix: p}); err == nil {
			t.Errorf("prefix %q accepted", p)
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the folder was made: %v", err)
	}
}

// checkContent reads the log: its lines and bytes are Log's, in time
// order from First to Last, each a Code Red I request (the family
// codered1, which CRv2 shares) to the honeynet.
func checkContent(t *testing.T, l *Log) {
	_, m, err := detect.LoadTable(nil)
	if err != nil {
		t.Fatal(err)
	}
	var lines, size, matched int64
	var prev time.Time
	var fams []int
	readLog(t, l.Source, func(chunk []byte, rec *detect.Record) {
		if chunk != nil {
			size += int64(len(chunk))
			lines += int64(bytes.Count(chunk, []byte{'\n'}))
			return
		}
		if rec.Time.Before(prev) {
			t.Fatalf("line %d at %s, before the line above it (%s)", rec.Pos, rec.Time, prev)
		}
		if prev.IsZero() && !rec.Time.Equal(l.First) {
			t.Errorf("first line at %s, Log says %s", rec.Time, l.First)
		}
		prev = rec.Time
		fams = m.Match(rec, fams[:0])
		for _, f := range fams {
			if m.Families()[f].Name == "codered1" {
				matched++
			}
		}
	})
	if lines != l.Lines || size != l.Bytes || !prev.Equal(l.Last) {
		t.Errorf("the log has %d lines, %d bytes, the last at %s; Log says %d, %d, %s", lines, size, prev, l.Lines, l.Bytes, l.Last)
	}
	if matched != lines {
		t.Errorf("%d of %d lines are Code Red requests", matched, lines)
	}
}

// readLog reads a log as the service does: chunks of whole lines (given
// to fn with a nil record first) into a detect.LineReader, whose records
// are given to fn.
func readLog(t *testing.T, path string, fn func(chunk []byte, rec *detect.Record)) {
	t.Helper()
	in, err := openSource(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	lr, err := detect.NewLineReader(path, detect.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	emit := func(rec *detect.Record) error { fn(nil, rec); return nil }
	br := bufio.NewReaderSize(in, 1<<16)
	chunk := make([]byte, 0, 1<<16)
	for {
		line, err := br.ReadSlice('\n')
		chunk = append(chunk, line...)
		if len(chunk) >= 1<<15 || (err != nil && err != bufio.ErrBufferFull) {
			fn(chunk, nil)
			if ferr := lr.Feed(chunk, emit); ferr != nil {
				t.Fatal(ferr)
			}
			chunk = chunk[:0]
		}
		if err == io.EOF {
			break
		} else if err != nil && err != bufio.ErrBufferFull {
			t.Fatal(err)
		}
	}
	if err := lr.Settle(emit); err != nil {
		t.Fatal(err)
	}
}

// TestAlarmWithinTwoMinutes is the proof that `serve --demo` raises its
// alarm in time: it reads the demo's log as the service does (LineReader,
// Matcher, a Watch with the default settings and the honeynet as a sensor
// of its size), takes the record on whose arrival the first alarm event
// comes out, and maps its time through the pacing formula at the default
// speed and lead: it must be between 30 and 90 seconds of wall time after
// the feed starts.
func TestAlarmWithinTwoMinutes(t *testing.T) {
	l := generated(t)
	_, m, err := detect.LoadTable(nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range m.Families() {
		names = append(names, f.Name)
	}
	w, err := watch.New(watch.Config{Settings: watch.DefaultSettings, Families: names})
	if err != nil {
		t.Fatal(err)
	}
	sensor, err := w.AddSensor(l.Sensor, l.Size)
	if err != nil {
		t.Fatal(err)
	}
	var (
		opt    FeedOptions // the defaults
		fams   []int
		events []watch.Event
		first  = map[watch.State]time.Time{} // record time of each state's first event
		seen   = map[string]bool{}
	)
	readLog(t, l.Source, func(_ []byte, rec *detect.Record) {
		if rec == nil {
			return
		}
		fams = m.Match(rec, fams[:0])
		if err := w.Add(sensor, rec, fams); err != nil {
			t.Fatal(err)
		}
		events = w.Events(events[:0])
		for _, e := range events {
			if _, ok := first[e.To]; !ok {
				first[e.To] = rec.Time
			}
			if k := e.Key.String() + " " + e.To.String(); !seen[k] {
				seen[k] = true
				t.Logf("%s %s: on the record of %s, %.1f s after the feed starts", e.Key, e.To, rec.Time.Format(time.TimeOnly), opt.Offset(l.First, rec.Time).Seconds())
			}
		}
	})
	at, ok := first[watch.Alarm]
	if !ok {
		t.Fatal("no alarm")
	}
	if d := opt.Offset(l.First, at); d < 30*time.Second || d > 90*time.Second {
		t.Errorf("the alarm comes %v after the feed starts, want 30 to 90 s", d)
	}
	t.Logf("the whole log is fed in %.0f s", opt.Offset(l.First, l.Last).Seconds())
}

func digest(t *testing.T, path string) [32]byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func fileSize(t *testing.T, path string) string {
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%.1f MB gzip'ed", float64(st.Size())/1e6)
}
