package forecast

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Monitor is the early-warning filter run row by row as a sensor's
// intervals close: Add takes one row and returns its Step, computed by the
// same code as Analyze (the two share their pass over the rows), so that
// after any number of rows Steps and Alarm are those Analyze gives on the
// rows so far, bit for bit. Add costs O(1) amortised apart from the
// filter's own work over its window (the regression that starts it, and
// the alarm rule's walk back over the steps of a trend), which is bounded
// by ten memories of rows. The Monitor keeps the rows and steps so far
// (about 160 bytes a row), at most MaxRows of them.
//
// A Monitor is not safe for concurrent use.
type Monitor struct {
	run *filterRun
}

// NewMonitor returns a Monitor of a sensor that watches size addresses,
// with intervals of the given width, under the options of Analyze (the
// zero value asks for the defaults). name names the series in the
// Analysis. The size, the interval and the options are checked as Analyze
// checks them.
func NewMonitor(name string, size uint64, interval time.Duration, opt Options) (*Monitor, error) {
	opt, err := checkSeries(size, interval, opt)
	if err != nil {
		return nil, err
	}
	return &Monitor{run: newFilterRun(name, size, interval, opt, 0)}, nil
}

// Add takes the next row: its time must be one interval after the
// previous row's (the first row's from MinTime to before MaxTime), its
// counts those of a sensor series (0 <= new_sources <= sources <= probes,
// cumulative_sources grown by new_sources, at least new_sources on the
// first row), and the rows at most MaxRows. It returns the row's Step. A
// row that is refused, or an error of ctx (which only the start of the
// filter checks), leaves the Monitor as it was.
func (m *Monitor) Add(ctx context.Context, r Row) (Step, error) {
	run := m.run
	if err := run.checkRow(r); err != nil {
		return Step{}, err
	}
	// The state before the row, to put back if ctx ends the filter's
	// start: the filter, the tally, the base and the slices' lengths.
	saved, savedF := *run, *run.f
	run.rows = append(run.rows, r)
	if err := run.row(ctx, len(run.rows)-1); err != nil {
		rows := run.rows[:len(saved.rows)]
		*run, *run.f = saved, savedF
		run.rows = rows
		return Step{}, err
	}
	return run.steps[len(run.steps)-1], nil
}

// checkRow checks that r can follow the rows so far.
func (run *filterRun) checkRow(r Row) error {
	n := len(run.rows)
	switch {
	case n >= MaxRows:
		return fmt.Errorf("%d rows, more than forecast's cap of %d", n+1, MaxRows)
	case r.Probes < 0 || r.Sources < 0 || r.NewSources < 0:
		return fmt.Errorf("row %d: negative count (probes %d, sources %d, new sources %d)", n+1, r.Probes, r.Sources, r.NewSources)
	case r.Sources > r.Probes || r.NewSources > r.Sources:
		return fmt.Errorf("row %d: want new sources (%d) <= sources (%d) <= probes (%d)", n+1, r.NewSources, r.Sources, r.Probes)
	}
	if n == 0 {
		switch {
		case r.Time.Before(MinTime) || !r.Time.Before(MaxTime):
			return fmt.Errorf("row 1: time %s out of range (allowed: from %s to before %s)", r.Time.Format(time.RFC3339), MinTime.Format(time.RFC3339), MaxTime.Format(time.RFC3339))
		case r.CumulativeSources < r.NewSources:
			return fmt.Errorf("row 1: cumulative sources %d below the new sources %d", r.CumulativeSources, r.NewSources)
		}
		return nil
	}
	prev := run.rows[n-1]
	switch {
	case !r.Time.Equal(prev.Time.Add(run.interval)):
		return fmt.Errorf("row %d: time %s is not one interval (%s) after the previous row's %s", n+1, r.Time.Format(time.RFC3339Nano), run.interval, prev.Time.Format(time.RFC3339Nano))
	case r.CumulativeSources != prev.CumulativeSources+r.NewSources:
		return fmt.Errorf("row %d: cumulative sources %d, want %d (the previous row's %d and %d new)", n+1, r.CumulativeSources, prev.CumulativeSources+r.NewSources, prev.CumulativeSources, r.NewSources)
	}
	return nil
}

// Len returns the number of rows added.
func (m *Monitor) Len() int { return len(m.run.rows) }

// Rows returns the rows added, in order. The slice is the Monitor's own:
// it must not be modified, and it is valid until the next Add.
func (m *Monitor) Rows() []Row { return slices.Clip(m.run.rows) }

// Steps returns the steps of the rows added, one per row, as Analyze's
// Analysis.Steps on those rows. The slice is the Monitor's own: it must
// not be modified, and it is valid until the next Add.
func (m *Monitor) Steps() []Step { return slices.Clip(m.run.steps) }

// Alarm returns a copy of the alarm, once the rule has fired (then it
// stays: Analyze reports the first alarm), or nil.
func (m *Monitor) Alarm() *Alarm {
	if m.run.alarm == nil {
		return nil
	}
	a := *m.run.alarm
	return &a
}

// Rebases returns the times the filter restarted after quiet periods (see
// Options.Rebase), as Analysis.Rebases; it must not be modified.
func (m *Monitor) Rebases() []time.Time { return slices.Clip(m.run.rebases) }

// Options returns the options with the defaults filled in.
func (m *Monitor) Options() Options { return m.run.opt }

// Analysis returns what Analyze returns on the rows added so far, the
// same bit for bit (an error with fewer than MinRows rows): the steps are
// copied (O(rows)), the final estimates come from the filter's state, and,
// after an alarm, the logistic fit runs over the trend that raised it and
// the forecast band is drawn (Options.Draws draws times the forecast's
// steps), as Analyze does them. It does not change the Monitor.
func (m *Monitor) Analysis(ctx context.Context) (*Analysis, error) {
	run := m.run
	if len(run.rows) < MinRows {
		return nil, tooShort(len(run.rows))
	}
	if run.overflow != nil {
		return nil, run.overflow
	}
	a := run.analysis(slices.Clone(run.steps))
	a.Rebases = slices.Clone(a.Rebases)
	if a.Alarm != nil {
		al := *a.Alarm
		a.Alarm = &al
	}
	if err := run.finish(ctx, a); err != nil {
		return nil, err
	}
	return a, nil
}
