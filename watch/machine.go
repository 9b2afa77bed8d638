package watch

import (
	"context"
	"fmt"
	"slices"
	"time"

	"wormwatch/forecast"
)

// State is where a series' alarm state machine stands.
type State uint8

// The states, in the order an outbreak goes through them.
const (
	Quiet     State = iota // no trend
	Watching               // the filter's growth rate is significantly positive (the step's Trend), no alarm yet
	Alarm                  // the forecast alarm rule fired, and the trend goes on
	Subsiding              // after an alarm, no trend for Settings.Subside
)

// String returns "quiet", "watching", "alarm" or "subsiding".
func (s State) String() string {
	switch s {
	case Quiet:
		return "quiet"
	case Watching:
		return "watching"
	case Alarm:
		return "alarm"
	case Subsiding:
		return "subsiding"
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// Event is a transition of a series' state machine, at the close of an
// interval.
type Event struct {
	Time   time.Time // end of the interval whose step made the change
	Series int       // the series' index (Watch.Series)
	Key    Key
	From   State
	To     State
	Step   forecast.Step   // the filter's step at that interval: its estimates
	Alarm  *forecast.Alarm // the filter's alarm (when it fired, the onset, ...), nil before it fired
}

// filter is a series' early-warning filter and its alarm state machine:
// what a Watch's series and a RowSeries share (one copy of the rule's
// bookkeeping, so that both make the same transitions from the same
// steps).
type filter struct {
	mon     *forecast.Monitor
	base    int   // the row the monitor started at
	cumBase int64 // cumulative sources since base
	alarmed bool  // the monitor's alarm has fired
	state   State
	noTrend int // consecutive steps without a trend
}

// feed gives the monitor its next row, r (its sources counted since
// base), and returns the step. A row the monitor refuses changes nothing.
func (f *filter) feed(r forecast.Row) (forecast.Step, error) {
	st, err := f.mon.Add(context.Background(), r)
	if err != nil {
		return st, err
	}
	f.cumBase = r.CumulativeSources
	if !f.alarmed && f.mon.Alarm() != nil {
		f.alarmed = true
	}
	return st, nil
}

// move moves the state machine on after step st, by rule:
//
//	quiet     -> alarm      the alarm rule fired
//	quiet     -> watching   the step has a trend
//	watching  -> alarm      the alarm rule fired
//	watching  -> quiet      Clear without a trend
//	alarm     -> subsiding  Subside without a trend
//	subsiding -> alarm      a trend again
//	subsiding -> quiet      Subside + Quiet without a trend; the filter
//	                        restarts on a new base (the next row), so that a
//	                        second wave can raise a new alarm
//
// It returns the transition (Series and Key left to the caller), false
// when the state stays. After subsiding -> quiet the caller restarts the
// filter (restart), once it has the event.
func (f *filter) move(rule machineRule, st forecast.Step) (Event, bool) {
	if st.Trend {
		f.noTrend = 0
	} else {
		f.noTrend++
	}
	fired := f.alarmed && f.state != Alarm && f.state != Subsiding
	from := f.state
	to := rule.next(from, fired, st.Trend, f.noTrend)
	if to == from {
		return Event{}, false
	}
	f.state = to
	return Event{Time: st.Time, From: from, To: to, Step: st, Alarm: f.mon.Alarm()}, true
}

// restart starts the filter anew with mon from row base: no sources
// counted, no alarm, no step without a trend.
func (f *filter) restart(mon *forecast.Monitor, base int) {
	f.mon, f.base, f.cumBase, f.alarmed, f.noTrend = mon, base, 0, false, 0
}

// quieted reports whether ev ends an alarm: subsiding -> quiet, after
// which the filter restarts.
func quieted(ev Event) bool { return ev.From == Subsiding && ev.To == Quiet }

// machine moves ser's state machine on after a step (filter.move) and
// restarts its filter when an alarm ends.
func (w *Watch) machine(ser *series, st forecast.Step) {
	ev, ok := ser.move(w.rule, st)
	if !ok {
		return
	}
	ev.Series, ev.Key = ser.idx, ser.key
	w.events = append(w.events, ev)
	if quieted(ev) {
		w.restart(ser)
	}
}

// machineRule is the state machine's rule, in intervals of its series:
// how many without a trend end watching (clear), make an alarm subside
// (sub), and then end a subsiding alarm (quiet).
type machineRule struct {
	clearN, subN, quietN int
}

// newRule returns the rule of the settings for intervals of width ivl.
func newRule(st Settings, ivl time.Duration) machineRule {
	return machineRule{clearN: intervals(st.Clear, ivl), subN: intervals(st.Subside, ivl), quietN: intervals(st.Quiet, ivl)}
}

// next returns the state after a step from state from: fired tells that
// the filter's alarm has fired outside an alarm, trend the step's trend,
// noTrend the steps without a trend up to this one.
func (r machineRule) next(from State, fired, trend bool, noTrend int) State {
	switch from {
	case Quiet:
		if fired {
			return Alarm
		} else if trend {
			return Watching
		}
	case Watching:
		if fired {
			return Alarm
		} else if noTrend >= r.clearN {
			return Quiet
		}
	case Alarm:
		if noTrend >= r.subN {
			return Subsiding
		}
	case Subsiding:
		if trend {
			return Alarm
		} else if noTrend >= r.subN+r.quietN {
			return Quiet
		}
	}
	return from
}

// restart starts ser's filter anew from the next row, counting the sources
// seen from there on only.
func (w *Watch) restart(ser *series) {
	ser.filter.restart(w.monitor(ser), len(ser.rows))
	ser.epoch++
	w.logRestart(ser)
}

// Events appends the transitions since the last call to dst, in order, and
// returns it; the Watch then forgets them (until they are taken, they are
// part of its snapshot).
func (w *Watch) Events(dst []Event) []Event {
	dst = append(dst, w.events...)
	clear(w.events)
	w.events = w.events[:0]
	return dst
}

// SeriesInfo describes one series.
type SeriesInfo struct {
	Index int
	Key   Key
	Size  uint64    // the sensor's addresses
	Start time.Time // start of the first row (zero before any row closed)
	Rows  int       // closed rows
	Base  int       // the row the filter (re)started at
	State State
	Late  int64 // late records counted in its rows' probes
	// SizeError is the filter's, once its estimates overflowed: the
	// sensor's size is far too small for what it saw (see
	// forecast.SizeError); nil otherwise.
	SizeError *forecast.SizeError
}

// Series returns every series, in order of creation (the indices of
// Event.Series, Rows and Analysis).
func (w *Watch) Series() []SeriesInfo {
	out := make([]SeriesInfo, len(w.series))
	for i, ser := range w.series {
		out[i] = SeriesInfo{Index: i, Key: ser.key, Size: ser.sensor.size, Rows: len(ser.rows), Base: ser.base, State: ser.state, Late: ser.late,
			SizeError: ser.mon.SizeError()}
		if len(ser.rows) > 0 {
			out[i].Start = ser.rows[0].Time
		}
	}
	return out
}

// Rows returns the closed rows of series i (a sensor series: probes,
// sources, new and cumulative sources since the series' first row). The
// slice is the Watch's own: it must not be modified, and is valid until
// the next call that takes records.
func (w *Watch) Rows(i int) []forecast.Row { return slices.Clip(w.series[i].rows) }

// Steps returns the filter's steps of series i since its base (Base), one
// per row from there; the slice must not be modified.
func (w *Watch) Steps(i int) []forecast.Step { return w.series[i].mon.Steps() }

// SizeError returns the filter's size error of series i (SeriesInfo's,
// without making the SeriesInfo): its Series is the series' key.
func (w *Watch) SizeError(i int) *forecast.SizeError { return w.series[i].mon.SizeError() }

// Analysis returns forecast's analysis of series i from its base: what
// forecast.Analyze gives on the rows the filter was fed (the rows from
// Base on, with the sources counted since Base; the probes without the
// late records'). It costs O(rows) (the steps are copied) plus, after an
// alarm, the logistic fit and the forecast band.
func (w *Watch) Analysis(ctx context.Context, i int) (*forecast.Analysis, error) {
	return w.series[i].mon.Analysis(ctx)
}

// Pending returns the open intervals of series i as provisional rows, in
// time order: probes and sources so far, and the sources not seen in a
// closed or an earlier open interval as new (a record of an earlier
// interval may still move a source's first sighting).
func (w *Watch) Pending(i int) []forecast.Row {
	ser := w.series[i]
	var ivs []int64
	for _, o := range ser.open {
		if o.used {
			ivs = append(ivs, o.iv)
		}
	}
	slices.Sort(ivs)
	var out []forecast.Row
	cum := ser.cum
	for _, iv := range ivs {
		o := &ser.open[mod(iv, w.lateness)]
		var earlier uint64 // the bits of the open intervals before iv
		for _, e := range ivs {
			if e < iv {
				earlier |= 1 << uint(e&63)
			}
		}
		var n int64
		for _, pi := range o.pairs {
			if p := &ser.pairs[pi]; !p.known && p.mask&earlier == 0 {
				n++
			}
		}
		cum += n
		out = append(out, forecast.Row{Time: time.Unix(0, iv*w.ivl).UTC(), Probes: o.probes, Sources: int64(len(o.pairs)), NewSources: n, CumulativeSources: cum})
	}
	return out
}

// Stats are the Watch's counts.
type Stats struct {
	Records int64 // records taken
	Late    int64 // of which late: older than the open intervals
	Sources int64 // distinct sources over all sensors
	Series  int
	Pairs   int64 // sources per series, summed (the memory's main part)
}

// Stats returns the counts.
func (w *Watch) Stats() Stats {
	st := Stats{Records: w.records, Late: w.late, Sources: w.nsources, Series: len(w.series)}
	for _, ser := range w.series {
		st.Pairs += ser.npairs
	}
	return st
}
