package replay

import (
	"fmt"
	"math"
	"sort"
	"time"

	"gonum.org/v1/gonum/stat"

	"wormwatch/results"
	"wormwatch/scenario"
	"wormwatch/scenario/builtin/reference"
)

// colIndex returns the index of a column in a seedSeries (time series
// columns first, then each sensor's columns), or -1.
func colIndex(r *results.Replay, name string) int {
	for i, b := range r.Bands {
		if b.Name == name {
			return i
		}
	}
	return -1
}

// binAt returns the index of the bin that starts at t, or -1 if t is
// outside the run. A count "by t" is read at the end of bin binAt(t)-1.
func binAt(r *results.Replay, t time.Time) int {
	d := t.Sub(r.Start).Seconds()
	if d < 0 {
		return -1
	}
	i := int(math.Round(d / r.BinSeconds))
	if i > len(r.Times) {
		return -1
	}
	return i
}

// perSeed applies f to every seed's series and returns the band of the
// results (NaN results are dropped).
func perSeed(all []*seedSeries, f func(s *seedSeries) float64) (p05, p50, p95 float64, n int) {
	var v []float64
	for _, s := range all {
		if x := f(s); !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return math.NaN(), math.NaN(), math.NaN(), 0
	}
	a, b, c := results.Quantiles(v)
	return a, b, c, len(v)
}

// validator puts a replay beside the published figures of the reference
// data (codered-2001.toml): each check is one of its methods, and applies
// only when the scenario covers its time (and has the sensor it needs).
type validator struct {
	sc  *scenario.Scenario
	r   *results.Replay
	all []*seedSeries
	ref *reference.CodeRed
	// The columns of the seeds' series the checks read (-1: missing).
	cum, newSrc, scanning, patched, removed, newInf int
	patchedHome, removedHome                        int
	// b0 and b1 are the bins of the outbreak's day and of the end of
	// spreading.
	b0, b1 int

	v   results.Validation
	pts []results.Point
}

// validate puts the replay r of sc, whose seeds' series are all, beside
// the published figures of ref: the checks, the logistic fit and the
// traffic figures, and the published points to mark on the plots.
func validate(sc *scenario.Scenario, r *results.Replay, all []*seedSeries, ref *reference.CodeRed) (results.Validation, []results.Point) {
	va := &validator{sc: sc, r: r, all: all, ref: ref,
		cum:         colIndex(r, results.SensorBand(ref.Telescope, results.SensorCumulativeSources)),
		newSrc:      colIndex(r, results.SensorBand(ref.Telescope, results.SensorNewSources)),
		scanning:    colIndex(r, results.InfectedScanning),
		patched:     colIndex(r, results.Patched),
		removed:     colIndex(r, results.Removed),
		newInf:      colIndex(r, results.NewInfections),
		patchedHome: colIndex(r, results.PatchedHome),
		removedHome: colIndex(r, results.RemovedHome),
		b0:          binAt(r, ref.Dates.OutbreakDay),
		b1:          binAt(r, ref.Dates.SpreadEnds),
	}
	va.seen()
	va.peak()
	va.firstSeen()
	va.stop()
	va.patchedShares()
	va.v.Logistic = fitLogistic(r, all, va.cum, ref)
	va.v.Traffic = traffic(sc, r, all, ref)
	va.v.Restart = restart(r, all, ref)
	return va.v, va.pts
}

// check puts a published figure beside the band p05, p50, p95 of its
// simulated counterpart; it is inside when the figure lies in the band.
func (va *validator) check(c reference.Check, name string, p05, p50, p95 float64) results.Check {
	return results.Check{Name: name, Source: va.ref.Source(c.Source), Measured: c.Measured, Unit: c.Unit, P05: p05, P50: p50, P95: p95,
		Inside: c.Measured >= p05 && c.Measured <= p95, Note: c.Note}
}

// seen checks the distinct infected addresses the /8 telescope saw by
// 00:00 UTC 20 July, and marks CAIDA's count on the plots.
func (va *validator) seen() {
	c, r := va.ref.Checks.Seen, va.r
	b := binAt(r, c.At)
	if va.cum < 0 || b <= 0 || b > len(r.Times) {
		return
	}
	p05, p50, p95, _ := perSeed(va.all, func(s *seedSeries) float64 { return float64(s.cols[va.cum][b-1]) })
	va.v.Checks = append(va.v.Checks, va.check(c, c.Name, p05, p50, p95))
	va.pts = append(va.pts, results.Point{Series: results.SensorBand(va.ref.Telescope, results.SensorCumulativeSources), Time: c.At,
		Value: c.Measured, Label: c.Label, Source: va.ref.Source(c.Source)})
}

