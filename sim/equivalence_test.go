package sim

import (
	"fmt"
	"math"
	"sort"
	"sync"
	"testing"
	"time"

	"wormwatch/internal/param"
	"wormwatch/internal/stattest"
	"wormwatch/ipv4"
	"wormwatch/scenario"
)

// outcome is what the equivalence test compares between engines.
type outcome struct {
	t50      float64   // time of the infection that reaches half the hosts (+horizon if never)
	infected []float64 // hosts infected by each of the check times
}

func measure(res *Result, n int, horizon float64, at []float64) outcome {
	o := outcome{t50: horizon * 2}
	if len(res.Infections) >= n/2 {
		o.t50 = res.Infections[n/2-1].Seconds
	}
	for _, t := range at {
		k := sort.Search(len(res.Infections), func(i int) bool { return res.Infections[i].Seconds > t })
		o.infected = append(o.infected, float64(k))
	}
	return o
}

type equivCase struct {
	name     string
	hosts    int
	rate     float64
	horizon  time.Duration
	at       []float64 // check times, seconds
	scenario func() *scenario.Scenario
}

func equivCases() []equivCase {
	mk := func(strategy string, n int, rate float64, d time.Duration, edit func(*scenario.Scenario)) func() *scenario.Scenario {
		return func() *scenario.Scenario {
			sc := testScenario(20, n, strategy, rate, d)
			if edit != nil {
				edit(sc)
			}
			return sc
		}
	}
	return []equivCase{
		{"uniform", 1000, 10, 1100 * time.Second, []float64{600, 800, 1000},
			mk("uniform", 1000, 10, 1100*time.Second, nil)},
		{"local", 1000, 10, 120 * time.Second, []float64{15, 30, 60},
			mk("local", 1000, 10, 120*time.Second, func(sc *scenario.Scenario) {
				sc.Population.Placement = "clustered"
				sc.Population.Clustered.Blocks8 = 8
				sc.Population.Clustered.Blocks16 = 32
				sc.Worms[0].Targeting.Exclude = []string{"127.0.0.0/8", "224.0.0.0/8"}
			})},
		{"hitlist", 1000, 10, 300 * time.Second, []float64{100, 145, 200},
			mk("hitlist", 1000, 10, 300*time.Second, func(sc *scenario.Scenario) {
				sc.Worms[0].Targeting.HitList.Size = 200
				sc.Worms[0].Seeds = 2
			})},
		{"sequence", 20, 50, 4 * time.Hour, []float64{5000, 9000, 13000},
			mk("sequence", 20, 50, 4*time.Hour, nil)},
		// The defences thin the probe process (machines switched off,
		// congestion) and end infections (reboots, night switch-off,
		// patching): both engines must agree with them too.
		{"defended", 1000, 10, 1100 * time.Second, []float64{600, 800, 1000},
			mk("uniform", 1000, 10, 1100*time.Second, func(sc *scenario.Scenario) {
				sc.Start = time.Date(2001, 7, 19, 22, 30, 0, 0, time.UTC) // switch-offs at 23:00 local time fall inside
				sc.End = sc.Start.Add(1100 * time.Second)
				sc.Population.Home = 0.8
				sc.Population.Regions = []ipv4.Region{{Name: "utc", Share: 1, UTCOffset: 0}}
				d := &sc.Defense
				d.Diurnal.OffShare = 0.5
				d.Diurnal.Jitter = param.Duration(10 * time.Minute)
				d.Congestion.Eta = 1
				d.Reboot.MeanInterval = param.Duration(20 * time.Minute)
				d.Patch.Rate = 40 // per day: about a quarter of the hosts patch in the run
			})},
		// Dormant seeds wake on 1 August, their threads in groups (the
		// first thread alone, then three groups after their own delays):
		// the host's rate steps up with each group in both engines.
		{"wake groups", 1000, 10, 25 * time.Minute, []float64{900, 1100, 1300},
			mk("uniform", 1000, 10, 25*time.Minute, wakeGroups)},
		// Machines coming online after the start (population.arrivals):
		// half the hosts arrive from 200 s to 900 s, some of them switched
		// off at night meanwhile, some patched before they arrive.
		{"arrivals", 1000, 10, 1100 * time.Second, []float64{600, 800, 1000},
			mk("uniform", 1000, 10, 1100*time.Second, func(sc *scenario.Scenario) {
				sc.Start = time.Date(2001, 7, 19, 22, 50, 0, 0, time.UTC) // switch-offs at 23:00 local time fall inside
				sc.End = sc.Start.Add(1100 * time.Second)
				sc.Population.Home = 0.8
				sc.Population.Regions = []ipv4.Region{{Name: "utc", Share: 1, UTCOffset: 0}}
				sc.Population.Arrivals.Share = 0.5
				sc.Population.Arrivals.From = sc.Start.Add(200 * time.Second)
				sc.Population.Arrivals.Until = sc.Start.Add(900 * time.Second)
				d := &sc.Defense
				d.Diurnal.OffShare = 0.3
				d.Diurnal.Jitter = param.Duration(5 * time.Minute)
				d.Patch.Rate = 20
			})},
	}
}

