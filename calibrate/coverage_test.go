package calibrate

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// coverageFile is the calibration of TestCoverage: two parameters of a
// small fast-uniform scenario (200 hosts placed uniformly in 2^16
// addresses, two hours),
// the scan rate and the patch rate, from the infected count at four times
// and the hosts ever infected. %s are the observations.
const coverageFile = `
scenario = "fast-uniform"
set = ["space.bits=16", "population.hosts=200", "population.placement=uniform", "end=2001-07-19T12:00:00Z"]
seed = %d
particles = 60
max_generations = 4
predictive = 2

[[param]]
key = "worm.rate.fixed"
prior = "log-uniform"
min = 0.3
max = 3.0

[[param]]
key = "defense.patch.rate"
prior = "uniform"
min = 0.0
max = 12.0

[[target]]
name = "infected"
stat = "infected_at"
role = "calibrate"
at = ["20m", "40m", "60m", "90m"]
values = [%s]
error = "relative"
sd = 0.1
sd_min = 3.0

[[target]]
name = "ever"
stat = "ever_infected"
role = "calibrate"
value = %s
error = "relative"
sd = 0.05
sd_min = 3.0
`

// TestCoverage checks the calibration on synthetic data from known
// parameters: for each of 100 repetitions, draw the truth from the prior
// (fixed seeds), simulate the observations at the truth with a seed the
// calibration never uses, calibrate, and see whether each parameter's 90%
// credible interval (weighted 5% and 95% quantiles of the posterior)
// holds the truth. With truths drawn from the prior a calibrated posterior
// covers at the nominal rate; the test allows 3 binomial standard
// deviations, sqrt(0.9 × 0.1 / 100) = 0.03, each side: coverage in
// [0.81, 0.99]. (Hosts are placed uniformly: clustered placement would
// take most of the time.)
func TestCoverage(t *testing.T) {
	if testing.Short() {
		t.Skip("about 30 s of calibrations")
	}
	t.Parallel()
	const reps, nominal = 100, 0.9
	bound := 3 * math.Sqrt(nominal*(1-nominal)/reps)
	rng := rand.New(rand.NewPCG(2026, 12))
	covered := make([]int, 2)
	var width [2]float64
	begin := time.Now()
	for rep := range reps {
		// The truth, from the prior.
		base := mustPlan(t, "coverage.toml", fmt.Sprintf(coverageFile, 1, "1.0, 1.0, 1.0, 1.0", "1.0"))
		truth := []float64{base.Spec.Params[0].priorDraw(rng.Float64()), base.Spec.Params[1].priorDraw(rng.Float64())}
		x, err := base.simulate(context.Background(), Options{Run: directRun}, truth, 1_000_000+uint64(rep), "truth")
		if err != nil {
			t.Fatal(err)
		}
		vals := ""
		for j, v := range x[0] {
			if j > 0 {
				vals += ", "
			}
			vals += setText(v)
		}
		p := mustPlan(t, "coverage.toml", fmt.Sprintf(coverageFile, 100+rep, vals, setText(x[1][0])))
		res, err := Run(context.Background(), p, t.TempDir(), Options{Run: directRun, Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		post := res.Posterior()
		for m := range 2 {
			q := post.Quantiles(m, 0.05, 0.95)
			if q[0] <= truth[m] && truth[m] <= q[1] {
				covered[m]++
			}
			width[m] += (q[1] - q[0]) / (*p.Spec.Params[m].Max - *p.Spec.Params[m].Min) / reps
		}
	}
	for m, key := range []string{"worm.rate.fixed", "defense.patch.rate"} {
		c := float64(covered[m]) / reps
		t.Logf("%s: the 90%% credible interval covered the truth in %d of %d calibrations (%.3f); mean width %.2f of the prior range", key, covered[m], reps, c, width[m])
		if math.Abs(c-nominal) > bound {
			t.Errorf("%s: coverage %.3f, outside %.2f ± %.3f", key, c, nominal, bound)
		}
	}
	t.Logf("%d calibrations in %.1f s", reps, time.Since(begin).Seconds())
}
