package sim

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"wormwatch/internal/stattest"
	"wormwatch/ipv4"
	"wormwatch/scenario"
	"wormwatch/worm"
)

// TestLumpable: the plain case lumps, and each thing that makes hosts
// differ (or watches them one by one) stops it, with a reason.
func TestLumpable(t *testing.T) {
	t.Parallel()
	load := func(name string, sets ...string) *scenario.Scenario {
		t.Helper()
		sc, _, err := scenario.Load(name, sets)
		if err != nil {
			t.Fatal(err)
		}
		return sc
	}
	fast := Options{Engine: EngineFast}
	if why := lumpable(load("fast-uniform"), fast); why != "" {
		t.Errorf("fast-uniform: not lumped (%s)", why)
	}
	if why := lumpable(load("fast-uniform", plainSets()...), fast); why != "" {
		t.Errorf("the plain case: not lumped (%s)", why)
	}
	for _, c := range []struct {
		name string
		sc   *scenario.Scenario
		opt  Options
	}{
		{"codered-2001", load("codered-2001"), fast},
		{"hitlist", load("hitlist"), fast},
		{"unlumped", load("fast-uniform"), Options{Engine: EngineFast, Unlumped: true}},
		{"probe engine", load("fast-uniform", "space.bits=20", "population.hosts=1000"), Options{Engine: EngineProbe}},
		{"snapshots", load("fast-uniform"), Options{Engine: EngineFast, Snapshots: []float64{60}}},
		{"observe", load("fast-uniform"), Options{Engine: EngineFast, Observe: func(Infection) {}}},
		{"local", load("fast-uniform", "worm.targeting.strategy=local"), fast},
		{"exclude", load("fast-uniform", `worm.targeting.exclude=["10.0.0.0/8"]`), fast},
		{"threads by language", load("fast-uniform", "worm.rate.model=threads", "worm.rate.threads_chinese=600"), fast},
		{"win2000 only", load("fast-uniform", `worm.infects=["win2000"]`), fast},
		{"patched", load("fast-uniform", "population.patched=0.1"), fast},
		{"arrivals", load("fast-uniform", "population.arrivals.share=0.1", "population.arrivals.from=2001-07-19T11:00:00Z", "population.arrivals.until=2001-07-19T12:00:00Z"), fast},
		{"patching", load("fast-uniform", "defense.patch.rate=1"), fast},
		{"reboots", load("fast-uniform", "defense.reboot.mean_interval=24h"), fast},
		{"diurnal", load("fast-uniform", "defense.diurnal.off_share=0.5"), fast},
		{"congestion", load("fast-uniform", "defense.congestion.eta=3"), fast},
		{"worm reboots", load("fast-uniform", "worm.reboot.after=24h"), fast},
		{"wake delay", load("codered2-july19", "worm.calendar.wake_delay.kind=exponential", "worm.calendar.wake_delay.mean=1h"), fast},
		{"wake groups", load("codered2-july19", "worm.calendar.wake_groups=4", "worm.calendar.wake_ramp.kind=exponential", "worm.calendar.wake_ramp.mean=1h"), fast},
	} {
		if why := lumpable(c.sc, c.opt); why == "" {
			t.Errorf("%s: lumped, but its hosts are not interchangeable (or are watched one by one)", c.name)
		} else {
			t.Logf("%s: %s", c.name, why)
		}
	}
	// Threads at one rate whatever the language lump, and so does Code Red
	// v2's monthly calendar read on clocks of their own (no wake delay).
	for _, c := range []struct {
		name string
		sc   *scenario.Scenario
	}{
		{"threads, one rate", load("fast-uniform", "worm.rate.model=threads")},
		{"codered2-july19", load("codered2-july19")},
		{"monthly, till September", load("codered2-july19", "end=2001-09-01T00:00:00Z")},
	} {
		if why := lumpable(c.sc, fast); why != "" {
			t.Errorf("%s: not lumped (%s)", c.name, why)
		}
	}
}

