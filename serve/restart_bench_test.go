//go:build unix

package serve

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"wormwatch/detect"
	"wormwatch/serve/servetest"
	"wormwatch/store"
)

// BenchmarkRestart measures a restart against the data already committed:
// the time New takes on a data folder that holds n lines of a followed
// log (opening the store, restoring the watch from its snapshot,
// rebuilding detect's analyzer from every stored record, resuming the
// input), for n of 250,000, 1,000,000 and 4,000,000 lines. The data
// folder is made first, untimed, by the service itself following the log
// (commits every 500 ms, the default): the simulated Code Red web server's
// day (532,322 lines of about 340 bytes from 272,000 sources, 10:00 to
// 24:00) again on each following day, the same sources each day, cut at n
// lines. restart-s is New's time (wall clock); s/Mlines that per million
// lines; restart-cpu-s the process's CPU time in New (the garbage
// collector's included: on a shared machine the steadier figure);
// analyzer-s the part of New's wall time that rebuilds detect's analyzer
// from the stored records (measured alone, once). Run with
//
//	go test ./serve -run XXX -bench Restart -benchtime 3x -timeout 30m
func BenchmarkRestart(b *testing.B) {
	for _, n := range []int{250_000, 1_000_000, 4_000_000} {
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			cfg := restartData(b, n)
			quiet := Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			analyzer := rebuildTime(b, cfg)
			var took, cpu time.Duration
			for b.Loop() {
				t0, cpu0 := time.Now(), cpuTime()
				svc, err := New(context.Background(), cfg, quiet)
				if err != nil {
					b.Fatal(err)
				}
				took, cpu = took+time.Since(t0), cpu+cpuTime()-cpu0
				svc.shutdownEarly()
			}
			s := took.Seconds() / float64(b.N)
			b.ReportMetric(s, "restart-s")
			b.ReportMetric(s/(float64(n)/1e6), "s/Mlines")
			b.ReportMetric(cpu.Seconds()/float64(b.N), "restart-cpu-s")
			b.ReportMetric(analyzer.Seconds(), "analyzer-s")
		})
	}
}

// restartData makes a data folder holding n lines of the log of
// BenchmarkRestart, committed by the service following it, and returns
// its configuration.
func restartData(b *testing.B, n int) *Config {
	b.Helper()
	dir := b.TempDir()
	path := filepath.Join(dir, "access.log")
	size := writeRestartLog(b, path, n)
	cfg := testConfig(b, filepath.Join(dir, "data"), []Input{logInput(b, path, "name=web", "size=65536")}, "service.commit_interval=500ms")
	r := start(b, cfg, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	deadline := time.Now().Add(20 * time.Minute)
	for r.committedOffset(b, path) != size {
		if time.Now().After(deadline) {
			b.Fatalf("%d lines: not committed after 20 minutes", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := r.status(b).Counters.Records; got != int64(n) {
		b.Fatalf("%d records counted, want %d", got, n)
	}
	if err := r.stop(); err != nil {
		b.Fatal(err)
	}
	return cfg
}

// writeRestartLog writes n lines of the log of BenchmarkRestart at path
// and returns its size: the Code Red web server's day, its date moved on
// by one day at each pass.
func writeRestartLog(b *testing.B, path string, n int) int64 {
	b.Helper()
	day := servetest.CodeRedLog(b, time.Date(2001, 7, 20, 0, 0, 0, 0, time.UTC), 1)
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	left := n
	for pass := 0; left > 0; pass++ {
		date := fmt.Appendf(nil, "[%02d/Jul/2001:", 19+pass)
		for _, iv := range day {
			lines := bytes.ReplaceAll(iv.Lines, []byte("[19/Jul/2001:"), date)
			for len(lines) > 0 && left > 0 {
				i := bytes.IndexByte(lines, '\n')
				w.Write(lines[:i+1])
				lines = lines[i+1:]
				left--
			}
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	st, err := f.Stat()
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		b.Fatal(err)
	}
	return st.Size()
}

// rebuildTime returns the time newLoop takes to rebuild detect's analyzer
// from the stored records of cfg's data folder (store.EachBatch and
// AddMatched, as newLoop does), alone.
func rebuildTime(b *testing.B, cfg *Config) time.Duration {
	b.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, cfg.Service.Data)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	_, m, err := detect.LoadTable(cfg.Signatures)
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	a, err := detect.NewAnalyzer(detect.Options{Matcher: m, MaxLine: cfg.Service.MaxLine})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	if err := st.EachBatch(ctx, func(recs []byte) error { return decodeRecords(recs, a.AddMatched) }); err != nil {
		b.Fatal(err)
	}
	return time.Since(t0)
}
