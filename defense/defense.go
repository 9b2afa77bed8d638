package defense

import (
	"math"
	"sort"
	"time"
)

const day = 86400.0

// Defense is a scenario's defences compiled for one run.
type Defense struct {
	p      Params
	seed   uint64
	sod    float64   // seconds of day (UTC) of the scenario start
	segs   []segment // patch hazard, piecewise constant from the scenario start
	filter float64   // filter start, seconds from the scenario start (+Inf: none)
}

type segment struct {
	from float64 // seconds from the scenario start
	rate float64 // patches per host per second
}

// New compiles the defences for a scenario starting at start; seed makes
// the per-host draws of this run.
func New(p Params, start time.Time, seed uint64) *Defense {
	d := &Defense{p: p, seed: seed, filter: math.Inf(1)}
	start = start.UTC()
	d.sod = float64(start.Hour()*3600 + start.Minute()*60 + start.Second())
	if !p.Filter.Start.IsZero() && p.Filter.Share > 0 {
		d.filter = p.Filter.Start.Sub(start).Seconds()
	}
	// The patch hazard: each advisory sets the rate from its time, and
	// after its duration (if any) the rate becomes its After, unless a later
	// advisory has come first.
	type change struct {
		t    float64
		rate float64
		ord  int
	}
	advs := append([]Advisory(nil), p.Advisories...)
	sort.SliceStable(advs, func(i, j int) bool { return advs[i].Time.Before(advs[j].Time) })
	var ch []change
	for i, a := range advs {
		t := a.Time.Sub(start).Seconds()
		ch = append(ch, change{t, a.Rate / day, 2 * i})
		if a.Duration > 0 {
			end := t + a.Duration.Seconds()
			if i+1 >= len(advs) || advs[i+1].Time.Sub(start).Seconds() > end {
				ch = append(ch, change{end, a.After / day, 2*i + 1})
			}
		}
	}
	sort.SliceStable(ch, func(i, j int) bool {
		if ch[i].t != ch[j].t {
			return ch[i].t < ch[j].t
		}
		return ch[i].ord < ch[j].ord
	})
	d.segs = []segment{{math.Inf(-1), p.Patch.Rate / day}}
	for _, c := range ch {
		d.segs = append(d.segs, segment{c.t, c.rate})
	}
	return d
}

// PatchRate returns the patch rate (per host per second) in force at t.
func (d *Defense) PatchRate(t float64) float64 {
	i := sort.Search(len(d.segs), func(i int) bool { return d.segs[i].from > t }) - 1
	return d.segs[i].rate
}

// PatchTime returns when an unpatched host patches, in seconds from the
// scenario start (+Inf: never): the first event of a Poisson process whose
// rate is the patch hazard (times the sharing factor for owners in a
// sharing group, times the home factor for home and small-business
// machines), drawn by inverting the cumulative hazard at e, a draw of
// Exp(1).
func (d *Defense) PatchTime(e float64, sharing, home bool) float64 {
	f := 1.0
	if sharing {
		f *= d.p.Patch.SharingFactor
	}
	if home {
		f *= d.p.Patch.HomeFactor
	}
	if f <= 0 {
		return math.Inf(1)
	}
	need := e / f
	t := 0.0
	for i, s := range d.segs {
		end := math.Inf(1)
		if i+1 < len(d.segs) {
			end = d.segs[i+1].from
		}
		if end <= t {
			continue
		}
		if s.rate > 0 {
			if math.IsInf(end, 1) || s.rate*(end-t) >= need {
				return t + need/s.rate
			}
			need -= s.rate * (end - t)
		}
		t = end
	}
	return math.Inf(1)
}

// Patches reports whether any patching can happen.
func (d *Defense) Patches() bool {
	for _, s := range d.segs {
		if s.rate > 0 {
			return true
		}
	}
	return false
}

