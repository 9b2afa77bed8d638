package serve

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"math"
	"strconv"
	"time"

	"wormwatch/forecast"
	"wormwatch/store"
	"wormwatch/watch"
)

// BatchHook is the seam of the alert outbox: it is called with each batch
// just before it is committed, with the transitions new in it (the last
// len(tr) of b.Transitions: a delivery for tr[i] has TransitionIndex
// len(b.Transitions)-len(tr)+i+1). It may add Deliveries, which then
// commit with the batch or not at all. A batch whose commit failed is
// committed again with the next one (its deliveries kept) and the hook is
// called again with that one's new transitions only. A hook that sets
// b.InTx must call an InTx already set.
type BatchHook func(tr []store.Transition, b *store.Batch)

// commit builds the batch of what changed since the last commit and
// commits it in one transaction, then publishes the update. A failed
// commit is logged and its batch kept for the next (with a full watch
// snapshot); only a failure of the analyzer's or the watch's state is
// returned.
func (l *loop) commit(ctx context.Context) error {
	if !l.changed && l.carry == nil && !l.seriesMoved() {
		return nil
	}
	b := l.carry
	if b == nil {
		b = &store.Batch{}
	}
	first := len(b.Transitions)
	if err := l.addInputs(b); err != nil {
		return err
	}
	b.Records = joinRecords(b.Records, l.recs.take())
	n := l.commits + 1
	moved := l.addRows(b)
	l.addEvents(b, n)
	l.addRemote(ctx, b, n)         // remote.go: pushed rows, their transitions, forecasts
	metas := l.addPools(ctx, b, n) // pools.go: the rows of the pools with remote sensors
	l.addSourceMetas(metas)        // srcmember.go: the sources pushed, with the rows they made
	l.pruneSources()
	l.warnSizes()
	l.addForecasts(ctx, b, moved)
	l.addSnapshot(b)
	if hook := l.svc.opt.Hook; hook != nil {
		hook(b.Transitions[first:], b)
	}
	inner := b.InTx
	b.InTx = func(ctx context.Context, tx *sql.Tx) error {
		metas[metaCommits] = strconv.FormatInt(n, 10)
		for k, v := range metas {
			if _, err := tx.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", k, v); err != nil {
				return err
			}
		}
		if inner != nil {
			return inner(ctx, tx)
		}
		return nil
	}
	start := time.Now()
	err := l.st.Commit(ctx, b)
	l.commitStats.Observe(time.Since(start), err)
	b.InTx = inner
	if err != nil {
		l.log.Error("commit failed: its results are kept for the next commit", "error", err)
		l.carry, l.full, l.changed = b, true, false
		return nil
	}
	l.commits, l.carry, l.changed = n, nil, false
	l.committedPools()
	l.committedSources()
	l.recs.reuse(b.Records)
	l.hot = b.WatchHot
	l.log.Debug("committed", "commit", n, "records", l.records, "rows", len(b.Series), "transitions", len(b.Transitions), "took", time.Since(start))
	l.svc.hub.publish(l.update(b, n))
	return nil
}

// seriesMoved reports whether a series has rows (or late probes) not
// committed: closed by the clock since the last commit.
func (l *loop) seriesMoved() bool {
	infos := l.w.Series()
	if len(infos) != len(l.marks) {
		return true
	}
	for i, info := range infos {
		if info.Rows != l.marks[i].rows || info.Late != l.marks[i].late {
			return true
		}
	}
	return false
}

// addInputs puts in b the position, reader state and report entry of
// each input that changed.
func (l *loop) addInputs(b *store.Batch) error {
	for _, in := range l.inputs {
		if !in.dirty {
			continue
		}
		si, err := in.storeInput()
		if err != nil {
			return err
		}
		in.stored, in.dirty = si, false
		replaced := false
		for i := range b.Inputs {
			if b.Inputs[i].Key == si.Key {
				b.Inputs[i], replaced = si, true
			}
		}
		if !replaced {
			b.Inputs = append(b.Inputs, si)
		}
	}
	return nil
}

// addRows puts in b the rows closed since the last commit and the rows
// whose probes late records changed, and returns the series that closed
// rows.
func (l *loop) addRows(b *store.Batch) []int {
	var moved []int
	for i, info := range l.w.Series() {
		if i == len(l.marks) {
			l.marks = append(l.marks, seriesMark{})
		}
		mk := &l.marks[i]
		rows := l.w.Rows(i)
		var out []store.Row
		if info.Late != mk.late {
			for j := range mk.rows {
				if rows[j].Probes != mk.probes[j] {
					out = append(out, storeRow(rows[j]))
					mk.probes[j] = rows[j].Probes
				}
			}
			mk.late = info.Late
		}
		for _, r := range rows[mk.rows:] {
			out = append(out, storeRow(r))
			mk.probes = append(mk.probes, r.Probes)
		}
		if len(rows) > mk.rows {
			moved = append(moved, i)
		}
		mk.rows = len(rows)
		if len(out) > 0 {
			b.Series = append(b.Series, store.SeriesRows{Series: l.seriesKey(info), Rows: out})
		}
	}
	return moved
}

