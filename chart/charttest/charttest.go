// Package charttest builds a synthetic results.Replay for the tests of the
// chart and page packages: a Code Red-like summer (a logistic outbreak on
// 19 July, a flood, dormancy, a restart on 1 August) with bands over
// seeds, a telescope, IPv4 snapshots, published points and a validation
// table. Its numbers are plausible, not simulated.
package charttest

import (
	"math"
	"math/rand/v2"
	"time"

	"wormwatch/results"
)

// Vulnerable is the synthetic population of vulnerable hosts.
const Vulnerable = 360000

// Options change the synthetic Replay.
type Options struct {
	// Days is the length of the replay from 12 July 2001 (default 50).
	Days int
	// BinSeconds is the width of a bin (default 600).
	BinSeconds float64
	// Snapshots is the number of maps (default 3, at most 6).
	Snapshots int
}

// Outbreak is the logistic midpoint of the synthetic outbreak, and
// KPerHour its rate: ever_infected is Vulnerable*0.95/(1+exp(-K(t-T)))
// on 19 July.
var (
	Outbreak = time.Date(2001, 7, 19, 17, 0, 0, 0, time.UTC)
	KPerHour = 1.8
)

// Start is the start of the synthetic replay.
var Start = time.Date(2001, 7, 12, 0, 0, 0, 0, time.UTC)

// The moments of the synthetic summer: hosts stop spreading at 00:00 UTC
// on 20 July and wake up on 1 August.
var (
	july20  = time.Date(2001, 7, 20, 0, 0, 0, 0, time.UTC)
	restart = time.Date(2001, 8, 1, 0, 0, 0, 0, time.UTC)
)

// Result returns a synthetic results.Replay; zero Options take the
// defaults.
func Result(o Options) *results.Replay {
	o = o.withDefaults()
	r := header(o)
	cols := columns(r, o)
	addBands(r, cols)
	for k, t := range snapshotTimes[:min(o.Snapshots, len(snapshotTimes))] {
		r.Maps = append(r.Maps, Snapshot(t, "", everInfected(t)+secondWave(t), uint64(k)))
	}
	r.Maps[0].Label = "19 July, 14:00"
	r.Measured = measured()
	r.Validation = validation()
	return r
}

// withDefaults fills the zero fields of o.
func (o Options) withDefaults() Options {
	if o.Days == 0 {
		o.Days = 50
	}
	if o.BinSeconds == 0 {
		o.BinSeconds = 600
	}
	if o.Snapshots == 0 {
		o.Snapshots = 3
	}
	return o
}

// header is the Replay's description: what was replayed, with which seeds,
// and its telescope.
func header(o Options) *results.Replay {
	return &results.Replay{
		Scenario:    "codered-2001",
		Description: `Code Red summer 2001 <synthetic> & "test"`,
		Version:     "0.1.0-test",
		Seeds:       []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 40, 41},
		Start:       Start,
		BinSeconds:  o.BinSeconds,
		ScenarioTOML: []byte("name = \"codered-2001\"\ndescription = \"a <script>alert('x')</script> & test\"\n" +
			"[space]\nbits = 32\n[population]\nhosts = 360000\n"),
		Sensors: []results.SensorInfo{{Name: "ucsd-8", Prefix: "44.0.0.0/8", Size: 1 << 24}},
	}
}

// bandNames are the synthetic Replay's bands, in order.
var bandNames = []string{"susceptible", "infected", "infected_scanning", "infected_flooding", "infected_dormant",
	"patched", "removed", "new_infections", "ever_infected", "probes", "syn_packets", "bytes_on_wire", "flood_bytes",
	"ucsd-8_probes", "ucsd-8_sources", "ucsd-8_new_sources", "ucsd-8_cumulative_sources"}

// everInfected is the first wave's hosts ever infected by t: a logistic
// around Outbreak, stopped on 20 July.
func everInfected(t time.Time) float64 {
	if t.After(july20) {
		t = july20
	}
	h := t.Sub(Outbreak).Hours()
	return 0.95 * Vulnerable / (1 + math.Exp(-KPerHour*h))
}

