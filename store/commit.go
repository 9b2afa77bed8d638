package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Input is one input as the store keeps it.
type Input struct {
	ID       int64  // its place among the inputs: the order they were first seen
	Key      string // its identity: kind and path ("log:/var/log/apache2/access.log")
	Name     string // its name in reports
	Sensor   string // the sensor its records count for
	Position string // where the stored results end (an ingest/follow Position's text); "" from the start
	Reader   []byte // the reader's state at Position (detect.LineReader.MarshalState); nil before any
	Report   []byte // its last entry in reports (detect.Input as JSON); nil before any
}

// SeriesKey describes a series.
type SeriesKey struct {
	Key      string        // SENSOR, SENSOR/family/NAME or SENSOR/port/tcp/80 (watch.Key.String)
	Sensor   string        // the sensor
	Kind     string        // all, family or port
	Name     string        // the family, "tcp/80", or "" for all
	Size     uint64        // the sensor's addresses
	Interval time.Duration // the rows' width
	Origin   string        // "watch" (counted by the service) or "remote" (pushed by a remote sensor); "" is watch
}

// Row is one interval of a series: the columns of a sensor series
// (docs/output.md) without its size.
type Row struct {
	Time              time.Time // start of the interval
	Probes            int64
	Sources           int64
	NewSources        int64
	CumulativeSources int64
}

// SeriesRows are rows of one series to insert, or to replace where a row
// of the same time is stored (a closed row that late records added
// probes to; a remote sensor's row sent again).
type SeriesRows struct {
	Series SeriesKey
	Rows   []Row
}

// Transition is a change of a series' alarm state.
type Transition struct {
	ID        int64           // set by Commit
	Series    string          // the series' key
	Time      time.Time       // end of the interval whose step made the change
	From, To  string          // the states: quiet, watching, alarm, subsiding
	Detail    json.RawMessage // the step's estimates and the filter's alarm, as JSON
	Committed time.Time       // set by Commit
}

// Forecast is a forecast made for a series.
type Forecast struct {
	ID        int64
	Series    string          // the series' key
	Time      time.Time       // end of the last row analysed
	State     string          // the series' state then
	Analysis  json.RawMessage // as wormwatch forecast --format json writes it
	Committed time.Time
}

// Batch is what one Commit writes, in one transaction: the results of a
// batch of input and the positions that produced them (see the package
// documentation). Every part may be empty.
type Batch struct {
	Inputs      []Input      // positions, reader states and report entries, by Key (each must exist: AddInputs)
	Records     []byte       // the records of the batch that count in detect's report (appended to batches)
	WatchLog    []byte       // appended to the watch's log
	WatchFull   bool         // WatchLog replaces the whole log (a watch.Full save)
	WatchHot    []byte       // replaces the watch's hot part; nil leaves it
	Series      []SeriesRows // rows to insert or replace (a series not yet stored is added)
	Transitions []Transition // alarm transitions; Commit sets their ID and Committed
	Forecasts   []Forecast
	Deliveries  []Delivery // outbox entries; TransitionIndex links one to a transition of this batch

	// InTx, when set, runs last inside the transaction, with the IDs of the
	// transitions set: a seam for writes of later parts of the service
	// that must commit with the batch or not at all.
	InTx func(ctx context.Context, tx *sql.Tx) error
}

// AddInputs stores the inputs not stored yet (by Key), in order, with no
// position: their IDs, and so their order in reports, follow. Inputs
// stored keep what they have, but their Name and Sensor.
func (s *Store) AddInputs(ctx context.Context, ins []Input) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, in := range ins {
			if _, err := tx.ExecContext(ctx, `INSERT INTO inputs (key, name, sensor) VALUES (?, ?, ?)
				ON CONFLICT (key) DO UPDATE SET name = excluded.name, sensor = excluded.sensor`, in.Key, in.Name, in.Sensor); err != nil {
				return err
			}
		}
		return nil
	})
}

