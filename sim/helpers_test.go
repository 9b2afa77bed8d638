package sim

import (
	"context"
	"testing"
	"time"

	"wormwatch/internal/param"
	"wormwatch/scenario"
	"wormwatch/worm"
)

// testScenario returns a small scenario: a space of the given bits, n hosts
// placed uniformly, one worm scanning at a fixed rate with the given
// strategy, for the given duration.
func testScenario(bits, n int, strategy string, rate float64, dur time.Duration) *scenario.Scenario {
	sc := &scenario.Scenario{}
	param.Defaults(sc)
	sc.Name = "test-" + strategy
	sc.Start = time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC)
	sc.End = sc.Start.Add(dur)
	sc.Bin = param.Duration(time.Minute)
	sc.Space.Bits = bits
	sc.Population.Hosts = n
	sc.Population.Placement = "uniform"
	sc.Population.Clock.WrongShare = 0
	var w worm.Params
	param.Defaults(&w)
	w.Name = "w"
	w.Rate.Model = "fixed"
	w.Rate.Fixed = rate
	w.Targeting.Strategy = worm.Strategy(strategy)
	sc.Worms = []worm.Params{w}
	return sc
}

// engineHost names, in the tests, the fast engine run host by host where
// it would lump the hosts into counts (Options.Unlumped).
const engineHost = "fast/host"

func mustRun(t testing.TB, sc *scenario.Scenario, seed uint64, engine string) *Result {
	t.Helper()
	opt := Options{Engine: engine}
	if engine == engineHost {
		opt = Options{Engine: EngineFast, Unlumped: true}
	}
	res, err := Run(context.Background(), sc, seed, opt)
	if err != nil {
		t.Fatal(err)
	}
	return res
}