// peak checks the most new sources per minute the telescope saw on the
// outbreak's day (new infections without a telescope): inside when the
// simulated 5% quantile is above the published "more than".
func (va *validator) peak() {
	c, r := va.ref.Checks.Peak, va.r
	if va.b0 < 0 || va.b1 <= va.b0 || va.b1 > len(r.Times) {
		return
	}
	col, name := va.newSrc, c.Name
	if col < 0 {
		col, name = va.newInf, c.NameWithoutTelescope
	}
	perMin := 60 / r.BinSeconds
	p05, p50, p95, _ := perSeed(va.all, func(s *seedSeries) float64 {
		m := 0.0
		for i := va.b0; i < va.b1; i++ {
			m = math.Max(m, float64(s.cols[col][i])*perMin)
		}
		return m
	})
	ch := va.check(c, name, p05, p50, p95)
	ch.Inside = p05 > c.Measured
	va.v.Checks = append(va.v.Checks, ch)
}

// firstSeen checks when the telescope first sees the worm: the hour of
// the outbreak's day at which new sources per hour first reach the
// threshold, from an hour before the published appearance; inside from
// the published hour to the latest.
func (va *validator) firstSeen() {
	c, r := va.ref.Checks.FirstSeen, va.r
	if va.b0 < 0 || va.b1 <= va.b0 || va.b1 > len(r.Times) || va.newSrc < 0 {
		return
	}
	per := int(math.Max(1, math.Round(3600/r.BinSeconds)))
	appears := binAt(r, va.ref.Dates.CRv2Appears)
	p05, p50, p95, _ := perSeed(va.all, func(s *seedSeries) float64 {
		sum := 0.0
		for i := va.b0; i < va.b1; i++ {
			sum += float64(s.cols[va.newSrc][i])
			if i-per >= va.b0 {
				sum -= float64(s.cols[va.newSrc][i-per])
			}
			if sum >= c.NewSources && i >= appears-per {
				return r.Times[i].Sub(va.ref.Dates.OutbreakDay).Hours()
			}
		}
		return math.NaN()
	})
	ch := va.check(c, c.Name, p05, p50, p95)
	ch.Inside = p05 >= c.Measured && p95 <= c.Latest
	va.v.Checks = append(va.v.Checks, ch)
}

// stop checks that spreading stops when the calendar says for hosts with
// right clocks: the share of scanning hosts still scanning in the first
// bin after; inside if below the share of wrong clocks.
func (va *validator) stop() {
	c, r := va.ref.Checks.Stop, va.r
	b := va.b1
	if va.scanning < 0 || b <= 0 || b+1 >= len(r.Times) {
		return
	}
	p05, p50, p95, _ := perSeed(va.all, func(s *seedSeries) float64 {
		before := float64(s.cols[va.scanning][b-1])
		if before == 0 {
			return math.NaN()
		}
		return float64(s.cols[va.scanning][b]) / before
	})
	ch := va.check(c, c.Name, p05, p50, p95)
	ch.Inside = p95 <= va.sc.Population.Clock.WrongShare
	va.v.Checks = append(va.v.Checks, ch)
}

// patchedShares checks the patched share of the servers on the days of
// the surveys, and marks the surveys on the plots: inside when the median
// is within the tolerance. The survey (CAIDA's daily scan of about 10,000
// IIS 5.0 servers) saw servers, not home and small-business machines, so
// the simulated share is that of the hosts that are not home machines and
// not removed: (patched - patched_home) / (hosts - home - (removed -
// removed_home)). The mark on the plot of the patched hosts is the
// survey's share of the servers plus the home machines patched (median
// over the seeds): what the column would read if the survey were right.
func (va *validator) patchedShares() {
	r := va.r
	for _, c := range va.ref.Checks.Patched {
		b := binAt(r, c.At)
		if va.patched < 0 || va.patchedHome < 0 || va.removedHome < 0 || b <= 0 || b > len(r.Times) {
			continue
		}
		p05, p50, p95, _ := perSeed(va.all, func(s *seedSeries) float64 {
			return serverPatchedShare(s.hosts, s.home, float64(s.cols[va.patched][b-1]), float64(s.cols[va.patchedHome][b-1]),
				float64(s.cols[va.removed][b-1]), float64(s.cols[va.removedHome][b-1]))
		})
		ch := va.check(c, c.Name, p05, p50, p95)
		ch.Inside = math.Abs(p50-c.Measured) <= c.Tolerance
		va.v.Checks = append(va.v.Checks, ch)
		_, home, _, _ := perSeed(va.all, func(s *seedSeries) float64 { return float64(s.cols[va.patchedHome][b-1]) })
		servers := va.all[0].hosts - va.all[0].home
		va.pts = append(va.pts, results.Point{Series: results.Patched, Time: c.At, Value: c.Measured*servers + home, Label: c.Label, Source: va.ref.Source(c.Source)})
	}
}

