package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"wormwatch/forecast"
	"wormwatch/pool"
	"wormwatch/serve/metrics"
	"wormwatch/store"
	"wormwatch/watch"
)

// The pools with remote sensors (docs/serve.md, Pools). A remote sensor
// that pushes its series gives counts, not sources, so a [[pool]] that
// names one is made of its sensors' series: its row of an interval is
// pool.Sum of its sensors' rows of that interval (a pool whose sensors all
// push their sources counts their union exactly instead: exact.go) (the probes exact; the sources and new sources
// upper bounds of the union's, exact when no source reaches two sensors),
// fed, as a remote sensor's rows are, to a watch.RowSeries: the watch's
// filter and alarm state machine. A sensor of the inputs in such a pool
// enters with the rows of its series of every record, as they close (late
// records counted after that are in its own row only).
//
// How a pool advances. Its rows are on the watch's intervals (whole
// multiples of watch.interval from 1970), so a remote sensor of a pool
// pushes rows of that interval on that grid (409 otherwise). Interval t
// closes once every sensor has its row of t; with a lag, also once some
// sensor has a row at t + lag or later (data time, never the wall clock),
// the sensors without a row of t counted absent (nothing of theirs is in
// that row; a row of t they push later is theirs alone). The pool starts
// once every remote sensor has pushed (its size is in its pushes): at the
// latest of the sensors' first rows (lag 0: each has every row from
// there), or with a lag at the earliest. Its cumulative sources are its
// first row's sum, then grow by its new sources.
//
// Its rows are made in the commit (addPools), in the batch that commits
// the sensors' rows that made them, with its transitions and its
// absences (the meta key serve.pool.NAME): the pool's committed rows are
// always those of its sensors' committed rows, and a restart (after a
// kill -9 too) feeds them again to a new RowSeries (restorePools), whose
// state is then the one the last commit left, bit for bit. With lag 0 a
// pool's rows are a function of its sensors' rows alone: the rows of
// pool.Sum on their common intervals.

// rowPool is a pool with remote sensors.
type rowPool struct {
	cfg    Pool
	ivl    time.Duration
	key    store.SeriesKey
	rs     *watch.RowSeries // nil until it starts
	fresh  []store.Row      // rows made and not yet in a batch
	locals map[string]int   // a sensor of the inputs: its watch series of every record
	err    string           // why it is not analysed; "" when it is
	abs    poolAbsences
	dirty  bool         // abs changed since the last commit
	exact  bool         // every sensor pushes its sources: the rows are their union's (exact.go)
	u      *pool.Union  // an exact pool's union; nil before its first row
	blocks []pool.Block // an exact pool's sensors' blocks, in order
}

// poolAbsences are the rows a pool closed without some of its sensors
// (its lag passed): how many per sensor, and the latest such row.
type poolAbsences struct {
	Absent map[string]int64 `json:"absent"`
	Last   *absentRow       `json:"last"`
}

// absentRow is a row a pool closed without some of its sensors.
type absentRow struct {
	Time    time.Time `json:"time"`
	Sensors []string  `json:"sensors"`
}

// metaPool is the meta key of a pool's absences.
func metaPool(name string) string { return "serve.pool." + name }

// newRowPools makes the loop's pools with remote sensors (not started).
func (l *loop) newRowPools() {
	for _, p := range l.cfg.Pools {
		if !l.cfg.remotePool(p) {
			continue
		}
		k := store.SeriesKey{Key: watch.Key{Sensor: p.Name, Class: watch.AllClass}.String(), Sensor: p.Name, Kind: "all",
			Interval: l.cfg.Watch.Interval.D(), Origin: "watch"}
		rp := &rowPool{cfg: p, ivl: k.Interval, key: k, locals: map[string]int{}, abs: poolAbsences{Absent: map[string]int64{}}, exact: l.cfg.exactPool(p)}
		for _, m := range p.Sensors {
			if rp.exact {
				rp.blocks = append(rp.blocks, l.cfg.remote(m).block)
			}
		}
		l.pools = append(l.pools, rp)
	}
}

// memberRows returns the rows of a pool's sensor, and its size (0 before
// a remote sensor's first push).
func (l *loop) memberRows(p *rowPool, name string) ([]forecast.Row, uint64) {
	if rem := l.remote.byName[name]; rem != nil {
		return rem.rs.Rows(), rem.key.Size
	}
	size := l.cfg.sensorSize(name)
	if size == 0 {
		return nil, 0 // a remote sensor that has not pushed
	}
	i, ok := p.locals[name]
	if !ok {
		key := watch.Key{Sensor: name, Class: watch.AllClass}
		if i = slices.IndexFunc(l.w.Series(), func(s watch.SeriesInfo) bool { return s.Key == key }); i < 0 {
			return nil, size
		}
		p.locals[name] = i
	}
	return l.w.Rows(i), size
}

