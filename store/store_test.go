package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var ctx = context.Background()

// schema returns the database's tables and indices as SQLite keeps their
// definitions, normalised (ALTER TABLE rewrites the CREATE statement).
func schema(t *testing.T, s *Store) map[string]string {
	t.Helper()
	rows, err := s.w.QueryContext(ctx, "SELECT name, sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			t.Fatal(err)
		}
		out[name] = strings.Join(strings.Fields(def), " ")
	}
	return out
}

// fill writes rows into the tables of schema version v, with SQL of that
// version (not the store's methods, which write the newest schema).
func fill(t *testing.T, s *Store, v int) {
	t.Helper()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := s.w.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("version %d: %s: %v", v, q, err)
		}
	}
	if v >= 1 {
		exec("INSERT INTO meta (key, value) VALUES ('families', 'codered1,nimda')")
		exec("INSERT INTO inputs (key, name, sensor, position, reader) VALUES ('log:/a', '/a', 'web', 'v1:1:2:3:0:', x'7b7d')")
		exec("INSERT INTO batches (created_ns, records) VALUES (1, x'0102')")
		exec("INSERT INTO watch_log (data) VALUES (x'aa')")
		exec("INSERT INTO watch_log (data) VALUES (x'bb')")
		exec("INSERT INTO watch_hot (id, data) VALUES (1, x'cc')")
	}
	if v >= 2 {
		exec("INSERT INTO series (key, sensor, kind, name, size, interval_ns) VALUES ('web', 'web', 'all', '', 1, 60000000000)")
		exec("INSERT INTO series_rows VALUES (1, 0, 5, 2, 2, 2)")
		exec("INSERT INTO transitions (series_id, time_ns, from_state, to_state, detail, committed_ns) VALUES (1, 60000000000, 'quiet', 'watching', '{}', 7)")
		exec("INSERT INTO forecasts (series_id, time_ns, state, analysis, committed_ns) VALUES (1, 60000000000, 'watching', '{\"a\":1}', 7)")
	}
	if v >= 3 {
		exec("INSERT INTO deliveries (transition_id, channel, target, payload, next_ns, created_ns, updated_ns) VALUES (1, 'webhook', 'http://x', x'00', 0, 0, 0)")
	}
}

