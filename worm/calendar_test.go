package worm

import (
	"fmt"
	"math"
	"testing"
	"time"

	"wormwatch/ipv4"
)

// calConf is the part of a calendar the tests vary.
type calConf struct {
	kind          CalendarKind // "monthly" or "always"
	spread, flood int          // spread_until_day, flood_until_day
	bytes         float64
	target        string
	end           time.Time
}

// codeRed is CRv1/CRv2's calendar: spread days 1-19, flood 20-27.
var codeRed = calConf{kind: "monthly", spread: 19, flood: 27, bytes: 27778, target: "198.137.240.91"}

func (c calConf) with(f func(*calConf)) calConf { f(&c); return c }

func (c calConf) compile(t testing.TB, start time.Time) *Variant {
	t.Helper()
	p := defaultParams("cal")
	p.Calendar.Kind = c.kind
	p.Calendar.SpreadUntilDay, p.Calendar.FloodUntilDay = c.spread, c.flood
	p.Calendar.FloodBytesPerSecond = c.bytes
	p.Calendar.FloodTarget = c.target
	p.Calendar.End = c.end
	return mustCompile(t, p, ipv4.Space{Bits: 32}, start, 0)
}

func date(y int, m time.Month, d, h, min, s int) time.Time {
	return time.Date(y, m, d, h, min, s, 0, time.UTC)
}

const (
	days3Ahead  int32 = 3 * 86400
	days2Behind int32 = -2 * 86400
)