// sensorSize returns the size of a sensor of the inputs (0: none).
func (c *Config) sensorSize(name string) uint64 {
	for _, in := range c.Inputs {
		if in.Sensor == name {
			return in.Size
		}
	}
	return 0
}

// rowAt returns the row of rows at time t.
func rowAt(rows []forecast.Row, ivl time.Duration, t time.Time) (forecast.Row, bool) {
	if len(rows) == 0 {
		return forecast.Row{}, false
	}
	d := t.Sub(rows[0].Time)
	if d < 0 || d%ivl != 0 || d/ivl >= time.Duration(len(rows)) {
		return forecast.Row{}, false
	}
	return rows[d/ivl], true
}

// poolSize returns the sum of a pool's sensors' sizes, and the remote
// sensors that have not pushed yet (whose size is not known).
func (l *loop) poolSize(p *rowPool) (size uint64, missing []string) {
	for _, m := range p.cfg.Sensors {
		_, n := l.memberRows(p, m)
		if n == 0 {
			missing = append(missing, m)
		}
		size += n
	}
	return size, missing
}

// startPool makes a pool's RowSeries once every remote sensor has pushed,
// after checking that their series fit the pool's intervals; it reports
// whether the pool is started.
func (l *loop) startPool(p *rowPool) bool {
	size, missing := l.poolSize(p)
	if len(missing) > 0 {
		return false
	}
	for _, m := range p.cfg.Sensors {
		if rem := l.remote.byName[m]; rem != nil {
			if err := p.fits(m, rem.key.Interval, rem.rs.Rows()); err != nil {
				l.stopPool(p, err)
				return false
			}
		}
	}
	rs, err := watch.NewRowSeries(p.cfg.Name, size, p.ivl, l.cfg.Watch, l.cfg.Forecast.Options(l.cfg.Service.SpaceBits))
	if err != nil {
		l.stopPool(p, err)
		return false
	}
	p.rs, p.key.Size = rs, size
	return true
}

// stopPool leaves a pool unanalysed, and says why.
func (l *loop) stopPool(p *rowPool, err error) {
	p.err = err.Error()
	l.log.Warn("pool not analysed", "pool", p.cfg.Name, "field", "pool."+p.cfg.Name+".sensors", "error", err)
}

// fits checks that a remote sensor's rows (of width ivl) are on the
// pool's intervals.
func (p *rowPool) fits(sensor string, ivl time.Duration, rows []forecast.Row) error {
	if ivl != p.ivl {
		return fmt.Errorf("sensor %s is in pool %s, whose rows are of %v (watch.interval): its rows are of %v", sensor, p.cfg.Name, p.ivl, ivl)
	}
	if len(rows) > 0 && rows[0].Time.UnixNano()%int64(p.ivl) != 0 {
		return fmt.Errorf("sensor %s is in pool %s: row %s is not on the pool's intervals (whole multiples of %v from 1970-01-01T00:00:00Z)",
			sensor, p.cfg.Name, rows[0].Time.UTC().Format(time.RFC3339), p.ivl)
	}
	return nil
}

// nextTime returns the interval of a started pool's next row; false
// before it can have one.
func (l *loop) nextTime(p *rowPool) (time.Time, bool) {
	if rows := p.rs.Rows(); len(rows) > 0 {
		return rows[len(rows)-1].Time.Add(p.ivl), true
	}
	var first time.Time
	for _, m := range p.cfg.Sensors {
		rows, _ := l.memberRows(p, m)
		switch {
		case len(rows) == 0 && p.cfg.Lag == 0:
			return time.Time{}, false
		case len(rows) == 0:
		case first.IsZero(), p.cfg.Lag == 0 && rows[0].Time.After(first), p.cfg.Lag != 0 && rows[0].Time.Before(first):
			first = rows[0].Time
		}
	}
	return first, !first.IsZero()
}

// closable returns the rows of interval t of a pool's sensors, and those
// without one, when the interval may close: every sensor has its row, or
// with a lag some sensor has a row lag after t.
func (l *loop) closable(p *rowPool, t time.Time) (rows [][]pool.Row, absent []string, ok bool) {
	ahead := false
	for _, m := range p.cfg.Sensors {
		mine, _ := l.memberRows(p, m)
		if r, ok := rowAt(mine, p.ivl, t); ok {
			rows = append(rows, []pool.Row{r})
		} else {
			absent = append(absent, m)
		}
		if n := len(mine); n > 0 && !mine[n-1].Time.Before(t.Add(p.cfg.Lag.D())) {
			ahead = true
		}
	}
	return rows, absent, len(absent) == 0 || (p.cfg.Lag != 0 && ahead)
}