// TestMigrateFromEveryVersion makes a database at every older schema
// version with data in it, opens it with Open (which migrates it), and
// checks the version, that the data is there as the newest schema reads
// it, and that the schema is the one a new database gets.
func TestMigrateFromEveryVersion(t *testing.T) {
	fresh, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want := schema(t, fresh)
	fresh.Close()
	if SchemaVersion() < 4 {
		t.Fatalf("%d migrations", SchemaVersion())
	}
	for v := 0; v < SchemaVersion(); v++ {
		dir := t.TempDir()
		old, err := open(ctx, dir, v)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := old.Version(ctx); got != v {
			t.Fatalf("made version %d, got %d", v, got)
		}
		fill(t, old, v)
		old.Close()
		s, err := Open(ctx, dir)
		if err != nil {
			t.Fatalf("from version %d: %v", v, err)
		}
		if got, _ := s.Version(ctx); got != SchemaVersion() {
			t.Errorf("from version %d: version %d after Open, want %d", v, got, SchemaVersion())
		}
		if got := schema(t, s); !reflect.DeepEqual(got, want) {
			t.Errorf("from version %d: schema\n%v\nwant\n%v", v, got, want)
		}
		if v >= 1 {
			ins, err := s.Inputs(ctx)
			if err != nil || len(ins) != 1 || ins[0].Position != "v1:1:2:3:0:" || string(ins[0].Reader) != "{}" {
				t.Errorf("from version %d: inputs %+v, %v", v, ins, err)
			}
			log, hot, err := s.WatchState(ctx)
			if err != nil || string(log) != "\xaa\xbb" || string(hot) != "\xcc" {
				t.Errorf("from version %d: watch %x %x %v", v, log, hot, err)
			}
			n := 0
			s.EachBatch(ctx, func(b []byte) error { n++; return nil })
			if n != 1 {
				t.Errorf("from version %d: %d batches", v, n)
			}
		}
		if v >= 2 {
			k, err := s.Series(ctx, "web")
			if err != nil || k.Origin != "watch" || k.Interval != time.Minute {
				t.Errorf("from version %d: series %+v %v", v, k, err)
			}
			rows, err := s.Rows(ctx, "web", time.Time{}, time.Time{}, 0)
			if err != nil || len(rows) != 1 || rows[0].Probes != 5 {
				t.Errorf("from version %d: rows %+v %v", v, rows, err)
			}
			tr, err := s.Transitions(ctx, TransitionQuery{})
			if err != nil || len(tr) != 1 || tr[0].To != "watching" {
				t.Errorf("from version %d: transitions %+v %v", v, tr, err)
			}
		}
		if v >= 3 {
			ds, err := s.Due(ctx, time.Now(), 0)
			if err != nil || len(ds) != 1 || ds[0].TransitionID != 1 {
				t.Errorf("from version %d: deliveries %+v %v", v, ds, err)
			}
		}
		// The newest schema works on the migrated data.
		if err := s.AddInputs(ctx, []Input{{Key: "log:/b", Name: "/b", Sensor: "web"}}); err != nil {
			t.Fatal(err)
		}
		b := &Batch{Inputs: []Input{{Key: "log:/b", Position: "p"}}, Series: []SeriesRows{{Series: SeriesKey{Key: "web2", Sensor: "web2", Kind: "all", Size: 1, Interval: time.Minute}, Rows: []Row{{Time: time.Unix(60, 0)}}}}}
		if err := s.Commit(ctx, b); err != nil {
			t.Errorf("from version %d: commit: %v", v, err)
		}
		s.Close()
	}
}

// TestNewerRefused: a database of a newer schema is refused.
func TestNewerRefused(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, "PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(ctx, dir); err == nil || !strings.Contains(err.Error(), "newer wormwatch") {
		t.Errorf("schema 99: %v", err)
	}
}

// TestLocked: a second Open of a folder in use is refused; after Close it
// opens.
func TestLocked(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, dir); !errors.Is(err, ErrLocked) {
		t.Errorf("second Open: %v", err)
	}
	s.Close()
	s, err = Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := filepath.Glob(filepath.Join(dir, FileName)); err != nil {
		t.Fatal(err)
	}
}

