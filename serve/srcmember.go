package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"wormwatch/forecast"
	"wormwatch/internal/ipv4text"
	"wormwatch/pool"
	"wormwatch/store"
)

// The remote sensors that push their sources (POST /api/v1/sources/SENSOR,
// [[remote]] sources = true). Such a sensor's series is made of its
// sources by a pool.Union of its one block (its probes, distinct sources,
// sources new to it and cumulative sources), and is watched as a pushed
// series is (remote.go). Its sources of every interval are kept, for the
// pools it is in (an exact pool counts the union of its sensors' sources:
// pools.go), and committed with the rows they make, in the meta key
// serve.sources.SENSOR.UNIXSECONDS (the interval's start): one text line
// "ADDRESS PROBES" per source, 9 to 26 bytes a source (about 15 for an
// address of 12 digits and a few probes), besides SQLite's own per key. A
// restart (a kill -9 too) reads them back for the committed rows. In
// memory, an interval's sources are kept (16 bytes a source) until every
// exact pool the sensor is in has made its row (pruneSources).

// srcMember is the part of a remote sensor that pushes its sources.
type srcMember struct {
	u     *pool.Union          // the sensor's own series; nil before its first interval
	block pool.Block           // its block
	held  map[int64][]srcCount // the sources of every interval received, by start (Unix ns)
	fresh []srcInterval        // intervals received and not committed
	err   error                // why the series took no more intervals (its filter refused one); nil when it takes them
}

// metaSources is the meta key of a sensor's sources of the interval from t.
func metaSources(sensor string, t time.Time) string {
	return "serve.sources." + sensor + "." + strconv.FormatInt(t.Unix(), 10)
}

// encodeSources writes an interval's sources as the meta value.
func encodeSources(srcs []srcCount) string {
	var b []byte
	for _, s := range srcs {
		b = ipv4text.Append(b, s.Src)
		b = append(b, ' ')
		b = strconv.AppendInt(b, s.Probes, 10)
		b = append(b, '\n')
	}
	return string(b)
}

// decodeSources reads a meta value of encodeSources.
func decodeSources(v string) ([]srcCount, error) {
	var out []srcCount
	for line := range strings.Lines(v) {
		a, n, ok := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
		src, okA := ipv4text.Parse([]byte(a))
		p, err := strconv.ParseInt(n, 10, 64)
		if !ok || !okA || err != nil || p < 1 {
			return nil, fmt.Errorf("stored sources: bad line %q", line)
		}
		out = append(out, srcCount{src, p})
	}
	return out, nil
}

// pushSources takes a sources push of sensor (parseSources read it) on the
// loop and commits the rows it makes and its sources before it returns.
// Intervals received before must give the same probes and sources (409
// otherwise, naming the interval, nothing taken); the others must follow
// the last one received.
func (l *loop) pushSources(ctx context.Context, name string, ivls []srcInterval) (pushOutcome, *pushError) {
	out := pushOutcome{Series: name, Rows: len(ivls)}
	if l.w.Sensor(name) >= 0 {
		return out, &pushError{http.StatusConflict, fmt.Errorf("sensor %s is counted by this service from its inputs: a remote sensor needs a name of its own", name)}
	}
	rem, err := l.sourcesRemote(name, ivls[0].Time)
	if err != nil {
		return out, err
	}
	same, perr := rem.sameIntervals(ivls)
	if perr != nil {
		return out, perr
	}
	out.Unchanged = same
	fresh := ivls[same:]
	if n := rem.rs.Info().Rows + len(fresh); n > forecast.MaxRows {
		return out, &pushError{http.StatusConflict, fmt.Errorf("the series would have %d rows, more than forecast's cap of %d", n, forecast.MaxRows)}
	}
	if len(fresh) > 0 {
		first := []store.Row{{Time: fresh[0].Time}}
		if err := l.poolsFit(name, rem.key.Interval, first); err != nil {
			return out, &pushError{http.StatusConflict, err}
		}
	}
	var takeErr error // cannot be: the intervals follow one another, and a union makes sensor rows
	for _, si := range fresh {
		if takeErr = rem.takeSources(si); takeErr != nil {
			break
		}
		out.Added++
	}
	if out.Added > 0 {
		if l.remote.byName[name] != rem {
			l.addRemoteSeries(rem)
		}
		l.changed = true
	}
	out.State = rem.rs.Info().State.String()
	if perr := l.commitPush(ctx, out.Added); perr != nil {
		return out, perr
	}
	if takeErr != nil {
		return out, &pushError{http.StatusConflict, fmt.Errorf("%v (the %d intervals before it were taken)", takeErr, out.Added)}
	}
	return out, nil
}

