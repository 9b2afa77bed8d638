package serve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"wormwatch/forecast"
	"wormwatch/serve/metrics"
	"wormwatch/store"
	"wormwatch/watch"
)

// The remote sensors' series (POST /api/v1/series/{sensor}): each is a
// watch.RowSeries, the watch's filter and alarm state machine fed with
// the rows as pushed, owned by the ingest loop. A push's new rows, the
// transitions they make (planned as alerts by the batch hook) and, in
// alarm, a forecast go into a batch that the push commits before it
// answers: rows and transitions are committed together, so the series'
// state is a function of its committed rows, and a restart (after a kill
// -9 too) rebuilds it from them (restoreRemotes) exactly as it was.
//
// Rows received are kept as they are: a push may send them again (the
// same rows change nothing), not change them (409, naming the row). New
// rows follow the last one received, one interval after another.

// remoteSeries is one remote sensor's series.
type remoteSeries struct {
	key   store.SeriesKey
	rs    *watch.RowSeries
	fresh []store.Row // rows taken and not yet in a batch
	src   *srcMember  // a sensor that pushes its sources (srcmember.go); nil for one that pushes its series
}

// remotes are the remote sensors' series of the loop, and the series whose
// size error was logged.
type remotes struct {
	list   []*remoteSeries // in order of creation
	byName map[string]*remoteSeries
	warned map[string]bool
	evs    []watch.Event // scratch
}

// newRemote returns the series of a remote sensor (not yet the loop's).
func (l *loop) newRemote(k store.SeriesKey) (*remoteSeries, error) {
	rs, err := watch.NewRowSeries(k.Sensor, k.Size, k.Interval, l.cfg.Watch, l.cfg.Forecast.Options(l.cfg.Service.SpaceBits))
	if err != nil {
		return nil, err
	}
	k.Key, k.Kind, k.Name, k.Origin = rs.Key().String(), "all", "", "remote"
	return &remoteSeries{key: k, rs: rs}, nil
}

// addRemoteSeries makes rem one of the loop's series.
func (l *loop) addRemoteSeries(rem *remoteSeries) {
	if l.remote.byName == nil {
		l.remote.byName = map[string]*remoteSeries{}
	}
	l.remote.list = append(l.remote.list, rem)
	l.remote.byName[rem.key.Sensor] = rem
}

// restoreRemotes rebuilds the remote sensors' series from their committed
// rows. Their transitions were committed with them: those the rows make
// again are dropped. A stored row the filter refuses (rows of a version
// that replaced rows as they were pushed again) stops the series there,
// with a warning: the next rows pushed from there on replace the stored
// ones.
func (l *loop) restoreRemotes(ctx context.Context) error {
	list, err := l.st.SeriesList(ctx)
	if err != nil {
		return err
	}
	for _, k := range list {
		if k.Origin != "remote" {
			continue
		}
		rows, err := l.st.Rows(ctx, k.Key, time.Time{}, time.Time{}, 0)
		if err != nil {
			return err
		}
		rem, err := l.newRemote(k)
		if err != nil {
			l.log.Warn("remote series not analysed: the configuration refuses it", "series", k.Key, "error", err)
			continue
		}
		for i, r := range rows {
			if err := rem.rs.Add(forecast.Row(r)); err != nil {
				l.log.Warn("remote series: its stored rows from here on are not analysed (rows pushed from there on replace them)", "series", k.Key, "row", i+1, "error", err)
				break
			}
		}
		rem.rs.Events(nil)
		if r := l.cfg.remote(k.Sensor); r != nil && r.Sources {
			if err := l.restoreSources(ctx, rem, r, rows); err != nil {
				return err
			}
		}
		l.addRemoteSeries(rem)
		if err := l.checkRemoteState(ctx, rem); err != nil {
			return err
		}
	}
	return nil
}

// checkRemoteState warns when a restored series' state is not the one its
// last stored transition went to: the settings of [watch] or [forecast]
// changed since (the state goes on from the one the rows give now).
func (l *loop) checkRemoteState(ctx context.Context, rem *remoteSeries) error {
	ts, err := l.st.Transitions(ctx, store.TransitionQuery{Series: rem.key.Key})
	if err != nil {
		return err
	}
	last := watch.Quiet.String()
	if len(ts) > 0 {
		last = ts[len(ts)-1].To
	}
	if now := rem.rs.Info().State.String(); now != last {
		l.log.Warn("remote series: its rows give another state than its last transition (were [watch] or [forecast] changed?)", "series", rem.key.Key, "state", now, "stored", last)
	}
	return nil
}