// TestCommitAllOrNothing: a batch that fails anywhere (here in InTx, the
// last step) leaves nothing of itself; one that succeeds is all there,
// and a reader sees it.
func TestCommitAllOrNothing(t *testing.T) {
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.AddInputs(ctx, []Input{{Key: "log:/a", Name: "/a", Sensor: "web"}, {Key: "log:/b", Name: "/b", Sensor: "web"}}); err != nil {
		t.Fatal(err)
	}
	key := SeriesKey{Key: "web", Sensor: "web", Kind: "all", Size: 1, Interval: time.Minute}
	batch := func(pos string, fail bool) *Batch {
		b := &Batch{
			Inputs:      []Input{{Key: "log:/a", Position: pos, Reader: []byte("r" + pos)}},
			Records:     []byte(pos),
			WatchLog:    []byte(pos),
			WatchHot:    []byte("hot" + pos),
			Series:      []SeriesRows{{Series: key, Rows: []Row{{Time: time.Unix(60, 0), Probes: int64(len(pos))}}}},
			Transitions: []Transition{{Series: "web", Time: time.Unix(120, 0), From: "quiet", To: "watching", Detail: json.RawMessage(`{"k":1}`)}},
			Forecasts:   []Forecast{{Series: "web", Time: time.Unix(120, 0), State: "watching", Analysis: json.RawMessage(`{}`)}},
			Deliveries:  []Delivery{{TransitionIndex: 1, Channel: "webhook", Target: "t", Payload: []byte("p")}},
		}
		if fail {
			b.InTx = func(ctx context.Context, tx *sql.Tx) error { return errors.New("no") }
		}
		return b
	}
	if err := s.Commit(ctx, batch("one", false)); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, batch("two!", true)); err == nil {
		t.Fatal("a failing batch committed")
	}
	ins, _ := s.Inputs(ctx)
	log, hot, _ := s.WatchState(ctx)
	rows, _ := s.Rows(ctx, "web", time.Time{}, time.Time{}, 0)
	tr, _ := s.Transitions(ctx, TransitionQuery{Series: "web"})
	ds, _ := s.Due(ctx, time.Now().Add(time.Second), 0)
	var batches []string
	s.EachBatch(ctx, func(b []byte) error { batches = append(batches, string(b)); return nil })
	if ins[0].Position != "one" || string(ins[0].Reader) != "rone" || ins[1].Position != "" || string(log) != "one" || string(hot) != "hotone" ||
		len(rows) != 1 || rows[0].Probes != 3 || len(tr) != 1 || len(ds) != 1 || ds[0].TransitionID != tr[0].ID || !reflect.DeepEqual(batches, []string{"one"}) {
		t.Errorf("after a failed batch: inputs %+v, log %q hot %q, rows %+v, transitions %+v, deliveries %+v, batches %q", ins, log, hot, rows, tr, ds, batches)
	}
	// A good second batch: rows replaced, log appended, then a full save.
	if err := s.Commit(ctx, batch("two!", false)); err != nil {
		t.Fatal(err)
	}
	rows, _ = s.Rows(ctx, "web", time.Time{}, time.Time{}, 0)
	log, _, _ = s.WatchState(ctx)
	if len(rows) != 1 || rows[0].Probes != 4 || string(log) != "onetwo!" {
		t.Errorf("second batch: rows %+v, log %q", rows, log)
	}
	if err := s.Commit(ctx, &Batch{WatchLog: []byte("full"), WatchFull: true}); err != nil {
		t.Fatal(err)
	}
	if log, _, _ = s.WatchState(ctx); string(log) != "full" {
		t.Errorf("after a full save: log %q", log)
	}
	if f, ok, err := s.LatestForecast(ctx, "web"); !ok || err != nil || f.State != "watching" {
		t.Errorf("forecast %+v %v %v", f, ok, err)
	}
	if err := s.Commit(ctx, &Batch{Inputs: []Input{{Key: "log:/nope"}}}); err == nil {
		t.Error("a position of an input not stored: no error")
	}
}

// TestOutbox: a delivery that fails is tried again after its time, and
// dead after the last try; one delivered is sent.
func TestOutbox(t *testing.T) {
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Enqueue(ctx, []Delivery{{Channel: "webhook", Target: "a", Payload: []byte("1")}, {Channel: "stix", Target: "b", Payload: []byte("2")}}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().Add(time.Second)
	due, err := s.Due(ctx, now, 0)
	if err != nil || len(due) != 2 {
		t.Fatalf("due %+v %v", due, err)
	}
	if err := s.Settle(ctx, due[1].ID, "", time.Time{}, 3); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		next := now.Add(time.Duration(i+1) * time.Minute)
		if err := s.Settle(ctx, due[0].ID, "refused", next, 3); err != nil {
			t.Fatal(err)
		}
		if d, _ := s.Due(ctx, now, 0); len(d) != 0 {
			t.Fatalf("try %d: due before its time: %+v", i, d)
		}
		d, _ := s.Due(ctx, next, 0)
		if i < 2 && (len(d) != 1 || d[0].Attempts != i+1 || d[0].LastError != "refused") {
			t.Fatalf("try %d: %+v", i, d)
		}
		if i == 2 && len(d) != 0 {
			t.Fatalf("after the last try still due: %+v", d)
		}
	}
	dead, _ := s.Deliveries(ctx, Dead, 0)
	sent, _ := s.Deliveries(ctx, Sent, 0)
	if len(dead) != 1 || dead[0].Target != "a" || len(sent) != 1 || sent[0].Target != "b" {
		t.Errorf("dead %+v, sent %+v", dead, sent)
	}
}