// advancePool makes the rows of a pool's intervals that may close.
func (l *loop) advancePool(p *rowPool) {
	if p.err != "" || (p.rs == nil && !l.startPool(p)) {
		return
	}
	for p.rs.Info().Rows < forecast.MaxRows {
		t, ok := l.nextTime(p)
		if !ok {
			return
		}
		rows, absent, ok := l.closable(p, t)
		if !ok {
			return
		}
		if err := l.poolRow(p, t, rows, absent); err != nil {
			l.stopPool(p, err)
			return
		}
	}
}

// poolRow adds a pool's row of interval t: pool.Sum of its sensors' rows
// (none: a zero row), its cumulative sources grown by its new sources.
func (l *loop) poolRow(p *rowPool, t time.Time, rows [][]pool.Row, absent []string) error {
	row := pool.Row{Time: t}
	if p.exact {
		var err error
		if row, err = l.unionRow(p, t); err != nil {
			return err
		}
	} else if len(rows) > 0 {
		sum, err := pool.Sum(rows...)
		if err != nil {
			return err
		}
		row = sum[0]
	}
	if held := p.rs.Rows(); len(held) > 0 && !p.exact {
		row.CumulativeSources = held[len(held)-1].CumulativeSources + row.NewSources
	}
	if err := p.rs.Add(forecast.Row(row)); err != nil {
		return err
	}
	p.fresh = append(p.fresh, store.Row(row))
	if len(absent) > 0 {
		p.absent(t, absent)
	}
	return nil
}

// absent counts a row closed without some sensors.
func (p *rowPool) absent(t time.Time, sensors []string) {
	for _, s := range sensors {
		p.abs.Absent[s]++
	}
	p.abs.Last = &absentRow{t.UTC(), sensors}
	p.dirty = true
}

// addPools advances the pools with remote sensors and puts in b their new
// rows, their transitions and, for a pool in alarm that made rows, a
// forecast; it returns the meta values of the pools whose absences
// changed, to commit with b.
func (l *loop) addPools(ctx context.Context, b *store.Batch, commit int64) map[string]string {
	metas := map[string]string{}
	for _, p := range l.pools {
		l.advancePool(p)
		if p.rs == nil {
			continue
		}
		l.addRowSeries(ctx, b, p.key, p.rs, &p.fresh, commit)
		if p.dirty {
			j, _ := json.Marshal(p.abs) // plain data: it cannot fail
			metas[metaPool(p.cfg.Name)] = string(j)
		}
	}
	return metas
}

// committedPools marks the pools' absences committed.
func (l *loop) committedPools() {
	for _, p := range l.pools {
		p.dirty = false
	}
}

// restorePools makes the pools with remote sensors and rebuilds each
// started one from its committed rows (after the remote sensors' series:
// restoreRemotes), with its absences. The transitions its rows make again
// were committed with them: they are dropped. A pool whose sensors no
// longer sum to the size its rows were made with is a configuration error.
func (l *loop) restorePools(ctx context.Context) error {
	l.newRowPools()
	for _, p := range l.pools {
		k, err := l.st.Series(ctx, p.key.Key)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return err
		}
		if err := l.restorePool(ctx, p, k); err != nil {
			return err
		}
	}
	return nil
}

// restorePool rebuilds pool p from its stored series k.
func (l *loop) restorePool(ctx context.Context, p *rowPool, k store.SeriesKey) error {
	size, missing := l.poolSize(p)
	if len(missing) > 0 || size != k.Size {
		return &ConfigError{File: l.cfg.File, Key: "pool." + p.cfg.Name + ".sensors", Msg: fmt.Sprintf(
			"the pool's series in the data folder %s was made of sensors whose sizes sum to %d; these sum to %d (without %v): a pool's sensors are fixed for its data folder (name a new pool)",
			l.st.Dir(), k.Size, size, missing)}
	}
	rows, err := l.st.Rows(ctx, p.key.Key, time.Time{}, time.Time{}, 0)
	if err != nil {
		return err
	}
	if !l.startPool(p) {
		return nil
	}
	for i, r := range rows {
		if err := p.rs.Add(forecast.Row(r)); err != nil {
			l.log.Warn("pool: its stored rows from here on are not analysed", "pool", p.cfg.Name, "row", i+1, "error", err)
			break
		}
	}
	p.rs.Events(nil)
	if err := l.restoreUnion(p); err != nil {
		return err
	}
	v, ok, err := l.st.Meta(ctx, metaPool(p.cfg.Name))
	if err != nil || !ok {
		return err
	}
	if err := json.Unmarshal([]byte(v), &p.abs); err != nil {
		return fmt.Errorf("meta %s: %w", metaPool(p.cfg.Name), err)
	}
	if p.abs.Absent == nil {
		p.abs.Absent = map[string]int64{}
	}
	return nil
}

