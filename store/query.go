package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// ErrNotFound is returned (or wrapped) for a series or an outbox entry that
// is not stored.
var ErrNotFound = errors.New("not stored")

// SeriesList returns every series stored, by key.
func (s *Store) SeriesList(ctx context.Context) ([]SeriesKey, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT key, sensor, kind, name, size, interval_ns, origin FROM series ORDER BY key")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SeriesKey
	for rows.Next() {
		var k SeriesKey
		var size, ivl int64
		if err := rows.Scan(&k.Key, &k.Sensor, &k.Kind, &k.Name, &size, &ivl, &k.Origin); err != nil {
			return nil, err
		}
		k.Size, k.Interval = uint64(size), time.Duration(ivl)
		out = append(out, k)
	}
	return out, rows.Err()
}

// Series returns the stored series of a key, or ErrNotFound.
func (s *Store) Series(ctx context.Context, key string) (SeriesKey, error) {
	k := SeriesKey{Key: key}
	var size, ivl int64
	err := s.r.QueryRowContext(ctx, "SELECT sensor, kind, name, size, interval_ns, origin FROM series WHERE key = ?", key).
		Scan(&k.Sensor, &k.Kind, &k.Name, &size, &ivl, &k.Origin)
	if errors.Is(err, sql.ErrNoRows) {
		return k, ErrNotFound
	}
	k.Size, k.Interval = uint64(size), time.Duration(ivl)
	return k, err
}

// Rows returns the rows of the series key with times from from to before
// to (zero times: no bound), in time order, at most limit of them (0: no
// limit).
func (s *Store) Rows(ctx context.Context, key string, from, to time.Time, limit int) ([]Row, error) {
	lo, hi := int64(-1<<63), int64(1<<63-1)
	if !from.IsZero() {
		lo = ns(from)
	}
	if !to.IsZero() {
		hi = ns(to)
	}
	q := `SELECT r.time_ns, r.probes, r.sources, r.new_sources, r.cumulative_sources FROM series_rows r JOIN series s ON s.id = r.series_id
		WHERE s.key = ? AND r.time_ns >= ? AND r.time_ns < ? ORDER BY r.time_ns`
	args := []any{key, lo, hi}
	if limit > 0 {
		q += " LIMIT ?"
		args = append(args, limit)
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		var r Row
		var t int64
		if err := rows.Scan(&t, &r.Probes, &r.Sources, &r.NewSources, &r.CumulativeSources); err != nil {
			return nil, err
		}
		r.Time = fromNS(t)
		out = append(out, r)
	}
	return out, rows.Err()
}

// LastRow returns the latest row of a series, and false when it has none.
func (s *Store) LastRow(ctx context.Context, key string) (Row, bool, error) {
	var r Row
	var t int64
	err := s.r.QueryRowContext(ctx, `SELECT r.time_ns, r.probes, r.sources, r.new_sources, r.cumulative_sources FROM series_rows r
		JOIN series s ON s.id = r.series_id WHERE s.key = ? ORDER BY r.time_ns DESC LIMIT 1`, key).
		Scan(&t, &r.Probes, &r.Sources, &r.NewSources, &r.CumulativeSources)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	r.Time = fromNS(t)
	return r, err == nil, err
}

// TransitionQuery selects transitions: of one series ("" for all), with
// IDs after AfterID, at most Limit (0: no limit), in the order they were
// made.
type TransitionQuery struct {
	Series  string
	AfterID int64
	Limit   int
}

// Transitions returns the transitions q selects.
func (s *Store) Transitions(ctx context.Context, q TransitionQuery) ([]Transition, error) {
	query := `SELECT t.id, s.key, t.time_ns, t.from_state, t.to_state, t.detail, t.committed_ns FROM transitions t JOIN series s ON s.id = t.series_id
		WHERE t.id > ? AND (? = '' OR s.key = ?) ORDER BY t.id`
	args := []any{q.AfterID, q.Series, q.Series}
	if q.Limit > 0 {
		query += " LIMIT ?"
		args = append(args, q.Limit)
	}
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Transition
	for rows.Next() {
		var t Transition
		var at, committed int64
		var detail string
		if err := rows.Scan(&t.ID, &t.Series, &at, &t.From, &t.To, &detail, &committed); err != nil {
			return nil, err
		}
		t.Time, t.Committed, t.Detail = fromNS(at), fromNS(committed), []byte(detail)
		out = append(out, t)
	}
	return out, rows.Err()
}

// LatestForecast returns the latest forecast stored for a series, and
// false when there is none.
func (s *Store) LatestForecast(ctx context.Context, key string) (Forecast, bool, error) {
	f := Forecast{Series: key}
	var at, committed int64
	var analysis string
	err := s.r.QueryRowContext(ctx, `SELECT f.id, f.time_ns, f.state, f.analysis, f.committed_ns FROM forecasts f JOIN series s ON s.id = f.series_id
		WHERE s.key = ? ORDER BY f.id DESC LIMIT 1`, key).Scan(&f.ID, &at, &f.State, &analysis, &committed)
	if errors.Is(err, sql.ErrNoRows) {
		return f, false, nil
	}
	f.Time, f.Committed, f.Analysis = fromNS(at), fromNS(committed), []byte(analysis)
	return f, err == nil, err
}

// PutSeries inserts or replaces rows of a series in a transaction of its
// own: a remote sensor's push.
func (s *Store) PutSeries(ctx context.Context, sr SeriesRows) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		id, err := seriesID(ctx, tx, sr.Series, map[string]int64{})
		if err != nil {
			return err
		}
		return putRows(ctx, tx, id, sr.Rows)
	})
}
