package forecast

import (
	"context"
	"fmt"
	"math"
	"time"

	"gonum.org/v1/gonum/stat/distuv"
)

// Reemergence is the state of a dormant worm and of its defenders, from
// which RunReemergence forecasts the restart (as NIPC and its partners
// did on 29 July 2001 for Code Red's restart on 1 August). Durations are
// Go durations; rates are per day.
type Reemergence struct {
	Now     time.Time // when the state holds and the forecast is made
	Restart time.Time // when the worm wakes on hosts whose clocks are right

	Infected        float64 // hosts infected in the last wave
	UnpatchedShare  float64 // share of them still unpatched at Now
	CarrierShare    float64 // share of the unpatched infected hosts still holding the worm (not rebooted)
	OtherVulnerable float64 // vulnerable hosts never infected, unpatched at Now

	PatchRate    float64   // patches per unpatched host per day, as now
	CampaignRate float64   // the same under an awareness campaign
	CampaignFrom time.Time // when the campaign starts (zero: Now)

	// K is the growth rate per hour the worm had in the last wave, among
	// KPopulation susceptible hosts (zero: Infected): the infection rate
	// per susceptible host is K / KPopulation, so the restart grows at
	// K * S / KPopulation among S susceptible hosts.
	K           float64
	KPopulation float64

	WakeMedian time.Duration // median delay of the wake-up after the restart time (lognormal)
	WakeSigma  float64       // sigma of the log of that delay

	WrongClocks float64       // share of hosts whose clock is wrong
	ClockMin    time.Duration // a wrong clock is off by a uniform amount in [ClockMin, ClockMax] (ahead: positive)
	ClockMax    time.Duration

	Horizon time.Duration // how long after Restart to forecast
	Visible float64       // new infections per hour that make the restart visible
	MaxSize float64       // the restart size to stay under (0: do not compute the patching needed)
}

// DefaultReemergence holds Code Red's values where sources give them, and
// documented assumptions elsewhere (see docs/forecast.md): the joint
// advisory's restart at 1 August 2001 00:00 UTC, CAIDA's 359,104 hosts,
// "nearly a third" of them unpatched, 40% of those still holding the worm
// (assumption: a reboot every 14 days on average, as in the scenario
// codered-2001, leaves e^{-13/14} of the machines infected on 19 July
// unrebooted by 1 August), the scenario's patch rates (0.04 a day as in
// late July, 0.4 a day during the campaign), wake-up delays "measured in
// hours" (lognormal, median 2 h) and 1% of clocks wrong by up to 3 days
// either way.
var DefaultReemergence = Reemergence{
	Now:            time.Date(2001, 7, 29, 0, 0, 0, 0, time.UTC),
	Restart:        time.Date(2001, 8, 1, 0, 0, 0, 0, time.UTC),
	Infected:       359104,
	UnpatchedShare: 1.0 / 3,
	CarrierShare:   0.4,
	PatchRate:      0.04,
	CampaignRate:   0.4,
	K:              1.8,
	WakeMedian:     2 * time.Hour,
	WakeSigma:      0.8,
	WrongClocks:    0.01,
	ClockMin:       -72 * time.Hour,
	ClockMax:       72 * time.Hour,
	Horizon:        48 * time.Hour,
	Visible:        1000,
}

