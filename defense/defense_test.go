package defense

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"wormwatch/internal/param"
)

var start = time.Date(2001, 7, 12, 0, 0, 0, 0, time.UTC)

func days(d float64) float64 { return d * 86400 }

// summerParams is codered-2001's patching: a trickle, an advisory on day 7
// for five days then nothing, a campaign on day 18 for four days then a
// slower rate.
func summerParams() Params {
	var p Params
	param.Defaults(&p)
	p.Patch.Rate = 0.005
	p.Patch.SharingFactor = 3
	p.Patch.HomeFactor = 0.25
	p.Advisories = []Advisory{
		{Name: "joint", Time: start.Add(18 * 24 * time.Hour), Rate: 0.4, Duration: param.Duration(4 * 24 * time.Hour), After: 0.03},
		{Name: "first", Time: start.Add(7 * 24 * time.Hour), Rate: 0.04, Duration: param.Duration(5 * 24 * time.Hour), After: 0},
	}
	return p
}

// hazardByHand is the cumulative patch hazard of summerParams from the start
// to t, written out segment by segment (per day rates).
func hazardByHand(t float64) float64 {
	segs := []struct{ from, to, rate float64 }{
		{0, days(7), 0.005}, {days(7), days(12), 0.04}, {days(12), days(18), 0},
		{days(18), days(22), 0.4}, {days(22), math.Inf(1), 0.03},
	}
	h := 0.0
	for _, s := range segs {
		if t <= s.from {
			break
		}
		h += s.rate / 86400 * (math.Min(t, s.to) - s.from)
	}
	return h
}

func TestPatchTimeInvertsTheHazard(t *testing.T) {
	t.Parallel()
	d := New(summerParams(), start, 1)
	for _, e := range []float64{0.001, 0.01, 0.035, 0.1, 0.2, 0.3, 0.5, 1, 2, 5} {
		pt := d.PatchTime(e, false, false)
		if got := hazardByHand(pt); math.Abs(got-e) > 1e-9*math.Max(1, e) {
			t.Errorf("PatchTime(%g) = %.1f days: its cumulative hazard is %g", e, pt/86400, got)
		}
		// Sharing owners patch three times faster, home owners four times
		// slower, both at 3/4: the same draw comes where the hazard is a
		// third, four times, four thirds.
		for _, c := range []struct {
			sharing, home bool
			f             float64
		}{{true, false, 3}, {false, true, 0.25}, {true, true, 0.75}} {
			ps := d.PatchTime(e, c.sharing, c.home)
			if got := hazardByHand(ps); math.Abs(got-e/c.f) > 1e-9*math.Max(1, e/c.f) {
				t.Errorf("PatchTime(%g, sharing %v, home %v) = %.1f days: its cumulative hazard is %g, want %g", e, c.sharing, c.home, ps/86400, got, e/c.f)
			}
		}
	}
	// The rates in force.
	for _, c := range []struct{ day, want float64 }{{1, 0.005}, {8, 0.04}, {15, 0}, {19, 0.4}, {30, 0.03}} {
		if got := d.PatchRate(days(c.day)) * 86400; math.Abs(got-c.want) > 1e-12 {
			t.Errorf("patch rate on day %g = %g per day, want %g", c.day, got, c.want)
		}
	}
}

func TestPatchTimeDistribution(t *testing.T) {
	t.Parallel()
	d := New(summerParams(), start, 1)
	r := rand.New(rand.NewPCG(1, 2))
	const n = 200000
	checks := []float64{days(5), days(14), days(20), days(40)}
	count := make([]int, len(checks))
	for i := 0; i < n; i++ {
		pt := d.PatchTime(r.ExpFloat64(), false, false)
		for j, c := range checks {
			if pt <= c {
				count[j]++
			}
		}
	}
	for j, c := range checks {
		p := 1 - math.Exp(-hazardByHand(c))
		got := float64(count[j]) / n
		sd := math.Sqrt(p * (1 - p) / n)
		if math.Abs(got-p) > 4*sd {
			t.Errorf("share patched by day %.0f: %.4f, want %.4f (4 sd = %.4f)", c/86400, got, p, 4*sd)
		}
	}
}

func TestNoPatching(t *testing.T) {
	t.Parallel()
	var p Params
	param.Defaults(&p)
	d := New(p, start, 1)
	if d.Patches() || !math.IsInf(d.PatchTime(0.5, true, true), 1) {
		t.Error("with no rates, hosts must never patch")
	}
}