// wakeGroups makes sc start at 23:50 UTC on 31 July with 20 dormant seeds
// of a monthly worm that wake after 1 August 00:00 in 4 groups.
func wakeGroups(sc *scenario.Scenario) {
	d := sc.End.Sub(sc.Start)
	sc.Start = time.Date(2001, 7, 31, 23, 50, 0, 0, time.UTC)
	sc.End = sc.Start.Add(d)
	w := &sc.Worms[0]
	w.Seeds = 20
	w.Calendar.Kind = "monthly"
	w.Calendar.WakeDelay = param.Dist{Kind: "exponential", Mean: param.Duration(5 * time.Minute)}
	w.Calendar.WakeGroups = 4
	w.Calendar.WakeRamp = param.Dist{Kind: "exponential", Mean: param.Duration(15 * time.Minute)}
}

// runMany runs seeds first..first+n-1 on two workers and measures each.
func runMany(t *testing.T, c equivCase, engine string, first uint64, n int, edit func(*scenario.Scenario)) []outcome {
	out := make([]outcome, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				sc := c.scenario()
				if edit != nil {
					edit(sc)
				}
				res := mustRun(t, sc, first+uint64(i), engine)
				out[i] = measure(res, c.hosts, c.horizon.Seconds(), c.at)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// compare returns the smallest KS p-value over the compared statistics and
// a description of each.
func compare(a, b []outcome, at []float64) (float64, string) {
	col := func(o []outcome, f func(outcome) float64) []float64 {
		v := make([]float64, len(o))
		for i := range o {
			v[i] = f(o[i])
		}
		return v
	}
	minP := 1.0
	desc := ""
	d, p := ks(col(a, func(o outcome) float64 { return o.t50 }), col(b, func(o outcome) float64 { return o.t50 }))
	minP = math.Min(minP, p)
	desc += fmt.Sprintf("t50: D=%.3f p=%.3g; ", d, p)
	for k, t := range at {
		d, p := ks(col(a, func(o outcome) float64 { return o.infected[k] }), col(b, func(o outcome) float64 { return o.infected[k] }))
		minP = math.Min(minP, p)
		desc += fmt.Sprintf("I(%gs): D=%.3f p=%.3g; ", t, d, p)
	}
	return minP, desc
}

const (
	equivSeeds = 200
	// Per statistic, the chance of a false alarm when the engines agree;
	// 28 statistics in all (seven comparisons of four) keep the chance of
	// any false alarm under 3%.
	equivAlpha = 0.001
)

// TestEnginesAgree runs the fast and the per-probe engine on the same
// scenarios (2^20 addresses, 200 seeds each, disjoint seeds) and compares
// the distributions of the time to 50% infected and of the infected count
// at three times with two-sample Kolmogorov-Smirnov tests.
func TestEnginesAgree(t *testing.T) {
	if testing.Short() {
		t.Skip("the per-probe oracle takes about a minute; run without -short")
	}
	for _, c := range equivCases() {
		t.Run(c.name, func(t *testing.T) {
			fast := runMany(t, c, EngineFast, 1, equivSeeds, nil)
			probe := runMany(t, c, EngineProbe, 1_000_001, equivSeeds, nil)
			p, desc := compare(fast, probe, c.at)
			t.Logf("%s fast vs probe: %s", c.name, desc)
			if p < equivAlpha {
				t.Errorf("%s: the engines' outcome distributions differ (smallest KS p-value %.3g < %g): %s", c.name, p, equivAlpha, desc)
			}
			if c.name == "arrivals" {
				// The comparison has power here too: a fast engine whose
				// hosts all arrive by 400 s instead of 900 s must be told
				// apart from the oracle.
				early := runMany(t, c, EngineFast, 1, equivSeeds, func(sc *scenario.Scenario) {
					sc.Population.Arrivals.Until = sc.Start.Add(400 * time.Second)
				})
				p, desc := compare(early, probe, c.at)
				t.Logf("%s fast(arrivals by 400 s) vs probe: %s", c.name, desc)
				if p >= equivAlpha {
					t.Errorf("the KS comparison cannot tell arrivals by 400 s from arrivals by 900 s (smallest p %.3g): %s", p, desc)
				}
			}
			if c.name == "uniform" {
				// The fast engine lumps this case into counts (lumped.go);
				// host by host it must agree with the oracle too.
				host := runMany(t, c, engineHost, 1, equivSeeds, nil)
				p, desc := compare(host, probe, c.at)
				t.Logf("%s fast host by host vs probe: %s", c.name, desc)
				if p < equivAlpha {
					t.Errorf("%s: the fast engine host by host and the oracle differ (smallest KS p-value %.3g < %g): %s", c.name, p, equivAlpha, desc)
				}
				// The comparison has power: a fast engine whose hosts scan
				// 10% faster must be told apart from the oracle.
				faster := runMany(t, c, EngineFast, 1, equivSeeds, func(sc *scenario.Scenario) { sc.Worms[0].Rate.Fixed *= 1.1 })
				p, desc = compare(faster, probe, c.at)
				t.Logf("%s fast(rate x1.1) vs probe: %s", c.name, desc)
				if p >= equivAlpha {
					t.Errorf("the KS comparison cannot tell a 10%% faster worm from the oracle (smallest p %.3g): %s", p, desc)
				}
			}
		})
	}
}

// ks is the two-sample Kolmogorov-Smirnov statistic and its p-value.
func ks(a, b []float64) (float64, float64) { return stattest.KS(a, b) }

// TestWakeGroupsRamp checks a host's rate as its threads wake: one dormant
// host of a monthly worm at 10 probes a second (100 threads), alone in its
// space, wakes 10 minutes after 1 August 00:00 with its first thread; the
// other three groups wake 20 minutes later. Its probes per minute are
// Poisson with mean 600 x (awake threads / 100): 1 thread, then all 100.
func TestWakeGroupsRamp(t *testing.T) {
	for _, engine := range []string{EngineFast, EngineProbe} {
		sc := testScenario(20, 1, "uniform", 10, 70*time.Minute)
		wakeGroups(sc)
		w := &sc.Worms[0]
		w.Seeds = 1
		w.Calendar.WakeDelay = param.Dist{Kind: "fixed", Mean: param.Duration(10 * time.Minute)}
		w.Calendar.WakeRamp = param.Dist{Kind: "fixed", Mean: param.Duration(20 * time.Minute)}
		res := mustRun(t, sc, 3, engine)
		// Bins are minutes from 23:50: asleep to 00:10 (bins 0-19), one
		// thread to 00:30 (20-39), every thread after (40-69).
		for _, w := range []struct {
			from, to int
			perMin   float64
		}{{0, 20, 0}, {20, 40, 6}, {40, 70, 600}} {
			var sum int64
			for _, b := range res.Bins[w.from:w.to] {
				sum += b.Probes
			}
			mean := w.perMin * float64(w.to-w.from)
			if bound := 5 * math.Sqrt(mean); math.Abs(float64(sum)-mean) > bound {
				t.Errorf("%s: minutes %d-%d: %d probes, want %.0f +- %.0f (5 sd)", engine, w.from, w.to, sum, mean, bound)
			}
		}
		if n := res.Bins[39].InfectedScanning; n != 1 {
			t.Errorf("%s: %d hosts scanning with one thread awake, want 1", engine, n)
		}
	}
}