// storeRow converts a watch row.
func storeRow(r forecast.Row) store.Row {
	return store.Row{Time: r.Time, Probes: r.Probes, Sources: r.Sources, NewSources: r.NewSources, CumulativeSources: r.CumulativeSources}
}

// seriesKey describes a watch series for the store.
func (l *loop) seriesKey(info watch.SeriesInfo) store.SeriesKey {
	return store.SeriesKey{Key: info.Key.String(), Sensor: info.Key.Sensor, Kind: info.Key.Class.Kind.String(), Name: info.Key.Name,
		Size: info.Size, Interval: l.cfg.Watch.Interval.D(), Origin: "watch"}
}

// addEvents puts the watch's transitions in b.
func (l *loop) addEvents(b *store.Batch, commit int64) {
	l.evs = l.w.Events(l.evs[:0])
	for _, ev := range l.evs {
		b.Transitions = append(b.Transitions, store.Transition{Series: ev.Key.String(), Time: ev.Time,
			From: ev.From.String(), To: ev.To.String(), Detail: eventDetail(ev, commit)})
	}
}

// addForecasts puts in b a forecast of each series in alarm that closed
// rows: what wormwatch forecast --format json prints for its rows from
// the filter's base.
func (l *loop) addForecasts(ctx context.Context, b *store.Batch, moved []int) {
	infos := l.w.Series()
	for _, i := range moved {
		if infos[i].State != watch.Alarm {
			continue
		}
		a, err := l.w.Analysis(ctx, i)
		var buf bytes.Buffer
		if err == nil {
			err = a.WriteJSON(&buf)
		}
		if err != nil {
			l.log.Warn("forecast of a series in alarm failed", "series", infos[i].Key.String(), "error", err)
			continue
		}
		b.Forecasts = append(b.Forecasts, store.Forecast{Series: infos[i].Key.String(), Time: a.End, State: infos[i].State.String(), Analysis: buf.Bytes()})
	}
}

// addSnapshot puts the watch's checkpoint in b: a full one after a failed
// commit or once the log has grown to twice the last full one (and 1 MiB
// more).
func (l *loop) addSnapshot(b *store.Batch) {
	if l.full || l.logSize > 2*l.fullSize+1<<20 {
		snap := l.w.Full()
		b.WatchLog, b.WatchFull, b.WatchHot = snap.Log, true, snap.Hot
		l.logSize, l.fullSize, l.full = len(snap.Log), len(snap.Log), false
		return
	}
	snap := l.w.CheckpointTo(l.hot)
	l.hot = nil // until the store has copied it
	b.WatchLog, b.WatchHot = append(b.WatchLog, snap.Log...), snap.Hot
	l.logSize += len(snap.Log)
}

// num is a number in JSON: null when it is not finite (an estimate not
// made yet).
type num float64

// MarshalJSON writes the number, or null.
func (f num) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, float64(f), 'g', -1, 64), nil
}

// stepJSON is a filter step in a transition's detail.
type stepJSON struct {
	Time       time.Time `json:"time"`
	Seen       int64     `json:"seen"`
	Observed   num       `json:"observed"`
	Infected   num       `json:"infected"`
	InfectedSD num       `json:"infected_sd"`
	KPerHour   num       `json:"k_per_hour"`
	KSE        num       `json:"k_se"`
	N          num       `json:"n"`
	NLow       num       `json:"n_low"`
	NHigh      num       `json:"n_high"`
	Trend      bool      `json:"trend"`
}

// alarmJSON is the filter's alarm in a transition's detail: row is the
// row it fired at among the filter's rows from its base, from 1 (as
// forecast's JSON numbers it).
type alarmJSON struct {
	Time     time.Time `json:"time"`
	Row      int       `json:"row"`
	Onset    time.Time `json:"onset"`
	Seen     int64     `json:"seen"`
	Infected num       `json:"infected"`
	KPerHour num       `json:"k_per_hour"`
}

// eventDetail is a transition's detail: the commit that made it, the
// step's estimates and the filter's alarm (null before it fired).
func eventDetail(ev watch.Event, commit int64) json.RawMessage {
	s := ev.Step
	d := struct {
		Commit int64      `json:"commit"`
		Step   stepJSON   `json:"step"`
		Alarm  *alarmJSON `json:"alarm"`
	}{Commit: commit, Step: stepJSON{Time: s.Time.UTC(), Seen: s.Seen, Observed: num(s.Observed), Infected: num(s.Infected), InfectedSD: num(s.InfectedSD),
		KPerHour: num(s.K), KSE: num(s.KSE), N: num(s.N), NLow: num(s.NLow), NHigh: num(s.NHigh), Trend: s.Trend}}
	if a := ev.Alarm; a != nil {
		d.Alarm = &alarmJSON{Time: a.Time.UTC(), Row: a.Index + 1, Onset: a.Onset.UTC(), Seen: a.Seen, Infected: num(a.Infected), KPerHour: num(a.K)}
	}
	out, _ := json.Marshal(d) // plain data: it cannot fail
	return out
}