// Inputs returns every input stored, in the order of their IDs.
func (s *Store) Inputs(ctx context.Context) ([]Input, error) {
	rows, err := s.w.QueryContext(ctx, "SELECT id, key, name, sensor, position, reader, report FROM inputs ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Input
	for rows.Next() {
		var in Input
		if err := rows.Scan(&in.ID, &in.Key, &in.Name, &in.Sensor, &in.Position, &in.Reader, &in.Report); err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// tx runs fn in a write transaction, committed when fn returns nil.
func (s *Store) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Commit writes the batch in one transaction (see Batch). On an error
// nothing of it is written.
func (s *Store) Commit(ctx context.Context, b *Batch) error {
	now := time.Now()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		for _, in := range b.Inputs {
			res, err := tx.ExecContext(ctx, "UPDATE inputs SET position = ?, reader = ?, report = ? WHERE key = ?", in.Position, in.Reader, in.Report, in.Key)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				return fmt.Errorf("input %s is not stored (AddInputs)", in.Key)
			}
		}
		if len(b.Records) > 0 {
			if _, err := tx.ExecContext(ctx, "INSERT INTO batches (created_ns, records) VALUES (?, ?)", ns(now), b.Records); err != nil {
				return err
			}
		}
		if b.WatchFull {
			if _, err := tx.ExecContext(ctx, "DELETE FROM watch_log"); err != nil {
				return err
			}
		}
		if len(b.WatchLog) > 0 {
			if _, err := tx.ExecContext(ctx, "INSERT INTO watch_log (data) VALUES (?)", b.WatchLog); err != nil {
				return err
			}
		}
		if b.WatchHot != nil {
			if _, err := tx.ExecContext(ctx, "INSERT INTO watch_hot (id, data) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data", b.WatchHot); err != nil {
				return err
			}
		}
		ids := map[string]int64{}
		for _, sr := range b.Series {
			id, err := seriesID(ctx, tx, sr.Series, ids)
			if err != nil {
				return err
			}
			if err := putRows(ctx, tx, id, sr.Rows); err != nil {
				return err
			}
		}
		for i := range b.Transitions {
			t := &b.Transitions[i]
			id, err := knownSeries(ctx, tx, t.Series, ids)
			if err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, "INSERT INTO transitions (series_id, time_ns, from_state, to_state, detail, committed_ns) VALUES (?, ?, ?, ?, ?, ?)",
				id, ns(t.Time), t.From, t.To, string(orNull(t.Detail)), ns(now))
			if err != nil {
				return err
			}
			if t.ID, err = res.LastInsertId(); err != nil {
				return err
			}
		}
		for _, f := range b.Forecasts {
			id, err := knownSeries(ctx, tx, f.Series, ids)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO forecasts (series_id, time_ns, state, analysis, committed_ns) VALUES (?, ?, ?, ?, ?)",
				id, ns(f.Time), f.State, string(orNull(f.Analysis)), ns(now)); err != nil {
				return err
			}
		}
		for _, d := range b.Deliveries {
			if d.TransitionIndex > 0 {
				if d.TransitionIndex > len(b.Transitions) {
					return fmt.Errorf("delivery to %s: transition %d of %d", d.Target, d.TransitionIndex, len(b.Transitions))
				}
				d.TransitionID = b.Transitions[d.TransitionIndex-1].ID
			}
			if err := insertDelivery(ctx, tx, &d, now); err != nil {
				return err
			}
		}
		if b.InTx != nil {
			return b.InTx(ctx, tx)
		}
		return nil
	})
	if err == nil {
		for i := range b.Transitions {
			b.Transitions[i].Committed = fromNS(ns(now))
		}
	}
	return err
}

// orNull returns "null" for an empty JSON value.
func orNull(j json.RawMessage) json.RawMessage {
	if len(j) == 0 {
		return json.RawMessage("null")
	}
	return j
}