// sourcesRemote returns the series of a remote sensor that pushes its
// sources, made (not yet the loop's) when it has none, its first interval
// at first.
func (l *loop) sourcesRemote(name string, first time.Time) (*remoteSeries, *pushError) {
	if rem := l.remote.byName[name]; rem != nil {
		if rem.src == nil {
			return nil, &pushError{http.StatusConflict, fmt.Errorf("sensor %s pushed its series before: its series cannot be made of sources now (name a new sensor)", name)}
		}
		if rem.src.err != nil {
			return nil, &pushError{http.StatusConflict, fmt.Errorf("sensor %s takes no more sources until the service restarts: %v", name, rem.src.err)}
		}
		if rem.src.u == nil {
			u, err := pool.NewUnion([]pool.Block{rem.src.block}, first, rem.key.Interval)
			if err != nil {
				return nil, &pushError{http.StatusUnprocessableEntity, fmt.Errorf("series %s: %v", name, err)}
			}
			rem.src.u = u
		}
		return rem, nil
	}
	r := l.cfg.remote(name)
	k := store.SeriesKey{Sensor: name, Size: r.block.Size(), Interval: l.cfg.Watch.Interval.D()}
	rem, err := l.newRemote(k)
	if err == nil {
		rem.src = &srcMember{block: r.block, held: map[int64][]srcCount{}}
		rem.src.u, err = pool.NewUnion([]pool.Block{r.block}, first, k.Interval)
	}
	if err != nil {
		return nil, &pushError{http.StatusUnprocessableEntity, fmt.Errorf("series %s: %v", name, err)}
	}
	return rem, nil
}

// sameIntervals checks the push's intervals received before against the
// rows they made, and returns how many there are; the first new interval
// must follow the last received.
func (rem *remoteSeries) sameIntervals(ivls []srcInterval) (int, *pushError) {
	held := rem.rs.Rows()
	ivl := rem.key.Interval
	same := 0
	if len(held) > 0 {
		first := held[0].Time
		for ; same < len(ivls); same++ {
			si := ivls[same]
			at := si.Time.Format(time.RFC3339)
			d := si.Time.Sub(first)
			if d < 0 {
				return 0, &pushError{http.StatusConflict, fmt.Errorf("interval %s: before the series' first, %s: intervals received are kept, and new intervals follow the last one", at, first.Format(time.RFC3339))}
			}
			if d/ivl >= time.Duration(len(held)) {
				break
			}
			h := held[d/ivl]
			if p, s := si.row(); p != h.Probes || s != h.Sources {
				return 0, &pushError{http.StatusConflict, fmt.Errorf("interval %s: %d probes from %d sources, received before %d from %d (intervals received are kept as they are: a push may send them again, not change them)", at, p, s, h.Probes, h.Sources)}
			}
		}
	}
	if same < len(ivls) {
		if want := rem.src.u.Open(); !ivls[same].Time.Equal(want) {
			return 0, &pushError{http.StatusConflict, fmt.Errorf("interval %s: the next interval of the series is %s (new intervals follow the last one received)", ivls[same].Time.Format(time.RFC3339), want.UTC().Format(time.RFC3339))}
		}
	}
	return same, nil
}

// takeSources counts an interval's sources (the next of the series): the
// row they make goes to the series, the sources are kept.
func (rem *remoteSeries) takeSources(si srcInterval) error {
	for _, s := range si.Sources {
		if err := rem.src.u.AddN(0, s.Src, s.Probes); err != nil {
			return err
		}
	}
	row := rem.src.u.Close()
	if err := rem.rs.Add(forecast.Row(row)); err != nil {
		rem.src.err = fmt.Errorf("interval %s: %v", si.Time.Format(time.RFC3339), err) // the union is ahead of the series from here on
		return err
	}
	rem.fresh = append(rem.fresh, store.Row(row))
	rem.src.held[si.Time.UnixNano()] = si.Sources
	rem.src.fresh = append(rem.src.fresh, si)
	return nil
}

// commitPush commits what a push took (added rows, or a batch a failed
// commit left) before the push is answered.
func (l *loop) commitPush(ctx context.Context, added int) *pushError {
	if added == 0 && l.carry == nil {
		return nil
	}
	if err := l.commit(context.WithoutCancel(ctx)); err != nil {
		return &pushError{http.StatusInternalServerError, fmt.Errorf("committing: %v", err)}
	}
	if l.carry != nil {
		return &pushError{http.StatusServiceUnavailable, errors.New("the push is taken but its commit failed (the service's log says why): push it again; what was received before is taken as it is")}
	}
	return nil
}