// lumpedCase is the plain case at 2,000 hosts (plainSets), shortened to
// the time it takes to infect them all.
func lumpedCase(t *testing.T) *scenario.Scenario {
	t.Helper()
	sc, _, err := scenario.Load("fast-uniform", plainSets())
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestLumpedInfectionsChangeNothingElse: a lumped run with and without
// Result.Infections is the same run (the identities have a stream of their
// own), and the infections it records are a proper outbreak: one per new
// infection of the series, distinct hosts of the population, each
// infector infected before the host it infects, the seeds without one.
func TestLumpedInfectionsChangeNothingElse(t *testing.T) {
	t.Parallel()
	sc := lumpedCase(t)
	for seed := uint64(1); seed <= 5; seed++ {
		with, err := Run(context.Background(), sc, seed, Options{})
		if err != nil {
			t.Fatal(err)
		}
		without, err := Run(context.Background(), sc, seed, Options{NoInfections: true})
		if err != nil {
			t.Fatal(err)
		}
		if without.Infections != nil {
			t.Errorf("seed %d: %d infections kept with NoInfections", seed, len(without.Infections))
		}
		with.WallSeconds, without.WallSeconds = 0, 0
		infs := with.Infections
		with.Infections = nil
		if !reflect.DeepEqual(with, without) {
			t.Errorf("seed %d: the run differs with and without its infections", seed)
		}
		total := int64(0)
		for _, b := range with.Bins {
			total += b.NewInfections
		}
		if int64(len(infs)) != total || total != with.EverInfected {
			t.Errorf("seed %d: %d infections recorded, %d in the series, %d ever infected", seed, len(infs), total, with.EverInfected)
		}
		// The population of the run, placed from the run's seed.
		hosts, err := placeHosts(context.Background(), sc, seed, Options{})
		if err != nil {
			t.Fatal(err)
		}
		inPop := map[uint32]bool{}
		for _, a := range hosts.Addr {
			inPop[a] = true
		}
		when := map[uint32]float64{}
		seeds := 0
		for i, in := range infs {
			if !inPop[in.Address] {
				t.Fatalf("seed %d: infection %d of %s, not a host of the population", seed, i, ipString(in.Address))
			}
			if _, again := when[in.Address]; again {
				t.Fatalf("seed %d: %s infected twice", seed, ipString(in.Address))
			}
			if in.Infector == NoInfector {
				seeds++
			} else if t0, ok := when[in.Infector]; !ok || t0 > in.Seconds {
				t.Fatalf("seed %d: infection %d by %s, which was not infected before it", seed, i, ipString(in.Infector))
			}
			when[in.Address] = in.Seconds
		}
		if seeds != sc.Worms[0].Seeds {
			t.Errorf("seed %d: %d seeds recorded, want %d", seed, seeds, sc.Worms[0].Seeds)
		}
	}
}

func ipString(a uint32) string { return fmt.Sprintf("%d.%d.%d.%d", a>>24, a>>16&255, a>>8&255, a&255) }

// TestLumpedAgreesWithHostByHost compares who infects whom, which only
// the recorded infections show, between the lumped and the host-by-host
// run of the plain case over 200 seeds each: the infections the first
// host makes, the most infections one host makes, and the hosts that
// infect at least one other; and the traffic, the probes and the bytes on
// the wire of the whole run; with two-sample Kolmogorov-Smirnov tests at
// level plainAlpha each (the counts are discrete: the test is
// conservative). The same seed places the same population both ways, so
// once every host is infected the two runs infected the same addresses.
func TestLumpedAgreesWithHostByHost(t *testing.T) {
	t.Parallel()
	sc := lumpedCase(t)
	type tree struct{ first, most, infectors, probes, bytes float64 }
	measure := func(res *Result) tree {
		by := map[uint32]int{}
		for _, in := range res.Infections {
			if in.Infector != NoInfector {
				by[in.Infector]++
			}
		}
		most := 0
		for _, n := range by {
			most = max(most, n)
		}
		bytes := 0.0
		for _, b := range res.Bins {
			bytes += float64(b.BytesOnWire)
		}
		return tree{first: float64(by[res.Infections[0].Address]), most: float64(most), infectors: float64(len(by)),
			probes: float64(res.SimulatedProbes), bytes: bytes}
	}
	run := func(engine string) ([]tree, [][]uint32) {
		out := make([]tree, plainSeeds)
		addrs := make([][]uint32, plainSeeds)
		var wg sync.WaitGroup
		next := make(chan int)
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					res := mustRun(t, sc, uint64(i+1), engine)
					out[i] = measure(res)
					if res.EverInfected == int64(plainHosts) {
						for _, in := range res.Infections {
							addrs[i] = append(addrs[i], in.Address)
						}
						slices.Sort(addrs[i])
					}
				}
			}()
		}
		for i := range plainSeeds {
			next <- i
		}
		close(next)
		wg.Wait()
		return out, addrs
	}
	lumpedTrees, lumpedAddrs := run(EngineFast)
	hostTrees, hostAddrs := run(engineHost)
	crit := ksCritical(plainAlpha, plainSeeds, plainSeeds)
	for _, s := range []struct {
		name string
		of   func(tree) float64
	}{
		{"infections by the first host", func(x tree) float64 { return x.first }},
		{"most infections by one host", func(x tree) float64 { return x.most }},
		{"hosts that infect", func(x tree) float64 { return x.infectors }},
		{"probes", func(x tree) float64 { return x.probes }},
		{"bytes on the wire", func(x tree) float64 { return x.bytes }},
	} {
		a, b := make([]float64, plainSeeds), make([]float64, plainSeeds)
		for i := range a {
			a[i], b[i] = s.of(lumpedTrees[i]), s.of(hostTrees[i])
		}
		d, p := stattest.KS(a, b)
		t.Logf("%s: D=%.3f (critical %.3f) p=%.3g", s.name, d, crit, p)
		if d > crit {
			t.Errorf("%s: the lumped and the host-by-host runs differ in distribution (D=%.3f > %.3f)", s.name, d, crit)
		}
	}
	both := 0
	for i := range lumpedAddrs {
		if lumpedAddrs[i] != nil && hostAddrs[i] != nil {
			both++
			if !slices.Equal(lumpedAddrs[i], hostAddrs[i]) {
				t.Errorf("seed %d: every host infected both ways, but not the same addresses", i+1)
			}
		}
	}
	if both == 0 {
		t.Error("no seed infected every host both ways: the population check compared nothing")
	}
}

