package watch

import (
	"context"
	"fmt"
	"slices"
	"time"

	"wormwatch/forecast"
)

// RowSeries is a series fed with its rows instead of records: a remote
// sensor's series as the sensor counted and sent it (the sensor series of
// docs/output.md, what detect --series writes). Each row goes through the
// same filter (forecast.Monitor) and the same alarm state machine as a
// Watch's series (see State), and each transition is an Event. The rows
// are the whole state: a RowSeries fed the same rows, at once or in
// pieces, has the same steps, states and events, bit for bit, so a
// service saves the rows and rebuilds the RowSeries from them.
//
// When the state machine goes from subsiding to quiet the filter restarts
// on the next row, as a Watch's does, counting the sources from there on:
// here the sources the rows count as new (first seen by the sensor) from
// that row on, since the rows do not say which sources they are; a source
// seen before the restart and again after is not counted, where a Watch's
// series would count it. Before any restart the filter's rows are the rows
// as given, so its steps are forecast.Analyze's on them.
//
// A RowSeries is not safe for concurrent use.
type RowSeries struct {
	key  Key
	size uint64
	ivl  time.Duration
	opt  forecast.Options
	rule machineRule

	rows   []forecast.Row
	filter // its cumBase: new sources since base
	events []Event
}

// NewRowSeries returns the series of every record of a sensor (Key
// {Sensor: sensor, Class: AllClass}) that watches size addresses, of rows
// of width interval, with the state machine's durations of set (its
// interval, lateness and caps do not apply) and the filter's options opt.
// The size, the interval and the options are checked as forecast checks
// them.
func NewRowSeries(sensor string, size uint64, interval time.Duration, set Settings, opt forecast.Options) (*RowSeries, error) {
	if set == (Settings{}) {
		set = DefaultSettings
	}
	if err := set.Validate(); err != nil {
		return nil, err
	}
	if sensor == "" || len(sensor) > 256 {
		return nil, fmt.Errorf("sensor name %q: want 1 to 256 bytes", sensor)
	}
	r := &RowSeries{key: Key{Sensor: sensor, Class: AllClass}, size: size, ivl: interval, opt: opt, rule: newRule(set, interval)}
	m, err := forecast.NewMonitor(r.key.String(), size, interval, opt)
	if err != nil {
		return nil, fmt.Errorf("sensor %q: %w", sensor, err)
	}
	r.mon = m
	return r, nil
}

// Add takes the next row: the first at any time forecast takes, each
// other one interval after the one before, with cumulative_sources grown
// by new_sources, and the counts of a sensor series (0 <= new_sources <=
// sources <= probes); at most forecast.MaxRows rows. A row refused with
// an error (naming its time) changes nothing. The row's step moves the
// state machine; a transition is an Event (Series -1), handed over by
// Events.
func (r *RowSeries) Add(row forecast.Row) error {
	if err := r.check(row); err != nil {
		return err
	}
	fed := row
	fed.CumulativeSources = r.cumBase + row.NewSources
	st, err := r.feed(fed)
	if err != nil {
		return fmt.Errorf("row %s: %w", row.Time.UTC().Format(time.RFC3339), err)
	}
	r.rows = append(r.rows, row)
	r.machine(st)
	return nil
}

// check checks that row can follow the rows so far.
func (r *RowSeries) check(row forecast.Row) error {
	at := row.Time.UTC().Format(time.RFC3339)
	switch {
	case len(r.rows) >= forecast.MaxRows:
		return fmt.Errorf("row %s: the series has %d rows, forecast's cap", at, forecast.MaxRows)
	case row.Probes < 0 || row.Sources > row.Probes || row.NewSources < 0 || row.NewSources > row.Sources:
		return fmt.Errorf("row %s: want 0 <= new_sources (%d) <= sources (%d) <= probes (%d)", at, row.NewSources, row.Sources, row.Probes)
	case len(r.rows) == 0:
		if row.CumulativeSources < row.NewSources {
			return fmt.Errorf("row %s: cumulative_sources %d is below new_sources %d", at, row.CumulativeSources, row.NewSources)
		}
		return nil
	}
	prev := r.rows[len(r.rows)-1]
	if want := prev.Time.Add(r.ivl); !row.Time.Equal(want) {
		return fmt.Errorf("row %s: the series' next row is %s (rows come in order, one interval of %v apart, without gaps: zero rows where the sensor saw nothing)",
			at, want.UTC().Format(time.RFC3339), r.ivl)
	}
	if want := prev.CumulativeSources + row.NewSources; row.CumulativeSources != want {
		return fmt.Errorf("row %s: cumulative_sources %d, want %d (the previous row's %d plus new_sources %d)", at, row.CumulativeSources, want, prev.CumulativeSources, row.NewSources)
	}
	return nil
}

// machine moves the state machine on after a step (filter.move) and
// restarts the filter when an alarm ends, as Watch.machine does.
func (r *RowSeries) machine(st forecast.Step) {
	ev, ok := r.move(r.rule, st)
	if !ok {
		return
	}
	ev.Series, ev.Key = -1, r.key
	r.events = append(r.events, ev)
	if quieted(ev) {
		m, err := forecast.NewMonitor(r.key.String(), r.size, r.ivl, r.opt)
		if err != nil {
			panic("watch: the filter refused a sensor it took before: " + err.Error())
		}
		r.restart(m, len(r.rows))
	}
}

// Events appends the transitions since the last call to dst, in order,
// and returns it; the RowSeries then forgets them.
func (r *RowSeries) Events(dst []Event) []Event {
	dst = append(dst, r.events...)
	clear(r.events)
	r.events = r.events[:0]
	return dst
}

// Key returns the series' key: its sensor, of class All.
func (r *RowSeries) Key() Key { return r.key }

// Interval returns the width of its rows.
func (r *RowSeries) Interval() time.Duration { return r.ivl }

// Info describes the series as Watch.Series does (Index -1, Late 0).
func (r *RowSeries) Info() SeriesInfo {
	info := SeriesInfo{Index: -1, Key: r.key, Size: r.size, Rows: len(r.rows), Base: r.base, State: r.state, SizeError: r.mon.SizeError()}
	if len(r.rows) > 0 {
		info.Start = r.rows[0].Time
	}
	return info
}

// Rows returns the rows taken, as given; the slice must not be modified,
// and it is valid until the next Add.
func (r *RowSeries) Rows() []forecast.Row { return slices.Clip(r.rows) }

// Steps returns the filter's steps since its base (Info().Base), one per
// row from there; the slice must not be modified.
func (r *RowSeries) Steps() []forecast.Step { return r.mon.Steps() }

// Analysis returns forecast's analysis of the rows from the filter's base
// (see Watch.Analysis).
func (r *RowSeries) Analysis(ctx context.Context) (*forecast.Analysis, error) {
	return r.mon.Analysis(ctx)
}
