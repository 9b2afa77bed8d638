package sim

import (
	"context"
	"math"
	"testing"
	"time"

	"wormwatch/internal/ctxpoll"
	"wormwatch/internal/param"
	"wormwatch/ipv4"
	"wormwatch/scenario"
)

// arrivalsScenario is a small scenario in which a share of the hosts come
// online after the start (population.arrivals), across a night in which
// home machines are switched off, while owners patch.
func arrivalsScenario() *scenario.Scenario {
	sc := testScenario(16, 1500, "uniform", 0.5, 14*time.Hour)
	sc.Start = time.Date(2001, 7, 19, 18, 0, 0, 0, time.UTC) // the night, 23:00 to 07:00 UTC, falls inside
	sc.End = sc.Start.Add(14 * time.Hour)
	sc.Bin = param.Duration(30 * time.Minute)
	sc.Population.Home = 0.6
	sc.Population.Regions = []ipv4.Region{{Name: "utc", Share: 1, UTCOffset: 0}}
	sc.Population.Arrivals.Share = 0.4
	sc.Population.Arrivals.From = sc.Start.Add(time.Hour)
	sc.Population.Arrivals.Until = sc.Start.Add(13 * time.Hour)
	sc.Defense.Diurnal.OffShare = 0.5
	sc.Defense.Diurnal.Jitter = param.Duration(30 * time.Minute)
	sc.Defense.Patch.Rate = 2
	sc.Worms[0].Seeds = 5
	return sc
}

// hostWorld sets up a run of sc host by host with the named engine, ready
// to run bin by bin (runBin).
func hostWorld(t *testing.T, sc *scenario.Scenario, name string, seed uint64, opt Options) *world {
	t.Helper()
	eng, err := engineFor(name, sc.Space.Bits)
	if err != nil {
		t.Fatal(err)
	}
	opt.Engine, opt.Unlumped = name, true
	w, err := newHostWorld(context.Background(), ctxpoll.New(context.Background()), eng, sc, seed, opt)
	if err != nil {
		t.Fatal(err)
	}
	w.scheduleSeeds()
	return w
}

// TestArrivals runs a scenario with arrivals, machines switched off at
// night and patching, with both engines, bin by bin, and checks that no
// host is infected, or can be reached, before it arrives: at the end of
// every bin each host not arrived yet is out of the target sets (dark)
// and was never infected, each one arrived and not switched off is in
// them; every infection is of a host arrived by then; the counters agree
// with the host table. It checks too that the mechanism did something:
// hosts patched before they arrived, hosts infected after they arrived.
func TestArrivals(t *testing.T) {
	t.Parallel()
	sc := arrivalsScenario()
	if why := lumpable(sc, Options{Engine: EngineFast}); why != "hosts come online after the start" && why != "machines are switched off at night" {
		t.Errorf("lumpable: %q", why)
	}
	for _, name := range []string{EngineFast, EngineProbe} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			type hit struct {
				t    float64
				addr uint32
			}
			var hits []hit
			w := hostWorld(t, sc, name, 11, Options{Observe: func(in Infection) { hits = append(hits, hit{in.Seconds, in.Address}) }})
			if w.arrive == nil {
				t.Fatal("no arrivals drawn")
			}
			byAddr := map[uint32]int32{}
			for h := range w.h {
				byAddr[w.h[h].addr] = int32(h)
			}
			patchedBefore, infectedAfter := 0, 0
			for b := 0; b < w.nbins; b++ {
				if !w.runBin(b, w.nbins) {
					t.Fatalf("bin %d: the run stopped", b)
				}
				tb := math.Min(float64(b+1)*w.binW, w.end)
				var susc int64
				waiting := 0 // hosts patched before they arrive, now
				for h := range w.h {
					r := &w.h[h]
					if r.state == stSusceptible {
						susc++
					}
					if float64(w.arrive[h]) > tb {
						if r.state == stSusceptible && r.flags&flDark == 0 {
							t.Fatalf("bin %d: host %d arrives at %v s but is in the target sets at %v s", b, h, w.arrive[h], tb)
						}
						if r.flags&flEver != 0 {
							t.Fatalf("bin %d: host %d arrives at %v s but was infected by %v s", b, h, w.arrive[h], tb)
						}
						if r.state == stPatched {
							waiting++
						}
					} else if r.state == stSusceptible && r.flags&flOff == 0 && r.flags&flDark != 0 {
						t.Fatalf("bin %d: host %d arrived at %v s, is never switched off, and is still dark at %v s", b, h, w.arrive[h], tb)
					}
				}
				patchedBefore = max(patchedBefore, waiting)
				row := w.res.Bins[b]
				ph, rh, eu, _ := hostCounts(w)
				if row.Susceptible != susc || row.PatchedHome != ph || row.RemovedHome != rh || row.EverUnpatched != eu {
					t.Fatalf("bin %d: row %+v; the host table has %d susceptible, %d, %d, %d", b, row, susc, ph, rh, eu)
				}
			}
			for _, in := range hits {
				h := byAddr[in.addr]
				if a := float64(w.arrive[h]); a > in.t {
					t.Fatalf("host %d infected at %v s, before it arrived at %v s", h, in.t, a)
				} else if a > 0 {
					infectedAfter++
				}
			}
			t.Logf("%d infections, %d of hosts that arrived after the start; at most %d patched and not arrived yet", len(hits), infectedAfter, patchedBefore)
			if infectedAfter == 0 || patchedBefore == 0 {
				t.Errorf("the test checks too little: %d infections of arrived hosts, %d patched before arriving", infectedAfter, patchedBefore)
			}
		})
	}
}