// poolsFit checks that a push's rows (of width ivl) are on the intervals
// of each pool with remote sensors that sensor is in.
func (l *loop) poolsFit(sensor string, ivl time.Duration, rows []store.Row) error {
	var first []forecast.Row
	if len(rows) > 0 {
		first = []forecast.Row{forecast.Row(rows[0])}
	}
	for _, p := range l.pools {
		if slices.Contains(p.cfg.Sensors, sensor) {
			if err := p.fits(sensor, ivl, first); err != nil {
				return err
			}
		}
	}
	return nil
}

// poolJSON is a pool with remote sensors in the status.
type poolJSON struct {
	Name       string           `json:"name"`
	Sensors    []string         `json:"sensors"`
	LagSeconds float64          `json:"lag_seconds"`
	Size       uint64           `json:"size"`     // 0 before it starts
	Rows       int              `json:"rows"`     // made (committed or about to be)
	LastRow    *time.Time       `json:"last_row"` // start of the latest row
	State      string           `json:"state"`
	WaitingFor []string         `json:"waiting_for"` // the sensors without the next row (or, before it starts, without a push)
	Absent     map[string]int64 `json:"absent"`      // rows closed without each sensor (its lag passed)
	LastAbsent *absentRow       `json:"last_absent"` // the latest such row: time, sensors
	Counted    string           `json:"counted"`     // union: every sensor pushes its sources, the rows are exact; sum: pool.Sum of the sensors' series (sources upper bounds)
	Error      string           `json:"error,omitempty"`
}

// poolStatus describes the pools with remote sensors.
func (l *loop) poolStatus() []poolJSON {
	out := []poolJSON{}
	for _, p := range l.pools {
		j := poolJSON{Name: p.cfg.Name, Sensors: p.cfg.Sensors, LagSeconds: p.cfg.Lag.Seconds(), State: watch.Quiet.String(), WaitingFor: []string{},
			Absent: p.abs.Absent, LastAbsent: p.abs.Last, Counted: "sum", Error: p.err}
		if p.exact {
			j.Counted = "union"
		}
		if p.rs == nil {
			_, j.WaitingFor = l.poolSize(p)
			j.WaitingFor = append([]string{}, j.WaitingFor...)
		} else {
			info := p.rs.Info()
			j.Size, j.Rows, j.State = info.Size, info.Rows, info.State.String()
			if rows := p.rs.Rows(); len(rows) > 0 {
				t := rows[len(rows)-1].Time.UTC()
				j.LastRow = &t
			}
			if t, ok := l.nextTime(p); ok {
				_, j.WaitingFor, _ = l.closable(p, t)
				j.WaitingFor = append([]string{}, j.WaitingFor...)
			}
		}
		out = append(out, j)
	}
	return out
}

// poolRows returns the rows of a started pool with remote sensors named
// key (its series' key), and its size.
func (l *loop) poolRows(key string) ([]store.Row, uint64, bool) {
	for _, p := range l.pools {
		if p.rs != nil && p.key.Key == key {
			var rows []store.Row
			for _, r := range p.rs.Rows() {
				rows = append(rows, store.Row(r))
			}
			return rows, p.key.Size, true
		}
	}
	return nil, 0, false
}

// poolMetrics adds the started pools with remote sensors to a scrape's
// snapshot: their state and latest row.
func (l *loop) poolMetrics(snap *metrics.Snapshot) {
	for _, p := range l.pools {
		if p.rs == nil {
			continue
		}
		info := p.rs.Info()
		ms := metrics.Series{Key: info.Key.String(), Sensor: info.Key.Sensor, Kind: info.Key.Class.Kind.String(), State: info.State}
		if rows := p.rs.Rows(); len(rows) > 0 {
			r := rows[len(rows)-1]
			ms.Last = &r
		}
		snap.Series = append(snap.Series, ms)
	}
}

// rowSeries returns the series of rows of the loop: the remote sensors',
// then the started pools'.
func (l *loop) rowSeries() []*watch.RowSeries {
	var out []*watch.RowSeries
	for _, rem := range l.remote.list {
		out = append(out, rem.rs)
	}
	for _, p := range l.pools {
		if p.rs != nil {
			out = append(out, p.rs)
		}
	}
	return out
}