// Check reports the first parameter out of range, naming it as the
// command line and the state file do. Besides each value's range, the
// bounds that keep the forecast finite: now from MinTime to before
// MaxTime; restart and campaign_from from now to MaxSpan after it; the
// horizon and the wake-up median more than 0 and at most MaxSpan; the
// clock errors within MaxSpan either way. The integration then takes at
// most 2 MaxSpan in one-minute steps (about a million).
func (r *Reemergence) Check() error {
	type rng struct {
		key       string
		v, lo, hi float64
	}
	for _, c := range []rng{
		{"infected", r.Infected, 0, 1 << 32},
		{"unpatched_share", r.UnpatchedShare, 0, 1},
		{"carrier_share", r.CarrierShare, 0, 1},
		{"other_vulnerable", r.OtherVulnerable, 0, 1 << 32},
		{"patch_rate", r.PatchRate, 0, 1000},
		{"campaign_rate", r.CampaignRate, 0, 1000},
		{"k", r.K, 0, 1000},
		{"k_population", r.KPopulation, 0, 1 << 32},
		{"wake_sigma", r.WakeSigma, 0, 10},
		{"wrong_clocks", r.WrongClocks, 0, 1},
		{"visible", r.Visible, 0, math.Inf(1)},
		{"max_size", r.MaxSize, 0, math.Inf(1)},
	} {
		if !(c.v >= c.lo && c.v <= c.hi) {
			return &ParamError{Key: c.key, Msg: fmt.Sprintf("%g out of range (allowed: %g to %g)", c.v, c.lo, c.hi)}
		}
	}
	ts := func(t time.Time) string { return t.Format(time.RFC3339) }
	switch {
	case r.Now.IsZero():
		return &ParamError{Key: "now", Msg: "missing (want an RFC 3339 time)"}
	case r.Now.Before(MinTime) || !r.Now.Before(MaxTime):
		return &ParamError{Key: "now", Msg: fmt.Sprintf("%s out of range (allowed: from %s to before %s)", ts(r.Now), ts(MinTime), ts(MaxTime))}
	case r.Restart.IsZero():
		return &ParamError{Key: "restart", Msg: "missing (want an RFC 3339 time)"}
	case r.Restart.Before(r.Now):
		return &ParamError{Key: "restart", Also: "now", Msg: fmt.Sprintf("%s is before now %s (the state must be taken before the restart)", ts(r.Restart), ts(r.Now))}
	case r.Restart.Sub(r.Now) > MaxSpan:
		return &ParamError{Key: "restart", Also: "now", Msg: fmt.Sprintf("%s is more than %s after now %s (allowed: from now to %s after it)", ts(r.Restart), spanText, ts(r.Now), spanText)}
	case r.Infected == 0:
		return &ParamError{Key: "infected", Msg: "0 (allowed: 1 or more hosts)"}
	case r.WakeMedian <= 0 || r.WakeMedian > MaxSpan:
		return &ParamError{Key: "wake_median", Msg: fmt.Sprintf("%s out of range (allowed: more than 0, at most %s)", r.WakeMedian, spanText)}
	case r.ClockMin < -MaxSpan || r.ClockMin > MaxSpan:
		return &ParamError{Key: "clock_min", Msg: fmt.Sprintf("%s out of range (allowed: -%s to %s)", r.ClockMin, spanText, spanText)}
	case r.ClockMax < -MaxSpan || r.ClockMax > MaxSpan:
		return &ParamError{Key: "clock_max", Msg: fmt.Sprintf("%s out of range (allowed: -%s to %s)", r.ClockMax, spanText, spanText)}
	case r.ClockMax < r.ClockMin:
		return &ParamError{Key: "clock_max", Also: "clock_min", Msg: fmt.Sprintf("%s is below clock_min %s", r.ClockMax, r.ClockMin)}
	case r.Horizon <= 0 || r.Horizon > MaxSpan:
		return &ParamError{Key: "horizon", Msg: fmt.Sprintf("%s out of range (allowed: more than 0, at most %s)", r.Horizon, spanText)}
	case !r.CampaignFrom.IsZero() && r.CampaignFrom.Before(r.Now):
		return &ParamError{Key: "campaign_from", Also: "now", Msg: fmt.Sprintf("%s is before now %s", ts(r.CampaignFrom), ts(r.Now))}
	case !r.CampaignFrom.IsZero() && r.CampaignFrom.Sub(r.Now) > MaxSpan:
		return &ParamError{Key: "campaign_from", Also: "now", Msg: fmt.Sprintf("%s is more than %s after now %s (allowed: from now to %s after it)", ts(r.CampaignFrom), spanText, ts(r.Now), spanText)}
	}
	return nil
}

// ParamError is a re-emergence parameter out of range: Key, and Also the
// other key it is compared with, if any.
type ParamError struct {
	Key  string
	Also string
	Msg  string
}

func (e *ParamError) Error() string { return e.Key + ": " + e.Msg }

