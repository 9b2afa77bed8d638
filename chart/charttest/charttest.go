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

// Result returns a synthetic results.Replay; zero Options take the
// defaults.
func Result(o Options) *results.Replay {
	if o.Days == 0 {
		o.Days = 50
	}
	if o.BinSeconds == 0 {
		o.BinSeconds = 600
	}
	if o.Snapshots == 0 {
		o.Snapshots = 3
	}
	bin := time.Duration(o.BinSeconds * float64(time.Second))
	n := int(time.Duration(o.Days) * 24 * time.Hour / bin)
	r := &results.Replay{
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
	cols := map[string][]float64{}
	names := []string{"susceptible", "infected", "infected_scanning", "infected_flooding", "infected_dormant",
		"patched", "removed", "new_infections", "ever_infected", "probes", "syn_packets", "bytes_on_wire", "flood_bytes",
		"ucsd-8_probes", "ucsd-8_sources", "ucsd-8_new_sources", "ucsd-8_cumulative_sources"}
	for _, c := range names {
		cols[c] = make([]float64, n)
	}
	restart := time.Date(2001, 8, 1, 0, 0, 0, 0, time.UTC)
	july20 := time.Date(2001, 7, 20, 0, 0, 0, 0, time.UTC)
	ever := func(t time.Time) float64 {
		if t.After(july20) {
			t = july20
		}
		h := t.Sub(Outbreak).Hours()
		return 0.95 * Vulnerable / (1 + math.Exp(-KPerHour*h))
	}
	second := func(t time.Time) float64 { // infections after the restart
		if t.Before(restart) {
			return 0
		}
		h := t.Sub(restart).Hours()
		return 60000 * (1 - math.Exp(-h/20))
	}
	prevEver, prevCum := 0.0, 0.0
	for i := range n {
		t := Start.Add(time.Duration(i) * bin)
		end := t.Add(bin)
		r.Times = append(r.Times, t)
		e := ever(end) + second(end)
		days := math.Max(0, end.Sub(july20).Hours()/24)
		patched := math.Min(0.55, 0.01*days+0.2*math.Max(0, end.Sub(restart.Add(-48*time.Hour)).Hours()/48)) * Vulnerable
		patched = math.Min(patched, 0.55*Vulnerable)
		cleaned := e * math.Min(0.6, 0.03*days)
		inf := math.Max(0, e-cleaned)
		sus := math.Max(0, Vulnerable-inf-patched)
		var scan, flood, dorm float64
		switch d := end.Day(); {
		case d < 20:
			scan = inf
		case d < 28:
			flood = inf
		default:
			dorm = inf
		}
		// Hosts wake up over the first hours of the month.
		if end.Day() == 1 && end.Month() == time.August {
			f := 1 - math.Exp(-float64(end.Hour())/4)
			scan, dorm = inf*f, inf*(1-f)
		}
		probes := scan * 4.8 * o.BinSeconds
		cum := 0.97 * e
		set := func(c string, v float64) { cols[c][i] = v }
		set("susceptible", sus)
		set("infected", inf)
		set("infected_scanning", scan)
		set("infected_flooding", flood)
		set("infected_dormant", dorm)
		set("patched", patched)
		set("removed", 0)
		set("new_infections", math.Max(0, e-prevEver))
		set("ever_infected", e)
		set("probes", probes)
		set("syn_packets", 2.6*probes)
		set("bytes_on_wire", 2.6*probes*48+probes*0.05*4000)
		set("flood_bytes", flood*100e3/(4*3600)*o.BinSeconds)
		set("ucsd-8_probes", probes/256)
		set("ucsd-8_sources", scan*(1-math.Exp(-4.8*o.BinSeconds/256)))
		set("ucsd-8_new_sources", math.Max(0, cum-prevCum))
		set("ucsd-8_cumulative_sources", cum)
		prevEver, prevCum = e, cum
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range names {
		b := results.Band{Name: c, P50: cols[c], P05: make([]float64, n), P95: make([]float64, n)}
		lo, hi := 0.85+0.05*rng.Float64(), 1.1+0.05*rng.Float64()
		for i, v := range cols[c] {
			b.P05[i] = v * lo
			b.P95[i] = v * hi
		}
		r.Bands = append(r.Bands, b)
	}
	snapTimes := []time.Time{
		time.Date(2001, 7, 19, 14, 0, 0, 0, time.UTC),
		time.Date(2001, 7, 19, 20, 0, 0, 0, time.UTC),
		time.Date(2001, 7, 20, 0, 0, 0, 0, time.UTC),
		time.Date(2001, 7, 28, 0, 0, 0, 0, time.UTC),
		time.Date(2001, 8, 1, 12, 0, 0, 0, time.UTC),
		time.Date(2001, 8, 20, 0, 0, 0, 0, time.UTC),
	}
	for k := range min(o.Snapshots, len(snapTimes)) {
		t := snapTimes[k]
		r.Maps = append(r.Maps, Snapshot(t, "", ever(t)+second(t), uint64(k)))
	}
	r.Maps[0].Label = "19 July, 14:00"
	r.Measured = []results.Point{
		{Series: "ucsd-8_cumulative_sources", Time: july20, Value: 359104, Label: "CAIDA: 359,104 sources", Source: "Moore, Shannon, Brown, IMW 2002"},
		{Series: "ucsd-8_new_sources", Time: time.Date(2001, 7, 19, 16, 30, 0, 0, time.UTC), Value: 2000, Label: "CAIDA: over 2,000 per minute", Source: "Moore, Shannon, Brown, IMW 2002"},
		{Series: "ever_infected", Time: time.Date(2001, 7, 25, 0, 0, 0, 0, time.UTC), Value: 375000, Label: "CAIDA 25 July: 375,000", Source: "CAIDA, 25 July 2001"},
	}
	r.Validation = results.Validation{
		Checks: []results.Check{
			{Name: "Distinct sources seen by the /8 telescope, 19-20 July", Source: "Moore, Shannon, Brown, IMW 2002", Measured: 359104, Unit: "hosts",
				P05: 0.9 * 0.97 * ever(july20), P50: 0.97 * ever(july20), P95: 1.12 * 0.97 * ever(july20), Note: "telescope <first-seen> & cumulative"},
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
	for i := range r.Validation.Checks {
		c := &r.Validation.Checks[i]
		c.Inside = c.Measured >= c.P05 && c.Measured <= c.P95
	}
	return r
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
