package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"
	"wormwatch/internal/flock"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"
)

// FileName is the database's name in the data folder.
const FileName = "wormwatch.db"

// lockName is the lock file that keeps a second service off a data folder.
const lockName = "lock"

// ErrLocked is wrapped by Open's error when another process holds the data
// folder.
var ErrLocked = errors.New("the data folder is in use by another wormwatch serve")

// Store is the service's database. See the package documentation.
type Store struct {
	dir  string
	w    *sql.DB // the one writer
	r    *sql.DB // readers
	lock *os.File
}

// Open opens (creating it when needed) the store in dir, takes the folder's
// lock and applies the migrations missing. A folder locked by another
// process is an error wrapping ErrLocked; a database of a newer schema than
// this program knows is refused.
func Open(ctx context.Context, dir string) (*Store, error) {
	return open(ctx, dir, len(migrations))
}

// open opens the store migrated to version upto (tests make older ones).
func open(ctx context.Context, dir string, upto int) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	lock, err := flock.Lock(filepath.Join(dir, lockName))
	if errors.Is(err, flock.ErrLocked) {
		err = ErrLocked
	}
	if err != nil {
		return nil, fmt.Errorf("data folder %s: %w", dir, err)
	}
	s := &Store{dir: dir, lock: lock}
	path := filepath.Join(dir, FileName)
	if s.w, err = sql.Open("sqlite", dsn(path, false)); err != nil {
		s.Close()
		return nil, err
	}
	s.w.SetMaxOpenConns(1)
	if err := migrate(ctx, s.w, upto); err != nil {
		s.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if s.r, err = sql.Open("sqlite", dsn(path, true)); err != nil {
		s.Close()
		return nil, err
	}
	s.r.SetMaxOpenConns(4)
	return s, nil
}

// dsn is the driver's name of the database at path: WAL, synchronous
// NORMAL, a busy timeout, foreign keys, and transactions that take the
// write lock at once (the writer) or read-only connections (the readers).
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Set("_txlock", "immediate")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Dir returns the data folder.
func (s *Store) Dir() string { return s.dir }

// Close closes the database and releases the folder's lock.
func (s *Store) Close() error {
	var errs []error
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	if s.lock != nil {
		errs = append(errs, s.lock.Close())
	}
	return errors.Join(errs...)
}

// Version returns the schema version of the database: the migrations
// applied.
func (s *Store) Version(ctx context.Context) (int, error) {
	return userVersion(ctx, s.w)
}

// Ping checks that the database answers a read.
func (s *Store) Ping(ctx context.Context) error {
	var n int
	return s.r.QueryRowContext(ctx, "SELECT 1").Scan(&n)
}

// Meta returns the value stored under key, and whether there is one.
func (s *Store) Meta(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := s.r.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return v, err == nil, err
}

// SetMeta stores value under key.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	_, err := s.w.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, value)
	return err
}

// ns is t as Unix nanoseconds, the form times take in the database.
func ns(t time.Time) int64 { return t.UnixNano() }

// fromNS is the time of Unix nanoseconds n, in UTC.
func fromNS(n int64) time.Time { return time.Unix(0, n).UTC() }