// serverPatchedShare is the patched share of the servers (the hosts that
// are not home machines) still on the network: (patched - patchedHome) /
// (hosts - home - (removed - removedHome)); NaN when none is left.
func serverPatchedShare(hosts, home, patched, patchedHome, removed, removedHome float64) float64 {
	on := hosts - home - (removed - removedHome)
	if on <= 0 {
		return math.NaN()
	}
	return (patched - patchedHome) / on
}

// fitLogistic fits the random constant spread model to the telescope's
// cumulative sources from the worm's appearance to the end of spreading
// (19 July 10:00 to 20 July 00:00 UTC), per seed: with C the count at the
// end, logit(a) = K (t - T) for a = cum/C between 5% and 95%, fitted by
// least squares; beside the published range of K.
func fitLogistic(r *results.Replay, all []*seedSeries, cum int, ref *reference.CodeRed) results.Logistic {
	l := results.Logistic{Series: results.SensorBand(ref.Telescope, results.SensorCumulativeSources),
		PublishedKLow: ref.Logistic.KLow, PublishedKHigh: ref.Logistic.KHigh, Source: ref.Source(ref.Logistic.Source)}
	b0, b1 := binAt(r, ref.Dates.CRv2Appears), binAt(r, ref.Dates.SpreadEnds)
	if cum < 0 || b0 < 0 || b1 <= b0 || b1 > len(r.Times) {
		return l
	}
	var ks, ts []float64
	for _, s := range all {
		base := float64(s.cols[cum][b0])
		c := float64(s.cols[cum][b1-1]) - base
		var x, y []float64
		for i := b0; i < b1; i++ {
			a := (float64(s.cols[cum][i]) - base) / c
			if a > 0.05 && a < 0.95 {
				// Counts are at the end of the bin.
				x = append(x, r.Times[i].Sub(r.Start).Hours()+r.BinSeconds/3600)
				y = append(y, math.Log(a/(1-a)))
			}
		}
		if len(x) < 3 {
			continue
		}
		alpha, beta := stat.LinearRegression(x, y, nil, false)
		ks = append(ks, beta)
		ts = append(ts, -alpha/beta)
	}
	if len(ks) == 0 {
		return l
	}
	sort.Float64s(ks)
	sort.Float64s(ts)
	l.KPerHour = [3]float64{results.Quantile(ks, 0.05), results.Quantile(ks, 0.5), results.Quantile(ks, 0.95)}
	for i, q := range []float64{0.05, 0.5, 0.95} {
		l.T[i] = r.Start.Add(seconds(results.Quantile(ts, q) * 3600))
	}
	return l
}

// traffic computes the worm's totals and peaks over seeds.
func traffic(sc *scenario.Scenario, r *results.Replay, all []*seedSeries, ref *reference.CodeRed) []results.Quantity {
	probes, syn, bytes, flood := colIndex(r, results.Probes), colIndex(r, results.SynPackets), colIndex(r, results.BytesOnWire), colIndex(r, results.FloodBytes)
	q := func(name, unit, note string, f func(s *seedSeries) float64) results.Quantity {
		a, b, c, _ := perSeed(all, f)
		return results.Quantity{Name: name, Unit: unit, P05: a, P50: b, P95: c, Note: note}
	}
	sum := func(col int, upto int) func(s *seedSeries) float64 {
		return func(s *seedSeries) float64 {
			t := 0.0
			for i := 0; i < upto && i < len(s.cols[col]); i++ {
				t += float64(s.cols[col][i])
			}
			return t
		}
	}
	peak := func(col int, scale float64) func(s *seedSeries) float64 {
		return func(s *seedSeries) float64 {
			m := 0.0
			for _, x := range s.cols[col] {
				m = math.Max(m, float64(x))
			}
			return m * scale
		}
	}
	n := len(r.Times)
	out := []results.Quantity{
		q("total probes", "probes", "connection attempts by all variants over the run", sum(probes, n)),
		q("peak SYN packets per second", "packets/s", "highest bin, averaged over the bin", peak(syn, 1/r.BinSeconds)),
		q("peak scan traffic", "bit/s", "IP bytes of SYNs and requests, highest bin", peak(bytes, 8/r.BinSeconds)),
		q(ref.Flood.Sent, "bytes", ref.Flood.SentNote, sum(flood, n)),
	}
	// The site moved before the flood began: bytes that reached it are the
	// flood bytes before the move; the new address (.92) gets none.
	moved := time.Time{}
	for _, w := range sc.Worms {
		if !w.Calendar.FloodTargetMoved.IsZero() && (moved.IsZero() || w.Calendar.FloodTargetMoved.Before(moved)) {
			moved = w.Calendar.FloodTargetMoved
		}
	}
	if !moved.IsZero() {
		b := binAt(r, moved)
		if b < 0 {
			b = 0
		}
		out = append(out,
			q(ref.Flood.Reached, "bytes", ref.Flood.ReachedNote, sum(flood, b)),
			q(ref.Flood.NewAddress, "bytes", ref.Flood.NewAddressNote, func(*seedSeries) float64 { return 0 }))
	}
	return out
}

