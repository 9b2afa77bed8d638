package worm

import (
	"fmt"
	"math"
	"sort"
	"time"

	"wormwatch/internal/param"
	"wormwatch/ipv4"
)

// CalendarKind names a worm's schedule (calendar.kind): one of the
// calendars registered in calendars.
type CalendarKind string

// The calendars.
const (
	CalendarAlways  CalendarKind = "always"  // spread until the end
	CalendarMonthly CalendarKind = "monthly" // Code Red's phases by the day of the month
)

// calendar is what one kind of calendar does.
type calendar interface {
	// compile prepares the calendar of variant v for a run in space sp.
	compile(v *Variant, sp ipv4.Space) error
	// phase returns the phase at host-clock time hostT (seconds since the
	// scenario start), before the worm's end, and the host-clock time at
	// which it changes next (+Inf: never).
	phase(v *Variant, hostT float64) (Phase, float64)
	// check returns the first rule between the keys of c that is broken
	// in space sp, or nil.
	check(c Calendar, sp ipv4.Space) *KeyError
}

// calendars are the calendars, in the order the documentation lists them.
var calendars = param.NewRegistry[CalendarKind, calendar]("calendar")

func init() {
	calendars.Register(CalendarAlways, 0, "spread until end", always{})
	calendars.Register(CalendarMonthly, 1, "Code Red's day-of-month phases", monthly{})
}

// Enum lists the calendars (see param.Enumerated).
func (CalendarKind) Enum() []string { return calendars.Names() }

// ParamDoc documents the calendars, for calendar.kind.
func (CalendarKind) ParamDoc() string { return calendars.Doc() }

// CheckCalendar checks the rules between the keys of a worm's calendar
// table that its kind states, in space sp.
func CheckCalendar(c Calendar, sp ipv4.Space) *KeyError {
	cal, err := calendars.Get(c.Kind)
	if err != nil {
		return &KeyError{Key: "calendar.kind", Msg: err.Error()}
	}
	return cal.check(c, sp)
}

// PhaseAt returns the phase, on its own calendar, of a host whose clock is
// clockErr seconds ahead of UTC at t seconds after the scenario start, and
// the time at which the calendar phase changes next (+Inf if never).
//
// A monthly worm spreads on days 1..SpreadUntilDay, floods until
// FloodUntilDay and sleeps until the month ends, all by the day of the month
// of the host's clock in UTC. The wake-up delay after dormancy is not part
// of the calendar; the engine adds it when a dormant host reaches day 1.
func (v *Variant) PhaseAt(t float64, clockErr int32) (Phase, float64) {
	hostT := t + float64(clockErr)
	if hostT >= v.endSeconds {
		return Ended, math.Inf(1)
	}
	ph, next := v.cal.phase(v, hostT)
	return ph, math.Min(next, v.endSeconds) - float64(clockErr)
}

// always is the calendar of a worm that spreads until its end.
type always struct{}

func (always) compile(*Variant, ipv4.Space) error { return nil }

func (always) phase(*Variant, float64) (Phase, float64) { return Scanning, math.Inf(1) }

func (always) check(Calendar, ipv4.Space) *KeyError { return nil }

// monthly is Code Red's calendar: spread on days 1 to SpreadUntilDay,
// flood until FloodUntilDay, then dormant until the month ends, by the day
// of the month on the host's clock.
type monthly struct{}

// compile reads the flood target and precomputes the calendar around the
// start (see buildSegments).
func (monthly) compile(v *Variant, sp ipv4.Space) error {
	if c := v.P.Calendar; c.FloodTarget != "" {
		a, err := sp.ParseAddr(c.FloodTarget)
		if err != nil {
			return fmt.Errorf("calendar.flood_target: %w", err)
		}
		v.flood, v.floodOK = a, true
	}
	v.buildSegments()
	return nil
}

