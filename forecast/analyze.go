package forecast

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// MinResightings is how many re-sightings (sources seen again in a later
// interval) the filter waits for before it starts: they give the sighting
// probability q that the bias correction divides by.
const MinResightings = 10

// Options tune Analyze. The zero value asks for the defaults.
type Options struct {
	// SpaceBits is the size of the address space the worm scans, in bits
	// (default 32, IPv4). Only the reported scan rate per host depends on
	// it: the population estimate uses the sensor's own size.
	SpaceBits int
	// Alarm is the rule that declares a worm (default DefaultAlarm).
	Alarm AlarmRule
	// Memory is the fading memory of the filter's growth rate: older
	// evidence about K counts less, by e^{-age/Memory} (default 6h, at
	// most MaxSpan).
	Memory time.Duration
	// Level is the confidence level of intervals and bands (default 0.95).
	Level float64
	// Horizon is how far past the end of the series to forecast (default
	// 12h; negative: no forecast; at most MaxSpan), in steps of Step
	// (default 1h, at least the series interval, at most MaxSpan), at most
	// MaxForecastSteps of them.
	Horizon, Step time.Duration
	// Draws is the number of draws for the forecast band (default 1000).
	Draws int
	// Rebase restarts the filter when no interval has shown a trend for
	// this long, counting sources first seen from then on only (default
	// 24h, at most MaxSpan; negative: never). Zou et al. start their filter on a surge of
	// scans; without a restart, the sources a long series has accumulated
	// would dwarf a new outbreak's.
	Rebase time.Duration
}

func (o Options) withDefaults(interval time.Duration) Options {
	if o.SpaceBits == 0 {
		o.SpaceBits = 32
	}
	if o.Alarm == (AlarmRule{}) {
		o.Alarm = DefaultAlarm
	}
	memory, horizon, step, rebase, level := defaultOptions() // DefaultSettings'
	if o.Memory == 0 {
		o.Memory = memory
	}
	if o.Level == 0 {
		o.Level = level
	}
	if o.Horizon == 0 {
		o.Horizon = horizon
	}
	if o.Step == 0 {
		o.Step = step
	}
	if o.Step < interval {
		o.Step = interval
	}
	if o.Draws == 0 {
		o.Draws = 1000
	}
	if o.Rebase == 0 {
		o.Rebase = rebase
	}
	return o
}

func (o Options) check() error {
	switch {
	case o.SpaceBits < 1 || o.SpaceBits > 64:
		return fmt.Errorf("space bits %d out of range (allowed: 1 to 64)", o.SpaceBits)
	case !(o.Alarm.Z > 0):
		return fmt.Errorf("alarm significance %g out of range (allowed: more than 0)", o.Alarm.Z)
	case !(o.Alarm.Tolerance > 0 && o.Alarm.Tolerance < 1):
		return fmt.Errorf("alarm tolerance %g out of range (allowed: between 0 and 1)", o.Alarm.Tolerance)
	case !(o.Alarm.Growth > 1):
		return fmt.Errorf("alarm growth %g out of range (allowed: more than 1)", o.Alarm.Growth)
	case o.Alarm.MinSources < 1:
		return fmt.Errorf("alarm minimum sources %d out of range (allowed: 1 or more)", o.Alarm.MinSources)
	case o.Memory <= 0 || o.Memory > MaxSpan:
		return fmt.Errorf("filter memory %s out of range (allowed: more than 0, at most %s)", o.Memory, spanText)
	case o.Horizon > MaxSpan:
		return fmt.Errorf("forecast horizon %s out of range (allowed: at most %s)", o.Horizon, spanText)
	case o.Step <= 0 || o.Step > MaxSpan:
		return fmt.Errorf("forecast step %s out of range (allowed: more than 0, at most %s)", o.Step, spanText)
	case o.Horizon >= 0 && o.Horizon/o.Step > MaxForecastSteps:
		return fmt.Errorf("forecast horizon %s in steps of %s: %d steps, too many (allowed: at most %d)", o.Horizon, o.Step, o.Horizon/o.Step, MaxForecastSteps)
	case o.Rebase > MaxSpan:
		return fmt.Errorf("rebase period %s out of range (allowed: at most %s, or negative for never)", o.Rebase, spanText)
	case !(o.Level > 0 && o.Level < 1):
		return fmt.Errorf("confidence level %g out of range (allowed: between 0 and 1)", o.Level)
	case o.Draws < 10 || o.Draws > 1_000_000:
		return fmt.Errorf("forecast draws %d out of range (allowed: 10 to 1000000)", o.Draws)
	}
	return nil
}