// TestLumpedInterrupted: a lumped run stopped during its loop keeps its
// whole bins and their infections, as any run does.
func TestLumpedInterrupted(t *testing.T) {
	t.Parallel()
	sc := lumpedCase(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := Run(ctx, sc, 3, Options{Progress: func(p Progress) {
		if p.Time.Sub(sc.Start) >= 4*time.Hour {
			cancel()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted || len(res.Bins) == 0 || len(res.Bins) >= int(sc.End.Sub(sc.Start)/time.Duration(sc.Bin)) {
		t.Fatalf("interrupted %v with %d bins", res.Interrupted, len(res.Bins))
	}
	whole := float64(len(res.Bins)) * res.BinSeconds
	total := int64(0)
	for _, b := range res.Bins {
		total += b.NewInfections
	}
	if int64(len(res.Infections)) != total {
		t.Errorf("%d infections kept, %d in the whole bins", len(res.Infections), total)
	}
	if n := len(res.Infections); n > 0 && res.Infections[n-1].Seconds >= whole {
		t.Errorf("an infection at %.0f s, after the last whole bin (%.0f s)", res.Infections[n-1].Seconds, whole)
	}
}

// calendarSets make codered2-july19 small (2^24 addresses, 1,406 hosts:
// the density of 360,000 in 2^32) and long (to 2 August: the flood from
// the 20th, the sleep from the 28th, the wake on the 1st), with wrong
// clocks on a third of the hosts so that the hosts on clocks of their own
// matter.
func calendarSets(wrong string) []string {
	return []string{"space.bits=24", "population.hosts=1406", "population.placement=uniform",
		"end=2001-08-02T00:00:00Z", "population.clock.wrong_share=" + wrong}
}

// calendarAt are the times (seconds from the start, 19 July 10:00 UTC;
// bin ends) at which the lumped and host-by-host runs are compared: the
// spread, the flood, the sleep, the wake.
var calendarAt = []float64{8 * 3600, 20 * 3600, 9*86400 + 2*3600, 13*86400 + 4*3600}

// calendarSample is what is compared of one run.
func calendarSample(res *Result) []float64 {
	var v []float64
	for _, a := range calendarAt {
		b := res.Bins[int(a/res.BinSeconds)-1]
		v = append(v, float64(b.Infected), float64(b.InfectedScanning), float64(b.InfectedFlooding))
	}
	flood := 0.0
	for _, b := range res.Bins {
		flood += float64(b.FloodBytes)
	}
	return append(v, float64(res.EverInfected), float64(res.SimulatedProbes), flood)
}

func calendarNames() []string {
	var n []string
	for _, a := range calendarAt {
		for _, c := range []string{"infected", "scanning", "flooding"} {
			n = append(n, fmt.Sprintf("%s(%gh)", c, a/3600))
		}
	}
	return append(n, "ever infected", "probes", "flood bytes")
}

// runCalendar runs seeds first..first+n-1 of the scenario on two workers.
func runCalendar(t *testing.T, sc *scenario.Scenario, engine string, first uint64, n int) [][]float64 {
	out := make([][]float64, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = calendarSample(mustRun(t, sc, first+uint64(i), engine))
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// calendarDiffer compares two sets of samples statistic by statistic (KS
// at level plainAlpha) and returns the tests that fail.
func calendarDiffer(t *testing.T, label string, a, b [][]float64) []string {
	var failed []string
	crit := ksCritical(plainAlpha, len(a), len(b))
	for k, name := range calendarNames() {
		x, y := make([]float64, len(a)), make([]float64, len(b))
		for i := range a {
			x[i] = a[i][k]
		}
		for i := range b {
			y[i] = b[i][k]
		}
		d, p := stattest.KS(x, y)
		t.Logf("%s: %s: D=%.3f (critical %.3f) p=%.3g", label, name, d, crit, p)
		if d > crit {
			failed = append(failed, fmt.Sprintf("%s D=%.3f", name, d))
		}
	}
	return failed
}

// TestLumpedCalendarAgreesWithHostByHost: Code Red v2's monthly calendar,
// with a third of the clocks wrong, lumped (the class of right clocks
// counted, the others one by one) against host by host, 200 seeds each:
// infected, scanning and flooding hosts at four times (spreading,
// flooding, asleep, awake again), ever infected, probes and flood bytes,
// by KS at level plainAlpha each (15 statistics: a false alarm under 1.5%
// of the time). A run whose clocks are all right must be told apart.
func TestLumpedCalendarAgreesWithHostByHost(t *testing.T) {
	t.Parallel()
	load := func(wrong string) *scenario.Scenario {
		sc, _, err := scenario.Load("codered2-july19", calendarSets(wrong))
		if err != nil {
			t.Fatal(err)
		}
		return sc
	}
	sc := load("0.33")
	if why := lumpable(sc, Options{Engine: EngineFast}); why != "" {
		t.Fatalf("not lumped: %s", why)
	}
	lumped := runCalendar(t, sc, EngineFast, 1, plainSeeds)
	host := runCalendar(t, sc, engineHost, 1_000_001, plainSeeds)
	for _, f := range calendarDiffer(t, "lumped vs host by host", lumped, host) {
		t.Errorf("the lumped and host-by-host runs differ in distribution: %s", f)
	}
	right := runCalendar(t, load("0"), engineHost, 2_000_001, plainSeeds)
	if len(calendarDiffer(t, "lumped vs host by host, all clocks right", lumped, right)) == 0 {
		t.Error("the comparison cannot tell a third of the clocks wrong from all right")
	}
}

// TestLumpedCalendarInfectors: in a recorded lumped run on the monthly
// calendar, every infector was infected before its victim and was
// scanning, by its own clock, when it infected it.
func TestLumpedCalendarInfectors(t *testing.T) {
	t.Parallel()
	sc, _, err := scenario.Load("codered2-july19", calendarSets("0.33"))
	if err != nil {
		t.Fatal(err)
	}
	for seed := uint64(1); seed <= 5; seed++ {
		res := mustRun(t, sc, seed, EngineFast)
		hosts, err := placeHosts(context.Background(), sc, seed, Options{})
		if err != nil {
			t.Fatal(err)
		}
		clock := map[uint32]int32{}
		for h, a := range hosts.Addr {
			clock[a] = hosts.ClockError[h]
		}
		v, err := worm.Compile(0, sc.Worms[0], ipv4.Space{Bits: sc.Space.Bits}, sc.Start.UTC(), sc.Space.AnswerFraction+sc.Space.Unreachable)
		if err != nil {
			t.Fatal(err)
		}
		when := map[uint32]float64{}
		wrong := 0
		for i, in := range res.Infections {
			if clock[in.Address] != 0 {
				wrong++
			}
			if in.Infector != NoInfector {
				t0, ok := when[in.Infector]
				if !ok || t0 > in.Seconds {
					t.Fatalf("seed %d: infection %d by %s, not infected before", seed, i, ipString(in.Infector))
				}
				if ph, _ := v.PhaseAt(in.Seconds, clock[in.Infector]); ph != worm.Scanning {
					t.Fatalf("seed %d: infection %d at %.0f s by %s, whose calendar says %v", seed, i, in.Seconds, ipString(in.Infector), ph)
				}
			}
			when[in.Address] = in.Seconds
		}
		if wrong == 0 {
			t.Errorf("seed %d: no host with a wrong clock infected: the check saw only the class", seed)
		}
	}
}
