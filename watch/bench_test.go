package watch_test

import (
	"syscall"
	"testing"
	"time"

	"wormwatch/detect"
	"wormwatch/watch"
)

// benchRecords feeds ops to a new Watch per round and reports records per
// second (series, filters and state machines updated as intervals close).
func benchRecords(b *testing.B, ops []op) {
	// The records as a reader gives them: one detect.Record, refilled.
	type rec struct {
		sensor int
		t      time.Time
		src    []byte
		fams   []int
	}
	recs := make([]rec, 0, len(ops))
	for _, o := range ops {
		if !o.advance {
			recs = append(recs, rec{o.sensor, o.t, []byte(o.src), o.fams})
		}
	}
	var r detect.Record
	b.ReportAllocs()
	cpu0 := cpuTime()
	start := time.Now()
	n := 0
	for b.Loop() {
		w := newWatch(b, watch.DefaultSettings)
		for i := range recs {
			r.Time, r.Source = recs[i].t, recs[i].src
			if err := w.Add(recs[i].sensor, &r, recs[i].fams); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		n += len(recs)
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "records/s")
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(n), "ns/record")
	// CPU time (all threads, the garbage collector's included): on a
	// shared machine the wall clock also counts other jobs' time.
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(n), "cpu-ns/record")
}

// cpuTime returns the CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkTelescope: the records of a simulated Code Red /16 telescope
// (532,000, one family, 36,000 distinct sources, 14 hours of 1-minute
// intervals): two series.
func BenchmarkTelescope(b *testing.B) {
	cr := readCodeRed(b)
	benchRecords(b, expand(fromFirst(cr.Rows), cr.Interval, 0, []int{0}, "10", 1, 0.9))
}

// BenchmarkWaves: two worms and background on two sensors over 60 hours
// (518,000 records, 46,000 sources, 6 series with restarts of the filter).
func BenchmarkWaves(b *testing.B) {
	benchRecords(b, waves(1, 60))
}

// BenchmarkSnapshot reports the sizes of a Full snapshot and of a
// Checkpoint after one more minute of records, after the Code Red
// telescope's records, and the time to restore the Full one.
func BenchmarkSnapshot(b *testing.B) {
	cr := readCodeRed(b)
	ops := expand(fromFirst(cr.Rows), cr.Interval, 0, []int{0}, "10", 1, 0.9)
	cut := len(ops) - 1000
	w := newWatch(b, watch.DefaultSettings)
	apply(b, w, ops[:cut])
	full := w.Full()
	apply(b, w, ops[cut:])
	inc := w.Checkpoint()
	cfg := watch.Config{Settings: watch.DefaultSettings, Families: families}
	for b.Loop() {
		if _, err := watch.Restore(cfg, full.Log, full.Hot); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(full.Log)), "full-log-bytes")
	b.ReportMetric(float64(len(full.Hot)), "hot-bytes")
	b.ReportMetric(float64(len(inc.Log)), "checkpoint-log-bytes")
	b.ReportMetric(float64(w.Stats().Sources), "sources")
	b.ReportMetric(float64(len(w.Rows(0))), "rows")
}
