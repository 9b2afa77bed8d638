package chart

import (
	"fmt"
	"math"
	"time"

	"wormwatch/results"
)

// kind says how a column's bins combine into a coarser window.
type kind int

const (
	// level is a state at the end of the bin (hosts infected, cumulative
	// sources): a window shows the value of its last bin, at that bin's end.
	level kind = iota
	// count is a number of events during the bin (infections, packets,
	// bytes): a window shows their rate over the seconds it covers.
	count
	// perBin is a per-bin figure that does not add up across bins (distinct
	// sources seen during the bin): a window shows its mean.
	perBin
)

// series is one band cut to a time window and aggregated: X in Unix
// seconds, and the 5%, 50% and 95% points of each window.
type series struct {
	X            []float64
	Lo, Mid, Hi  []float64
	Window, Bins time.Duration // the aggregation window and the bin width
}

func (s series) len() int { return len(s.X) }

// aggregate cuts band b to the bins starting in [from, to) and combines them
// into windows of step aligned on from (a step below the bin width means
// one window per bin). For a count the value is the rate per `per` seconds
// over the seconds the window's bins cover; every value is multiplied by
// scale. Windows holding a NaN or an infinity are left out (the plotting
// library refuses them), so a line has a gap there rather than a wrong
// value.
//
// The 5% and 95% points of a window are combined bin by bin (the last bin,
// the sum or the mean of the bins' percentiles), not computed from the
// seeds' window totals, which the Replay does not hold; for counts over
// windows of several bins this band is therefore wider than the band of
// the window totals, and the captions say so.
func aggregate(times []time.Time, binSec float64, b *results.Band, from, to time.Time, step time.Duration, k kind, per, scale float64) series {
	bin := time.Duration(binSec * float64(time.Second))
	if step < bin {
		step = bin
	}
	s := series{Window: step, Bins: bin}
	type acc struct {
		lo, mid, hi float64
		n           int
		first, last time.Time
		bad         bool
	}
	var cur acc
	curIdx := int64(-1)
	flush := func() {
		if curIdx < 0 || cur.n == 0 || cur.bad {
			return
		}
		var x, lo, mid, hi float64
		switch k {
		case level:
			x = unix(cur.last.Add(bin))
			lo, mid, hi = cur.lo, cur.mid, cur.hi
		case count:
			covered := float64(cur.n) * binSec
			x = unix(cur.first) + covered/2
			f := per / covered
			lo, mid, hi = cur.lo*f, cur.mid*f, cur.hi*f
		case perBin:
			x = unix(cur.first) + float64(cur.n)*binSec/2
			n := float64(cur.n)
			lo, mid, hi = cur.lo/n, cur.mid/n, cur.hi/n
		}
		s.X = append(s.X, x)
		s.Lo = append(s.Lo, lo*scale)
		s.Mid = append(s.Mid, mid*scale)
		s.Hi = append(s.Hi, hi*scale)
	}
	n := min(len(times), len(b.P05), len(b.P50), len(b.P95))
	for i := range n {
		t := times[i]
		if t.Before(from) || !t.Before(to) {
			continue
		}
		idx := int64(t.Sub(from) / step)
		if idx != curIdx {
			flush()
			cur = acc{first: t}
			curIdx = idx
		}
		lo, mid, hi := b.P05[i], b.P50[i], b.P95[i]
		if !finite(lo) || !finite(mid) || !finite(hi) {
			cur.bad = true
		}
		cur.last = t
		cur.n++
		if k == level {
			cur.lo, cur.mid, cur.hi = lo, mid, hi
		} else {
			cur.lo += lo
			cur.mid += mid
			cur.hi += hi
		}
	}
	flush()
	return s
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func unix(t time.Time) float64 {
	return float64(t.Unix()) + float64(t.Nanosecond())/1e9
}

// span is the time the Replay covers: the start of its first bin to the
// end of its last.
func span(r *results.Replay) (from, to time.Time) {
	if len(r.Times) == 0 {
		return r.Start, r.Start
	}
	return r.Times[0], r.Times[len(r.Times)-1].Add(time.Duration(r.BinSeconds * float64(time.Second)))
}

// band returns the band of the given name, checked against the Replay's
// times, or an error naming it and the bands there are.
func band(r *results.Replay, name string) (*results.Band, error) {
	b := r.Band(name)
	if b == nil {
		names := make([]string, len(r.Bands))
		for i := range r.Bands {
			names[i] = r.Bands[i].Name
		}
		return nil, fmt.Errorf("chart: the replay result has no band %q (it has %q)", name, names)
	}
	n := len(r.Times)
	if len(b.P05) != n || len(b.P50) != n || len(b.P95) != n {
		return nil, fmt.Errorf("chart: band %q has %d/%d/%d values for %d times (want one per time)",
			name, len(b.P05), len(b.P50), len(b.P95), n)
	}
	return b, nil
}

// checkResult rejects a Replay no figure can be drawn from.
func checkResult(r *results.Replay) error {
	if r == nil {
		return fmt.Errorf("chart: no replay result")
	}
	if len(r.Times) == 0 {
		return fmt.Errorf("chart: the replay result has no time bins")
	}
	if !(r.BinSeconds > 0) || math.IsInf(r.BinSeconds, 0) {
		return fmt.Errorf("chart: the replay result's bin_seconds is %v (want a positive number)", r.BinSeconds)
	}
	return nil
}
