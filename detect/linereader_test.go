package detect

import (
	"bytes"
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// reportBytes writes every output of a report (JSON, text with every
// source and port, the series, the attempts table) as one text to compare.
func reportBytes(t *testing.T, r *Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteText(&b, 0); err != nil {
		t.Fatal(err)
	}
	if err := r.Series.WriteCSV(&b, 1); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteCSV(&b, TableAttempts); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// batch reads data whole with Analyzer.Read and returns the outputs.
func batch(t *testing.T, data []byte, opt Options) string {
	t.Helper()
	a, err := NewAnalyzer(opt)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.Read(context.Background(), "in", bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	r, err := a.Report(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	return reportBytes(t, r)
}

// liveInputs are logs of every format, and some whose first lines cannot
// be log lines (blank, binary, over the cap), to read live and batch.
func liveInputs(t *testing.T) map[string][]byte {
	junk := "\n  \n\x00\x01binary\n" + strings.Repeat("x", 2000) + "\n"
	return map[string][]byte{
		"apache":     sample(t, "honeynet2004_access_log.10"),
		"apache 22":  sample(t, "honeynet2004_access_log.22"),
		"iis":        []byte(iisLog),
		"zeek http":  zeekSample(t, "http.log"),
		"zeek conn":  zeekSample(t, "conn.log"),
		"zeek json":  append(zeekSample(t, "http.json"), zeekSample(t, "conn.json")...),
		"junk first": append([]byte(junk), sample(t, "honeynet2004_access_log.22")...),
		"crlf":       bytes.ReplaceAll(sample(t, "honeynet2004_access_log.10"), []byte("\n"), []byte("\r\n")),
		"no newline": bytes.TrimSuffix(zeekSample(t, "conn.log"), []byte("\n")),
	}
}

// TestLiveEqualsBatch feeds each input to a LineReader in chunks of whole
// lines of random sizes (fixed seeds), settling and taking snapshots at
// random moments, and checks that each snapshot is the report the batch
// reader gives on the lines fed so far, and the last one the report on the
// whole input: the same bytes in every output, with the sources in memory
// and spilled to temporary files.
func TestLiveEqualsBatch(t *testing.T) {
	t.Parallel()
	for name, data := range liveInputs(t) {
		for _, mem := range []int64{0, 1} {
			opt := Options{SeriesInterval: time.Hour, SeriesOf: SeriesOf{Kind: SeriesAuto}, MaxLine: 1024, Memory: mem, TempDir: t.TempDir()}
			rng := rand.New(rand.NewPCG(uint64(len(data)), uint64(mem)))
			a, err := NewAnalyzer(opt)
			if err != nil {
				t.Fatal(err)
			}
			lr, err := NewLineReader("in", ReaderOptions{MaxLine: opt.MaxLine})
			if err != nil {
				t.Fatal(err)
			}
			a.Track(lr)
			snapshots := 0
			for rest := data; len(rest) > 0; {
				n := 0
				for range 1 + rng.IntN(40) {
					i := bytes.IndexByte(rest[n:], '\n')
					if i < 0 {
						n = len(rest)
						break
					}
					n += i + 1
				}
				chunk := bytes.Clone(rest[:n]) // then scribbled over: the reader must not keep it
				if err := lr.Feed(chunk, a.Add); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				for i := range chunk {
					chunk[i] = 'Z'
				}
				fed := len(data) - len(rest) + n
				rest = rest[n:]
				if rng.IntN(4) > 0 || len(rest) == 0 {
					continue
				}
				if err := lr.Settle(a.Add); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if lr.Pending() > 0 { // nothing that can be a log line yet
					continue
				}
				r, err := a.Snapshot(context.Background())
				if err != nil {
					t.Fatalf("%s: snapshot after %d bytes: %v", name, fed, err)
				}
				got := reportBytes(t, r)
				r.Close()
				if want := batch(t, data[:fed], opt); got != want {
					t.Fatalf("%s, memory %d: snapshot after %d of %d bytes differs from the batch report:\n%s", name, mem, fed, len(data), firstDiff(got, want))
				}
				snapshots++
			}
			if err := lr.End(a.Add); err != nil {
				t.Fatal(err)
			}
			want := batch(t, data, opt)
			for range 2 { // a snapshot does not change what comes after it
				r, err := a.Snapshot(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if got := reportBytes(t, r); got != want {
					t.Fatalf("%s, memory %d: the last snapshot differs from the batch report:\n%s", name, mem, firstDiff(got, want))
				}
				r.Close()
			}
			r, err := a.Report(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got := reportBytes(t, r); got != want {
				t.Fatalf("%s: the report differs from the batch report:\n%s", name, firstDiff(got, want))
			}
			r.Close()
			a.Close()
			if snapshots == 0 && bytes.Count(data, []byte("\n")) > 200 {
				t.Errorf("%s: no snapshot taken", name)
			}
		}
	}
}

// TestLineReaderHolds checks that lines are held while the format cannot
// be chosen, and released by Settle or by enough lines.
func TestLineReaderHolds(t *testing.T) {
	t.Parallel()
	lr, err := NewLineReader("access.log", ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	emit := func(r *Record) error { got = append(got, r.Pos); return nil }
	line := clf("1.2.3.4", "10/May/2004:13:18:06", "GET "+codeRed("X")+" HTTP/1.0", 404) + "\n"
	if err := lr.Feed([]byte("\n"+line+line), emit); err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 || lr.Pending() != 1+2*len(line) || lr.Format() != Auto {
		t.Fatalf("before the choice: records %v, pending %d, format %v", got, lr.Pending(), lr.Format())
	}
	if err := lr.Settle(emit); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != 2 || lr.Pending() != 0 || lr.Format() != Combined || lr.Input().Skipped[Empty] != 1 {
		t.Fatalf("after Settle: records %v, pending %d, format %v, input %+v", got, lr.Pending(), lr.Format(), lr.Input())
	}
	if err := lr.Feed([]byte(line), emit); err != nil || len(got) != 3 || got[2] != 4 {
		t.Fatalf("after the choice: %v, records %v", err, got)
	}
	// Blank lines only: Settle waits; 100 log lines choose without it.
	lr, _ = NewLineReader("b.log", ReaderOptions{})
	got = nil
	if err := lr.Feed([]byte("\n \n"), emit); err != nil {
		t.Fatal(err)
	}
	if err := lr.Settle(emit); err != nil || lr.Format() != Auto || lr.Pending() == 0 {
		t.Fatalf("blank lines settled: %v, format %v, pending %d", err, lr.Format(), lr.Pending())
	}
	if err := lr.Feed([]byte(strings.Repeat(line, 100)), emit); err != nil || len(got) != 100 || lr.Format() != Combined {
		t.Fatalf("100 lines: %v, %d records, format %v", err, len(got), lr.Format())
	}
	// The end of the input, then more lines: an error.
	if err := lr.Feed([]byte("no newline"), emit); err != nil {
		t.Fatal(err)
	}
	if in := lr.Input(); in.Skipped[Truncated] != 1 {
		t.Errorf("unterminated last line: %+v", in)
	}
	if err := lr.Feed([]byte(line), emit); err == nil {
		t.Error("a line after the end: no error")
	}
	// Binary junk only: Settle waits, End says the format cannot be told.
	lr, _ = NewLineReader("c.log", ReaderOptions{})
	lr.Feed([]byte("\x00\x01\n"), emit)
	if err := lr.Settle(emit); err != nil {
		t.Fatal(err)
	}
	if err := lr.End(emit); err == nil || !strings.Contains(err.Error(), "c.log: line 1: cannot tell the log format") {
		t.Errorf("End on junk: %v", err)
	}
	// An error of emit names the line.
	lr, _ = NewLineReader("d.log", ReaderOptions{})
	if err := lr.Feed([]byte(strings.Repeat(line, 3)), emit); err != nil {
		t.Fatal(err)
	}
	err = lr.Settle(func(r *Record) error {
		if r.Pos == 2 {
			return context.Canceled
		}
		return nil
	})
	if err == nil || err.Error() != "d.log: line 2: context canceled" {
		t.Errorf("emit's error: %v", err)
	}
}
