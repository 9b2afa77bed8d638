package forecast

import (
	"context"
	"fmt"
	"math"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"wormwatch/internal/param"
)

// Reemergence is the state of a dormant worm and of its defenders, from
// which RunReemergence forecasts the restart (as NIPC and its partners
// did on 29 July 2001 for Code Red's restart on 1 August). Rates are per
// day.
//
// Each parameter is declared once, here, with the tags of package param:
// its key in a state file (ReadState), its default (DefaultReemergence),
// its bounds and its doc text. The command's flags (the keys with dashes),
// the JSON output (StateJSON) and the table of docs/forecast.md
// (WriteStateDoc) are generated from them. Validate checks the tags'
// bounds and the rules between parameters.
type Reemergence struct {
	Now     time.Time `toml:"now" default:"2001-07-29T00:00:00Z" min:"1970-01-01T00:00:00Z" max:"8999-12-31T23:59:59.999999999Z" doc:"when the state holds and the forecast is made (RFC 3339 date-time, UTC)"`
	Restart time.Time `toml:"restart" default:"2001-08-01T00:00:00Z" doc:"when the worm wakes on hosts whose clocks are right (RFC 3339; from now to 366 days after it)"`

	Infected        float64 `toml:"infected" default:"359104" min:"0" max:"4294967296" doc:"hosts infected in the last wave (more than 0)"`
	UnpatchedShare  float64 `toml:"unpatched_share" default:"0.3333333333333333" min:"0" max:"1" doc:"share of them still unpatched"`
	CarrierShare    float64 `toml:"carrier_share" default:"0.4" min:"0" max:"1" doc:"share of the unpatched infected hosts still holding the worm (not rebooted); the others are susceptible again"`
	OtherVulnerable float64 `toml:"other_vulnerable" default:"0" min:"0" max:"4294967296" doc:"vulnerable hosts never infected, unpatched"`

	PatchRate    float64   `toml:"patch_rate" default:"0.04" min:"0" max:"1000" doc:"patches per unpatched host per day, as now"`
	CampaignRate float64   `toml:"campaign_rate" default:"0.4" min:"0" max:"1000" doc:"patches per unpatched host per day under an awareness campaign"`
	CampaignFrom time.Time `toml:"campaign_from" doc:"when the campaign starts (RFC 3339; default: now; from now to 366 days after it)"`

	// K is the growth rate per hour the worm had in the last wave, among
	// KPopulation susceptible hosts (zero: Infected): the infection rate
	// per susceptible host is K / KPopulation, so the restart grows at
	// K * S / KPopulation among S susceptible hosts.
	K           float64 `toml:"k" default:"1.8" min:"0" max:"1000" doc:"growth rate per hour of the last wave"`
	KPopulation float64 `toml:"k_population" default:"0" min:"0" max:"4294967296" doc:"susceptible hosts the last wave grew among (default: infected)"`

	WakeMedian param.Duration `toml:"wake_median" default:"2h" min:"1ns" max:"366d" doc:"median delay of the wake-up after the restart time (lognormal)"`
	WakeSigma  float64        `toml:"wake_sigma" default:"0.8" min:"0" max:"10" doc:"sigma of the log of the wake-up delay"`

	WrongClocks float64        `toml:"wrong_clocks" default:"0.01" min:"0" max:"1" doc:"share of hosts whose clock is wrong"`
	ClockMin    param.Duration `toml:"clock_min" default:"-3d" min:"-366d" max:"366d" doc:"a wrong clock is off by a uniform amount from clock_min to clock_max (ahead: positive)"`
	ClockMax    param.Duration `toml:"clock_max" default:"3d" min:"-366d" max:"366d" doc:"upper end of that amount (at least clock_min)"`

	Horizon param.Duration `toml:"horizon" default:"48h" min:"1ns" max:"366d" doc:"how long after the restart to forecast"`
	Visible float64        `toml:"visible" default:"1000" min:"0" doc:"new infections per hour that make the restart visible"`
	MaxSize float64        `toml:"max_size" default:"0" min:"0" doc:"restart size to stay under: how many hosts must be patched (0: do not compute)"`
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
// either way. They are the default tags of Reemergence.
var DefaultReemergence = defaultReemergence()

func defaultReemergence() Reemergence {
	var r Reemergence
	param.Defaults(&r)
	return r
}

// Validate reports the first parameter out of range as a *ParamError
// naming its key: a bound of its tags (Validate of package param), or a
// rule between parameters. Besides each value's range, the bounds that
// keep the forecast finite: now from MinTime to before MaxTime; restart
// and campaign_from from now to MaxSpan after it; the horizon and the
// wake-up median more than 0 and at most MaxSpan; the clock errors within
// MaxSpan either way. The integration then takes at most 2 MaxSpan in
// one-minute steps (about a million).
func (r *Reemergence) Validate() error {
	if errs := param.Validate(r); len(errs) > 0 {
		return &ParamError{Key: errs[0].Path, Msg: errs[0].Msg}
	}
	if pe := r.relations(); pe != nil {
		return pe
	}
	return nil
}

// relations checks what the tags cannot say: the times that must be set,
// the times after now, the clock errors' order and a population of at
// least a host.
func (r *Reemergence) relations() *ParamError {
	ts := func(t time.Time) string { return t.Format(time.RFC3339) }
	switch {
	case r.Now.IsZero():
		return &ParamError{Key: "now", Msg: "missing (want an RFC 3339 time)"}
	case r.Restart.IsZero():
		return &ParamError{Key: "restart", Msg: "missing (want an RFC 3339 time)"}
	case r.Restart.Before(r.Now):
		return &ParamError{Key: "restart", Also: "now", Msg: fmt.Sprintf("%s is before now %s (the state must be taken before the restart)", ts(r.Restart), ts(r.Now))}
	case r.Restart.Sub(r.Now) > MaxSpan:
		return &ParamError{Key: "restart", Also: "now", Msg: fmt.Sprintf("%s is more than %s after now %s (allowed: from now to %s after it)", ts(r.Restart), spanText, ts(r.Now), spanText)}
	case r.Infected == 0:
		return &ParamError{Key: "infected", Msg: "0 (allowed: 1 or more hosts)"}
	case r.ClockMax < r.ClockMin:
		return &ParamError{Key: "clock_max", Also: "clock_min", Msg: fmt.Sprintf("%s is below clock_min %s", r.ClockMax.D(), r.ClockMin.D())}
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

// Error returns the key and what is wrong with its value.
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
	m := r.WakeMedian.D().Hours()
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
	a, b := r.ClockMin.D().Hours(), r.ClockMax.D().Hours()
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
	if err := p.Validate(); err != nil {
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
	in := p.newIntegration(name, rate, beta, keep)
	for n, t := 0, in.from; t.Before(in.end); n, t = n+1, t.Add(integrationStep) {
		if n%stepsPerDay == 0 {
			if err := ctx.Err(); err != nil {
				return in.o, err
			}
		}
		in.step(t)
	}
	return in.outcome(), nil
}

// integrationStep is the step of the integration: a minute.
const integrationStep = time.Minute

// integration is the state of one run of the model (see RunReemergence):
// the compartments, the counts so far and the hour being tallied.
type integration struct {
	p      Reemergence
	name   string  // "as-now", "campaign" or "" (a bisection step)
	rate   float64 // the patch rate, per day
	beta   float64 // infections per infected host per susceptible host per hour
	dt     float64 // the step in hours
	F, G   func(float64) float64
	from   time.Time // Now: the integration's start
	end    time.Time // the horizon past the restart
	first  time.Time // the first hour of the table
	campFr time.Time // when the campaign's rate applies

	carriers float64 // carriers at Now (D0), before patching
	surv     float64 // share of the carriers not patched yet
	prevF    float64 // the wake-up distribution at the start of the step
	i, s, d1 float64 // awake infected, susceptible, dormant since infected (D1)
	cum      float64 // woken carriers plus new infections after the restart
	woken    float64 // carriers woken so far

	atRestart bool
	hour      Hour // the hour being tallied, from hourStart
	hourStart time.Time
	o         Outcome
}

// newIntegration sets up the model at Now for the patch rate rate (per day)
// and a share keep of the unpatched hosts.
func (p Reemergence) newIntegration(name string, rate, beta, keep float64) *integration {
	in := &integration{p: p, name: name, rate: rate, beta: beta, dt: integrationStep.Hours(),
		from: p.Now, end: p.Restart.Add(p.Horizon.D()), campFr: p.CampaignFrom, surv: 1}
	in.carriers = p.Infected * p.UnpatchedShare * p.CarrierShare * keep
	in.s = (p.Infected*p.UnpatchedShare*(1-p.CarrierShare) + p.OtherVulnerable) * keep
	in.F, in.G = p.wakeCDF()
	if in.campFr.IsZero() {
		in.campFr = p.Now
	}
	in.o = Outcome{Name: name, PatchRate: rate}
	in.first = p.firstHour()
	in.hourStart = in.first
	in.hour.Time = in.hourStart
	in.prevF = in.F(in.from.Sub(p.Restart).Hours())
	return in
}

// firstHour is the start of the hourly table: the first hour in which a
// wake-up is possible, at most 7 days before the restart, and never
// before Now.
func (p Reemergence) firstHour() time.Time {
	first := p.Restart
	if p.WrongClocks > 0 && p.ClockMax > 0 {
		first = p.Restart.Add(-p.ClockMax.D())
	}
	if lim := p.Restart.Add(-7 * 24 * time.Hour); first.Before(lim) {
		first = lim
	}
	if first.Before(p.Now) {
		first = p.Now
	}
	return first.Truncate(time.Hour)
}

// rateAt is the patch rate per hour at time t: the campaign's from its
// start, the rate as now before it.
func (in *integration) rateAt(t time.Time) float64 {
	if in.name == "campaign" && !t.Before(in.campFr) {
		return in.rate / 24
	}
	if in.name == "campaign" {
		return in.p.PatchRate / 24
	}
	return in.rate / 24
}

// step advances the model by one step from t: the wake-ups, then the
// epidemic and the patching, then the tallies.
func (in *integration) step(t time.Time) {
	r := in.rateAt(t)
	wk := in.wakeUps(t)
	in.i += wk
	in.woken += wk
	before := t.Before(in.p.Restart)
	n := in.rk4(r, before)
	// Hosts infected before the restart are counted when they wake.
	in.cum += wk
	if !before {
		in.cum += n
	}
	in.surv *= math.Exp(-r * in.dt)
	in.tally(t, wk, n)
}

// wakeUps returns the hosts that wake during the step from t: carriers not
// yet patched, by the wake-up distribution, and hosts infected while the
// worm slept (D1), by the right clocks' delay after the restart.
func (in *integration) wakeUps(t time.Time) float64 {
	restart := in.p.Restart
	f1 := in.F(t.Add(integrationStep).Sub(restart).Hours())
	wk := in.carriers * in.surv * (f1 - in.prevF)
	in.prevF = f1
	if x0 := t.Sub(restart).Hours(); x0 >= 0 && in.d1 > 0 {
		g0, g1 := in.G(x0), in.G(x0+in.dt)
		if g0 < 1 {
			w := in.d1 * (g1 - g0) / (1 - g0)
			in.d1 -= w
			wk += w
		}
	}
	return wk
}

// rk4 advances (I, S, D1) by one step of the classical Runge-Kutta method
// at patch rate r per hour, and returns the new infections in the step.
// Before the restart a new host sleeps (its clock is in the dormant days)
// until it wakes with the others.
func (in *integration) rk4(r float64, before bool) float64 {
	beta, dt := in.beta, in.dt
	// deriv returns d/dt of (I, S, D1) and the rate of new infections.
	deriv := func(i, s, d1 float64) (di, ds, dd1, inf float64) {
		inf = beta * i * s
		if before {
			return -r * i, -inf - r*s, inf - r*d1, inf
		}
		return inf - r*i, -inf - r*s, -r * d1, inf
	}
	i, s, d1 := in.i, in.s, in.d1
	a1, b1, e1, c1 := deriv(i, s, d1)
	a2, b2, e2, c2 := deriv(i+a1*dt/2, s+b1*dt/2, d1+e1*dt/2)
	a3, b3, e3, c3 := deriv(i+a2*dt/2, s+b2*dt/2, d1+e2*dt/2)
	a4, b4, e4, c4 := deriv(i+a3*dt, s+b3*dt, d1+e3*dt)
	i += dt / 6 * (a1 + 2*a2 + 2*a3 + a4)
	s += dt / 6 * (b1 + 2*b2 + 2*b3 + b4)
	d1 += dt / 6 * (e1 + 2*e2 + 2*e3 + e4)
	n := dt / 6 * (c1 + 2*c2 + 2*c3 + c4)
	in.i, in.s, in.d1 = math.Max(i, 0), math.Max(s, 0), math.Max(d1, 0)
	return n
}

// tally records the step from t, with wk wake-ups and n new infections:
// the state at the restart, the first wake-up, and the hour's counts,
// closing the hour at its end.
func (in *integration) tally(t time.Time, wk, n float64) {
	o := &in.o
	if !t.Before(in.p.Restart) && !in.atRestart {
		o.Susceptible, o.EarlyWoken, in.atRestart = in.s, in.woken-wk, true
	}
	if o.FirstWake.IsZero() && in.woken >= 1 {
		o.FirstWake = t.Add(integrationStep)
	}
	if t.Before(in.first) {
		return
	}
	in.hour.New += n
	in.hour.Woken += wk
	if !t.Add(integrationStep).Before(in.hourStart.Add(time.Hour)) {
		in.hour.Active, in.hour.Cumulative = in.i, in.cum
		o.Hours = append(o.Hours, in.hour)
		in.hourStart = in.hourStart.Add(time.Hour)
		in.hour = Hour{Time: in.hourStart}
	}
}

// outcome completes the outcome at the horizon: the wake milestones from
// the distribution (independent of patching), when the restart becomes
// visible, its peak and its size.
func (in *integration) outcome() Outcome {
	o := in.o
	o.MedianWake = quantileTime(in.F, in.p.Restart, in.first.Add(-time.Hour), in.end, 0.5)
	for _, h := range o.Hours {
		if o.VisibleAt.IsZero() && in.p.Visible > 0 && h.New >= in.p.Visible {
			o.VisibleAt = h.Time
		}
		if h.New > o.PeakNew {
			o.PeakNew, o.PeakAt = h.New, h.Time
		}
	}
	o.Size = in.cum
	o.Carriers = in.woken
	return o
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