// pushOutcome is the answer to a push.
type pushOutcome struct {
	Series    string `json:"series"`
	Rows      int    `json:"rows"`      // rows in the push
	Added     int    `json:"added"`     // rows new to the series, taken
	Unchanged int    `json:"unchanged"` // rows received before, the same
	State     string `json:"state"`     // the series' alarm state after it
}

// pushError is an error of a push with its HTTP status.
type pushError struct {
	status int
	err    error
}

// pushRows takes a push's rows (parsePush checked them, as forecast
// checks a series) on the loop and commits them before it returns. Rows
// received before must be the same (409 otherwise, naming the row,
// nothing taken); the others must follow the last one received.
func (l *loop) pushRows(ctx context.Context, sr store.SeriesRows) (pushOutcome, *pushError) {
	name := sr.Series.Sensor
	out := pushOutcome{Series: name, Rows: len(sr.Rows)}
	if l.w.Sensor(name) >= 0 {
		return out, &pushError{http.StatusConflict, fmt.Errorf("sensor %s is counted by this service from its inputs: a remote sensor needs a name of its own", name)}
	}
	rem := l.remote.byName[name]
	if r := l.cfg.remote(name); (rem != nil && rem.src != nil) || (r != nil && r.Sources) {
		return out, &pushError{http.StatusConflict, fmt.Errorf("sensor %s pushes its sources (POST /api/v1/sources/%s): its series is made of them", name, name)}
	}
	if rem == nil {
		var err error
		if rem, err = l.newRemote(sr.Series); err != nil {
			return out, &pushError{http.StatusUnprocessableEntity, fmt.Errorf("series %s: %v", name, err)}
		}
	} else if rem.key.Interval != sr.Series.Interval || rem.key.Size != sr.Series.Size {
		return out, &pushError{http.StatusConflict, fmt.Errorf("series %s has interval %v and size %d: the push has %v and %d", name, rem.key.Interval, rem.key.Size, sr.Series.Interval, sr.Series.Size)}
	}
	if err := l.poolsFit(name, sr.Series.Interval, sr.Rows); err != nil {
		return out, &pushError{http.StatusConflict, err}
	}
	added, same, err := rem.take(sr.Rows)
	out.Added, out.Unchanged = added, same
	if added > 0 && l.remote.byName[name] != rem {
		l.addRemoteSeries(rem)
	}
	if added > 0 {
		l.changed = true
	}
	if err != nil && added == 0 {
		return out, &pushError{http.StatusConflict, err}
	}
	out.State = rem.rs.Info().State.String()
	if added > 0 || l.carry != nil {
		if err := l.commit(context.WithoutCancel(ctx)); err != nil {
			return out, &pushError{http.StatusInternalServerError, fmt.Errorf("committing: %v", err)}
		}
		if l.carry != nil {
			return out, &pushError{http.StatusServiceUnavailable, errors.New("the rows are taken but their commit failed (the service's log says why): push them again; rows received before are taken as they are")}
		}
	}
	if err != nil { // after some rows were taken: cannot be, the push's rows follow one another
		return out, &pushError{http.StatusConflict, fmt.Errorf("%v (the %d rows before it were taken)", err, added)}
	}
	return out, nil
}

