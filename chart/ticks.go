package chart

import (
	"math"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
)

// timeTicks marks a time axis (Unix seconds) in UTC at round instants:
// whole minutes or hours for short spans, midnights for long ones, with
// labels a reader can take in at a glance ("Jul 19", "14:00"). gonum's
// plot.TimeTicks formats times but places its ticks at round numbers of
// seconds since 1970, which are not round hours or days, hence this ticker.
type timeTicks struct{}

// tickStep is one choice of major and minor spacing.
type tickStep struct {
	major, minor time.Duration
	// days, for steps of a day or more, are the days of the month that
	// get a major tick (nil: every day).
	days []int
}

var tickSteps = []tickStep{
	{major: time.Minute, minor: 15 * time.Second},
	{major: 2 * time.Minute, minor: 30 * time.Second},
	{major: 5 * time.Minute, minor: time.Minute},
	{major: 10 * time.Minute, minor: 2 * time.Minute},
	{major: 15 * time.Minute, minor: 5 * time.Minute},
	{major: 30 * time.Minute, minor: 10 * time.Minute},
	{major: time.Hour, minor: 15 * time.Minute},
	{major: 2 * time.Hour, minor: 30 * time.Minute},
	{major: 3 * time.Hour, minor: time.Hour},
	{major: 6 * time.Hour, minor: time.Hour},
	{major: 12 * time.Hour, minor: 3 * time.Hour},
	{major: 24 * time.Hour, minor: 6 * time.Hour},
	{major: 48 * time.Hour, minor: 24 * time.Hour, days: []int{1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29}},
	{major: 5 * 24 * time.Hour, minor: 24 * time.Hour, days: []int{1, 5, 10, 15, 20, 25}},
	{major: 10 * 24 * time.Hour, minor: 24 * time.Hour, days: []int{1, 10, 20}},
	{major: 30 * 24 * time.Hour, minor: 10 * 24 * time.Hour, days: []int{1}},
}

// maxMajorTicks is the most labelled ticks an axis gets.
const maxMajorTicks = 8

// Ticks implements plot.Ticker.
func (timeTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return nil
	}
	width := time.Duration((hi - lo) * float64(time.Second))
	st := tickSteps[len(tickSteps)-1]
	for _, s := range tickSteps {
		if width/s.major <= maxMajorTicks {
			st = s
			break
		}
	}
	from := fromUnix(lo)
	to := fromUnix(hi)
	var ticks []plot.Tick
	daily := st.major >= 24*time.Hour
	first := true
	// Minor ticks are multiples of the minor step since midnight UTC; a
	// major tick is a minor tick that also falls on the major grid.
	day0 := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.UTC)
	for t := day0; !t.After(to); t = t.Add(st.minor) {
		if t.Before(from) {
			continue
		}
		major := false
		if daily {
			major = t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && (st.days == nil || contains(st.days, t.Day()))
		} else {
			major = t.Sub(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC))%st.major == 0
		}
		tick := plot.Tick{Value: unix(t)}
		if major {
			switch {
			case daily:
				tick.Label = t.Format("Jan 2")
			case first || (t.Hour() == 0 && t.Minute() == 0):
				tick.Label = t.Format("15:04\nJan 2")
			default:
				tick.Label = t.Format("15:04")
			}
			first = false
		}
		ticks = append(ticks, tick)
	}
	return ticks
}

func contains(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func fromUnix(s float64) time.Time {
	sec, frac := math.Modf(s)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}

// numberTicks places four to six labelled ticks at round values (steps of
// 1, 2, 2.5 or 5 times a power of ten) with minor ticks between, and
// labels them compactly (1.5M, 200k, 0.25): plot.DefaultTicks labels as
// few as three and switches to exponents ("2e+05"), hard to read on an
// axis of hosts.
type numberTicks struct{}

// Ticks implements plot.Ticker.
func (numberTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	mag := math.Pow(10, math.Floor(math.Log10((hi-lo)/5)))
	step, parts := 10*mag, 5.0
	for _, m := range []struct{ mult, parts float64 }{{1, 5}, {2, 4}, {2.5, 5}, {5, 5}} {
		if (hi-lo)/(m.mult*mag) <= 6 {
			step, parts = m.mult*mag, m.parts
			break
		}
	}
	minor := step / parts
	var ticks []plot.Tick
	for k := math.Ceil(lo/minor - 1e-9); k*minor <= hi*(1+1e-12)+1e-300; k++ {
		v := k * minor
		t := plot.Tick{Value: v}
		if r := v / step; math.Abs(r-math.Round(r)) < 1e-6 {
			t.Label = compact(v)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// compact formats v with an SI suffix: 1500000 is "1.5M", 200000 "200k",
// 0.25 "0.25". Four significant digits at most.
func compact(v float64) string {
	if v == 0 {
		return "0"
	}
	a := math.Abs(v)
	for _, u := range []struct {
		div    float64
		suffix string
	}{{1e15, "P"}, {1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if a >= u.div {
			return trimNumber(strconv.FormatFloat(v/u.div, 'g', 4, 64)) + u.suffix
		}
	}
	return trimNumber(strconv.FormatFloat(v, 'g', 4, 64))
}

func trimNumber(s string) string {
	if strings.ContainsAny(s, "e") || !strings.Contains(s, ".") {
		return s
	}
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// logTicks marks a colour bar whose values are log10 of counts: a major
// tick at each power of ten labelled with the count (1, 10, 100, 1k), and
// minor ticks at 2 to 9 times each power.
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for e := math.Floor(lo); e <= hi; e++ {
		if e >= lo {
			ticks = append(ticks, plot.Tick{Value: e, Label: compact(math.Pow(10, e))})
		}
		for m := 2.0; m < 10; m++ {
			v := e + math.Log10(m)
			if v >= lo && v <= hi {
				ticks = append(ticks, plot.Tick{Value: v})
			}
		}
	}
	return ticks
}