// Interval is an estimate with its confidence interval. Bounds that the
// data do not limit are infinite, and values that cannot be estimated are
// NaN; both are null in JSON.
type Interval struct {
	Value float64 `json:"value"`
	Low   float64 `json:"low"`
	High  float64 `json:"high"`
}

// MarshalJSON writes {"value": v, "low": l, "high": h}, with null for a
// number that is not finite.
func (iv Interval) MarshalJSON() ([]byte, error) {
	f := func(x float64) string {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "null"
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return []byte(`{"value":` + f(iv.Value) + `,"low":` + f(iv.Low) + `,"high":` + f(iv.High) + `}`), nil
}

// ScanRate is what the re-sightings say about how fast one infected host
// scans.
type ScanRate struct {
	Q       Interval // probability that a scanning host is seen within one interval
	PerHost Interval // probes per second a host sends into the sensor (mu)
	Eta     Interval // probes per second a host sends over the whole space (eta)
}

// Alarm is when the rule fired.
type Alarm struct {
	Time     time.Time // end of the interval at which it fired
	Index    int       // that interval's row
	Onset    time.Time // start of the settled growth that fired it
	Seen     int64     // sources seen by then
	Infected float64   // filtered estimate of infected hosts then
	K        float64   // growth rate per hour then
}

// Analysis is what Analyze found in a series.
type Analysis struct {
	Series   string
	Size     uint64
	Interval time.Duration
	Start    time.Time // start of the first interval
	End      time.Time // end of the last interval
	Options  Options   // with the defaults filled in
	Steps    []Step    // one per row
	Scan     ScanRate  // from all the re-sightings of the series
	Alarm    *Alarm    // nil when the rule never fired
	// Rebases are the times the filter restarted after a quiet period
	// (see Options.Rebase); Base is the row the last restart began at.
	// Seen, Observed and Infected count sources first seen since then.
	Rebases []time.Time
	Base    int
	// Final estimates of the filter at End.
	Alpha    Interval // Zou's infection rate per interval, e^{K interval} - 1
	K        Interval // growth rate per hour
	N        Interval // vulnerable population K / beta (uniform scanning)
	Infected Interval // infected (scanning) hosts at End
	// Logistic is the fit of the random constant spread curve over the
	// trend that raised the alarm; nil without an alarm or when it fails.
	Logistic *Logistic
	// Forecast is the number of infected hosts ahead, from the filter's
	// final state; empty without an alarm.
	Forecast []Point
	// Notes are warnings about the estimates, for people.
	Notes []string
}

// Point is one time of a forecast: the median and the band.
type Point struct {
	Time     time.Time
	Infected Interval
}

// Analyze runs the early-warning filter over a series, applies the alarm
// rule, fits the logistic curve to the trend that raised the alarm and
// forecasts the infected hosts. It uses nothing after a row to compute that
// row's Step.
//
// The series must have MinRows to MaxRows rows, an interval of at most
// MaxSpan, and a size from 1 to MaxSensorSize and below the
// 2^Options.SpaceBits addresses of the space. Its loops (the filter over
// the rows, the fits, the forecast's draws) check ctx, and Analyze returns
// ctx's error once it is done.
func Analyze(ctx context.Context, s *Series, opt Options) (*Analysis, error) {
	opt, err := checkAnalysis(s, opt)
	if err != nil {
		return nil, err
	}
	run := newFilterRun(s.Name, s.Size, s.Interval, opt, len(s.Rows))
	run.rows = s.Rows // row k reads rows[:k+1] only
	for k := range s.Rows {
		if k%ctxCheckRows == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if err := run.row(ctx, k); err != nil {
			return nil, err
		}
	}
	if run.overflow != nil {
		return nil, run.overflow
	}
	a := run.analysis(run.steps)
	if err := run.finish(ctx, a); err != nil {
		return nil, err
	}
	return a, nil
}

// checkAnalysis checks the series and the options (see Analyze) and
// returns the options with their defaults filled in.
func checkAnalysis(s *Series, opt Options) (Options, error) {
	if s == nil || len(s.Rows) < MinRows {
		n := 0
		if s != nil {
			n = len(s.Rows)
		}
		return opt, tooShort(n)
	}
	if len(s.Rows) > MaxRows {
		return opt, fmt.Errorf("%d rows, more than forecast's cap of %d", len(s.Rows), MaxRows)
	}
	return checkSeries(s.Size, s.Interval, opt)
}

// tooShort is the error for a series of n rows, fewer than MinRows.
func tooShort(n int) error {
	return fmt.Errorf("series too short to estimate: %d rows, at least %d are needed", n, MinRows)
}

// checkSeries checks a series' size and interval and the options (see
// Analyze), and returns the options with their defaults filled in.
func checkSeries(size uint64, interval time.Duration, opt Options) (Options, error) {
	switch {
	case interval <= 0 || interval > MaxSpan:
		return opt, fmt.Errorf("interval %s out of range (allowed: more than 0, at most %s)", interval, spanText)
	case size == 0 || size > MaxSensorSize:
		return opt, fmt.Errorf("column size: %d is not a sensor size (want the addresses watched, 1 to %d)", size, uint64(MaxSensorSize))
	}
	opt = opt.withDefaults(interval)
	if err := opt.check(); err != nil {
		return opt, err
	}
	if float64(size) >= math.Ldexp(1, opt.SpaceBits) {
		return opt, fmt.Errorf("column size: %d addresses is not less than the 2^%d addresses of the space the worm scans (allowed: 1 to 2^%d - 1: a sensor watches a part of the space; are the space's bits right?)", size, opt.SpaceBits, opt.SpaceBits)
	}
	return opt, nil
}

// filterRun is the state of the pass over the rows that Analyze makes at
// once and a Monitor row by row: the rows so far and their steps, the
// filter, the tally of re-sightings, the alarm, and the base the filter
// last restarted from. Row k's step reads rows[:k+1] and steps[:k] only,
// so the two give the same steps bit for bit.
type filterRun struct {
	name     string
	size     uint64
	interval time.Duration
	opt      Options
	z        float64 // the normal quantile of the confidence level
	dt       float64 // the interval in seconds
	f        *filter
	tally    scanTally
	window   int   // rows older than this many memories no longer matter to K
	rebase   int   // rows of quiet that restart the filter on a new base; -1: never
	memRows  int   // rows in a memory
	base     int   // the row the filter last restarted at
	cBase    int64 // the cumulative sources before that row

	rows    []Row  // the rows so far (Analyze: the whole series, of which row k reads rows[:k+1])
	steps   []Step // one per row done
	alarm   *Alarm // nil until the rule fires
	rebases []time.Time

	overflow *SizeError // the first step whose estimates overflowed (size.go), nil before
}

// newFilterRun sets up a pass over the rows of a series of the given
// size and interval; n is the number of rows expected (a capacity).
func newFilterRun(name string, size uint64, interval time.Duration, opt Options, n int) *filterRun {
	run := &filterRun{name: name, size: size, interval: interval, opt: opt,
		z: distuv.UnitNormal.Quantile(0.5 + opt.Level/2), dt: interval.Seconds(), steps: make([]Step, 0, n)}
	run.f = &filter{dt: run.dt, size: float64(size), memory: opt.Memory.Seconds(), kPrior: 10.0 / 3600}
	// The window is 10 memories, capped at MaxRows: no row index reaches
	// the cap, so the cap changes nothing (nor does the series' length,
	// which Analyze once capped it with: a window longer than the rows so
	// far reaches back to the base either way).
	run.window = int(math.Min(MaxRows, math.Ceil(10*opt.Memory.Seconds()/run.dt)))
	run.rebase = -1
	if opt.Rebase > 0 {
		run.rebase = max(int(opt.Rebase/interval), 1)
	}
	run.memRows = max(int(opt.Memory/interval), 1)
	return run
}

// row takes row k (run.rows[k]): the filter's step, the alarm rule, and a
// restart of the filter after a quiet rebase period.
func (run *filterRun) row(ctx context.Context, k int) error {
	r := run.rows[k]
	if k == 0 {
		run.cBase = r.CumulativeSources - r.NewSources
	}
	prevCum := r.CumulativeSources - r.NewSources - run.cBase // sources seen since the base, before this row
	run.tally.add(prevCum, r)
	nan := math.NaN()
	st := Step{Time: r.Time.Add(run.interval), Seen: r.CumulativeSources - run.cBase,
		Observed: nan, Infected: nan, InfectedSD: nan, K: nan, KSE: nan, N: nan, NLow: nan, NHigh: nan}
	if err := run.estimate(ctx, &st, k, r, prevCum); err != nil {
		return err
	}
	run.steps = append(run.steps, st)
	if st.Trend && run.alarm == nil {
		lo := max(run.base, k-run.window)
		if from, ok := settled(run.steps[lo:k+1], run.opt.Alarm); ok {
			run.alarm = &Alarm{Time: st.Time, Index: k, Onset: run.steps[lo+from].Time,
				Seen: st.Seen, Infected: st.Infected, K: st.K}
		}
	}
	if run.rebase > 0 && k+1-run.base >= run.rebase && run.alarm == nil && !growing(run.steps, k, run.memRows) {
		run.restart(k, r)
	}
	return nil
}

// analysis returns the Analysis of the rows so far without the final
// estimates (finish adds them), with the given steps.
func (run *filterRun) analysis(steps []Step) *Analysis {
	n := len(steps)
	a := &Analysis{
		Series: run.name, Size: run.size, Interval: run.interval, Options: run.opt,
		Start: run.rows[0].Time, End: run.rows[n-1].Time.Add(run.interval),
		Steps: steps, Alarm: run.alarm, Rebases: run.rebases, Base: run.base,
	}
	return a
}

// estimate fills the filter's estimates of row k into st, once the
// re-sightings give the sighting probability q: it starts the filter on
// the rows of the window, or takes the row's bias-corrected count.
func (run *filterRun) estimate(ctx context.Context, st *Step, k int, r Row, prevCum int64) error {
	q, qse := run.tally.q()
	if run.tally.resighted < MinResightings || math.IsNaN(q) {
		return nil
	}
	f, dt := run.f, run.dt
	mu := -math.Log1p(-q) / dt
	f.beta = mu / f.size
	y := float64(prevCum) + float64(r.NewSources)/q
	if !f.on {
		if err := f.start(ctx, run.rows[max(run.base, k+1-run.window):k+1], run.cBase, q); err != nil {
			return err
		}
	} else {
		f.rescale(q)
		f.observe(y, float64(prevCum), q)
	}
	x, p := f.predict()
	st.Observed = y
	st.Infected, st.InfectedSD = x[0], math.Sqrt(p[0][0])
	st.K, st.KSE = f.x[1]*3600, math.Sqrt(f.p[1][1])*3600
	if st.K > 0 {
		st.N = st.K / 3600 / f.beta
		muSE := qse / ((1 - q) * dt)
		rel := math.Hypot(st.KSE/st.K, muSE/mu)
		st.NLow, st.NHigh = st.N*math.Exp(-run.z*rel), st.N*math.Exp(run.z*rel)
	}
	rule := run.opt.Alarm
	st.Trend = st.K-rule.Z*st.KSE > 0 && st.Seen >= rule.MinSources
	run.noteOverflow(st, k, q)
	return nil
}

// restart starts the filter again from the row after k, after a whole
// rebase period without an outbreak under way, counting only sources first
// seen from there on, so that background seen long ago does not hide a
// new surge.
func (run *filterRun) restart(k int, r Row) {
	run.base, run.cBase = k+1, r.CumulativeSources
	var old float64
	recent := run.rows[max(k+1-run.memRows, 0) : k+1] // a memory is longer than the series so far when Memory > Rebase
	for _, o := range recent {
		old += float64(o.Sources - o.NewSources)
	}
	run.tally = scanTally{old: old / float64(len(recent))}
	run.f.on = false
	run.rebases = append(run.rebases, r.Time.Add(run.interval))
}

// finish sets the final estimates at the end of the series and, after an
// alarm, fits the logistic curve and forecasts.
func (run *filterRun) finish(ctx context.Context, a *Analysis) error {
	s := &Series{Name: run.name, Size: run.size, Interval: run.interval, Rows: run.rows[:len(a.Steps)]}
	z, dt := run.z, run.dt
	q, qse := run.tally.q()
	a.Scan = scanRate(q, qse, z, dt, s.Fraction(run.opt.SpaceBits))
	last := a.Steps[len(a.Steps)-1]
	a.K = Interval{last.K, last.K - z*last.KSE, last.K + z*last.KSE}
	a.Alpha = Interval{math.Expm1(a.K.Value * s.Hours()), math.Expm1(a.K.Low * s.Hours()), math.Expm1(a.K.High * s.Hours())}
	a.N = Interval{last.N, last.NLow, last.NHigh}
	a.Infected = Interval{last.Infected, math.Max(last.Infected-z*last.InfectedSD, 0), last.Infected + z*last.InfectedSD}
	if a.Alarm == nil {
		return nil
	}
	if err := a.fit(ctx, s, q, z, run.cBase); err != nil {
		return err
	}
	if run.opt.Horizon >= 0 {
		return a.forecast(ctx, run.f, qse/((1-q)*dt), run.opt)
	}
	return nil
}

// scanRate turns the sighting probability q (with its standard error) into
// the per-host rates, with intervals.
func scanRate(q, qse, z, dt, frac float64) ScanRate {
	if math.IsNaN(q) {
		n := Interval{math.NaN(), math.NaN(), math.NaN()}
		return ScanRate{n, n, n}
	}
	lo, hi := math.Max(q-z*qse, 0), math.Min(q+z*qse, 1)
	qi := Interval{q, lo, hi}
	mu := func(q float64) float64 { return -math.Log1p(-q) / dt }
	m := Interval{mu(q), mu(lo), mu(hi)}
	// (1-p)^{eta dt} = 1 - q, so eta = mu / -ln(1-p)
	w := -math.Log1p(-frac)
	return ScanRate{Q: qi, PerHost: m, Eta: Interval{m.Value / w, m.Low / w, m.High / w}}
}

// fit fits the logistic curve from the start of the trend that raised the
// alarm to the end of the series. A failed fit is a note; the error is
// ctx's, once it is done.
func (a *Analysis) fit(ctx context.Context, s *Series, q, z float64, cBase int64) error {
	from := a.Alarm.Index
	for from > 0 && a.Steps[from-1].Trend {
		from--
	}
	rows := s.Rows[from:]
	g := (len(rows) + maxFitPoints - 1) / maxFitPoints
	t0 := rows[0].Time
	var data []obs
	for i := 0; i < len(rows); i += g {
		var o obs
		for _, r := range rows[i:min(i+g, len(rows))] {
			c := float64(r.CumulativeSources - r.NewSources - cBase)
			o.y += c + float64(r.NewSources)/q
			o.t += r.Time.Sub(t0).Hours()
			o.n++
		}
		o.y /= o.n
		o.t /= o.n
		data = append(data, o)
	}
	fit, err := fitLogistic(ctx, data, q, a.Steps[a.Alarm.Index].K, a.N.Value, z)
	if err := ctx.Err(); err != nil {
		return err
	}
	if err != nil {
		a.Notes = append(a.Notes, "the logistic fit failed: "+err.Error())
		return nil
	}
	fit.From, fit.To = t0, rows[len(rows)-1].Time
	fit.Midpoint = t0.Add(time.Duration(fit.T.Value * float64(time.Hour)))
	if space := math.Ldexp(1, a.Options.SpaceBits); fit.N.Value > space || fit.N.High > space {
		fit.N.High = math.Inf(1)
		if fit.N.Value > space {
			a.Notes = append(a.Notes, "the logistic fit does not bound N yet: the curve has not started to bend")
		}
	}
	a.Logistic = fit
	if kn, ln := a.N, fit.N; kn.Value > 0 && (kn.High < ln.Low || ln.High < kn.Low) {
		a.Notes = append(a.Notes, "the filter's N (from the growth rate and the scan rate, which assumes uniform scanning) and the logistic fit's N (from the curve's bend) disagree: the worm may not scan uniformly, or its rate changed")
	}
	return nil
}

// forecast draws the filter's final state (I, K) and the per-host rate mu
// from their estimated normal distributions and follows each draw with the
// model, giving the median and the band of infected hosts ahead. It keeps
// the draws and one step's values (memory of Options.Draws, not of the
// draws times the steps), and checks ctx at every step.
func (a *Analysis) forecast(ctx context.Context, f *filter, muSE float64, opt Options) error {
	last := a.Steps[len(a.Steps)-1]
	if math.IsNaN(last.K) {
		return nil
	}
	// Cholesky of the 2x2 covariance, by hand: a library call per draw
	// would allocate, and the formula is three lines.
	p := f.p
	l00 := math.Sqrt(math.Max(p[0][0], 0))
	var l10, l11 float64
	if l00 > 0 {
		l10 = p[1][0] / l00
	}
	l11 = math.Sqrt(math.Max(p[1][1]-l10*l10, 0))
	mu := f.beta * f.size
	tLast := a.End.Add(-a.Interval) // the time of the filter's last observation
	steps := int(opt.Horizon/opt.Step) + 1
	type draw struct{ i, k, b float64 }
	draws := make([]draw, opt.Draws)
	rng := rand.New(rand.NewPCG(1, 2)) // fixed: the same input gives the same band
	for d := range draws {
		e0, e1, e2 := rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()
		draws[d] = draw{
			i: math.Max(f.x[0]+l00*e0, 0),
			k: f.x[1] + l10*e0 + l11*e1,
			b: math.Max(mu+muSE*e2, mu*1e-3) / f.size,
		}
	}
	lo, hi := (1-opt.Level)/2, (1+opt.Level)/2
	v := make([]float64, len(draws))
	for j := range steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		t := a.End.Add(time.Duration(j) * opt.Step)
		h := t.Sub(tLast).Seconds()
		for d, dr := range draws {
			v[d] = grow(dr.i, dr.k, dr.b, h)
		}
		sort.Float64s(v)
		a.Forecast = append(a.Forecast, Point{
			Time:     t,
			Infected: Interval{stat.Quantile(0.5, stat.Empirical, v, nil), stat.Quantile(lo, stat.Empirical, v, nil), stat.Quantile(hi, stat.Empirical, v, nil)},
		})
	}
	return nil
}

// settled reports whether the last step of steps ends a settled growth:
// walking back from it, every step satisfies the rule's conditions on K
// (Trend) with K within the tolerance of the last step's K, until one
// whose infected estimate is at most 1/Growth of the last's. It returns
// the index of that step, the onset of the growth.
func settled(steps []Step, rule AlarmRule) (int, bool) {
	last := steps[len(steps)-1]
	lo, hi := last.K*(1-rule.Tolerance), last.K*(1+rule.Tolerance)
	target := last.Infected / rule.Growth
	for u := len(steps) - 1; u >= 0; u-- {
		st := steps[u]
		if !st.Trend || st.K < lo || st.K > hi {
			return 0, false
		}
		if st.Infected <= target {
			return u, true
		}
	}
	return 0, false
}

// growing reports whether the filter's estimate of infected hosts at step
// k is at least twice what it was m steps earlier: an outbreak under way
// (a worm doubling within the filter's memory), which a rebase must not
// cut.
func growing(steps []Step, k, m int) bool {
	if k < m {
		return false
	}
	now, then := steps[k].Infected, steps[k-m].Infected
	return now >= 2*then && now > 0
}