func TestDiurnalTimes(t *testing.T) {
	t.Parallel()
	var p Params
	param.Defaults(&p)
	p.Diurnal.OffShare = 1
	p.Diurnal.Jitter = 0
	d := New(p, start, 1) // start at 00:00 UTC
	const utc = 60        // UTC+1: off from 22:00 to 06:00 UTC
	for _, c := range []struct {
		hour float64
		off  bool
	}{{21.9, false}, {22.0, true}, {23.5, true}, {24 + 5.99, true}, {24 + 6.0, false}, {24 + 12, false}} {
		if got := d.Offline(0, utc, c.hour*3600); got != c.off {
			t.Errorf("at %g h UTC a UTC+1 machine is off: %v, want %v", c.hour, got, c.off)
		}
	}
	if got := d.NextOff(0, utc, 12*3600) / 3600; math.Abs(got-22) > 1e-9 {
		t.Errorf("next switch-off after 12:00 UTC at %g h, want 22", got)
	}
	if got := d.NextOn(0, utc, 23.5*3600) / 3600; math.Abs(got-30) > 1e-9 {
		t.Errorf("next switch-on after 23:30 UTC at %g h, want 30 (06:00 next day)", got)
	}
	if !d.SwitchesOff(5, true) || d.SwitchesOff(5, false) {
		t.Error("with off_share 1 every home machine, and no other, switches off")
	}
}

func TestJitterAndShares(t *testing.T) {
	t.Parallel()
	var p Params
	param.Defaults(&p)
	p.Diurnal.OffShare = 0.3
	p.Diurnal.Jitter = param.Duration(time.Hour)
	d := New(p, start, 7)
	off, n := 0, 100000
	for id := int32(0); id < int32(n); id++ {
		if d.SwitchesOff(id, true) {
			off++
		}
		// The jitter keeps each machine's switch-off within an hour of 23:00 UTC.
		at := d.NextOff(id, 0, 0) / 3600
		if at < 22-1e-9 || at > 24+1e-9 {
			t.Fatalf("machine %d switched off at %g h, want 22 to 24", id, at)
		}
	}
	sd := math.Sqrt(0.3 * 0.7 / float64(n))
	if got := float64(off) / float64(n); math.Abs(got-0.3) > 4*sd {
		t.Errorf("share switched off %.4f, want 0.3", got)
	}
}

func TestFilter(t *testing.T) {
	t.Parallel()
	var p Params
	param.Defaults(&p)
	p.Filter.Start = start.Add(8 * 24 * time.Hour)
	p.Filter.Share = 0.2
	p.Filter.Ramp = param.Duration(10 * 24 * time.Hour)
	d := New(p, start, 3)
	filtered := 0
	for net := uint32(0); net < 1<<16; net++ {
		ft := d.FilterTime(net)
		if math.IsInf(ft, 1) {
			continue
		}
		filtered++
		if ft < days(8) || ft > days(18) {
			t.Fatalf("network %d filters at day %g, want 8 to 18", net, ft/86400)
		}
	}
	sd := math.Sqrt(0.2 * 0.8 / 65536)
	if got := float64(filtered) / 65536; math.Abs(got-0.2) > 4*sd {
		t.Errorf("share of /16s filtering %.4f, want 0.2", got)
	}
}

func TestCongestion(t *testing.T) {
	t.Parallel()
	var p Params
	param.Defaults(&p)
	if New(p, start, 1).Congested() {
		t.Error("eta 0 must mean no congestion")
	}
	p.Congestion.Eta = 2
	d := New(p, start, 1)
	r := rand.New(rand.NewPCG(3, 4))
	const n = 100000
	ok := 0
	for i := 0; i < n; i++ {
		if d.Accept(500, 1000, r.Float64()) {
			ok++
		}
	}
	// (1 - 500/1000)^2 = 0.25.
	sd := math.Sqrt(0.25 * 0.75 / n)
	if got := float64(ok) / n; math.Abs(got-0.25) > 4*sd {
		t.Errorf("accepted share %.4f, want 0.25", got)
	}
	if d.Accept(1000, 1000, 0) {
		t.Error("with every host scanning, nothing gets through")
	}
}

// TestRebootAfterHome: home and small-business machines reboot
// home_factor times as often (the same draw comes home_factor times
// sooner); a factor of 0 never reboots them.
func TestRebootAfterHome(t *testing.T) {
	t.Parallel()
	var p Params
	param.Defaults(&p)
	p.Reboot.MeanInterval = param.Duration(14 * 24 * time.Hour)
	p.Reboot.HomeFactor = 4
	d := New(p, start, 1)
	for _, e := range []float64{0.01, 0.5, 1, 3} {
		server, home := d.RebootAfter(e, false), d.RebootAfter(e, true)
		if want := e * days(14); math.Abs(server-want) > 1e-6 || math.Abs(home-want/4) > 1e-6 {
			t.Errorf("RebootAfter(%g): server %.0f s, home %.0f s; want %.0f and %.0f", e, server, home, want, want/4)
		}
	}
	p.Reboot.HomeFactor = 0
	if d := New(p, start, 1); !math.IsInf(d.RebootAfter(1, true), 1) || math.IsInf(d.RebootAfter(1, false), 1) {
		t.Error("home_factor = 0 must stop home machines' reboots only")
	}
}