// seriesID returns the ID of a series, storing it when it is new; ids
// caches the IDs found.
func seriesID(ctx context.Context, tx *sql.Tx, k SeriesKey, ids map[string]int64) (int64, error) {
	if id, ok := ids[k.Key]; ok {
		return id, nil
	}
	origin := k.Origin
	if origin == "" {
		origin = "watch"
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO series (key, sensor, kind, name, size, interval_ns, origin) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET size = excluded.size RETURNING id`,
		k.Key, k.Sensor, k.Kind, k.Name, int64(k.Size), int64(k.Interval), origin).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("series %s: %w", k.Key, err)
	}
	ids[k.Key] = id
	return id, nil
}

// knownSeries returns the ID of a stored series.
func knownSeries(ctx context.Context, tx *sql.Tx, key string, ids map[string]int64) (int64, error) {
	if id, ok := ids[key]; ok {
		return id, nil
	}
	var id int64
	err := tx.QueryRowContext(ctx, "SELECT id FROM series WHERE key = ?", key).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("series %s is not stored", key)
	}
	ids[key] = id
	return id, err
}

// rowsPerInsert is the most rows putRows inserts with one statement (6
// parameters each, far below SQLite's limit of 32,766): one statement of
// many rows costs much less than as many statements of one (a catching-up
// service closes thousands of rows a commit).
const rowsPerInsert = 128

// putRows inserts or replaces rows of a series, in order: a row of a time
// given twice ends as the later one (within one statement as across
// statements, SQLite applies the rows of a VALUES list in order).
func putRows(ctx context.Context, tx *sql.Tx, id int64, rows []Row) error {
	var st *sql.Stmt // the statement of rowsPerInsert rows, prepared once
	defer func() {
		if st != nil {
			st.Close()
		}
	}()
	args := make([]any, 0, 6*min(len(rows), rowsPerInsert))
	for len(rows) > 0 {
		n := min(len(rows), rowsPerInsert)
		args = args[:0]
		for _, r := range rows[:n] {
			args = append(args, id, ns(r.Time), r.Probes, r.Sources, r.NewSources, r.CumulativeSources)
		}
		var err error
		switch {
		case n < rowsPerInsert:
			_, err = tx.ExecContext(ctx, insertRowsSQL(n), args...)
		case st == nil:
			if st, err = tx.PrepareContext(ctx, insertRowsSQL(n)); err != nil {
				return err
			}
			fallthrough
		default:
			_, err = st.ExecContext(ctx, args...)
		}
		if err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// insertRowsSQL is the statement that inserts or replaces n rows of a
// series.
func insertRowsSQL(n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO series_rows (series_id, time_ns, probes, sources, new_sources, cumulative_sources) VALUES (?, ?, ?, ?, ?, ?)")
	for range n - 1 {
		b.WriteString(", (?, ?, ?, ?, ?, ?)")
	}
	b.WriteString(` ON CONFLICT (series_id, time_ns) DO UPDATE SET probes = excluded.probes, sources = excluded.sources,
		new_sources = excluded.new_sources, cumulative_sources = excluded.cumulative_sources`)
	return b.String()
}

// WatchState returns the watch's snapshot as stored: the whole log (its
// parts in order) and the hot part; both nil before the first commit.
func (s *Store) WatchState(ctx context.Context) (log, hot []byte, err error) {
	rows, err := s.w.QueryContext(ctx, "SELECT data FROM watch_log ORDER BY id")
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var part []byte
		if err := rows.Scan(&part); err != nil {
			return nil, nil, err
		}
		log = append(log, part...)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	err = s.w.QueryRowContext(ctx, "SELECT data FROM watch_hot WHERE id = 1").Scan(&hot)
	if errors.Is(err, sql.ErrNoRows) {
		err = nil
	}
	return log, hot, err
}

// EachBatch calls fn with the records of every batch stored, in the order
// they were committed; an error of fn stops it.
func (s *Store) EachBatch(ctx context.Context, fn func(records []byte) error) error {
	rows, err := s.w.QueryContext(ctx, "SELECT records FROM batches ORDER BY id")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var rec []byte
		if err := rows.Scan(&rec); err != nil {
			return err
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return rows.Err()
}