// secondWave is the infections after the restart of 1 August, by t.
func secondWave(t time.Time) float64 {
	if t.Before(restart) {
		return 0
	}
	h := t.Sub(restart).Hours()
	return 60000 * (1 - math.Exp(-h/20))
}

// bin is one bin of the synthetic summer: the value of every column at
// its end (or during it).
type bin struct {
	sus, inf, scan, flood, dorm, patched, ever, cum float64
}

// binAt works out the hosts' states at end, the end of a bin.
func binAt(end time.Time) bin {
	var b bin
	b.ever = everInfected(end) + secondWave(end)
	days := math.Max(0, end.Sub(july20).Hours()/24)
	b.patched = math.Min(0.55, 0.01*days+0.2*math.Max(0, end.Sub(restart.Add(-48*time.Hour)).Hours()/48)) * Vulnerable
	b.patched = math.Min(b.patched, 0.55*Vulnerable)
	cleaned := b.ever * math.Min(0.6, 0.03*days)
	b.inf = math.Max(0, b.ever-cleaned)
	b.sus = math.Max(0, Vulnerable-b.inf-b.patched)
	switch d := end.Day(); {
	case d < 20:
		b.scan = b.inf
	case d < 28:
		b.flood = b.inf
	default:
		b.dorm = b.inf
	}
	// Hosts wake up over the first hours of the month.
	if end.Day() == 1 && end.Month() == time.August {
		f := 1 - math.Exp(-float64(end.Hour())/4)
		b.scan, b.dorm = b.inf*f, b.inf*(1-f)
	}
	b.cum = 0.97 * b.ever
	return b
}

// columns sets the Replay's times and returns the median of every band,
// bin by bin.
func columns(r *results.Replay, o Options) map[string][]float64 {
	step := time.Duration(o.BinSeconds * float64(time.Second))
	n := int(time.Duration(o.Days) * 24 * time.Hour / step)
	cols := map[string][]float64{}
	for _, c := range bandNames {
		cols[c] = make([]float64, n)
	}
	prevEver, prevCum := 0.0, 0.0
	for i := range n {
		t := Start.Add(time.Duration(i) * step)
		r.Times = append(r.Times, t)
		b := binAt(t.Add(step))
		probes := b.scan * 4.8 * o.BinSeconds
		for c, v := range map[string]float64{
			"susceptible": b.sus, "infected": b.inf, "infected_scanning": b.scan, "infected_flooding": b.flood,
			"infected_dormant": b.dorm, "patched": b.patched, "removed": 0, "new_infections": math.Max(0, b.ever-prevEver),
			"ever_infected": b.ever, "probes": probes, "syn_packets": 2.6 * probes, "bytes_on_wire": 2.6*probes*48 + probes*0.05*4000,
			"flood_bytes": b.flood * 100e3 / (4 * 3600) * o.BinSeconds, "ucsd-8_probes": probes / 256,
			"ucsd-8_sources": b.scan * (1 - math.Exp(-4.8*o.BinSeconds/256)), "ucsd-8_new_sources": math.Max(0, b.cum-prevCum),
			"ucsd-8_cumulative_sources": b.cum,
		} {
			cols[c][i] = v
		}
		prevEver, prevCum = b.ever, b.cum
	}
	return cols
}

// addBands makes a band of each column: the column as its median, and
// 5% and 95% a fixed random share below and above it.
func addBands(r *results.Replay, cols map[string][]float64) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range bandNames {
		n := len(cols[c])
		b := results.Band{Name: c, P50: cols[c], P05: make([]float64, n), P95: make([]float64, n)}
		lo, hi := 0.85+0.05*rng.Float64(), 1.1+0.05*rng.Float64()
		for i, v := range cols[c] {
			b.P05[i] = v * lo
			b.P95[i] = v * hi
		}
		r.Bands = append(r.Bands, b)
	}
}

// snapshotTimes are the moments of the synthetic maps.
var snapshotTimes = []time.Time{
	time.Date(2001, 7, 19, 14, 0, 0, 0, time.UTC),
	time.Date(2001, 7, 19, 20, 0, 0, 0, time.UTC),
	time.Date(2001, 7, 20, 0, 0, 0, 0, time.UTC),
	time.Date(2001, 7, 28, 0, 0, 0, 0, time.UTC),
	time.Date(2001, 8, 1, 12, 0, 0, 0, time.UTC),
	time.Date(2001, 8, 20, 0, 0, 0, 0, time.UTC),
}

