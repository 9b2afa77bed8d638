//go:build linux

package serve

import (
	"flag"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"wormwatch/serve/servetest"
)

// soakFor is how long TestSoak runs: -soak 10m, or WORMWATCH_SOAK=10m.
var soakFor = flag.Duration("soak", 0, "run TestSoak for this long (10m for the issue's soak); 0: skip it")

// soakRotate is how often the soak's log is rotated (rename and create).
const soakRotate = 30 * time.Second

// TestSoak is a long benchmark, not a test of CI: a writer appends Code
// Red probes (from 200,000 sources, the log's time going as the clock, as
// a busy server's does) to a followed log as fast as the service takes them (at most 2,000,000 lines ahead
// of it), renaming the log to access.log.1 and creating a new one every
// 30 s, for the time given by -soak (or WORMWATCH_SOAK). Every 10 s it
// samples the process's resident memory (VmRSS), the Go heap, the
// goroutines and the open file descriptors; in the samples after the
// first minute (from 1m10s) the memory must stay within 10% (the largest
// sample at most 1.1 times the smallest) and the goroutines and
// descriptors must not grow (at most 2 more than at the first of them: an
// HTTP request of the test in flight). The Go heap reaches the size its
// collector aims at (twice the live data) only once the garbage has grown
// to it, about a minute in: the 1m0s sample may be below that. At the end the service must have counted every line written,
// in its records and in the input's lines. Run it with
//
//	go test ./serve -run TestSoak -soak 10m -timeout 30m -v
//
// Without the flag it skips, saying so.
func TestSoak(t *testing.T) {
	d := *soakFor
	if env := os.Getenv("WORMWATCH_SOAK"); d == 0 && env != "" {
		var err error
		if d, err = time.ParseDuration(env); err != nil {
			t.Fatalf("WORMWATCH_SOAK=%q: %v", env, err)
		}
	}
	if d <= 0 {
		t.Skip("a soak of the live service (10 minutes at full speed, rotation every 30 s): run it with go test ./serve -run TestSoak -soak 10m -timeout 30m -v (or WORMWATCH_SOAK=10m); see README, Benchmarks and long tests")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	cfg := testConfig(t, filepath.Join(dir, "data"), []Input{logInput(t, path, "name=web", "size=65536")},
		"service.commit_interval=1s", "service.poll=250ms")
	r := start(t, cfg, Options{Logger: servetest.Logger(t, slog.LevelWarn)})
	var written, counted atomic.Int64
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- soakWriter(path, &written, &counted, stop) }()
	samples := soakSample(t, r, d, &counted)
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	total := written.Load()
	servetest.WaitFor(t, "every line written counted", func() bool { return r.status(t).Counters.Records == total })
	st := r.status(t)
	t.Logf("%d lines written in %v (%.0f a second), %d records counted, the input's lines %d", total, d, float64(total)/d.Seconds(), st.Counters.Records, st.Inputs[0].Lines)
	if st.Inputs[0].Lines != total {
		t.Errorf("the input counts %d lines, %d were written", st.Inputs[0].Lines, total)
	}
	checkSoak(t, samples)
}