// addSourceMetas puts in metas the sources of the intervals received and
// not committed, to commit with the batch.
func (l *loop) addSourceMetas(metas map[string]string) {
	for _, rem := range l.remote.list {
		if rem.src == nil {
			continue
		}
		for _, si := range rem.src.fresh {
			metas[metaSources(rem.key.Sensor, si.Time)] = encodeSources(si.Sources)
		}
	}
}

// pruneSources drops the sources kept of the intervals no exact pool
// needs any more: before the open interval of each (started) exact pool
// the sensor is in; all of them for a sensor in none. A restart reads
// those of the committed rows back from the store.
func (l *loop) pruneSources() {
	for _, rem := range l.remote.list {
		if rem.src == nil {
			continue
		}
		keep, all := int64(math.MaxInt64), false
		for _, p := range l.pools {
			switch {
			case !p.exact || p.err != "" || !slices.Contains(p.cfg.Sensors, rem.key.Sensor):
			case p.u == nil:
				all = true
			default:
				keep = min(keep, p.u.Open().UnixNano())
			}
		}
		if all {
			continue
		}
		for t := range rem.src.held {
			if t < keep {
				delete(rem.src.held, t)
			}
		}
	}
}

// committedSources marks the sources committed.
func (l *loop) committedSources() {
	for _, rem := range l.remote.list {
		if rem.src != nil {
			rem.src.fresh = nil
		}
	}
}

// restoreSources rebuilds the sources of a remote sensor that pushes them
// from the committed ones, each interval's checked against its stored row.
func (l *loop) restoreSources(ctx context.Context, rem *remoteSeries, r *Remote, rows []store.Row) error {
	key := fmt.Sprintf("remote.%d.block", slices.IndexFunc(l.cfg.Remotes, func(x Remote) bool { return x.Sensor == r.Sensor }))
	if rem.key.Size != r.block.Size() {
		return &ConfigError{File: l.cfg.File, Key: key, Msg: fmt.Sprintf("%s: %d addresses, the sensor's series in the data folder %s has %d (a sensor's block is fixed for its data folder)", r.Block, r.block.Size(), l.st.Dir(), rem.key.Size)}
	}
	rem.src = &srcMember{block: r.block, held: map[int64][]srcCount{}}
	if len(rows) == 0 {
		return nil
	}
	u, err := pool.NewUnion([]pool.Block{r.block}, rows[0].Time, rem.key.Interval)
	if err != nil {
		return err
	}
	rem.src.u = u
	for _, row := range rows {
		v, ok, err := l.st.Meta(ctx, metaSources(r.Sensor, row.Time))
		if err != nil {
			return err
		}
		if !ok {
			return &ConfigError{File: l.cfg.File, Key: strings.Replace(key, ".block", ".sources", 1), Msg: fmt.Sprintf("the sensor's series in the data folder %s was pushed as rows, not sources (row %s has none): name a new sensor", l.st.Dir(), row.Time.UTC().Format(time.RFC3339))}
		}
		srcs, err := decodeSources(v)
		if err != nil {
			return fmt.Errorf("meta %s: %w", metaSources(r.Sensor, row.Time), err)
		}
		for _, s := range srcs {
			if err := u.AddN(0, s.Src, s.Probes); err != nil {
				return err
			}
		}
		if got := u.Close(); !sameRow(got, pool.Row(row)) {
			return fmt.Errorf("remote sensor %s: its stored sources of %s make %+v, its stored row is %+v", r.Sensor, row.Time.UTC().Format(time.RFC3339), got, row)
		}
		rem.src.held[row.Time.UnixNano()] = srcs
	}
	return nil
}

// sameRow reports whether two rows are the same: time and counts.
func sameRow(a, b pool.Row) bool {
	return a.Time.Equal(b.Time) && a.Probes == b.Probes && a.Sources == b.Sources &&
		a.NewSources == b.NewSources && a.CumulativeSources == b.CumulativeSources
}

// fixedSources returns the remote sensors of a reload, those of the
// running configuration keeping their sources and block (a sensor's
// series is made of sources or not for its data folder, and the exact
// pools' blocks are fixed): a change is logged for the next start.
func fixedSources(log *slog.Logger, cur, next []Remote) []Remote {
	out := slices.Clone(next)
	for i := range out {
		r := &out[i]
		j := slices.IndexFunc(cur, func(c Remote) bool { return c.Sensor == r.Sensor })
		if j < 0 {
			continue
		}
		if r.Sources != cur[j].Sources || r.Block != cur[j].Block {
			log.Warn("configuration key changed: applies at the next start", "key", "remote."+r.Sensor+".sources, block")
		}
		r.Sources, r.Block, r.block = cur[j].Sources, cur[j].Block, cur[j].block
	}
	return out
}