// Hour is one hour of a re-emergence forecast.
type Hour struct {
	Time       time.Time // start of the hour
	New        float64   // new infections during the hour (woken carriers not counted)
	Woken      float64   // carriers that woke during the hour
	Active     float64   // hosts running the worm, awake, at the end of the hour
	Cumulative float64   // woken carriers plus new infections since Now, at the end of the hour
}

// Outcome is the forecast under one patch rate.
type Outcome struct {
	Name        string    // "as-now" or "campaign"
	PatchRate   float64   // per day
	Carriers    float64   // carriers that wake before the horizon (the others were patched first)
	Susceptible float64   // unpatched hosts without the worm at Restart
	FirstWake   time.Time // the first carrier is awake (expected count 1; wrong clocks wake early)
	EarlyWoken  float64   // carriers awake before Restart (wrong clocks)
	MedianWake  time.Time // half of the carriers are awake (by the wake-up distribution)
	VisibleAt   time.Time // new infections first reach Visible per hour (zero: never)
	PeakAt      time.Time // the hour with the most new infections
	PeakNew     float64   // new infections in that hour
	Size        float64   // Cumulative at the horizon: the restart's size
	Hours       []Hour    // from the first hour with a wake-up (at most 7 days before Restart) to the horizon
}

// ReemergenceForecast is what RunReemergence returns.
type ReemergenceForecast struct {
	Params Reemergence
	Beta   float64 // infection rate per infected host per susceptible host per hour
	// Threshold and CampaignThreshold are the numbers of susceptible hosts
	// below which the restart cannot grow (beta S under the patch rate), as
	// now and under the campaign.
	Threshold         float64
	CampaignThreshold float64
	AsNow             Outcome
	Campaign          Outcome
	// PatchNeeded is how many of the unpatched hosts (carriers and
	// susceptible alike) must be patched at Now, beyond the patching as
	// now, to keep the restart's size at or under MaxSize; NaN when
	// MaxSize is 0.
	PatchNeeded      float64
	PatchNeededShare float64 // the same as a share of the unpatched hosts at Now
}

// wakeCDF returns the share of carriers awake by time x hours after the
// restart: a right clock wakes after a lognormal delay; a wrong one is off
// by a uniform error e (ahead: wakes e earlier). The uniform mixture is
// integrated in closed form with H(x) = integral of the lognormal CDF.
func (r *Reemergence) wakeCDF() (mixed, right func(x float64) float64) {
	m := r.WakeMedian.Hours()
	s := r.WakeSigma
	n := distuv.UnitNormal
	g := func(x float64) float64 { // lognormal CDF
		if x <= 0 {
			return 0
		}
		if s == 0 {
			if x >= m {
				return 1
			}
			return 0
		}
		return n.CDF((math.Log(x) - math.Log(m)) / s)
	}
	h := func(x float64) float64 { // integral of g from 0 to x
		if x <= 0 {
			return 0
		}
		if s == 0 {
			return math.Max(x-m, 0)
		}
		z := (math.Log(x) - math.Log(m)) / s
		return x*n.CDF(z) - m*math.Exp(s*s/2)*n.CDF(z-s)
	}
	a, b := r.ClockMin.Hours(), r.ClockMax.Hours()
	w := r.WrongClocks
	return func(x float64) float64 {
		var wrong float64
		if b > a {
			wrong = (h(x+b) - h(x+a)) / (b - a)
		} else {
			wrong = g(x + a)
		}
		return (1-w)*g(x) + w*wrong
	}, g
}

