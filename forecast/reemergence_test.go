package forecast_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"wormwatch/forecast"
	"wormwatch/internal/param"
)

// base is a simple state for the tests: no wrong clocks, wake-up right at
// the restart plus a fixed delay (sigma 0), no patching.
func base() forecast.Reemergence {
	p := forecast.DefaultReemergence
	p.WrongClocks = 0
	p.WakeSigma = 0
	p.WakeMedian = param.Duration(time.Hour)
	p.PatchRate, p.CampaignRate = 0, 0
	return p
}

// TestReemergenceLogistic checks the integration against the closed form:
// with every carrier waking at one instant, no patching and nobody
// infected before, the active infected hosts follow the logistic curve
// I(t) = M I0 / (I0 + S0 e^{-beta M t}), M = I0 + S0.
func TestReemergenceLogistic(t *testing.T) {
	t.Parallel()
	p := base()
	p.Infected, p.UnpatchedShare, p.CarrierShare = 100000, 0.5, 0.1 // 5,000 carriers, 45,000 susceptible
	p.OtherVulnerable = 5000
	p.K, p.KPopulation = 2, 360000
	f, err := forecast.RunReemergence(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	i0, s0 := 5000.0, 50000.0
	m := i0 + s0
	beta := p.K / p.KPopulation
	wake := p.Restart.Add(p.WakeMedian.D())
	for _, h := range f.AsNow.Hours {
		if !h.Time.After(wake) {
			continue
		}
		// The wake-ups of a one-minute step are added at its start, so
		// the integration may run up to a minute ahead of the curve.
		tt := h.Time.Add(time.Hour).Sub(wake).Hours() // end of the hour
		logistic := func(tt float64) float64 { return m * i0 / (i0 + s0*math.Exp(-beta*m*tt)) }
		lo, hi := logistic(tt), logistic(tt+1.0/60)
		if h.Active < lo*(1-1e-6) || h.Active > hi*(1+1e-6) {
			t.Errorf("%s: %.1f active, the logistic gives %.1f to %.1f", h.Time.Format("01-02 15:04"), h.Active, lo, hi)
		}
	}
	if math.Abs(f.AsNow.Size-m) > 1 || math.Abs(f.AsNow.Carriers-i0) > 1e-6 {
		t.Errorf("size %.1f (want %.0f: everyone), carriers %.1f (want %.0f)", f.AsNow.Size, m, f.AsNow.Carriers, i0)
	}
	if want := beta; math.Abs(f.Beta-want) > 1e-15 {
		t.Errorf("beta %g, want %g", f.Beta, want)
	}
}

// TestReemergenceNoGrowth: with K = 0 nobody is infected; the restart is
// the carriers that wake, fewer the patched ones: carriers e^{-r t} at the
// wake time.
func TestReemergenceNoGrowth(t *testing.T) {
	t.Parallel()
	p := base()
	p.K = 0
	p.PatchRate, p.CampaignRate = 0.1, 0.5
	f, err := forecast.RunReemergence(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	carriers := p.Infected * p.UnpatchedShare * p.CarrierShare
	days := p.Restart.Add(p.WakeMedian.D()).Sub(p.Now).Hours() / 24
	for _, c := range []struct {
		o    forecast.Outcome
		rate float64
	}{{f.AsNow, 0.1}, {f.Campaign, 0.5}} {
		want := carriers * math.Exp(-c.rate*days)
		if math.Abs(c.o.Size-want) > 1e-3*want || math.Abs(c.o.Carriers-want) > 1e-3*want {
			t.Errorf("%s: size %.1f, carriers %.1f, want %.1f", c.o.Name, c.o.Size, c.o.Carriers, want)
		}
		if c.o.PeakNew != 0 || !c.o.VisibleAt.IsZero() {
			t.Errorf("%s: new infections without growth: %+v", c.o.Name, c.o)
		}
		if got := c.o.MedianWake; !got.Equal(p.Restart.Add(p.WakeMedian.D())) {
			t.Errorf("%s: median wake %s, want %s", c.o.Name, got, p.Restart.Add(p.WakeMedian.D()))
		}
	}
}

// TestReemergenceClocks: hosts whose clocks run ahead wake before the
// restart; their infections sleep until the restart (their clocks are in
// the dormant days), so nothing spreads before it beyond the early
// wakers. With uniform errors of up to 3 days, half the wrong clocks are
// ahead: the early wakers are about w/2 of the carriers.
func TestReemergenceClocks(t *testing.T) {
	t.Parallel()
	p := forecast.DefaultReemergence
	p.PatchRate, p.CampaignRate = 0, 0
	p.Now = p.Restart.Add(-4 * 24 * time.Hour)
	f, err := forecast.RunReemergence(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	o := f.AsNow
	carriers := p.Infected * p.UnpatchedShare * p.CarrierShare
	// Wrong clocks ahead by e wake at restart - e + a delay: the early
	// share is the chance that e exceeds the delay (median 2 h), a bit
	// under 1/2 of the wrong clocks.
	if early := o.EarlyWoken / carriers; early < 0.4*p.WrongClocks || early > 0.5*p.WrongClocks {
		t.Errorf("%.4f of the carriers awake before the restart, want a bit under %.4f", early, p.WrongClocks/2)
	}
	if !o.FirstWake.Before(p.Restart.Add(-24*time.Hour)) || o.FirstWake.Before(p.Restart.Add(-p.ClockMax.D())) {
		t.Errorf("first wake-up %s, want days before the restart %s but not before %s", o.FirstWake, p.Restart, p.Restart.Add(-p.ClockMax.D()))
	}
	for _, h := range o.Hours {
		if h.Time.Before(p.Restart) && h.Active > o.EarlyWoken+1 {
			t.Fatalf("%s: %.0f active before the restart, more than the %.0f early wakers", h.Time, h.Active, o.EarlyWoken)
		}
	}
	if o.VisibleAt.Before(p.Restart) || o.VisibleAt.After(p.Restart.Add(6*time.Hour)) {
		t.Errorf("visible at %s, want within hours after the restart %s", o.VisibleAt, p.Restart)
	}
}

// TestReemergenceCampaign: a campaign shrinks the restart; the number of
// hosts PatchNeeded says must be patched brings it to MaxSize.
func TestReemergenceCampaign(t *testing.T) {
	t.Parallel()
	p := forecast.DefaultReemergence
	p.MaxSize = 50000
	f, err := forecast.RunReemergence(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	if !(f.Campaign.Size < f.AsNow.Size) || !(f.Campaign.PeakNew < f.AsNow.PeakNew) {
		t.Errorf("campaign size %.0f peak %.0f, as now %.0f %.0f: the campaign should shrink both", f.Campaign.Size, f.Campaign.PeakNew, f.AsNow.Size, f.AsNow.PeakNew)
	}
	if !(f.AsNow.Size > p.MaxSize) || !(f.PatchNeeded > 0) {
		t.Fatalf("size as now %.0f, patch needed %.0f: the test needs a restart above %g", f.AsNow.Size, f.PatchNeeded, p.MaxSize)
	}
	// Patch that many now, spread over every unpatched host: the restart
	// is then MaxSize.
	keep := 1 - f.PatchNeededShare
	q := p
	q.UnpatchedShare *= keep
	q.OtherVulnerable *= keep
	q.MaxSize = 0
	g, err := forecast.RunReemergence(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(g.AsNow.Size-p.MaxSize) > 1e-3*p.MaxSize {
		t.Errorf("after patching %.0f hosts the restart is %.0f, want %g", f.PatchNeeded, g.AsNow.Size, p.MaxSize)
	}
	unpatched := p.Infected*p.UnpatchedShare + p.OtherVulnerable
	if math.Abs(f.PatchNeeded-f.PatchNeededShare*unpatched) > 1e-6*unpatched {
		t.Errorf("patch needed %.1f is not its share %.4f of %.0f", f.PatchNeeded, f.PatchNeededShare, unpatched)
	}
	// Below the size already: nothing to patch.
	p.MaxSize = 1e9
	if f, _ := forecast.RunReemergence(t.Context(), p); f.PatchNeeded != 0 {
		t.Errorf("patch needed %.0f with a size limit above the restart", f.PatchNeeded)
	}
}

func TestReemergenceErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		set  func(*forecast.Reemergence)
		key  string
		want string
	}{
		{func(p *forecast.Reemergence) { p.UnpatchedShare = 1.5 }, "unpatched_share", "above the maximum 1 (allowed 0 to 1)"},
		{func(p *forecast.Reemergence) { p.Infected = 0 }, "infected", "1 or more"},
		{func(p *forecast.Reemergence) { p.Restart = p.Now.Add(-time.Hour) }, "restart", "before now"},
		{func(p *forecast.Reemergence) { p.ClockMax = param.Duration(-100 * time.Hour) }, "clock_max", "below clock_min"},
		{func(p *forecast.Reemergence) { p.WakeMedian = 0 }, "wake_median", "below the minimum 1ns"},
		{func(p *forecast.Reemergence) { p.K = math.NaN() }, "k", "want a finite number"},
		{func(p *forecast.Reemergence) { p.Horizon = 0 }, "horizon", "below the minimum 1ns"},
		{func(p *forecast.Reemergence) { p.CampaignFrom = p.Now.Add(-time.Hour) }, "campaign_from", "before now"},
	} {
		p := forecast.DefaultReemergence
		tc.set(&p)
		_, err := forecast.RunReemergence(t.Context(), p)
		var pe *forecast.ParamError
		if !errors.As(err, &pe) || pe.Key != tc.key || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want one on %s with %q", err, tc.key, tc.want)
		}
	}
}

// TestDefaultReemergence: the defaults the tags declare are Code Red's on
// 29 July 2001, as the struct literal that held them before said.
func TestDefaultReemergence(t *testing.T) {
	t.Parallel()
	want := forecast.Reemergence{
		Now:            time.Date(2001, 7, 29, 0, 0, 0, 0, time.UTC),
		Restart:        time.Date(2001, 8, 1, 0, 0, 0, 0, time.UTC),
		Infected:       359104,
		UnpatchedShare: 1.0 / 3,
		CarrierShare:   0.4,
		PatchRate:      0.04,
		CampaignRate:   0.4,
		K:              1.8,
		WakeMedian:     param.Duration(2 * time.Hour),
		WakeSigma:      0.8,
		WrongClocks:    0.01,
		ClockMin:       param.Duration(-72 * time.Hour),
		ClockMax:       param.Duration(72 * time.Hour),
		Horizon:        param.Duration(48 * time.Hour),
		Visible:        1000,
	}
	if got := forecast.DefaultReemergence; got != want {
		t.Errorf("defaults\n got %+v\nwant %+v", got, want)
	}
	if err := want.Validate(); err != nil {
		t.Errorf("the defaults do not pass their own checks: %v", err)
	}
}

// TestReemergenceBoundTags: the bounds the tags state are forecast's
// (MinTime, MaxTime, MaxSpan), as the checks before the tags had them.
func TestReemergenceBoundTags(t *testing.T) {
	t.Parallel()
	year := param.Duration(forecast.MaxSpan)
	ok := forecast.DefaultReemergence
	for _, c := range []struct {
		name string
		set  func(*forecast.Reemergence)
		bad  bool
	}{
		{"now at MinTime", func(p *forecast.Reemergence) { p.Now, p.Restart = forecast.MinTime, forecast.MinTime }, false},
		{"now before MinTime", func(p *forecast.Reemergence) { p.Now, p.Restart = forecast.MinTime.Add(-1), forecast.MinTime }, true},
		{"now just before MaxTime", func(p *forecast.Reemergence) { p.Now, p.Restart = forecast.MaxTime.Add(-1), forecast.MaxTime }, false},
		{"now at MaxTime", func(p *forecast.Reemergence) { p.Now, p.Restart = forecast.MaxTime, forecast.MaxTime }, true},
		{"horizon MaxSpan", func(p *forecast.Reemergence) { p.Horizon = year }, false},
		{"horizon past MaxSpan", func(p *forecast.Reemergence) { p.Horizon = year + 1 }, true},
		{"horizon 1ns", func(p *forecast.Reemergence) { p.Horizon = 1 }, false},
		{"wake median past MaxSpan", func(p *forecast.Reemergence) { p.WakeMedian = year + 1 }, true},
		{"clock min -MaxSpan", func(p *forecast.Reemergence) { p.ClockMin = -year }, false},
		{"clock min past -MaxSpan", func(p *forecast.Reemergence) { p.ClockMin = -year - 1 }, true},
		{"clock max past MaxSpan", func(p *forecast.Reemergence) { p.ClockMax = year + 1 }, true},
		{"infected 2^32", func(p *forecast.Reemergence) { p.Infected = 1 << 32 }, false},
		{"infected past 2^32", func(p *forecast.Reemergence) { p.Infected = 1<<32 + 1 }, true},
		{"half a host", func(p *forecast.Reemergence) { p.Infected = 0.5 }, false},
	} {
		p := ok
		c.set(&p)
		if err := p.Validate(); (err != nil) != c.bad {
			t.Errorf("%s: error %v, want an error: %v", c.name, err, c.bad)
		}
	}
}
