package sim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"wormwatch/scenario"
)

// loadSets parses a built-in with --set assignments.
func loadSets(t testing.TB, name string, sets ...string) *scenario.Scenario {
	t.Helper()
	sc, _, err := scenario.Load(name, sets)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestCountersSaturate is defect 3 of issue 7: worm.rate.fixed=1e9 with
// request_bytes=1000000 and answer_fraction=1 gave bytes_on_wire of about
// -8.7e18. The bytes now stay at math.MaxInt64, and the result says so.
func TestCountersSaturate(t *testing.T) {
	t.Parallel()
	sc := loadSets(t, "fast-uniform", "worm.rate.fixed=1e9", "worm.wire.request_bytes=1000000", "space.answer_fraction=1",
		"population.hosts=20000", "end=2001-07-19T10:30:00Z")
	res := mustRun(t, sc, 1, EngineFast)
	var sum int64
	sat := false
	for i, b := range res.Bins {
		if b.Probes < 0 || b.SynPackets < 0 || b.BytesOnWire < 0 || b.FloodBytes < 0 {
			t.Fatalf("bin %d: a negative counter %+v", i, b)
		}
		sat = sat || b.BytesOnWire == math.MaxInt64
		sum += b.Probes
	}
	if !sat || !reflect.DeepEqual(res.Saturated, []string{"bytes_on_wire"}) {
		t.Errorf("saturated %v (a bin at the maximum: %v), want [bytes_on_wire]", res.Saturated, sat)
	}
	if sum != res.SimulatedProbes || sum <= 0 {
		t.Errorf("simulated probes %d, bins add up to %d", res.SimulatedProbes, sum)
	}
	// Every counter of the engine: probes of a bin (30,000 hosts at a
	// billion probes a second over ten days), the total, a sensor's, and
	// the packets and bytes that follow from them.
	sc = loadSets(t, "fast-uniform", "worm.rate.fixed=1e9", "population.hosts=30000", "population.placement=uniform",
		"end=2001-09-19T10:00:00Z", "bin=10d", `sensor=[{name = "half", prefix = "0.0.0.0/1"}]`)
	res = mustRun(t, sc, 1, EngineFast)
	checkCounters(t, res, nil)
	if want := []string{"bytes_on_wire", "probes", "sensor.half.probes", "simulated_probes", "syn_packets"}; !reflect.DeepEqual(res.Saturated, want) {
		t.Errorf("saturated %v, want %v", res.Saturated, want)
	}
	// The built-ins saturate nothing.
	if res := mustRun(t, loadSets(t, "codered2-july19", "end=2001-07-19T14:00:00Z"), 1, EngineFast); res.Saturated != nil {
		t.Errorf("codered2-july19: saturated %v", res.Saturated)
	}
}

// randomScenario draws a scenario over the allowed ranges of the keys that
// feed the counters, leaning to their extremes. It returns the --set
// assignments over codered2-july19.
func randomScenario(r *rand.Rand) []string {
	logU := func(lo, hi float64) float64 { return math.Exp(math.Log(lo) + r.Float64()*(math.Log(hi)-math.Log(lo))) }
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	hosts := int(logU(10, 30_000))
	answer := r.Float64()
	sets := []string{
		"space.bits=" + pick("24", "28", "32"),
		fmt.Sprintf("population.hosts=%d", hosts),
		"population.placement=uniform",
		fmt.Sprintf("population.patched=%g", r.Float64()*0.5),
		fmt.Sprintf("space.answer_fraction=%g", answer),
		fmt.Sprintf("space.unreachable_fraction=%g", r.Float64()*(1-answer)),
		fmt.Sprintf("space.http_fraction=%g", r.Float64()),
		fmt.Sprintf("worm.seeds=%d", 1+r.IntN(min(hosts, 50))),
		// Permutation scanning at a billion probes a second meets every
		// infected host again and again: right, and slow for a unit test.
		"worm.targeting.strategy=" + pick("uniform", "local", "sequential"),
		fmt.Sprintf("worm.wire.syn_bytes=%d", 20+r.IntN(1481)),
		fmt.Sprintf("worm.wire.request_bytes=%d", pick3(r, 0, 1_000_000)),
		fmt.Sprintf("worm.rate.syns_per_silent_attempt=%d", 1+r.IntN(20)),
		// The 20th to the 27th is the flood; the run spans days, or
		// months with bins of days (where the probes of a bin pass 2^63).
		"start=2001-07-19T10:00:00Z",
	}
	if r.IntN(2) == 0 {
		sets = append(sets, "worm.calendar.kind=always") // scanning all along
	} else {
		sets = append(sets, fmt.Sprintf("worm.calendar.flood_bytes_per_second=%g", logU(1, 1e12)))
	}
	if r.IntN(3) == 0 {
		sets = append(sets, "end="+pick("2001-08-19T10:00:00Z", "2001-10-19T10:00:00Z"), "bin="+pick("1d", "10d"))
	} else {
		sets = append(sets, fmt.Sprintf("end=2001-07-%02dT10:00:00Z", 20+r.IntN(8)), "bin="+pick("10m", "1h", "1d"))
	}
	if r.IntN(2) == 0 {
		sets = append(sets, "worm.rate.model=fixed", fmt.Sprintf("worm.rate.fixed=%g", pick4(r, logU(1e-3, 1e9), 1e9)))
	} else {
		sets = append(sets, fmt.Sprintf("worm.rate.threads=%d", pick3(r, 1, 100000)), "worm.rate.timeout="+pick("1ms", "21s", "1h"))
	}
	if r.IntN(2) == 0 {
		sets = append(sets, `sensor=[{name = "t", prefix = "`+pick("44.0.0.0/8", "0.0.0.0/1")+`"}]`, "population.dhcp_lease="+pick("0s", "1h", "1d"))
	}
	return sets
}

// pick3 returns lo, hi or a value between, a third of the time each.
func pick3(r *rand.Rand, lo, hi int) int {
	switch r.IntN(3) {
	case 0:
		return lo
	case 1:
		return hi
	}
	return lo + r.IntN(hi-lo+1)
}

// pick4 returns x three times in four, else the extreme.
func pick4(r *rand.Rand, x, extreme float64) float64 {
	if r.IntN(4) == 0 {
		return extreme
	}
	return x
}

// TestCountersProperty draws parameter sets over the allowed ranges (fixed
// seed) and checks every counter of every run: none is negative, the
// cumulative ones never decrease, the total of the probes is the sum of the
// bins, and a counter is listed in Result.Saturated exactly when it holds
// math.MaxInt64 somewhere.
func TestCountersProperty(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(2026, 7))
	runs, saturated := 0, 0
	for i := range 200 {
		sets := randomScenario(r)
		sc, _, err := scenario.Load("codered2-july19", sets)
		if err != nil {
			continue // a combination the scenario refuses (checked in package scenario)
		}
		runs++
		res, err := Run(context.Background(), sc, uint64(i), Options{})
		if err != nil {
			t.Fatalf("%v: %v", sets, err)
		}
		if res.Saturated != nil {
			saturated++
		}
		checkCounters(t, res, sets)
	}
	// Both kinds of runs were seen, so both sides of the property were
	// checked.
	if runs < 150 || saturated < 10 || saturated == runs {
		t.Errorf("%d runs, %d with a saturated counter: draw again", runs, saturated)
	}
	t.Logf("%d runs, %d with a saturated counter", runs, saturated)
}

