package sim

import (
	"context"
	"testing"
	"time"

	"wormwatch/internal/ctxpoll"
	"wormwatch/internal/param"
	"wormwatch/scenario"
)

// homeScenario is a small scenario in which every counter of the home
// machines moves: hosts patched at the start and while the run goes (home
// owners faster), ordinary reboots (infected hosts become susceptible
// again, still ever infected), networks that filter (patched and infected
// hosts removed), machines switched off at night.
func homeScenario() *scenario.Scenario {
	sc := testScenario(16, 1000, "uniform", 0.5, 12*time.Hour)
	sc.Bin = param.Duration(30 * time.Minute)
	sc.Population.Home = 0.5
	sc.Population.Patched = 0.1
	sc.Defense.Patch.Rate = 2
	sc.Defense.Patch.HomeFactor = 3
	sc.Defense.Reboot.MeanInterval = param.Duration(6 * time.Hour)
	sc.Defense.Filter.Start = sc.Start.Add(2 * time.Hour)
	sc.Defense.Filter.Share = 0.3
	sc.Defense.Filter.Ramp = param.Duration(6 * time.Hour)
	sc.Defense.Diurnal.OffShare = 0.3
	sc.Worms[0].Seeds = 10
	return sc
}

// hostCounts counts over the host table what the counters of the home
// machines and of the hosts ever infected keep.
func hostCounts(w *world) (patchedHome, removedHome, everUnpatched, home int64) {
	for i := range w.h {
		h := &w.h[i]
		isHome := h.flags&flHome != 0
		if isHome {
			home++
		}
		switch {
		case h.state == stPatched && isHome:
			patchedHome++
		case h.state == stRemoved && isHome:
			removedHome++
		}
		if h.flags&flEver != 0 && h.state != stPatched && h.state != stRemoved {
			everUnpatched++
		}
	}
	return
}

// TestHomeCounters runs a scenario host by host, bin by bin, with both
// engines, and checks after every bin that the counters written in the
// row (patched_home, removed_home, ever_unpatched) equal a count over the
// hosts' states, and that the run moved each of them.
func TestHomeCounters(t *testing.T) {
	t.Parallel()
	sc := homeScenario()
	for _, name := range []string{EngineFast, EngineProbe} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			eng, err := engineFor(name, sc.Space.Bits)
			if err != nil {
				t.Fatal(err)
			}
			stop := ctxpoll.New(context.Background())
			w, err := newHostWorld(context.Background(), stop, eng, sc, 7, Options{Engine: name, Unlumped: true})
			if err != nil {
				t.Fatal(err)
			}
			w.scheduleSeeds()
			var maxPH, maxRH, maxEU, maxCure int64
			for b := 0; b < w.nbins; b++ {
				if !w.runBin(b, w.nbins) {
					t.Fatalf("bin %d: the run stopped", b)
				}
				row := w.res.Bins[b]
				ph, rh, eu, home := hostCounts(w)
				if row.PatchedHome != ph || row.RemovedHome != rh || row.EverUnpatched != eu {
					t.Fatalf("bin %d: patched_home %d, removed_home %d, ever_unpatched %d; the hosts' states give %d, %d, %d",
						b, row.PatchedHome, row.RemovedHome, row.EverUnpatched, ph, rh, eu)
				}
				if w.res.HomeHosts != home {
					t.Fatalf("HomeHosts %d, the host table has %d home machines", w.res.HomeHosts, home)
				}
				if row.PatchedHome > row.Patched || row.RemovedHome > row.Removed || row.EverUnpatched > row.EverInfected {
					t.Fatalf("bin %d: a part exceeds its whole: %+v", b, row)
				}
				maxPH, maxRH, maxEU = max(maxPH, ph), max(maxRH, rh), max(maxEU, eu)
				// Hosts ever infected and susceptible again (cured).
				maxCure = max(maxCure, eu-row.Infected)
			}
			if maxPH == 0 || maxRH == 0 || maxEU == 0 || maxCure == 0 {
				t.Errorf("a counter never moved: patched_home %d, removed_home %d, ever_unpatched %d, cured %d", maxPH, maxRH, maxEU, maxCure)
			}
			last := w.res.Bins[len(w.res.Bins)-1]
			if last.EverUnpatched >= last.EverInfected {
				t.Errorf("no host ever infected was patched or removed: ever_unpatched %d, ever_infected %d", last.EverUnpatched, last.EverInfected)
			}
		})
	}
}

// TestHomeCountersLumped: a lumped run has no defences, so no home
// machine is patched or removed and every host ever infected is
// unpatched; it reports the expected number of home machines.
func TestHomeCountersLumped(t *testing.T) {
	t.Parallel()
	sc := testScenario(20, 3000, "uniform", 20, 6*time.Hour)
	sc.Population.Home = 0.4
	if why := lumpable(sc, Options{Engine: EngineFast}); why != "" {
		t.Fatalf("not lumpable: %s", why)
	}
	res := mustRun(t, sc, 3, EngineFast)
	if res.HomeHosts != 1200 {
		t.Errorf("HomeHosts %d, want round(0.4 × 3000) = 1200", res.HomeHosts)
	}
	for i, b := range res.Bins {
		if b.PatchedHome != 0 || b.RemovedHome != 0 || b.EverUnpatched != b.EverInfected {
			t.Fatalf("bin %d: patched_home %d, removed_home %d, ever_unpatched %d (ever_infected %d)", i, b.PatchedHome, b.RemovedHome, b.EverUnpatched, b.EverInfected)
		}
	}
	if last := res.Bins[len(res.Bins)-1]; last.EverInfected == 0 {
		t.Error("no host infected: the test checks nothing")
	}
}