// TestArrivalTimes checks the law of the arrivals: with no defence, the
// hosts still dark at the end of each bin are exactly those that have not
// arrived, and their number is Binomial(n, share × (1 - F(t))) with F the
// uniform law from from to until: within 4.5 standard deviations of its
// mean at every bin (fixed seed; the chance that a right engine fails one
// of the 24 bins is below 2e-4).
func TestArrivalTimes(t *testing.T) {
	t.Parallel()
	sc := testScenario(18, 20000, "uniform", 0.01, 12*time.Hour)
	sc.Bin = param.Duration(30 * time.Minute)
	sc.Population.Arrivals.Share = 0.3
	sc.Population.Arrivals.From = sc.Start.Add(2 * time.Hour)
	sc.Population.Arrivals.Until = sc.Start.Add(10 * time.Hour)
	w := hostWorld(t, sc, EngineFast, 5, Options{})
	from, until := 2*3600.0, 10*3600.0
	n := float64(w.n)
	for b := 0; b < w.nbins; b++ {
		if !w.runBin(b, w.nbins) {
			t.Fatalf("bin %d: the run stopped", b)
		}
		tb := float64(b+1) * w.binW
		var dark, notArrived int
		for h := range w.h {
			if w.h[h].flags&flDark != 0 {
				dark++
			}
			if float64(w.arrive[h]) > tb {
				notArrived++
			}
		}
		if dark != notArrived {
			t.Fatalf("bin %d: %d hosts dark, %d not arrived", b, dark, notArrived)
		}
		f := math.Min(math.Max((tb-from)/(until-from), 0), 1)
		p := 0.3 * (1 - f)
		mean, sd := n*p, math.Sqrt(n*p*(1-p))
		if math.Abs(float64(dark)-mean) > 4.5*sd+1e-9 {
			t.Errorf("bin %d (%.1f h): %d hosts not arrived, want %.0f ± %.0f (4.5 sd)", b, tb/3600, dark, mean, 4.5*sd)
		}
	}
}

// TestArrivalsNone: a share of 0 draws nothing and keeps no arrival
// times, so a scenario without arrivals runs as before.
func TestArrivalsNone(t *testing.T) {
	t.Parallel()
	sc := testScenario(16, 500, "uniform", 1, time.Hour)
	sc.Population.Arrivals.From = sc.Start.Add(time.Minute) // ignored with share 0
	sc.Population.Arrivals.Until = sc.Start.Add(time.Hour)
	w := hostWorld(t, sc, EngineFast, 1, Options{})
	if w.arrive != nil {
		t.Error("arrival times kept with share 0")
	}
	for h := range w.h {
		if w.h[h].flags&flDark != 0 {
			t.Fatalf("host %d dark at the start", h)
		}
	}
}