func checkCounters(t *testing.T, res *Result, sets []string) {
	t.Helper()
	max := map[string]bool{}
	var sum int64
	var prevEver int64
	for i, b := range res.Bins {
		for name, v := range map[string]int64{
			"probes": b.Probes, "syn_packets": b.SynPackets, "bytes_on_wire": b.BytesOnWire, "flood_bytes": b.FloodBytes,
			"susceptible": b.Susceptible, "infected": b.Infected, "new_infections": b.NewInfections, "ever_infected": b.EverInfected,
		} {
			if v < 0 {
				t.Fatalf("%v: bin %d: %s = %d", sets, i, name, v)
			}
			if v == math.MaxInt64 {
				max[name] = true
			}
		}
		if b.EverInfected < prevEver {
			t.Fatalf("%v: bin %d: ever infected went down from %d to %d", sets, i, prevEver, b.EverInfected)
		}
		prevEver = b.EverInfected
		if sum > math.MaxInt64-b.Probes {
			sum = math.MaxInt64
		} else {
			sum += b.Probes
		}
	}
	if res.SimulatedProbes != sum {
		t.Fatalf("%v: simulated probes %d, the bins add up to %d", sets, res.SimulatedProbes, sum)
	}
	if sum == math.MaxInt64 {
		max["simulated_probes"] = true
	}
	for _, s := range res.Sensors {
		var prevCum int64
		for i, row := range s.Rows {
			if row.Probes < 0 || row.Sources < 0 || row.NewSources < 0 || row.CumulativeSources < prevCum {
				t.Fatalf("%v: sensor %s, bin %d: %+v after cumulative %d", sets, s.Name, i, row, prevCum)
			}
			prevCum = row.CumulativeSources
			if row.Probes == math.MaxInt64 {
				max["sensor."+s.Name+".probes"] = true
			}
		}
	}
	var want []string
	for name := range max {
		want = append(want, name)
	}
	slices.Sort(want)
	if !slices.Equal(want, res.Saturated) {
		t.Fatalf("%v: saturated %v, but counters at the maximum: %v", sets, res.Saturated, want)
	}
}