// RebootAfter returns the time to a host's next ordinary reboot given e, a
// draw of Exp(1) (home and small-business machines rebooted home_factor
// times as often); +Inf when machines are not rebooted.
func (d *Defense) RebootAfter(e float64, home bool) float64 {
	f := 1.0
	if home {
		f = d.p.Reboot.HomeFactor
	}
	if d.p.Reboot.MeanInterval <= 0 || f <= 0 {
		return math.Inf(1)
	}
	return e * d.p.Reboot.MeanInterval.Seconds() / f
}

// uniform returns a fixed uniform draw in [0,1) for (purpose, id): per-host
// traits that must not depend on the order of events.
func (d *Defense) uniform(purpose, id uint64) float64 {
	x := d.seed ^ purpose*0x9e3779b97f4a7c15 ^ id*0xbf58476d1ce4e5b9
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11) / (1 << 53)
}

const (
	purposeOff uint64 = iota + 1
	purposeJitter
	purposeFilter
	purposeFilterTime
)

// SwitchesOff reports whether host id (a home or small-business machine if
// home) is switched off at night.
func (d *Defense) SwitchesOff(id int32, home bool) bool {
	return home && d.p.Diurnal.OffShare > 0 && d.uniform(purposeOff, uint64(id)) < d.p.Diurnal.OffShare
}

// localTOD is the time of day, in seconds, of host id at t on its owner's
// clock (UTC offset in minutes), shifted by the host's jitter.
func (d *Defense) localTOD(id int32, utcOffsetMin int16, t float64) float64 {
	j := (2*d.uniform(purposeJitter, uint64(id)) - 1) * d.p.Diurnal.Jitter.Seconds()
	x := math.Mod(d.sod+t+float64(utcOffsetMin)*60-j, day)
	if x < 0 {
		x += day
	}
	return x
}

// Offline reports whether a machine that switches off is off at t.
func (d *Defense) Offline(id int32, utcOffsetMin int16, t float64) bool {
	tod := d.localTOD(id, utcOffsetMin, t)
	off, on := d.p.Diurnal.Off.Seconds(), d.p.Diurnal.On.Seconds()
	if off <= on {
		return tod >= off && tod < on
	}
	return tod >= off || tod < on
}

// NextOff returns the next time after t a machine that switches off is
// switched off.
func (d *Defense) NextOff(id int32, utcOffsetMin int16, t float64) float64 {
	tod := d.localTOD(id, utcOffsetMin, t)
	wait := d.p.Diurnal.Off.Seconds() - tod
	if wait <= 0 {
		wait += day
	}
	return t + wait
}

// NextOn returns the next time after t a machine that switches off is
// switched on.
func (d *Defense) NextOn(id int32, utcOffsetMin int16, t float64) float64 {
	tod := d.localTOD(id, utcOffsetMin, t)
	wait := d.p.Diurnal.On.Seconds() - tod
	if wait <= 0 {
		wait += day
	}
	return t + wait
}

// FilterTime returns when the network of a host (its /16, given as the
// address shifted to its top 16 bits) starts filtering, or +Inf.
func (d *Defense) FilterTime(net16 uint32) float64 {
	if math.IsInf(d.filter, 1) || d.uniform(purposeFilter, uint64(net16)) >= d.p.Filter.Share {
		return math.Inf(1)
	}
	return d.filter + d.uniform(purposeFilterTime, uint64(net16))*d.p.Filter.Ramp.Seconds()
}

// Accept returns whether an infecting probe gets through congestion when
// scanning of the n vulnerable hosts scan, given u uniform in [0,1).
func (d *Defense) Accept(scanning, n int64, u float64) bool {
	eta := d.p.Congestion.Eta
	if eta <= 0 || n <= 0 {
		return true
	}
	return u < math.Pow(math.Max(0, 1-float64(scanning)/float64(n)), eta)
}

// Congested reports whether congestion thins infections.
func (d *Defense) Congested() bool { return d.p.Congestion.Eta > 0 }
