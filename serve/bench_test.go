//go:build unix

package serve

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"wormwatch/ingest/follow"
	"wormwatch/serve/servetest"
)

// BenchmarkIngest measures a followed log's throughput through the whole
// service (follower, reader, matcher, analyzer, watch, a commit every
// second with its forecasts) on two logs: codered, the simulated Code Red
// web server's log to 21:00 (about 243,000 lines of 340 bytes from 160,000
// sources, nearly all seen once or twice: the worst case of the
// per-source tables), and web, an ordinary web server's day (WebLog:
// 250,000 lines of about 200 bytes, most of them a few thousand clients'
// requests, 4% worm probes from about 3,800 sources). Each is written
// whole before the service starts, timed to its last record counted
// (cpu-ns/line: the process's CPU time to then, per line;
// cpu-ns/line-committed: to the commit of the last line, which waits for
// the next commit tick); and the time a restart on that data folder takes
// (restoring the watch, rebuilding the analyzer from the stored batches).
// Run with
//
//	go test ./serve -run XXX -bench Ingest -benchtime 3x
func BenchmarkIngest(b *testing.B) {
	for _, l := range benchLogs {
		b.Run(l.name, func(b *testing.B) { benchIngest(b, l.data(b)) })
	}
}

// benchIngest is BenchmarkIngest on one log.
func benchIngest(b *testing.B, data []byte) {
	lines := bytes.Count(data, []byte("\n"))
	quiet := Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	var restart, cpu, committed time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		dir := b.TempDir()
		path := filepath.Join(dir, "access.log")
		writeFile(b, path, data)
		cfg := testConfig(b, filepath.Join(dir, "data"), []Input{logInput(b, path, "name=web", "size=65536")}, "service.commit_interval=1s")
		b.StartTimer()
		cpu0 := cpuTime()
		r := start(b, cfg, quiet)
		servetest.WaitFor(b, "the log", func() bool { return onLoop(b, r, func(l *loop) bool { return l.records == int64(lines) }) })
		cpu += cpuTime() - cpu0
		b.StopTimer()
		servetest.WaitFor(b, "the last commit", func() bool {
			return onLoop(b, r, func(l *loop) bool {
				return len(l.inputs) > 0 && l.inputs[0].stored.Position != "" && committedAt(b, l.inputs[0]) == int64(len(data))
			})
		})
		committed += cpuTime() - cpu0
		r.stop()
		t0 := time.Now()
		svc, err := New(context.Background(), cfg, quiet)
		if err != nil {
			b.Fatal(err)
		}
		restart += time.Since(t0)
		svc.shutdownEarly()
		b.StartTimer()
	}
	b.ReportMetric(float64(lines*b.N)/b.Elapsed().Seconds(), "lines/s")
	b.ReportMetric(restart.Seconds()/float64(b.N), "restart-s")
	b.ReportMetric(float64(lines), "lines")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(lines*b.N), "cpu-ns/line")
	b.ReportMetric(float64(committed.Nanoseconds())/float64(lines*b.N), "cpu-ns/line-committed")
}

// onLoop returns what f says of the running service's loop, asked on the
// loop as the API asks (a benchmark's polling through the API would cost
// the process more CPU than a small log's lines).
func onLoop(b *testing.B, r *running, f func(l *loop) bool) bool {
	var ok bool
	if err := r.svc.l.do(context.Background(), r.svc.done, func() { ok = f(r.svc.l) }); err != nil {
		b.Fatal(err)
	}
	return ok
}

// committedAt returns the offset of an input's committed position.
func committedAt(b *testing.B, in *input) int64 {
	p, err := follow.ParsePosition(in.stored.Position)
	if err != nil {
		b.Fatal(err)
	}
	return p.Offset
}

// cpuTime returns the CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
