package sim

import (
	"testing"
	"time"

	"wormwatch/internal/param"
	"wormwatch/ipv4"
	"wormwatch/scenario"
)

// TestSeedIsSwitchedOn: a variant's seed is never a machine switched off
// for the night (it could not be infected; seeded anyway, it would scan
// all night while off). At 02:00 UTC with every machine at home in UTC
// and switched off at night, no host can be a seed; with half of them,
// the seed is one that is on (and, at a rate too low to infect anyone,
// still infected ten minutes later), in every run and both engines.
func TestSeedIsSwitchedOn(t *testing.T) {
	// night is 10 minutes from 02:00 UTC with the share off of the
	// machines, all at home in UTC, switched off at night.
	night := func(off float64) *scenario.Scenario {
		sc := testScenario(16, 200, "uniform", 1e-6, 10*time.Minute)
		sc.Start = time.Date(2001, 7, 19, 2, 0, 0, 0, time.UTC)
		sc.End = sc.Start.Add(10 * time.Minute)
		sc.Population.Home = 1
		sc.Population.Regions = []ipv4.Region{{Name: "utc", Share: 1, UTCOffset: 0}}
		sc.Defense.Diurnal.OffShare = off
		sc.Defense.Diurnal.Jitter = param.Duration(10 * time.Minute)
		return sc
	}
	for _, engine := range []string{EngineFast, EngineProbe} {
		if res := mustRun(t, night(1), 1, engine); res.Bins[len(res.Bins)-1].EverInfected != 0 {
			t.Errorf("%s: every machine is off, yet %d hosts were infected as seeds", engine, res.Bins[len(res.Bins)-1].EverInfected)
		}
		dead := 0
		for seed := uint64(1); seed <= 60; seed++ {
			res := mustRun(t, night(0.5), seed, engine)
			if res.Bins[len(res.Bins)-1].Infected != 1 {
				dead++
			}
		}
		if dead > 0 {
			t.Errorf("%s: in %d of 60 runs the seed was no longer infected after 10 minutes (a machine switched off?)", engine, dead)
		}
	}
}