// take compares the rows received before with the push's and feeds the
// new ones; it returns how many it took and how many it had already. An
// error before any row is taken changes nothing.
func (rem *remoteSeries) take(rows []store.Row) (added, same int, err error) {
	held := rem.rs.Rows()
	ivl := rem.key.Interval
	if len(held) > 0 {
		first := held[0].Time
		for ; same < len(rows); same++ {
			r := rows[same]
			d := r.Time.Sub(first)
			at := r.Time.UTC().Format(time.RFC3339)
			switch {
			case d < 0:
				return 0, 0, fmt.Errorf("row %s: before the series' first row, %s: rows received are kept, and new rows follow the last one", at, first.UTC().Format(time.RFC3339))
			case d%ivl != 0:
				return 0, 0, fmt.Errorf("row %s: not on the series' intervals (every %v from %s)", at, ivl, first.UTC().Format(time.RFC3339))
			}
			k := d / ivl
			if k >= time.Duration(len(held)) {
				break
			}
			if diff := rowDiff(r, store.Row(held[k])); diff != "" {
				return 0, 0, fmt.Errorf("row %s differs from the row received before: %s (rows received are kept as they are: a push may send them again, not change them)", at, diff)
			}
		}
	}
	if n := len(held) + len(rows) - same; n > forecast.MaxRows {
		return 0, same, fmt.Errorf("the series would have %d rows, more than forecast's cap of %d", n, forecast.MaxRows)
	}
	for _, r := range rows[same:] {
		if err := rem.rs.Add(forecast.Row(r)); err != nil {
			return added, same, err
		}
		rem.fresh = append(rem.fresh, r)
		added++
	}
	return added, same, nil
}

// rowDiff lists the counts of a pushed row that differ from the row held.
func rowDiff(got, held store.Row) string {
	var d []string
	for _, c := range []struct {
		name      string
		got, held int64
	}{{"probes", got.Probes, held.Probes}, {"sources", got.Sources, held.Sources}, {"new_sources", got.NewSources, held.NewSources},
		{"cumulative_sources", got.CumulativeSources, held.CumulativeSources}} {
		if c.got != c.held {
			d = append(d, fmt.Sprintf("%s %d, received %d", c.name, c.got, c.held))
		}
	}
	return strings.Join(d, ", ")
}

// addRemote puts in b the remote series' rows taken since the last batch,
// their transitions (with their detail, as the watch's) and, for a series
// in alarm that took rows, a forecast.
func (l *loop) addRemote(ctx context.Context, b *store.Batch, commit int64) {
	for _, rem := range l.remote.list {
		l.addRowSeries(ctx, b, rem.key, rem.rs, &rem.fresh, commit)
	}
}

// addRowSeries puts in b a series of rows' rows taken since the last
// batch (*fresh, emptied), their transitions and, for a series in alarm
// that took rows, a forecast: for the remote series and the pools alike.
func (l *loop) addRowSeries(ctx context.Context, b *store.Batch, key store.SeriesKey, rs *watch.RowSeries, fresh *[]store.Row, commit int64) {
	if len(*fresh) > 0 {
		b.Series = append(b.Series, store.SeriesRows{Series: key, Rows: *fresh})
		*fresh = nil
		if rs.Info().State == watch.Alarm {
			l.addRowsForecast(ctx, b, key.Key, rs)
		}
	}
	l.addSeriesEvents(b, rs, commit)
}

// addSeriesEvents puts in b the transitions of a series of rows since the
// last batch, with their detail as the watch's.
func (l *loop) addSeriesEvents(b *store.Batch, rs *watch.RowSeries, commit int64) {
	l.remote.evs = rs.Events(l.remote.evs[:0])
	for _, ev := range l.remote.evs {
		b.Transitions = append(b.Transitions, store.Transition{Series: ev.Key.String(), Time: ev.Time,
			From: ev.From.String(), To: ev.To.String(), Detail: eventDetail(ev, commit)})
	}
}

// addRowsForecast puts in b the forecast of a series of rows (a remote
// sensor's, a pool's) in alarm: what forecast --format json prints for its
// rows from the filter's base.
func (l *loop) addRowsForecast(ctx context.Context, b *store.Batch, key string, rs *watch.RowSeries) {
	a, err := rs.Analysis(ctx)
	var buf bytes.Buffer
	if err == nil {
		err = a.WriteJSON(&buf)
	}
	if err != nil {
		l.log.Warn("forecast of a series in alarm failed", "series", key, "error", err)
		return
	}
	b.Forecasts = append(b.Forecasts, store.Forecast{Series: key, Time: a.End, State: watch.Alarm.String(), Analysis: buf.Bytes()})
}

