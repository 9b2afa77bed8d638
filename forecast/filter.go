package forecast

import (
	"context"
	"math"
	"time"
)

// AlarmRule says when a trend is declared a worm. The alarm is raised at
// the end of the first interval t at which, walking back from t, every
// interval u
//   - has a growth rate K_u significantly positive, K_u - Z se(K_u) > 0,
//     with at least MinSources sources seen,
//   - and K_u within a relative Tolerance of K_t,
//
// until one whose filtered count of infected hosts is at most 1/Growth of
// t's: the count grew Growth-fold at a settled rate.
//
// An exponential epidemic keeps K constant while it multiplies. Background
// whose cumulative count grows as a power of time t^n (new scanners at a
// steady rate: n = 1) has a growth rate n/t that falls as it grows, so
// within any band of ±Tolerance it grows at most (1+Tolerance)^n-fold; a
// burst moves K up and down while the level jumps; a daily cycle grows at
// most by its peak-to-trough ratio and its rate is never constant. None
// grows Growth-fold at a settled rate.
type AlarmRule struct {
	Z          float64 // significance of K > 0, in standard errors (default 3)
	Tolerance  float64 // relative band around the current K (default 0.3)
	Growth     float64 // growth of the infected estimate at a settled K (default 8)
	MinSources int64   // sources the sensor must have seen (default 10)
}

// Step is the filter's state after one interval of the series. Estimates
// use the data up to the end of that interval only, as a monitor running
// at that moment would have had them. Values that cannot be estimated yet
// (before the first re-sightings give the scan rate) are NaN.
type Step struct {
	Time       time.Time // end of the interval
	Seen       int64     // distinct sources seen so far
	Observed   float64   // Zou's bias-corrected count of infected hosts at the start of the interval
	Infected   float64   // filtered estimate of infected (scanning) hosts at Time
	InfectedSD float64   // its standard deviation
	K          float64   // growth rate per hour
	KSE        float64   // its standard error
	N          float64   // vulnerable population, K / beta (uniform scanning)
	NLow       float64   // its confidence interval (Options.Level)
	NHigh      float64
	Trend      bool // the interval satisfies the alarm rule's conditions on K
}

// scanTally estimates how likely a scanning host is to be seen by the
// sensor within one interval, from re-sightings: every source seen before
// an interval is still scanning (the epidemic model has no removal), so
// the number of them seen again during it, sources - new_sources, is
// Binomial(cumulative_sources of the previous row, q). Summed over
// intervals, q = resighted / exposed is its maximum-likelihood estimate.
//
// After a rebase (Options.Rebase), sources seen before the new base are
// not in the exposure; their re-sightings are taken off at the mean rate
// per interval they had just before the base (old).
type scanTally struct {
	resighted, exposed float64
	old                float64
}

func (s *scanTally) add(prevCum int64, r Row) {
	s.resighted += math.Max(float64(r.Sources-r.NewSources)-s.old, 0)
	s.exposed += float64(prevCum)
}

// q returns the estimate and its binomial standard error.
func (s *scanTally) q() (q, se float64) {
	if s.exposed <= 0 || s.resighted <= 0 {
		return math.NaN(), math.NaN()
	}
	q = s.resighted / s.exposed
	if q >= 1 {
		q = 1 - 0.5/s.exposed // every source seen again every interval: the sensor sees all
	}
	return q, math.Sqrt(math.Max(q*(1-q), 0.25/s.exposed) / s.exposed)
}

// filter is the extended Kalman filter on the state (I, K): I infected
// hosts scanning, K their growth rate per second. See the package
// documentation for the equations.
type filter struct {
	dt     float64 // interval, seconds
	size   float64 // sensor size, addresses
	memory float64 // fading memory of K, seconds
	kPrior float64 // prior standard deviation of K, per second

	on   bool
	x    [2]float64    // I, K at the time of the last observation
	p    [2][2]float64 // covariance
	beta float64
	c    float64 // sources seen at the time of the last observation
	q    float64 // sighting probability the observations were corrected with
	// nuSum and nuW are the exponentially weighted sum of the normalised
	// innovations and of the weights (memory biasMemory intervals).
	nuSum, nuW float64
}

// When the weighted mean of the recent normalised innovations is more than
// biasZ standard errors from 0 (over biasMemory intervals), the variance
// of K is multiplied by biasInflate at each interval until it is not.
const (
	biasMemory  = 30.0
	biasZ       = 3.0
	biasInflate = 1.5
)