// restart is what the replay predicts for the day of the restart, 1
// August 2001 (UTC), over seeds: the infected hosts when the worm wakes
// and through the day, the hourly growth factor of the hosts scanning
// while they climb, the infections of the day and the hosts infected for
// the first time, and the addresses the telescope sees for the first
// time. Empty when the run does not cover the day.
func restart(r *results.Replay, all []*seedSeries, ref *reference.CodeRed) []results.Quantity {
	day := ref.Dates.Restart
	b0, b1 := binAt(r, day), binAt(r, day.Add(24*time.Hour))
	if b0 <= 0 || b1 < 0 || b1 > len(r.Times) {
		return nil
	}
	inf, scan, ever, newInf := colIndex(r, results.Infected), colIndex(r, results.InfectedScanning), colIndex(r, results.EverInfected), colIndex(r, results.NewInfections)
	cum := colIndex(r, results.SensorBand(ref.Telescope, results.SensorCumulativeSources))
	if inf < 0 || scan < 0 || ever < 0 || newInf < 0 {
		return nil
	}
	// at reads column c at the end of the bin before b (a count "by" the
	// moment bin b starts).
	at := func(c, b int) func(s *seedSeries) float64 {
		return func(s *seedSeries) float64 { return float64(s.cols[c][b-1]) }
	}
	hour := func(h int) int { return binAt(r, day.Add(time.Duration(h)*time.Hour)) }
	q := func(name, unit, note string, f func(s *seedSeries) float64) results.Quantity {
		a, b, c, _ := perSeed(all, f)
		return results.Quantity{Name: name, Unit: unit, P05: a, P50: b, P95: c, Note: note}
	}
	out := []results.Quantity{q("hosts infected at 00:00 UTC 1 August (dormant, about to wake)", "hosts", "infected in July and neither rebooted, switched off nor patched since", at(inf, b0))}
	when := func(h int) string {
		if h == 24 {
			return "at 00:00 UTC 2 August"
		}
		return fmt.Sprintf("at %02d:00 UTC 1 August", h)
	}
	for _, h := range []int{3, 6, 12, 18, 24} {
		out = append(out, q("hosts infected "+when(h), "hosts", "", at(inf, hour(h))),
			q("hosts scanning "+when(h), "hosts", "", at(scan, hour(h))))
	}
	// The growth factor per hour of the hosts scanning, over the hours
	// they grow: from 02:00 to the hour of their peak on the day.
	out = append(out, q("growth factor per hour of the hosts scanning, 02:00 UTC to their peak on 1 August", "per hour",
		"(scanning at the peak / scanning at 02:00)^(1 / hours between); 1 when they do not grow", func(s *seedSeries) float64 {
			from := hour(2)
			best, bestB := float64(s.cols[scan][from-1]), from
			for h := 3; h <= 24; h++ {
				if x := float64(s.cols[scan][hour(h)-1]); x > best {
					best, bestB = x, hour(h)
				}
			}
			first := float64(s.cols[scan][from-1])
			if bestB == from || first == 0 {
				return 1
			}
			return math.Pow(best/first, 3600/(float64(bestB-from)*r.BinSeconds))
		}))
	out = append(out,
		q("new infections on 1 August (UTC)", "infections", "infections of hosts that were susceptible, whether infected in July or not", func(s *seedSeries) float64 {
			t := 0.0
			for i := b0; i < b1; i++ {
				t += float64(s.cols[newInf][i])
			}
			return t
		}),
		q("hosts infected for the first time on 1 August (UTC)", "hosts", "the rise of ever_infected over the day", func(s *seedSeries) float64 {
			return float64(s.cols[ever][b1-1] - s.cols[ever][b0-1])
		}))
	if cum >= 0 {
		out = append(out, q("addresses the /8 telescope sees for the first time on 1 August (UTC)", "addresses",
			"infected addresses not seen since the scenario's start: hosts infected for the first time, and hosts seen before whose DHCP lease gave them a new address", func(s *seedSeries) float64 {
				return float64(s.cols[cum][b1-1] - s.cols[cum][b0-1])
			}))
	}
	return out
}