// TestPhaseAtTable checks phases and next-change times against dates worked
// out by hand. next is the host-clock time of the next phase change (the
// answer must be next minus the clock error, exactly); earliest, when set,
// allows an earlier answer at any host-clock midnight from earliest on
// (where the calendar has a boundary but the phase stays the same, an
// implementation may report it or merge it); a zero next means never.
func TestPhaseAtTable(t *testing.T) {
	t.Parallel()
	noFlood := codeRed.with(func(c *calConf) { c.bytes = 0 })
	noTarget := codeRed.with(func(c *calConf) { c.target = "" })
	endJul25 := codeRed.with(func(c *calConf) { c.end = date(2001, 7, 25, 12, 0, 0) })
	crii := calConf{kind: "always", end: date(2001, 10, 1, 0, 0, 0)}
	feb30 := codeRed.with(func(c *calConf) { c.flood = 30 })
	spread31 := codeRed.with(func(c *calConf) { c.spread, c.flood = 31, 31 })
	spread30 := codeRed.with(func(c *calConf) { c.spread, c.flood = 30, 31 })
	feb2001 := date(2001, 2, 1, 0, 0, 0)
	sep2001 := date(2001, 9, 1, 0, 0, 0)
	tests := []struct {
		name     string
		conf     calConf
		start    time.Time
		at       time.Time // true UTC time asked about
		frac     float64   // seconds added to at
		clock    int32
		want     Phase
		next     time.Time // host clock
		earliest time.Time // host clock
	}{
		// Correct clock, July 2001.
		{"start day 19", codeRed, julyStart, julyStart, 0, 0, Scanning, date(2001, 7, 20, 0, 0, 0), time.Time{}},
		{"last second of day 19", codeRed, julyStart, date(2001, 7, 19, 23, 59, 59), 0.75, 0, Scanning, date(2001, 7, 20, 0, 0, 0), time.Time{}},
		{"day 20 midnight", codeRed, julyStart, date(2001, 7, 20, 0, 0, 0), 0, 0, Flooding, date(2001, 7, 28, 0, 0, 0), time.Time{}},
		{"day 27 last second", codeRed, julyStart, date(2001, 7, 27, 23, 59, 59), 0, 0, Flooding, date(2001, 7, 28, 0, 0, 0), time.Time{}},
		{"day 28", codeRed, julyStart, date(2001, 7, 28, 0, 0, 0), 0, 0, Dormant, date(2001, 8, 1, 0, 0, 0), time.Time{}},
		{"day 31", codeRed, julyStart, date(2001, 7, 31, 23, 59, 59), 0, 0, Dormant, date(2001, 8, 1, 0, 0, 0), time.Time{}},
		{"1 August", codeRed, julyStart, date(2001, 8, 1, 0, 0, 0), 0, 0, Scanning, date(2001, 8, 20, 0, 0, 0), time.Time{}},
		{"19 August", codeRed, julyStart, date(2001, 8, 19, 18, 0, 0), 0, 0, Scanning, date(2001, 8, 20, 0, 0, 0), time.Time{}},
		// Clock 3 days ahead: at the start it reads 22 July 10:00.
		{"ahead: start", codeRed, julyStart, julyStart, 0, days3Ahead, Flooding, date(2001, 7, 28, 0, 0, 0), time.Time{}},
		{"ahead: 16 July 23:59:59 true reads 19th", codeRed, julyStart, date(2001, 7, 16, 23, 59, 59), 0, days3Ahead, Scanning, date(2001, 7, 20, 0, 0, 0), time.Time{}},
		{"ahead: 25 July true reads 28th", codeRed, julyStart, date(2001, 7, 25, 0, 0, 0), 0, days3Ahead, Dormant, date(2001, 8, 1, 0, 0, 0), time.Time{}},
		{"ahead: 29 July true reads 1 August", codeRed, julyStart, date(2001, 7, 29, 0, 0, 0), 0, days3Ahead, Scanning, date(2001, 8, 20, 0, 0, 0), time.Time{}},
		// Clock 2 days behind: at the start it reads 17 July 10:00.
		{"behind: start", codeRed, julyStart, julyStart, 0, days2Behind, Scanning, date(2001, 7, 20, 0, 0, 0), time.Time{}},
		{"behind: 21 July 23:59:59 true", codeRed, julyStart, date(2001, 7, 21, 23, 59, 59), 0, days2Behind, Scanning, date(2001, 7, 20, 0, 0, 0), time.Time{}},
		{"behind: 22 July true reads 20th", codeRed, julyStart, date(2001, 7, 22, 0, 0, 0), 0, days2Behind, Flooding, date(2001, 7, 28, 0, 0, 0), time.Time{}},
		{"behind: 2 August true reads 31 July", codeRed, julyStart, date(2001, 8, 2, 12, 0, 0), 0, days2Behind, Dormant, date(2001, 8, 1, 0, 0, 0), time.Time{}},
		// No flood (zero bytes or no target): flood days are dormant days.
		{"no bytes: day 19", noFlood, julyStart, julyStart, 0, 0, Scanning, date(2001, 7, 20, 0, 0, 0), time.Time{}},
		{"no bytes: day 22", noFlood, julyStart, date(2001, 7, 22, 0, 0, 0), 0, 0, Dormant, date(2001, 8, 1, 0, 0, 0), date(2001, 7, 28, 0, 0, 0)},
		{"no bytes: day 29", noFlood, julyStart, date(2001, 7, 29, 0, 0, 0), 0, 0, Dormant, date(2001, 8, 1, 0, 0, 0), time.Time{}},
		{"no target: day 20", noTarget, julyStart, date(2001, 7, 20, 0, 0, 0), 0, 0, Dormant, date(2001, 8, 1, 0, 0, 0), date(2001, 7, 28, 0, 0, 0)},
		{"no bytes, ahead: start", noFlood, julyStart, julyStart, 0, days3Ahead, Dormant, date(2001, 8, 1, 0, 0, 0), date(2001, 7, 28, 0, 0, 0)},
		// End on the host's clock.
		{"end: flooding until end", endJul25, julyStart, date(2001, 7, 22, 0, 0, 0), 0, 0, Flooding, date(2001, 7, 25, 12, 0, 0), time.Time{}},
		{"end: ahead, scanning until day 20", endJul25, julyStart, date(2001, 7, 16, 12, 0, 0), 0, days3Ahead, Scanning, date(2001, 7, 20, 0, 0, 0), time.Time{}},
		{"end: ahead, flooding until end", endJul25, julyStart, date(2001, 7, 20, 0, 0, 0), 0, days3Ahead, Flooding, date(2001, 7, 25, 12, 0, 0), time.Time{}},
		{"end: ahead, reached", endJul25, julyStart, date(2001, 7, 22, 12, 0, 0), 0, days3Ahead, Ended, time.Time{}, time.Time{}},
		{"end: behind, not yet", endJul25, julyStart, date(2001, 7, 27, 11, 59, 59), 0, days2Behind, Flooding, date(2001, 7, 25, 12, 0, 0), time.Time{}},
		{"end: behind, reached", endJul25, julyStart, date(2001, 7, 27, 12, 0, 0), 0, days2Behind, Ended, time.Time{}, time.Time{}},
		// Calendar kind always: scanning until the end.
		{"always, no end", calConf{kind: "always"}, julyStart, date(2001, 7, 25, 0, 0, 0), 0, days3Ahead, Scanning, time.Time{}, time.Time{}},
		{"always: crii start", crii, julyStart, date(2001, 8, 4, 0, 0, 0), 0, 0, Scanning, date(2001, 10, 1, 0, 0, 0), time.Time{}},
		{"always: crii ahead", crii, julyStart, date(2001, 8, 4, 0, 0, 0), 0, days3Ahead, Scanning, date(2001, 10, 1, 0, 0, 0), time.Time{}},
		{"always: crii behind, last second", crii, julyStart, date(2001, 10, 2, 23, 59, 59), 0.5, days2Behind, Scanning, date(2001, 10, 1, 0, 0, 0), time.Time{}},
		{"always: crii ended", crii, julyStart, date(2001, 10, 1, 0, 0, 0), 0, 0, Ended, time.Time{}, time.Time{}},
		{"always: crii ahead ended", crii, julyStart, date(2001, 9, 28, 0, 0, 0), 0, days3Ahead, Ended, time.Time{}, time.Time{}},
		// February 2001 (28 days).
		{"feb: day 27", codeRed, feb2001, date(2001, 2, 27, 6, 0, 0), 0, 0, Flooding, date(2001, 2, 28, 0, 0, 0), time.Time{}},
		{"feb: day 28", codeRed, feb2001, date(2001, 2, 28, 0, 0, 0), 0, 0, Dormant, date(2001, 3, 1, 0, 0, 0), time.Time{}},
		{"feb: 1 March", codeRed, feb2001, date(2001, 3, 1, 0, 0, 0), 0, 0, Scanning, date(2001, 3, 20, 0, 0, 0), time.Time{}},
		{"feb: behind, 1 March true reads 27 February", codeRed, feb2001, date(2001, 3, 1, 0, 0, 0), 0, days2Behind, Flooding, date(2001, 2, 28, 0, 0, 0), time.Time{}},
		{"feb flood to 30: day 28 floods until March", feb30, feb2001, date(2001, 2, 28, 0, 0, 0), 0, 0, Flooding, date(2001, 3, 1, 0, 0, 0), time.Time{}},
		{"feb flood to 30: day 20", feb30, feb2001, date(2001, 2, 20, 0, 0, 0), 0, 0, Flooding, date(2001, 3, 1, 0, 0, 0), time.Time{}},
		// September 2001 (30 days).
		{"sep: day 28", codeRed, sep2001, date(2001, 9, 28, 0, 0, 0), 0, 0, Dormant, date(2001, 10, 1, 0, 0, 0), time.Time{}},
		{"sep: day 30", codeRed, sep2001, date(2001, 9, 30, 23, 59, 59), 0, 0, Dormant, date(2001, 10, 1, 0, 0, 0), time.Time{}},
		{"sep: ahead, 28 September true reads 1 October", codeRed, sep2001, date(2001, 9, 28, 0, 0, 0), 0, days3Ahead, Scanning, date(2001, 10, 20, 0, 0, 0), time.Time{}},
		{"sep spread to 31: day 30 scans", spread31, sep2001, date(2001, 9, 30, 12, 0, 0), 0, 0, Scanning, time.Time{}, date(2001, 10, 1, 0, 0, 0)},
		{"sep spread to 31: 1 October scans", spread31, sep2001, date(2001, 10, 1, 0, 0, 0), 0, 0, Scanning, time.Time{}, date(2001, 10, 2, 0, 0, 0)},
		{"sep spread to 30: day 30 scans", spread30, sep2001, date(2001, 9, 30, 12, 0, 0), 0, 0, Scanning, date(2001, 10, 31, 0, 0, 0), date(2001, 10, 1, 0, 0, 0)},
		{"oct spread to 30: day 31 floods", spread30, sep2001, date(2001, 10, 31, 0, 0, 0), 0, 0, Flooding, date(2001, 11, 1, 0, 0, 0), time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := tc.conf.compile(t, tc.start)
			at := tc.at.Sub(tc.start).Seconds() + tc.frac
			ph, next := v.PhaseAt(at, tc.clock)
			if ph != tc.want {
				t.Errorf("PhaseAt(%s + %gs, clock %+ds) phase = %v, want %v", tc.at.Format(time.RFC3339), tc.frac, tc.clock, ph, tc.want)
			}
			want := math.Inf(1)
			if !tc.next.IsZero() {
				want = tc.next.Sub(tc.start).Seconds() - float64(tc.clock)
			}
			if tc.earliest.IsZero() {
				if next != want {
					t.Errorf("next change at %s, want %s", describe(tc.start, next, tc.clock), describe(tc.start, want, tc.clock))
				}
				return
			}
			lo := tc.earliest.Sub(tc.start).Seconds() - float64(tc.clock)
			if next < lo || next > want || !hostMidnight(tc.start, next, tc.clock) {
				t.Errorf("next change at %s, want a host-clock midnight from %s to %s", describe(tc.start, next, tc.clock), describe(tc.start, lo, tc.clock), describe(tc.start, want, tc.clock))
			}
		})
	}
}