// remoteMetrics adds the remote sensors' series to a scrape's snapshot,
// after the watch's: their state and latest row, and as each sensor's
// latest record the end of its latest row (the latest a record of it can
// be).
func (l *loop) remoteMetrics(snap *metrics.Snapshot) {
	for _, rem := range l.remote.list {
		info := rem.rs.Info()
		ms := metrics.Series{Key: info.Key.String(), Sensor: info.Key.Sensor, Kind: info.Key.Class.Kind.String(), State: info.State}
		sn := metrics.Sensor{Name: info.Key.Sensor}
		if rows := rem.rs.Rows(); len(rows) > 0 {
			r := rows[len(rows)-1]
			ms.Last, sn.LastRecord = &r, r.Time.Add(rem.key.Interval)
		}
		snap.Series = append(snap.Series, ms)
		snap.Sensors = append(snap.Sensors, sn)
	}
}

// remoteJSON is a remote sensor's series in the status.
type remoteJSON struct {
	Sensor          string     `json:"sensor"`
	Configured      bool       `json:"configured"` // a [[remote]] of the configuration now
	Size            uint64     `json:"size"`
	IntervalSeconds float64    `json:"interval_seconds"`
	Rows            int        `json:"rows"`     // taken (committed or about to be)
	LastRow         *time.Time `json:"last_row"` // start of the latest row
	State           string     `json:"state"`
}

// remoteStatus describes the remote sensors' series.
func (l *loop) remoteStatus(cfg *Config) []remoteJSON {
	out := []remoteJSON{}
	for _, rem := range l.remote.list {
		info := rem.rs.Info()
		_, configured := cfg.PushTokens[rem.key.Sensor]
		j := remoteJSON{Sensor: rem.key.Sensor, Configured: configured, Size: rem.key.Size, IntervalSeconds: rem.key.Interval.Seconds(), Rows: info.Rows, State: info.State.String()}
		if rows := rem.rs.Rows(); len(rows) > 0 {
			t := rows[len(rows)-1].Time.UTC()
			j.LastRow = &t
		}
		out = append(out, j)
	}
	return out
}

// warningJSON is a problem of the configuration that the data showed: a
// sensor whose size is far too small for what it saw (forecast.SizeError).
type warningJSON struct {
	Series string `json:"series"`
	Sensor string `json:"sensor"`
	Field  string `json:"field"` // the key that gives the size: input.NAME.size, or the size column of a remote sensor's pushes
	Error  string `json:"error"`
}

// sizeWarnings lists the series whose filter's estimates overflowed: their
// sensor's size is far too small for what it saw.
func (l *loop) sizeWarnings() []warningJSON {
	out := []warningJSON{}
	infos := l.w.Series()
	for _, rs := range l.rowSeries() {
		infos = append(infos, rs.Info())
	}
	for _, info := range infos {
		if se := info.SizeError; se != nil {
			out = append(out, warningJSON{Series: info.Key.String(), Sensor: info.Key.Sensor, Field: l.sizeField(info.Key.Sensor), Error: se.Error()})
		}
	}
	return out
}

// sizeField names where a sensor's size comes from: the first input of the
// sensor in the configuration, or a remote sensor's pushes.
func (l *loop) sizeField(sensor string) string {
	if _, ok := l.remote.byName[sensor]; ok {
		return "size (the column of the sensor's pushes)"
	}
	for _, p := range l.pools {
		if p.cfg.Name == sensor {
			return "pool." + sensor + ".sensors (the sum of their sizes)"
		}
	}
	for _, in := range l.cfg.Inputs {
		if in.Sensor == sensor {
			return "input." + in.Name + ".size"
		}
	}
	return "input.size"
}

// warnSizes logs each series whose sensor's size is far too small, once.
// It runs at every commit, so it makes nothing for the series without.
func (l *loop) warnSizes() {
	rows := l.rowSeries()
	for i, n := 0, l.w.Stats().Series; i < n+len(rows); i++ {
		var se *forecast.SizeError
		if i < n {
			se = l.w.SizeError(i)
		} else {
			se = rows[i-n].Info().SizeError
		}
		if se == nil || l.remote.warned[se.Series] {
			continue
		}
		if l.remote.warned == nil {
			l.remote.warned = map[string]bool{}
		}
		l.remote.warned[se.Series] = true
		sensor, _, _ := strings.Cut(se.Series, "/") // a sensor's name has no '/'
		l.log.Warn("sensor size far too small for what it saw: the filter's estimates overflowed (null from there on)",
			"sensor", sensor, "series", se.Series, "field", l.sizeField(sensor), "error", se.Error())
	}
}
