package serve

import (
	"bytes"
	"log/slog"
	"sync"
	"testing"
	"time"

	"wormwatch/detect"
	"wormwatch/serve/servetest"
	"wormwatch/watch"
)

// benchData is the log of benchLog, made once.
var benchData struct {
	once sync.Once
	data []byte
}

// benchWeb is the log of benchWebLog, made once.
var benchWeb struct {
	once sync.Once
	data []byte
}

// benchLogs are the logs of BenchmarkIngest and BenchmarkIngestStages: the
// worst case for the per-source tables (codered) and an ordinary web
// server's (web).
var benchLogs = []struct {
	name string
	data func(b *testing.B) []byte
}{{"codered", benchLog}, {"web", benchWebLog}}

// benchWebLog returns an ordinary web server's log of 250,000 lines
// (servetest.WebLog, seed 1), made once.
func benchWebLog(b *testing.B) []byte {
	benchWeb.once.Do(func() { benchWeb.data = servetest.WebLog(250_000, 1) })
	return benchWeb.data
}

// benchLog returns the log BenchmarkIngest and BenchmarkIngestStages
// read: the simulated Code Red web server's log to 21:00, made once.
func benchLog(b *testing.B) []byte {
	benchData.once.Do(func() {
		benchData.data = servetest.Lines(servetest.CodeRedLog(b, time.Date(2001, 7, 19, 21, 0, 0, 0, time.UTC), 1))
	})
	return benchData.data
}

// benchChunks cuts data into chunks of whole lines of about size bytes, as
// a follower gives them.
func benchChunks(data []byte, size int) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		n := min(size, len(data))
		if i := bytes.LastIndexByte(data[:n], '\n'); i >= 0 && n < len(data) {
			n = i + 1
		}
		out = append(out, data[:n])
		data = data[n:]
	}
	return out
}

// BenchmarkIngestStages measures the loop's work per line, stage by stage
// and without the service around it (no follower, no commit): each log of
// BenchmarkIngest in chunks of 256 KiB through detect's LineReader alone
// (read), then with the matcher (match), the analyzer (analyze), the
// watch (watch), and the loop's own code (all: its emitter, which adds
// the batch's record log). Each stage's figure includes those before it. Run with
//
//	go test ./serve -run XXX -bench IngestStages -cpu 1
func BenchmarkIngestStages(b *testing.B) {
	for _, l := range benchLogs {
		b.Run(l.name, func(b *testing.B) {
			data := l.data(b)
			chunks := benchChunks(data, 256<<10)
			lines := bytes.Count(data, []byte("\n"))
			for _, stage := range []string{"read", "match", "analyze", "watch", "all"} {
				b.Run(stage, func(b *testing.B) {
					cpu0 := cpuTime()
					for b.Loop() {
						runStages(b, stage, chunks, lines)
					}
					b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(lines*b.N), "cpu-ns/line")
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(lines*b.N), "ns/line")
				})
			}
		})
	}
}

// runStages runs the stages up to stage on chunks.
func runStages(b *testing.B, stage string, chunks [][]byte, lines int) {
	_, m, err := detect.LoadTable(nil)
	if err != nil {
		b.Fatal(err)
	}
	var names []string
	for _, f := range m.Families() {
		names = append(names, f.Name)
	}
	cfg := testConfig(b, b.TempDir(), nil)
	w, err := watch.New(watch.Config{Settings: cfg.Watch, Forecast: cfg.Forecast.Options(cfg.Service.SpaceBits), Families: names})
	if err != nil {
		b.Fatal(err)
	}
	s, err := w.AddSensor("web", 65536)
	if err != nil {
		b.Fatal(err)
	}
	a, err := detect.NewAnalyzer(detect.Options{Matcher: m})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	lr, err := detect.NewLineReader("access.log", detect.ReaderOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if stage == "all" {
		runLoop(b, m, a, w, s, lr, chunks, lines)
		return
	}
	var fams []int
	n := 0
	emit := func(rec *detect.Record) error {
		n++
		if stage == "read" {
			return nil
		}
		fams = m.Match(rec, fams[:0])
		if stage == "match" {
			return nil
		}
		if err := a.AddMatched(rec, fams); err != nil {
			return err
		}
		if stage == "analyze" {
			return nil
		}
		return w.Add(s, rec, fams)
	}
	for _, c := range chunks {
		if err := lr.Feed(c, emit); err != nil {
			b.Fatal(err)
		}
	}
	if n != lines {
		b.Fatalf("%d records of %d lines", n, lines)
	}
}

// runLoop runs the loop's own work on chunks (its emitter), on an input
// of sensor s.
func runLoop(b *testing.B, m *detect.Matcher, a *detect.Analyzer, w *watch.Watch, s int, lr *detect.LineReader, chunks [][]byte, lines int) {
	l := &loop{m: m, a: a, w: w, latest: make([]int64, s+1), log: slog.New(slog.DiscardHandler)}
	in := &input{sensors: []int{s}}
	emit := l.emitter(in)
	for _, c := range chunks {
		if err := lr.Feed(c, emit); err != nil {
			b.Fatal(err)
		}
	}
	if l.records != int64(lines) || l.refused != 0 {
		b.Fatalf("%d records of %d lines, %d refused", l.records, lines, l.refused)
	}
	l.recs.take()
}
