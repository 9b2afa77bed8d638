package servetest

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"wormwatch/forecast"
)

// CodeRedRequest is the request line of Code Red I and II's first
// version (224 N), as the IIS servers of July 2001 logged it.
var CodeRedRequest = "GET /default.ida?" + strings.Repeat("N", 224) +
	"%u9090%u6858%ucbd3%u7801%u9090%u6858%ucbd3%u7801%u9090%u6858%ucbd3%u7801%u9090%u9090%u8190%u00c3%u0003%u8b00%u531b%u53ff%u0078%u0000%u00=a HTTP/1.0"

// CodeRedSeries is the simulated Code Red /16 telescope of watch's test
// data, from the module's root.
const CodeRedSeries = "watch/testdata/codered2-ucsd-16.csv"

// Interval is the log lines of one row of the telescope's series: the
// interval from Start.
type Interval struct {
	Start time.Time
	Lines []byte
}

// CodeRedLog returns, interval by interval, an Apache combined log of a
// web server that sees the rows of CodeRedSeries from their start to
// until: per row, its new sources fresh, the others drawn from those seen
// before, the rest of the probes from the row's sources, at times spread
// over the interval, in time order; now and then (one row in ten, drawn)
// a page request of no worm. seed draws the sources and times.
func CodeRedLog(t testing.TB, until time.Time, seed uint64) []Interval {
	t.Helper()
	s, err := forecast.ReadSeriesFile(context.Background(), ModuleFile(t, CodeRedSeries))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 0x636f6465726564))
	var seen []string
	type line struct {
		t   time.Time
		src string
		req string
	}
	var out []Interval
	for _, r := range s.Rows {
		if !r.Time.Before(until) {
			break
		}
		var cur []string
		for range r.NewSources {
			n := len(seen)
			seen = append(seen, fmt.Sprintf("10.%d.%d.%d", n/62500, n/250%250, n%250+1))
			cur = append(cur, seen[n])
		}
		old := seen[:len(seen)-int(r.NewSources)]
		for _, i := range rng.Perm(len(old))[:r.Sources-r.NewSources] {
			cur = append(cur, old[i])
		}
		var lines []line
		for i := range r.Probes {
			src := cur[int(i)%len(cur)]
			if i >= int64(len(cur)) {
				src = cur[rng.IntN(len(cur))]
			}
			lines = append(lines, line{r.Time.Add(time.Duration(rng.Int64N(int64(s.Interval)))), src, CodeRedRequest})
		}
		if rng.IntN(10) == 0 {
			lines = append(lines, line{r.Time.Add(time.Duration(rng.Int64N(int64(s.Interval)))), "192.0.2.7", "GET /index.html HTTP/1.1"})
		}
		slices.SortStableFunc(lines, func(a, b line) int { return a.t.Compare(b.t) })
		var b bytes.Buffer
		for _, l := range lines {
			status := 404
			if !strings.Contains(l.req, "ida") {
				status = 200
			}
			fmt.Fprintf(&b, "%s - - [%s] \"%s\" %d - \"-\" \"-\"\n", l.src, l.t.Format("02/Jan/2006:15:04:05 -0700"), l.req, status)
		}
		out = append(out, Interval{r.Time, b.Bytes()})
	}
	return out
}

// Lines returns the lines of intervals, in order.
func Lines(ivs []Interval) []byte {
	var b []byte
	for _, iv := range ivs {
		b = append(b, iv.Lines...)
	}
	return b
}

// ModuleFile returns the path of the file rel names from the module's
// root (the first folder up from the working folder with a go.mod).
func ModuleFile(t testing.TB, rel string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, filepath.FromSlash(rel))
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatalf("no go.mod above the working folder: cannot find %s", rel)
		}
		dir = up
	}
}
