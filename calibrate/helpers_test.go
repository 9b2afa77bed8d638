package calibrate

import (
	"context"
	"testing"

	"wormwatch/report"
	"wormwatch/sim"
	"wormwatch/sweep"
)

// directRun runs a job with the engine alone, writing nothing: the tests'
// RunFunc (the command line's goes through runner.Simulate).
func directRun(ctx context.Context, j sweep.Job) (report.Summary, error) {
	res, err := sim.Run(ctx, j.Scenario, j.Seed, sim.Options{Engine: j.Engine, BaseDir: j.BaseDir, NoInfections: true})
	if err != nil {
		return report.Summary{}, err
	}
	j.Keep(res)
	return report.NewSummary(res, "test"), nil
}

// small is a calibration of a small fast-uniform scenario (200 hosts in
// 2^16 addresses, two hours): worm.rate.fixed from the infected count at
// three times.
const small = `
scenario = "fast-uniform"
set = ["space.bits=16", "population.hosts=200", "population.placement=uniform", "end=2001-07-19T12:00:00Z"]
seed = 7
particles = 40
max_generations = 4
predictive = 20

[[param]]
key = "worm.rate.fixed"
prior = "log-uniform"
min = 0.2
max = 5.0

[[target]]
name = "infected"
stat = "infected_at"
role = "calibrate"
source = "synthetic"
at = ["20m", "30m", "40m"]
values = [30.0, 90.0, 160.0]
error = "relative"
sd = 0.1
sd_min = 2.0

[[target]]
name = "ever"
stat = "ever_infected"
role = "validate"
value = 200.0
error = "absolute"
sd = 5.0
`

func mustPlan(t testing.TB, name, text string) *Plan {
	t.Helper()
	s, err := ParseFile(name, []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPlan(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
