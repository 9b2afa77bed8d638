package forecast_test

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"wormwatch/forecast"
)

// yearCSV is a year of minute counts (525,600 rows) from a /8-like sensor:
// background scanning all year, and a Code Red-like outbreak starting on
// day 200. It is built once, for the benchmarks.
var yearCSV = sync.OnceValue(func() []byte {
	bg := noise{size: 1 << 24, days: 365, interval: time.Minute, persist: 100, arrivals: 20, life: 2 * time.Hour, rate: 6, spread: 1, amplitude: 0.5}.generate(1)
	w, _ := outbreak{n: 360000, k: 1.47, mu: 68, size: 1 << 24, start: 200 * 24 * time.Hour, interval: time.Minute, hours: 365 * 24}.generate(1)
	s := add(w, bg)
	var b bytes.Buffer
	b.WriteString("time,probes,sources,new_sources,cumulative_sources,size\n")
	for _, r := range s.Rows {
		fmt.Fprintf(&b, "%s,%d,%d,%d,%d,%d\n", r.Time.Format(time.RFC3339), r.Probes, r.Sources, r.NewSources, r.CumulativeSources, s.Size)
	}
	return b.Bytes()
})

// BenchmarkForecastYear reads a year of minute counts from CSV and
// analyses it (filter, alarm, logistic fit, forecast band): the issue's
// target is under a second.
func BenchmarkForecastYear(b *testing.B) {
	data := yearCSV()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		s, err := forecast.ReadSeries(b.Context(), bytes.NewReader(data), "year.csv")
		if err != nil {
			b.Fatal(err)
		}
		a, err := forecast.Analyze(b.Context(), s, forecast.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if a.Alarm == nil || len(s.Rows) != 525600 {
			b.Fatalf("%d rows, alarm %v: the benchmark's outbreak was not found", len(s.Rows), a.Alarm)
		}
	}
}

// BenchmarkReadYear is the CSV reading alone.
func BenchmarkReadYear(b *testing.B) {
	data := yearCSV()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := forecast.ReadSeries(b.Context(), bytes.NewReader(data), "year.csv"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkForecastYearMemory reports the memory a year of minute counts
// takes, per row: live-B/row is what the series and its analysis keep
// (their Rows and Steps), alloc-B/row all that reading and analysing
// allocate (garbage included).
func BenchmarkForecastYearMemory(b *testing.B) {
	data := yearCSV()
	var live, alloc float64
	for b.Loop() {
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		s, err := forecast.ReadSeries(b.Context(), bytes.NewReader(data), "year.csv")
		if err != nil {
			b.Fatal(err)
		}
		a, err := forecast.Analyze(b.Context(), s, forecast.Options{})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&m1)
		rows := float64(len(s.Rows))
		live = (float64(m1.HeapAlloc) - float64(m0.HeapAlloc)) / rows
		alloc = float64(m1.TotalAlloc-m0.TotalAlloc) / rows
		runtime.KeepAlive(s)
		runtime.KeepAlive(a)
	}
	b.ReportMetric(live, "live-B/row")
	b.ReportMetric(alloc, "alloc-B/row")
}