// phase looks the phase up in the precomputed segments, or computes it
// from the calendar outside them.
func (monthly) phase(v *Variant, hostT float64) (Phase, float64) {
	n := len(v.segs)
	if n < 2 || hostT < v.segs[0].from || hostT >= v.segs[n-1].from {
		return v.phaseSlow(hostT)
	}
	i := sort.Search(n, func(i int) bool { return v.segs[i].from > hostT }) - 1
	return v.segs[i].phase, v.segs[i+1].from
}

// check: the flood follows the spreading days, the flood target is an
// address, and the wake-up delay is not negative.
func (monthly) check(c Calendar, sp ipv4.Space) *KeyError {
	if c.FloodUntilDay < c.SpreadUntilDay {
		return keyErr("calendar.flood_until_day", "%d is before spread_until_day = %d: the flood days follow the spreading days", c.FloodUntilDay, c.SpreadUntilDay)
	}
	if _, err := sp.ParseAddr(c.FloodTarget); err != nil {
		return keyErr("calendar.flood_target", "%v", err)
	}
	if d, err := c.WakeDelay.Distribution(); err == nil && d.Lower() < 0 {
		return keyErr("calendar.wake_delay", "a delay cannot be negative (want a distribution of durations of 0 or more)")
	}
	if d, err := c.WakeRamp.Distribution(); err == nil && d.Lower() < 0 {
		return keyErr("calendar.wake_ramp", "a delay cannot be negative (want a distribution of durations of 0 or more)")
	}
	return nil
}

// calSeg is a stretch of a monthly calendar: from this host-clock time
// (seconds since the scenario start) the phase is phase, until the next
// segment's from.
type calSeg struct {
	from  float64
	phase Phase
}

// calendarMonths is how far around the scenario start the monthly calendar
// is precomputed; PhaseAt computes times outside from the calendar directly.
const calendarMonths = 18

// buildSegments precomputes the monthly calendar from calendarMonths before
// the start's month to calendarMonths after it, so that PhaseAt is a binary
// search instead of calendar arithmetic.
func (v *Variant) buildSegments() {
	y, m, _ := v.start.Date()
	first := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC).AddDate(0, -calendarMonths, 0)
	for i := 0; i <= 2*calendarMonths; i++ {
		ms := first.AddDate(0, i, 0)
		t := ms.Sub(v.start).Seconds()
		for {
			ph, next := v.phaseSlow(t)
			if n := len(v.segs); n == 0 || v.segs[n-1].phase != ph {
				v.segs = append(v.segs, calSeg{from: t, phase: ph})
			}
			if next >= ms.AddDate(0, 1, 0).Sub(v.start).Seconds() {
				break
			}
			t = next
		}
	}
	end := first.AddDate(0, 2*calendarMonths+1, 0).Sub(v.start).Seconds()
	v.segs = append(v.segs, calSeg{from: end, phase: Scanning})
}

// phaseSlow is the monthly calendar at host-clock time hostT (seconds since
// the scenario start): the phase and the host-clock time it changes.
func (v *Variant) phaseSlow(hostT float64) (Phase, float64) {
	c := v.P.Calendar
	// Sub-second precision is irrelevant to day boundaries.
	sec := math.Floor(hostT)
	ht := v.start.Add(time.Duration(sec) * time.Second).UTC()
	y, m, d := ht.Date()
	monthStart := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	var phase Phase
	var boundary time.Time
	switch {
	case d <= c.SpreadUntilDay:
		phase, boundary = Scanning, monthStart.AddDate(0, 0, c.SpreadUntilDay)
	case d <= c.FloodUntilDay:
		phase, boundary = Flooding, monthStart.AddDate(0, 0, c.FloodUntilDay)
	default:
		phase, boundary = Dormant, monthStart.AddDate(0, 1, 0)
	}
	// A short month can put the boundary past the month's end; the next
	// phase then starts at the next month (spread again).
	if next := monthStart.AddDate(0, 1, 0); boundary.After(next) {
		boundary = next
	}
	if phase == Flooding && (!v.floodOK || c.FloodBytesPerSecond == 0) {
		// A worm with no flood is simply quiet on those days.
		phase = Dormant
	}
	return phase, boundary.Sub(v.start).Seconds()
}