// RunReemergence forecasts the restart. The model (see docs/forecast.md):
// carriers D0 wake with the distribution of wakeCDF; awake infected hosts
// I infect susceptible hosts S at rate beta I S (beta = K / KPopulation,
// the last wave's growth rate per susceptible host); a host infected
// before the restart sleeps (D1: its clock is in the dormant days) and
// wakes after the restart with the right clocks' delay; every unpatched
// host, carrier, infected or susceptible, is patched at the patch rate r
// (patching reboots an infected host and clears it):
//
//	dD0/dt = -wake0(t) - r D0
//	dD1/dt = [t < restart] beta I S - wake1(t) - r D1
//	dI/dt  = wake0(t) + wake1(t) + [t >= restart] beta I S - r I
//	dS/dt  = -beta I S - r S
//
// It is integrated in one-minute steps: the wake-ups are added per step
// from the distributions, the rest by the classical Runge-Kutta method.
// The integration checks ctx every simulated day, and RunReemergence then
// returns ctx's error.
func RunReemergence(ctx context.Context, p Reemergence) (*ReemergenceForecast, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	pop := p.KPopulation
	if pop == 0 {
		pop = p.Infected
	}
	f := &ReemergenceForecast{Params: p, Beta: p.K / pop, PatchNeeded: math.NaN(), PatchNeededShare: math.NaN()}
	unpatched := p.Infected*p.UnpatchedShare + p.OtherVulnerable
	f.Threshold = p.PatchRate / 24 / f.Beta
	f.CampaignThreshold = p.CampaignRate / 24 / f.Beta
	var err error
	if f.AsNow, err = p.run(ctx, "as-now", p.PatchRate, f.Beta, 1); err != nil {
		return nil, err
	}
	if f.Campaign, err = p.run(ctx, "campaign", p.CampaignRate, f.Beta, 1); err != nil {
		return nil, err
	}
	if p.MaxSize > 0 {
		if f.AsNow.Size <= p.MaxSize {
			f.PatchNeeded = 0
		} else {
			// The size falls as the pool shrinks: bisect on the share kept.
			lo, hi := 0.0, 1.0 // share of the unpatched hosts left
			for range 60 {
				mid := (lo + hi) / 2
				o, err := p.run(ctx, "", p.PatchRate, f.Beta, mid)
				if err != nil {
					return nil, err
				}
				if o.Size <= p.MaxSize {
					lo = mid
				} else {
					hi = mid
				}
			}
			f.PatchNeededShare = 1 - lo
			f.PatchNeeded = f.PatchNeededShare * unpatched
		}
		if f.PatchNeeded == 0 {
			f.PatchNeededShare = 0
		}
	}
	return f, nil
}