// start initialises the filter at the start of the last of rows (the
// current one) from them: K and I from a log-linear regression of the
// bias-corrected counts on time (trendGLM). Starting the filter cold on
// the first rows instead, where a small sensor sees no one for hours,
// makes it read the first sightings as a burst and overshoot K. cBase
// sources (seen before the filter's base) are taken off the cumulative
// counts. The error is ctx's, once it is done.
func (f *filter) start(ctx context.Context, rows []Row, cBase int64, q float64) error {
	f.on = true
	f.nuSum, f.nuW = 0, 0
	f.q = q
	last := rows[len(rows)-1]
	c := float64(last.CumulativeSources - cBase - last.NewSources)
	f.c = c
	r := func(i float64) float64 { return (1 - q) / q * math.Max(i-c, 1/q) }
	g, ok, err := trendGLM(ctx, rows, cBase, last.Time, q)
	if err != nil {
		return err
	}
	if !ok {
		y := c + float64(last.NewSources)/q
		f.x = [2]float64{y, 0}
		f.p = [2][2]float64{{r(y) + 1, 0}, {0, f.kPrior * f.kPrior}}
		return nil
	}
	// The regression's mean at the start of the last row is q I.
	i := math.Max(math.Exp(g.a)/q, c)
	f.x = [2]float64{i, g.k / 3600}
	f.p = [2][2]float64{
		{i*i*g.va + r(i), i * g.cak / 3600},
		{i * g.cak / 3600, g.vk / (3600 * 3600)},
	}
	if f.p[1][1] > f.kPrior*f.kPrior {
		f.p[1][1] = f.kPrior * f.kPrior
		f.p[0][1], f.p[1][0] = 0, 0
	}
	return nil
}

// rescale moves the state to a new sighting probability: the hosts not
// yet seen were counted as new sources / q, so their number scales by
// q_old / q. Without it, a q estimate that drifts as re-sightings
// accumulate would read as growth.
func (f *filter) rescale(q float64) {
	if q == f.q {
		return
	}
	s := f.q / q
	f.x[0] = f.c + (f.x[0]-f.c)*s
	f.p[0][0] *= s * s
	f.p[0][1] *= s
	f.p[1][0] *= s
	f.q = q
}

// predict moves the state one interval ahead and returns it with its
// covariance, without changing the filter.
func (f *filter) predict() ([2]float64, [2][2]float64) {
	i, k := f.x[0], f.x[1]
	fi, dI, dK := growJac(i, k, f.beta, f.dt)
	// F = [[dI, dK], [0, 1]]
	p := f.p
	// fading memory on K: its variance grows by e^{dt/memory} per interval
	g := math.Exp(f.dt / (2 * f.memory))
	p[0][1] *= g
	p[1][0] *= g
	p[1][1] = math.Min(p[1][1]*g*g, f.kPrior*f.kPrior)
	var q [2][2]float64
	// process noise on I: new infections are a Poisson count over the interval
	q[0][0] = math.Max(fi-i, 0) + 1
	np := [2][2]float64{
		{dI*dI*p[0][0] + 2*dI*dK*p[0][1] + dK*dK*p[1][1] + q[0][0], dI*p[0][1] + dK*p[1][1]},
		{0, p[1][1]},
	}
	np[1][0] = np[0][1]
	return [2]float64{fi, k}, np
}

// observe feeds the bias-corrected count y of infected hosts at the start
// of an interval, with seen sources c at that moment and sighting
// probability q.
func (f *filter) observe(y float64, c float64, q float64) {
	r := func(i float64) float64 { return (1 - q) / q * math.Max(i-c, 1/q) }
	x, p := f.predict()
	if f.nuW > 0 && math.Abs(f.nuSum)/math.Sqrt(f.nuW) > biasZ {
		// The recent innovations lean one way: the model with this K no
		// longer fits (the growth changed, or the start was off). Widen
		// K's variance so that it follows.
		p[1][1] *= biasInflate
		p[0][1] *= math.Sqrt(biasInflate)
		p[1][0] = p[0][1]
		p[1][1] = math.Min(p[1][1], f.kPrior*f.kPrior)
	}
	s := p[0][0] + r(x[0])
	k0, k1 := p[0][0]/s, p[1][0]/s
	v := y - x[0]
	decay := math.Exp(-1 / biasMemory)
	f.nuSum = f.nuSum*decay + v/math.Sqrt(s)
	f.nuW = f.nuW*decay + 1
	x[0] += k0 * v
	x[1] += k1 * v
	// Joseph form is not needed for a scalar observation with this gain;
	// P = (I - K H) P.
	np := [2][2]float64{
		{(1 - k0) * p[0][0], (1 - k0) * p[0][1]},
		{p[1][0] - k1*p[0][0], p[1][1] - k1*p[0][1]},
	}
	np[0][1] = 0.5 * (np[0][1] + np[1][0])
	np[1][0] = np[0][1]
	if x[0] < c {
		x[0] = c // hosts already seen are infected
	}
	f.x, f.p, f.c, f.q = x, np, c, q
}