// soakSample samples the process every 10 s for d, keeping counted up to
// date with the service's records every 50 ms.
func soakSample(t *testing.T, r *running, d time.Duration, counted *atomic.Int64) []soakPoint {
	var out []soakPoint
	start := time.Now()
	next := start
	for time.Since(start) < d {
		counted.Store(r.status(t).Counters.Records)
		if now := time.Now(); !now.Before(next) {
			p := soakPoint{at: now.Sub(start).Round(time.Second), rss: procStatus(t, "VmRSS"), goroutines: runtime.NumGoroutine(), fds: openFDs(t), records: counted.Load()}
			heap, goMem := goMemory()
			p.heap = heap
			out = append(out, p)
			t.Logf("%4v: RSS %6.1f MB (anonymous %6.1f, files %5.1f, shared %5.1f), Go heap %6.1f MB, Go's memory %6.1f MB, %3d goroutines, %3d fds, %d records",
				p.at, mb(p.rss), mb(procStatus(t, "RssAnon")), mb(procStatus(t, "RssFile")), mb(procStatus(t, "RssShmem")), mb(p.heap), mb(goMem), p.goroutines, p.fds, p.records)
			next = next.Add(10 * time.Second)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return out
}

// soakPoint is one sample of the soak.
type soakPoint struct {
	at         time.Duration
	rss, heap  uint64
	goroutines int
	fds        int
	records    int64
}

// checkSoak checks the samples after the first minute.
func checkSoak(t *testing.T, samples []soakPoint) {
	var after []soakPoint
	for _, p := range samples {
		if p.at > time.Minute {
			after = append(after, p)
		}
	}
	if len(after) < 2 {
		t.Fatalf("%d samples after the first minute: run the soak longer", len(after))
	}
	lo, hi := after[0].rss, after[0].rss
	for _, p := range after {
		lo, hi = min(lo, p.rss), max(hi, p.rss)
		if p.goroutines > after[0].goroutines+2 {
			t.Errorf("%v: %d goroutines, %d at %v", p.at, p.goroutines, after[0].goroutines, after[0].at)
		}
		if p.fds > after[0].fds+2 {
			t.Errorf("%v: %d open files, %d at %v", p.at, p.fds, after[0].fds, after[0].at)
		}
	}
	t.Logf("after the first minute: RSS from %.1f to %.1f MB (%.1f%%)", mb(lo), mb(hi), 100*(float64(hi)/float64(lo)-1))
	if float64(hi) > 1.1*float64(lo) {
		t.Errorf("resident memory went from %.1f to %.1f MB after the first minute: more than 10%%", mb(lo), mb(hi))
	}
}

// mb returns bytes in MB.
func mb(n uint64) float64 { return float64(n) / 1e6 }

// procStatus returns a memory figure of /proc/self/status (VmRSS,
// RssAnon, RssFile, RssShmem), in bytes.
func procStatus(t *testing.T, key string) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, key+":"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/self/status", key)
	return 0
}

// goMemory returns the Go heap's live and dead objects not yet swept, and
// the memory the Go runtime has from the system and has not given back
// (what is not counted there is memory of C code: SQLite's, which
// modernc.org/sqlite allocates outside the Go heap).
func goMemory() (heap, held uint64) {
	ms := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(ms)
	return ms[0].Value.Uint64(), ms[1].Value.Uint64() - ms[2].Value.Uint64()
}

// openFDs returns the number of the process's open file descriptors.
func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// soakWriter appends lines to path until stop, at most 2,000,000 ahead of
// counted, rotating every soakRotate, and counts them in written.
func soakWriter(path string, written, counted *atomic.Int64, stop <-chan struct{}) error {
	rng := rand.New(rand.NewPCG(9, 9))
	t0 := time.Date(2001, 7, 19, 0, 0, 0, 0, time.UTC)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	rotated, began := time.Now(), time.Now()
	var buf []byte
	stampSec, stamp := int64(-1), ""
	for {
		select {
		case <-stop:
			return f.Close()
		default:
		}
		if written.Load()-counted.Load() > 2_000_000 {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		if time.Since(rotated) >= soakRotate {
			if f, err = soakRotateLog(f, path); err != nil {
				return err
			}
			rotated = time.Now()
		}
		buf = buf[:0]
		for range 4096 {
			n := rng.IntN(200_000)
			if sec := int64(time.Since(began) / time.Second); sec != stampSec { // the log's time goes as the clock
				stampSec, stamp = sec, t0.Add(time.Duration(sec)*time.Second).Format("02/Jan/2006:15:04:05 -0700")
			}
			buf = append(buf, "10."...)
			buf = strconv.AppendInt(buf, int64(n/62500), 10)
			buf = append(buf, '.')
			buf = strconv.AppendInt(buf, int64(n/250%250), 10)
			buf = append(buf, '.')
			buf = strconv.AppendInt(buf, int64(n%250+1), 10)
			buf = append(buf, " - - ["...)
			buf = append(buf, stamp...)
			buf = append(buf, "] \""...)
			buf = append(buf, servetest.CodeRedRequest...)
			buf = append(buf, "\" 404 - \"-\" \"-\"\n"...)
		}
		if _, err := f.Write(buf); err != nil {
			return err
		}
		written.Add(4096)
	}
}

// soakRotateLog renames the log to path.1 (replacing the one before) and
// creates a new one, as logrotate's create does.
func soakRotateLog(f *os.File, path string) (*os.File, error) {
	if err := f.Close(); err != nil {
		return nil, err
	}
	if err := os.Rename(path, path+".1"); err != nil {
		return nil, err
	}
	return os.Create(path)
}