// counting is a context that looks cancelled from its n-th call of Err on
// (never if n is 0), and counts the calls: a cancellation at a place of a
// run that does not depend on timing.
type counting struct {
	context.Context
	n     int64
	calls atomic.Int64
}

func (c *counting) Err() error {
	if k := c.calls.Add(1); c.n > 0 && k >= c.n {
		return context.Canceled
	}
	return nil
}

// TestCancelledSetup is defect 6: a cancelled context must stop a large
// setup (population placement, sensors, walks, defences) within a bounded
// number of steps. A context cancelled at every stage of the setup of a
// run of 400,000 hosts with a sensor and a permutation worm stops it with
// context.Canceled; cancelled later, the run is interrupted with whole
// bins only.
func TestCancelledSetup(t *testing.T) {
	t.Parallel()
	sc := loadSets(t, "codered2-july19", "population.hosts=400000", "population.patched=0.1", "defense.patch.rate=0.5",
		"worm.targeting.strategy=permutation", `sensor=[{name = "t", prefix = "44.0.0.0/8"}]`, "population.dhcp_lease=1d",
		"end=2001-07-19T12:00:00Z")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, sc, 1, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled before: %v", err)
	}
	// The looks of a whole run, and those before the first bin closed;
	// then cancellations spread over the setup, and over the run.
	all := &counting{Context: context.Background()}
	var first int64
	full, err := Run(all, sc, 1, Options{Progress: func(Progress) {
		if first == 0 {
			first = all.calls.Load()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	looks := all.calls.Load()
	var at []int64
	for _, frac := range []float64{0, 0.01, 0.05, 0.1, 0.3, 0.6, 0.9} {
		at = append(at, 1+int64(frac*float64(first)))
	}
	for _, frac := range []float64{0.3, 0.7} {
		at = append(at, first+1+int64(frac*float64(looks-first)))
	}
	setup, interrupted := 0, 0
	for _, n := range at {
		c := &counting{Context: context.Background(), n: n}
		res, err := Run(c, sc, 1, Options{})
		switch {
		case errors.Is(err, context.Canceled):
			setup++
		case err != nil:
			t.Fatalf("cancelled at look %d: %v", c.n, err)
		case !res.Interrupted:
			t.Fatalf("cancelled at look %d of %d: the run was not interrupted", c.n, looks)
		default:
			interrupted++
			checkWhole(t, res, full)
		}
		if extra := c.calls.Load() - c.n; extra > 3 {
			t.Errorf("cancelled at look %d: %d more looks after it, want the cancel honoured at once", c.n, extra)
		}
	}
	if setup < 5 || interrupted < 2 {
		t.Errorf("%d cancellations in the setup, %d during the run: the cases lost their point", setup, interrupted)
	}
}

// checkWhole checks that an interrupted run kept whole bins only, equal to
// those of the full run.
func checkWhole(t *testing.T, res, full *Result) {
	t.Helper()
	n := len(res.Bins)
	if n == 0 || n >= len(full.Bins) {
		t.Fatalf("%d bins of %d", n, len(full.Bins))
	}
	if !reflect.DeepEqual(res.Bins, full.Bins[:n]) {
		t.Errorf("the bins differ from the full run's")
	}
	whole := float64(n) * res.BinSeconds
	k := 0
	for k < len(full.Infections) && full.Infections[k].Seconds < whole {
		k++
	}
	if len(res.Infections) != k {
		t.Errorf("%d infections, the full run had %d in its first %d bins", len(res.Infections), k, n)
	}
	last := full.Bins[n-1]
	if res.EverInfected != last.EverInfected || res.Final.Infected != last.Infected {
		t.Errorf("final state %+v, ever %d; want that of bin %d", res.Final, res.EverInfected, n-1)
	}
	for i, s := range res.Sensors {
		if !reflect.DeepEqual(s.Rows, full.Sensors[i].Rows[:n]) {
			t.Errorf("sensor %s: %d rows, not the full run's first %d", s.Name, len(s.Rows), n)
		}
	}
}

// TestCancelledInsideABin checks that a run is interrupted within a bin,
// not only between bins: one bin spans the whole run, and a cancellation
// in its middle ends the run without a bin (context.Canceled).
func TestCancelledInsideABin(t *testing.T) {
	t.Parallel()
	sc := loadSets(t, "codered2-july19", "population.hosts=100000", "bin=14h", `sensor=[{name = "t", prefix = "44.0.0.0/8"}]`,
		"population.dhcp_lease=1m")
	all := &counting{Context: context.Background()}
	if _, err := Run(all, sc, 1, Options{}); err != nil {
		t.Fatal(err)
	}
	c := &counting{Context: context.Background(), n: all.calls.Load() * 3 / 4}
	res, err := Run(c, sc, 1, Options{})
	if !errors.Is(err, context.Canceled) || res != nil {
		t.Errorf("cancelled inside the only bin: %v, %v", res, err)
	}
	if extra := c.calls.Load() - c.n; extra > 3 {
		t.Errorf("%d looks after the cancel", extra)
	}
}

// TestInterruptedWebServer checks that the records of a web server stop at
// the last whole bin too.
func TestInterruptedWebServer(t *testing.T) {
	t.Parallel()
	sc := loadSets(t, "codered2-july19", "space.bits=16", "population.hosts=300", "end=2001-07-19T12:00:00Z",
		`sensor=[{name = "www", kind = "webserver", prefix = "198.51.100.7"}]`)
	all := &counting{Context: context.Background()}
	full, err := Run(all, sc, 1, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, frac := range []float64{0.6, 0.8, 0.95} {
		c := &counting{Context: context.Background(), n: int64(frac * float64(all.calls.Load()))}
		res, err := Run(c, sc, 1, Options{})
		if err != nil || !res.Interrupted {
			t.Fatalf("%v %v", res, err)
		}
		checkWhole(t, res, full)
		whole := float64(len(res.Bins)) * res.BinSeconds
		k := 0
		for k < len(full.Sensors[0].Probes) && full.Sensors[0].Probes[k].Seconds < whole {
			k++
		}
		if got := res.Sensors[0].Probes; !reflect.DeepEqual(got, full.Sensors[0].Probes[:k]) {
			t.Errorf("%d records, want the full run's first %d", len(got), k)
		}
	}
	if !strings.HasPrefix(sc.Sensors[0].Name, "www") {
		t.Fatal(sc.Sensors[0].Name)
	}
}

// TestWalkersThatSendNothing: a walking strategy with worm.rate.fixed = 0
// (allowed) made the engine panic ("gamma: beta <= 0"). Such hosts send no
// probes and infect nobody.
func TestWalkersThatSendNothing(t *testing.T) {
	t.Parallel()
	for _, strategy := range []string{"sequential", "sequence", "permutation", "hitlist"} {
		sc := loadSets(t, "codered2-july19", "population.hosts=1000", "space.bits=20", "end=2001-07-19T12:00:00Z",
			"worm.targeting.strategy="+strategy, "worm.rate.model=fixed", "worm.rate.fixed=0", "worm.seeds=5")
		for _, engine := range []string{EngineFast, EngineProbe} {
			res := mustRun(t, sc, 1, engine)
			if res.SimulatedProbes != 0 || res.EverInfected != 5 {
				t.Errorf("%s, %s engine: %d probes, %d ever infected; want 0 and the 5 seeds", strategy, engine, res.SimulatedProbes, res.EverInfected)
			}
		}
	}
}
