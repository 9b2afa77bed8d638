package watch_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"wormwatch/forecast"
	"wormwatch/watch"
)

// rowEvents feeds rows to a new RowSeries of sensor name in pieces cut at
// cuts (increasing row indices), taking its events after each piece, and
// returns it with the events as text.
func rowEvents(t *testing.T, name string, size uint64, ivl time.Duration, rows []forecast.Row, cuts []int) (*watch.RowSeries, []string) {
	t.Helper()
	r, err := watch.NewRowSeries(name, size, ivl, watch.DefaultSettings, forecast.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var evs []string
	from := 0
	for _, to := range append(slices.Clone(cuts), len(rows)) {
		for _, row := range rows[from:to] {
			if err := r.Add(row); err != nil {
				t.Fatal(err)
			}
		}
		for _, e := range r.Events(nil) {
			if e.Series != -1 || e.Key != r.Key() {
				t.Fatalf("event %s: series %d, key %v", eventText(e), e.Series, e.Key)
			}
			evs = append(evs, eventText(e))
		}
		from = to
	}
	return r, evs
}

// TestRowSeriesCodeRed feeds the simulated Code Red /16 telescope's rows
// to a RowSeries whole and in random pieces: the same steps and events
// each time, the steps forecast.Analyze's on the rows bit for bit, and the
// alarm transition at Analyze's alarm with its estimates.
func TestRowSeriesCodeRed(t *testing.T) {
	t.Parallel()
	cr := readCodeRed(t)
	whole, want := rowEvents(t, "ucsd-16", cr.Size, cr.Interval, cr.Rows, nil)
	rng := rand.New(rand.NewPCG(3, 4))
	for range 5 {
		var cuts []int
		for i := 1 + rng.IntN(40); i < len(cr.Rows); i += 1 + rng.IntN(80) {
			cuts = append(cuts, i)
		}
		r, got := rowEvents(t, "ucsd-16", cr.Size, cr.Interval, cr.Rows, cuts)
		if !slices.Equal(got, want) || !slices.EqualFunc(r.Steps(), whole.Steps(), func(a, b forecast.Step) bool { return stepText(a) == stepText(b) }) {
			t.Fatalf("in %d pieces: events\n%s\nwhole:\n%s", len(cuts)+1, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	cr.Name = "ucsd-16" // the analysis names its series
	a, err := forecast.Analyze(t.Context(), cr, forecast.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Alarm == nil {
		t.Fatal("Analyze raised no alarm")
	}
	steps := whole.Steps()
	for i := range a.Steps {
		if stepText(steps[i]) != stepText(a.Steps[i]) {
			t.Fatalf("step %d: %s, Analyze's %s", i, stepText(steps[i]), stepText(a.Steps[i]))
		}
	}
	alarm := -1
	for i, e := range want {
		if strings.Contains(e, "->alarm") {
			alarm = i
			break
		}
	}
	at := a.Alarm
	wantAlarm := at.Time.Format(time.RFC3339) + " ucsd-16 watching->alarm " + stepText(a.Steps[at.Index])
	if alarm < 0 || !strings.HasPrefix(want[alarm], wantAlarm) || !strings.Contains(want[alarm], " alarm "+at.Time.Format(time.RFC3339)) {
		t.Fatalf("events %q: want the alarm %s", want, wantAlarm)
	}
	ra, err := whole.Analysis(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var x, y bytes.Buffer
	if err := ra.WriteJSON(&x); err != nil {
		t.Fatal(err)
	}
	if err := a.WriteJSON(&y); err != nil {
		t.Fatal(err)
	}
	if x.String() != y.String() {
		t.Errorf("the RowSeries' analysis differs from Analyze's")
	}
	if info := whole.Info(); info.State != watch.Alarm || info.Rows != len(cr.Rows) || info.Base != 0 || info.SizeError != nil || !info.Start.Equal(cr.Rows[0].Time) {
		t.Errorf("info %+v", info)
	}
	t.Logf("events: %q", want)
}

// TestRowSeriesLikeWatch feeds a Watch the records of two waves of a worm
// (the first stops, the series subsides and goes quiet, the filter
// restarts, the second wave comes), then a RowSeries the rows of the
// Watch's series of the worm's family on the /16: the same events, both
// alarms and the restart included (the waves' hosts are distinct, so the
// sources new since the restart are the rows' new sources).
func TestRowSeriesLikeWatch(t *testing.T) {
	t.Parallel()
	w := newWatch(t, watch.DefaultSettings)
	apply(t, w, waves(1, 60))
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, e := range w.Events(nil) {
		if e.Key.String() == "ucsd-16/family/code-red" {
			want = append(want, eventText(e))
		}
	}
	i := slices.IndexFunc(w.Series(), func(s watch.SeriesInfo) bool { return s.Key.String() == "ucsd-16/family/code-red" })
	info := w.Series()[i]
	rows := w.Rows(i)
	r, got := rowEvents(t, "ucsd-16/family/code-red", info.Size, time.Minute, rows, []int{len(rows) / 3, len(rows) / 2})
	if strings.Count(strings.Join(want, "\n"), "->alarm") < 2 || info.Base == 0 {
		t.Fatalf("the Watch's events (base %d): want two alarms and a restart:\n%s", info.Base, strings.Join(want, "\n"))
	}
	// The keys differ (a RowSeries is of class All): compare the rest.
	for i := range got {
		got[i] = strings.Replace(got[i], " ucsd-16/family/code-red ", " KEY ", 1)
	}
	for i := range want {
		want[i] = strings.Replace(want[i], " ucsd-16/family/code-red ", " KEY ", 1)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("events of the rows:\n%s\nthe Watch's:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if ri := r.Info(); ri.Base != info.Base || ri.State != info.State {
		t.Errorf("RowSeries base %d state %s, the Watch's %d %s", ri.Base, ri.State, info.Base, info.State)
	}
}

// TestRowSeriesRefuses checks the rows a RowSeries refuses, each naming
// the row's time and changing nothing: a gap, a row before the last, a
// cumulative count that does not follow, counts that are not a sensor
// series'.
func TestRowSeriesRefuses(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC)
	r, err := watch.NewRowSeries("far", 65536, time.Minute, watch.DefaultSettings, forecast.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range []forecast.Row{{Time: t0, Probes: 3, Sources: 2, NewSources: 2, CumulativeSources: 2}, {Time: t0.Add(time.Minute), Probes: 2, Sources: 2, NewSources: 1, CumulativeSources: 3}} {
		if err := r.Add(row); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		row  forecast.Row
		want string
	}{
		{forecast.Row{Time: t0.Add(3 * time.Minute), Probes: 1, Sources: 1, CumulativeSources: 3}, "row 2001-07-19T10:03:00Z: the series' next row is 2001-07-19T10:02:00Z"},
		{forecast.Row{Time: t0.Add(time.Minute), Probes: 1, Sources: 1, CumulativeSources: 3}, "row 2001-07-19T10:01:00Z: the series' next row is 2001-07-19T10:02:00Z"},
		{forecast.Row{Time: t0.Add(2 * time.Minute), Probes: 1, Sources: 1, NewSources: 1, CumulativeSources: 3}, "row 2001-07-19T10:02:00Z: cumulative_sources 3, want 4"},
		{forecast.Row{Time: t0.Add(2 * time.Minute), Probes: 1, Sources: 2, CumulativeSources: 3}, "row 2001-07-19T10:02:00Z: want 0 <= new_sources (0) <= sources (2) <= probes (1)"},
	} {
		if err := r.Add(c.row); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.row, err, c.want)
		}
	}
	if info := r.Info(); info.Rows != 2 || len(r.Steps()) != 2 {
		t.Errorf("after refusals: %+v, %d steps", info, len(r.Steps()))
	}
	if _, err := watch.NewRowSeries("far", 0, time.Minute, watch.DefaultSettings, forecast.Options{}); err == nil || !strings.Contains(err.Error(), "size") {
		t.Errorf("size 0: %v", err)
	}
}

// TestSizeError checks that a series whose sensor is declared far too
// small (the Code Red /16 telescope as one address) reports the filter's
// forecast.SizeError in its SeriesInfo, from the row forecast.Analyze
// names on, as records (a Watch) and as rows (a RowSeries); with the size
// right, none.
func TestSizeError(t *testing.T) {
	t.Parallel()
	cr := readCodeRed(t)
	rows := fromFirst(cr.Rows)
	until := slices.IndexFunc(rows, func(r forecast.Row) bool { return r.Time.Hour() == 19 && r.Time.Minute() == 30 })
	rows = rows[:until]
	_, err := forecast.Analyze(t.Context(), &forecast.Series{Name: "x", Size: 1, Interval: cr.Interval, Rows: rows}, forecast.Options{})
	var want *forecast.SizeError
	if !errors.As(err, &want) {
		t.Fatalf("Analyze: %v", err)
	}
	w, err := watch.New(watch.Config{Families: families})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		name string
		size uint64
	}{{"one", 1}, {"right", cr.Size}} {
		if _, err := w.AddSensor(s.name, s.size); err != nil {
			t.Fatal(err)
		}
	}
	apply(t, w, append(expand(rows, cr.Interval, 0, []int{0}, "10", 1, 0), expand(rows, cr.Interval, 1, []int{0}, "10", 1, 0)...))
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	r, _ := rowEvents(t, "one", 1, cr.Interval, rows, nil)
	infos := append(w.Series(), r.Info())
	if len(infos) != 5 { // all and code-red of each sensor, and the rows'
		t.Fatalf("%d series", len(infos))
	}
	for _, info := range infos {
		se := info.SizeError
		if info.Key.Sensor == "right" {
			if se != nil {
				t.Errorf("%s: %v", info.Key, se)
			}
			continue
		}
		if se == nil || se.Row != want.Row || se.Seen != want.Seen || !se.Time.Equal(want.Time) || se.Size != 1 {
			t.Errorf("%s (index %d): size error %+v, Analyze's %+v", info.Key, info.Index, se, want)
		}
	}
}