// describe formats scenario seconds as the host clock's reading.
func describe(start time.Time, s float64, clock int32) string {
	if math.IsInf(s, 0) {
		return fmt.Sprint(s)
	}
	return fmt.Sprintf("%gs (host clock %s)", s, start.Add(time.Duration((s+float64(clock))*float64(time.Second))).Format(time.RFC3339))
}

// hostMidnight reports whether scenario time s is a midnight UTC on the
// host's clock.
func hostMidnight(start time.Time, s float64, clock int32) bool {
	h := float64(start.Unix()) + s + float64(clock)
	return h == math.Floor(h) && int64(h)%86400 == 0
}

// refPhase is the monthly calendar by its definition, one day at a time.
func refPhase(c calConf, host time.Time) Phase {
	d := host.Day()
	switch {
	case d <= c.spread:
		return Scanning
	case d <= c.flood && c.bytes > 0 && c.target != "":
		return Flooding
	}
	return Dormant
}

// refNext returns the reference phase at scenario time t of a host with
// the given clock error, and the host-clock time at which the phase really
// changes (stepping midnight by midnight; zero if not within 70 days).
func refNext(c calConf, start time.Time, t float64, clock int32) (Phase, time.Time) {
	host := start.Add(time.Duration(math.Floor(t+float64(clock))) * time.Second)
	if !c.end.IsZero() && !host.Before(c.end) {
		return Ended, time.Time{}
	}
	cur := Scanning
	if c.kind == "monthly" {
		cur = refPhase(c, host)
	}
	y, m, d := host.Date()
	mid := date(y, m, d, 0, 0, 0)
	for range 70 {
		mid = mid.AddDate(0, 0, 1)
		if !c.end.IsZero() && !mid.Before(c.end) {
			return cur, c.end
		}
		if c.kind == "monthly" && refPhase(c, mid) != cur {
			return cur, mid
		}
	}
	return cur, time.Time{}
}