// run integrates the model with patch rate rate (per day) and a share keep
// of the unpatched hosts left at Now. It checks ctx once per simulated day
// and returns its error.
func (p Reemergence) run(ctx context.Context, name string, rate, beta, keep float64) (Outcome, error) {
	const step = time.Minute
	dt := step.Hours()
	carriers := p.Infected * p.UnpatchedShare * p.CarrierShare * keep
	s := (p.Infected*p.UnpatchedShare*(1-p.CarrierShare) + p.OtherVulnerable) * keep
	F, G := p.wakeCDF()
	restart := p.Restart
	end := restart.Add(p.Horizon)
	from := p.Now
	campaignFrom := p.CampaignFrom
	if campaignFrom.IsZero() {
		campaignFrom = p.Now
	}
	o := Outcome{Name: name, PatchRate: rate}
	asNow := p.PatchRate
	rateAt := func(t time.Time) float64 {
		if name == "campaign" && !t.Before(campaignFrom) {
			return rate / 24
		}
		if name == "campaign" {
			return asNow / 24
		}
		return rate / 24
	}
	// The hourly table starts with the first hour in which a wake-up is
	// possible, at most 7 days before the restart, and never before Now.
	first := restart
	if p.WrongClocks > 0 && p.ClockMax > 0 {
		first = restart.Add(-p.ClockMax)
	}
	if lim := restart.Add(-7 * 24 * time.Hour); first.Before(lim) {
		first = lim
	}
	if first.Before(from) {
		first = from
	}
	first = first.Truncate(time.Hour)
	var i, cum, surv float64 = 0, 0, 1 // awake infected; woken + new; share of carriers not patched
	var d1 float64                     // hosts infected while the worm sleeps: dormant until their clock's restart
	atRestart := false
	var hour Hour
	hourStart := first
	hour.Time = hourStart
	prevF := F(from.Sub(restart).Hours())
	// deriv returns d/dt of (I, S, D1) and the rate of new infections;
	// before the restart a new host sleeps (its clock is in the dormant
	// days) until it wakes with the others.
	deriv := func(i, s, d1, r float64, before bool) (di, ds, dd1, inf float64) {
		inf = beta * i * s
		if before {
			return -r * i, -inf - r*s, inf - r*d1, inf
		}
		return inf - r*i, -inf - r*s, -r * d1, inf
	}
	totalWake := 0.0
	for n, t := 0, from; t.Before(end); n, t = n+1, t.Add(step) {
		if n%stepsPerDay == 0 {
			if err := ctx.Err(); err != nil {
				return o, err
			}
		}
		r := rateAt(t)
		// wake-ups during the step, among carriers not yet patched
		f1 := F(t.Add(step).Sub(restart).Hours())
		wk := carriers * surv * (f1 - prevF)
		prevF = f1
		if x0 := t.Sub(restart).Hours(); x0 >= 0 && d1 > 0 {
			g0, g1 := G(x0), G(x0+dt)
			if g0 < 1 {
				w := d1 * (g1 - g0) / (1 - g0)
				d1 -= w
				wk += w
			}
		}
		i += wk
		totalWake += wk
		before := t.Before(restart)
		// RK4 on (I, S, D1) and the new infections
		a1, b1, e1, c1 := deriv(i, s, d1, r, before)
		a2, b2, e2, c2 := deriv(i+a1*dt/2, s+b1*dt/2, d1+e1*dt/2, r, before)
		a3, b3, e3, c3 := deriv(i+a2*dt/2, s+b2*dt/2, d1+e2*dt/2, r, before)
		a4, b4, e4, c4 := deriv(i+a3*dt, s+b3*dt, d1+e3*dt, r, before)
		i += dt / 6 * (a1 + 2*a2 + 2*a3 + a4)
		s += dt / 6 * (b1 + 2*b2 + 2*b3 + b4)
		d1 += dt / 6 * (e1 + 2*e2 + 2*e3 + e4)
		n := dt / 6 * (c1 + 2*c2 + 2*c3 + c4)
		i, s, d1 = math.Max(i, 0), math.Max(s, 0), math.Max(d1, 0)
		// Hosts infected before the restart are counted when they wake.
		cum += wk
		if !before {
			cum += n
		}
		surv *= math.Exp(-r * dt)
		if !t.Before(restart) && !atRestart {
			o.Susceptible, o.EarlyWoken, atRestart = s, totalWake-wk, true
		}
		if o.FirstWake.IsZero() && totalWake >= 1 {
			o.FirstWake = t.Add(step)
		}
		if !t.Before(first) {
			hour.New += n
			hour.Woken += wk
			if !t.Add(step).Before(hourStart.Add(time.Hour)) {
				hour.Active, hour.Cumulative = i, cum
				o.Hours = append(o.Hours, hour)
				hourStart = hourStart.Add(time.Hour)
				hour = Hour{Time: hourStart}
			}
		}
	}
	// Wake milestones from the distribution (independent of patching).
	o.MedianWake = quantileTime(F, restart, first.Add(-time.Hour), end, 0.5)
	for _, h := range o.Hours {
		if o.VisibleAt.IsZero() && p.Visible > 0 && h.New >= p.Visible {
			o.VisibleAt = h.Time
		}
		if h.New > o.PeakNew {
			o.PeakNew, o.PeakAt = h.New, h.Time
		}
	}
	o.Size = cum
	o.Carriers = totalWake
	return o, nil
}

// stepsPerDay is how many one-minute steps of the integration pass between
// checks of its context.
const stepsPerDay = 24 * 60

// quantileTime returns the first time at which the wake-up distribution
// reaches share, by bisection on [lo, hi]; zero if it does not.
func quantileTime(F func(float64) float64, restart, lo, hi time.Time, share float64) time.Time {
	x0, x1 := lo.Sub(restart).Hours(), hi.Sub(restart).Hours()
	if F(x1) < share {
		return time.Time{}
	}
	for range 60 {
		m := (x0 + x1) / 2
		if F(m) >= share {
			x1 = m
		} else {
			x0 = m
		}
	}
	return restart.Add(time.Duration(x1 * float64(time.Hour))).Round(time.Minute)
}
