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
	"wormwatch/scenario"
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
		{"codered2-july19", load("codered2-july19"), fast},
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
		{"patching", load("fast-uniform", "defense.patch.rate=1"), fast},
		{"reboots", load("fast-uniform", "defense.reboot.mean_interval=24h"), fast},
		{"diurnal", load("fast-uniform", "defense.diurnal.off_share=0.5"), fast},
		{"congestion", load("fast-uniform", "defense.congestion.eta=3"), fast},
		{"worm reboots", load("fast-uniform", "worm.reboot.after=24h"), fast},
		{"calendar", load("fast-uniform", "worm.calendar.kind=monthly"), fast},
	} {
		if why := lumpable(c.sc, c.opt); why == "" {
			t.Errorf("%s: lumped, but its hosts are not interchangeable (or are watched one by one)", c.name)
		} else {
			t.Logf("%s: %s", c.name, why)
		}
	}
	// Threads at one rate whatever the language lump.
	if why := lumpable(load("fast-uniform", "worm.rate.model=threads"), fast); why != "" {
		t.Errorf("threads, one rate: not lumped (%s)", why)
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