// measured are the published points the synthetic Replay marks.
func measured() []results.Point {
	return []results.Point{
		{Series: "ucsd-8_cumulative_sources", Time: july20, Value: 359104, Label: "CAIDA: 359,104 sources", Source: "Moore, Shannon, Brown, IMW 2002"},
		{Series: "ucsd-8_new_sources", Time: time.Date(2001, 7, 19, 16, 30, 0, 0, time.UTC), Value: 2000, Label: "CAIDA: over 2,000 per minute", Source: "Moore, Shannon, Brown, IMW 2002"},
		{Series: "ever_infected", Time: time.Date(2001, 7, 25, 0, 0, 0, 0, time.UTC), Value: 375000, Label: "CAIDA 25 July: 375,000", Source: "CAIDA, 25 July 2001"},
	}
}

// validation is the synthetic Replay's validation table.
func validation() results.Validation {
	e := everInfected(july20)
	v := results.Validation{
		Checks: []results.Check{
			{Name: "Distinct sources seen by the /8 telescope, 19-20 July", Source: "Moore, Shannon, Brown, IMW 2002", Measured: 359104, Unit: "hosts",
				P05: 0.9 * 0.97 * e, P50: 0.97 * e, P95: 1.12 * 0.97 * e, Note: "telescope <first-seen> & cumulative"},
			{Name: "Peak new sources per minute", Source: "Moore, Shannon, Brown, IMW 2002", Measured: 2000, Unit: "hosts/min",
				P05: 2400, P50: 2800, P95: 3300},
			{Name: "Vulnerable share of IIS servers, 31 July", Source: "InformationWeek, 2 August 2001", Measured: 0.3, Unit: "fraction",
				P05: 0.22, P50: 0.27, P95: 0.33},
		},
		Logistic: results.Logistic{
			Series:        "ucsd-8_cumulative_sources",
			KPerHour:      [3]float64{1.62, 1.8, 1.97},
			T:             [3]time.Time{Outbreak.Add(-20 * time.Minute), Outbreak, Outbreak.Add(25 * time.Minute)},
			PublishedKLow: 1.7, PublishedKHigh: 2.6,
			Source: "Staniford, Paxson, Weaver 2002 (derived)",
		},
		Traffic: []results.Quantity{
			{Name: "Probes sent, 12 July to 31 August", Unit: "probes", P05: 3.1e11, P50: 3.4e11, P95: 3.7e11},
			{Name: "Peak scan traffic", Unit: "Gbit/s", P05: 7.1, P50: 7.9, P95: 8.6, Note: "IP bytes of probes, 1-minute bins"},
			{Name: "Flood traffic, 20-27 July", Unit: "bytes", P05: 1.0e14, P50: 1.2e14, P95: 1.4e14},
		},
	}
	for i := range v.Checks {
		c := &v.Checks[i]
		c.Inside = c.Measured >= c.P05 && c.Measured <= c.P95
	}
	return v
}

// Snapshot returns a map snapshot with about total infected hosts spread
// over /16s: more in a few busy /8s, none in 0/8, 10/8, 127/8 or 224/3.
func Snapshot(t time.Time, label string, total float64, seed uint64) results.Snapshot {
	s := results.Snapshot{Time: t, Label: label, Infected: make([]uint32, 1<<16)}
	rng := rand.New(rand.NewPCG(seed, 99))
	weights := make([]float64, 1<<16)
	var sum float64
	for i := range weights {
		a := i >> 8
		if a == 0 || a == 10 || a == 127 || a >= 224 {
			continue
		}
		w := rng.ExpFloat64()
		if a%7 == 3 || (a >= 61 && a <= 68) || (a >= 200 && a <= 218) {
			w *= 20
		}
		if rng.Float64() < 0.5 {
			w = 0
		}
		weights[i] = w
		sum += w
	}
	for i, w := range weights {
		s.Infected[i] = uint32(math.Round(total * w / sum))
	}
	return s
}
