package notify

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"
	"net/url"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"
)

// State remembers which addresses were reported and when, so that an
// address is reported at most once per window, across runs. StateFile
// keeps it in SQLite; `wormwatch serve` may keep it in its own store.
type State interface {
	// Reported returns the addresses among addrs reported at or after since.
	Reported(ctx context.Context, addrs []netip.Addr, since time.Time) (map[netip.Addr]bool, error)
	// Mark records that addrs were reported to owner at at.
	Mark(ctx context.Context, owner string, addrs []netip.Addr, at time.Time) error
}

// StateFile is a State in a SQLite file: one row per address, the last
// time it was reported and to whom.
type StateFile struct {
	db   *sql.DB
	path string
}

// stateSchema is the state file's table.
const stateSchema = `CREATE TABLE IF NOT EXISTS reported (
	addr  BLOB PRIMARY KEY, -- 16 bytes, IPv4 as IPv4-mapped IPv6
	at    INTEGER NOT NULL, -- Unix seconds
	owner TEXT NOT NULL
) WITHOUT ROWID`

// OpenState opens (creating it if needed) the state file at path, and
// forgets the addresses reported before forget (older than any window).
func OpenState(ctx context.Context, path string, forget time.Time) (*StateFile, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	s := &StateFile{db: db, path: path}
	if _, err := db.ExecContext(ctx, stateSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("state file %s: %w", path, err)
	}
	if _, err := db.ExecContext(ctx, "DELETE FROM reported WHERE at < ?", forget.Unix()); err != nil {
		db.Close()
		return nil, fmt.Errorf("state file %s: %w", path, err)
	}
	return s, nil
}

// Close closes the file.
func (s *StateFile) Close() error { return s.db.Close() }

// stateChunk is how many addresses one query asks about.
const stateChunk = 500

// Reported returns the addresses among addrs reported at or after since.
func (s *StateFile) Reported(ctx context.Context, addrs []netip.Addr, since time.Time) (map[netip.Addr]bool, error) {
	out := map[netip.Addr]bool{}
	for len(addrs) > 0 {
		n := min(len(addrs), stateChunk)
		args := make([]any, 0, n+1)
		args = append(args, since.Unix())
		q := []byte("SELECT addr FROM reported WHERE at >= ? AND addr IN (")
		for i, a := range addrs[:n] {
			if i > 0 {
				q = append(q, ',')
			}
			q = append(q, '?')
			b := a.Unmap().As16()
			args = append(args, b[:])
		}
		q = append(q, ')')
		if err := s.query(ctx, string(q), args, out); err != nil {
			return nil, fmt.Errorf("state file %s: %w", s.path, err)
		}
		addrs = addrs[n:]
	}
	return out, nil
}

// query adds the addresses a query returns to out.
func (s *StateFile) query(ctx context.Context, q string, args []any, out map[netip.Addr]bool) error {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return err
		}
		if a, ok := netip.AddrFromSlice(b); ok {
			out[a.Unmap()] = true
		}
	}
	return rows.Err()
}

// Mark records that addrs were reported to owner at at, in one
// transaction.
func (s *StateFile) Mark(ctx context.Context, owner string, addrs []netip.Addr, at time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("state file %s: %w", s.path, err)
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, `INSERT INTO reported (addr, at, owner) VALUES (?, ?, ?)
		ON CONFLICT (addr) DO UPDATE SET at = excluded.at, owner = excluded.owner`)
	if err != nil {
		return fmt.Errorf("state file %s: %w", s.path, err)
	}
	defer st.Close()
	for _, a := range addrs {
		b := a.Unmap().As16()
		if _, err := st.ExecContext(ctx, b[:], at.Unix(), owner); err != nil {
			return fmt.Errorf("state file %s: %w", s.path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("state file %s: %w", s.path, err)
	}
	return nil
}