// TestPhaseAtSweep compares PhaseAt with the day-by-day reference over
// about nine months (30- and 31-day months, February 2002) and a stretch
// two years out, for several calendars and clock errors: the phase must
// match, and the next change must come after t, at a host-clock midnight
// (or the end), no later than the reference's real change.
func TestPhaseAtSweep(t *testing.T) {
	t.Parallel()
	confs := []calConf{
		codeRed,
		codeRed.with(func(c *calConf) { c.bytes = 0 }),
		codeRed.with(func(c *calConf) { c.flood = 30 }),
		codeRed.with(func(c *calConf) { c.spread, c.flood = 31, 31 }),
		codeRed.with(func(c *calConf) { c.spread, c.flood = 30, 31 }),
		codeRed.with(func(c *calConf) { c.spread, c.flood = 1, 2 }),
		codeRed.with(func(c *calConf) { c.end = date(2001, 11, 15, 6, 30, 0) }),
		{kind: "always", end: date(2001, 10, 1, 0, 0, 0)},
	}
	clocks := []int32{0, days3Ahead, days2Behind, 37, -3599}
	const step = 5*3600 + 17*60 + 13 // not a divisor of a day, so hours drift
	var times []float64
	for s := 0.0; s < 260*86400; s += step {
		times = append(times, s)
	}
	// 2003-01-09 to 2003-05-09: past any precomputed span of up to 17
	// months, with February 2003 and April 2003 in it.
	for s := 539 * 86400.0; s < 659*86400; s += step {
		times = append(times, s)
	}
	for i, c := range confs {
		t.Run(fmt.Sprintf("conf%d", i), func(t *testing.T) {
			t.Parallel()
			v := c.compile(t, julyStart)
			for _, clock := range clocks {
				for _, s := range times {
					ph, next := v.PhaseAt(s, clock)
					want, change := refNext(c, julyStart, s, clock)
					if ph != want {
						t.Fatalf("%+v: t=%s clock %+d: phase %v, want %v", c, describe(julyStart, s, clock), clock, ph, want)
					}
					if ph == Ended {
						if !math.IsInf(next, 1) {
							t.Fatalf("%+v: ended host reports a change at %g", c, next)
						}
						continue
					}
					if next <= s {
						t.Fatalf("%+v: t=%s clock %+d: next change %g not after t", c, describe(julyStart, s, clock), clock, next)
					}
					if change.IsZero() {
						continue
					}
					limit := change.Sub(julyStart).Seconds() - float64(clock)
					if next > limit {
						t.Fatalf("%+v: t=%s clock %+d: next change %s after the real change %s", c, describe(julyStart, s, clock), clock, describe(julyStart, next, clock), describe(julyStart, limit, clock))
					}
					atEnd := !c.end.IsZero() && next == c.end.Sub(julyStart).Seconds()-float64(clock)
					if !atEnd && !hostMidnight(julyStart, next, clock) {
						t.Fatalf("%+v: t=%s clock %+d: next change %s is not a host midnight", c, describe(julyStart, s, clock), clock, describe(julyStart, next, clock))
					}
				}
			}
		})
	}
}
