package taxii

import (
	"context"
	"database/sql"
	"embed"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"wormwatch/internal/flock"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// db is the server's SQLite database (modernc.org/sqlite, WAL, like the
// service's store): one writer connection, a pool of read-only ones. A
// commit with synchronous=NORMAL in WAL mode is durable against the process
// dying (kill -9): a POST is acknowledged only after its commit.
type db struct {
	w, r *sql.DB
	ckpt *sql.DB   // checkpoints the WAL in the background
	ins  *sql.Stmt // auditInsert on w, prepared once: a group commit of reads' entries is often one or two rows
	lock *os.File
	stop chan struct{}
	done chan struct{}
}

// openDB opens (creating it) the database at file, locks it against a
// second server and applies the missing migrations.
func openDB(ctx context.Context, file string) (*db, error) {
	lock, err := flock.Lock(file + ".lock")
	if errors.Is(err, flock.ErrLocked) {
		err = ErrLocked
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	d := &db{lock: lock}
	if d.w, err = sql.Open("sqlite", dsn(file, false)); err != nil {
		d.close()
		return nil, err
	}
	d.w.SetMaxOpenConns(1)
	if err := migrate(ctx, d.w); err != nil {
		d.close()
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if d.ins, err = d.w.PrepareContext(ctx, auditInsert); err != nil {
		d.close()
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if d.r, err = sql.Open("sqlite", dsn(file, true)); err != nil {
		d.close()
		return nil, err
	}
	d.r.SetMaxOpenConns(4)
	if d.ckpt, err = sql.Open("sqlite", dsn(file, false)); err != nil {
		d.close()
		return nil, err
	}
	d.ckpt.SetMaxOpenConns(1)
	d.stop, d.done = make(chan struct{}), make(chan struct{})
	go d.checkpoints()
	return d, nil
}

// checkpointEvery is how often the WAL is copied back into the database.
const checkpointEvery = time.Second

// checkpoints copies the WAL into the database every checkpointEvery, on
// a connection of its own: the writer's commits (wal_autocheckpoint off)
// never wait for a checkpoint's copy and fsync, and neither do the reads
// waiting for their audit entry's commit. A passive checkpoint takes no
// lock that writers or readers wait for.
func (d *db) checkpoints() {
	defer close(d.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			d.ckpt.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
			return
		case <-t.C:
			d.ckpt.Exec("PRAGMA wal_checkpoint(PASSIVE)")
		}
	}
}

// dsn is the driver's name of the database at file (as the store's).
func dsn(file string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Add("_pragma", "wal_autocheckpoint(0)")
		q.Set("_txlock", "immediate")
	}
	return "file:" + (&url.URL{Path: file}).EscapedPath() + "?" + q.Encode()
}

// close closes the connections and releases the lock.
func (d *db) close() error {
	if d.stop != nil {
		close(d.stop)
		<-d.done
	}
	var errs []error
	if d.ins != nil {
		errs = append(errs, d.ins.Close())
	}
	for _, c := range []*sql.DB{d.ckpt, d.r, d.w} {
		if c != nil {
			errs = append(errs, c.Close())
		}
	}
	if d.lock != nil {
		errs = append(errs, d.lock.Close())
	}
	return errors.Join(errs...)
}

// migrate applies the embedded migrations (NNNN_name.sql) after the
// database's user_version, each in its own transaction, and refuses a
// database of a newer schema.
func migrate(ctx context.Context, w *sql.DB) error {
	entries, err := migrationFiles.ReadDir("migrations")
	if err != nil {
		return err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	var have int
	if err := w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return err
	}
	if have > len(names) {
		return fmt.Errorf("schema version %d, made by a newer wormwatch (this one knows up to %d)", have, len(names))
	}
	for i, name := range names[have:] {
		n, _, _ := strings.Cut(name, "_")
		if v, err := strconv.Atoi(n); err != nil || v != have+i+1 {
			return fmt.Errorf("migration %s: want number %d", name, have+i+1)
		}
		sqlText, err := migrationFiles.ReadFile(path.Join("migrations", name))
		if err != nil {
			return err
		}
		tx, err := w.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, string(sqlText))
		if err == nil {
			_, err = tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", have+i+1))
		}
		if err == nil {
			err = tx.Commit()
		} else {
			tx.Rollback()
		}
		if err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	return nil
}

// objRow is one stored version.
type objRow struct {
	seq        int64
	collection string
	id         string
	version    string
	versionNS  int64
	added      int64 // microseconds
	typ        string
	tlp        TLP
	poster     string
	recipients []string
	data       []byte
}

// auditRow is one entry of the audit log.
type auditRow struct {
	at         int64 // microseconds
	member     string
	credential string
	remote     string
	action     string
	collection string
	object     string
	query      string
	status     int
	count      int
	seqs       []int64 // the versions served or written, increasing
}

// statusRow is one status resource.
type statusRow struct {
	id, poster, collection string
	requested              int64
	body                   []byte
}

// commitPost writes the versions of a POST, its status and its audit entry
// in one transaction.
func (d *db) commitPost(ctx context.Context, rows []objRow, st statusRow, a auditRow) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		ins, err := tx.PrepareContext(ctx, `INSERT INTO objects (seq, collection, id, version, version_ns, date_added, type, tlp, poster, recipients, data)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer ins.Close()
		for _, r := range rows {
			if _, err := ins.ExecContext(ctx, r.seq, r.collection, r.id, r.version, r.versionNS, r.added, r.typ, int(r.tlp), r.poster, strings.Join(r.recipients, ","), r.data); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO statuses (id, poster, collection, requested, body) VALUES (?, ?, ?, ?, ?)",
			st.id, st.poster, st.collection, st.requested, st.body); err != nil {
			return err
		}
		return d.insertAudit(ctx, tx, []auditRow{a})
	})
}

// deleteVersions drops the data of the versions seqs, marking them
// deleted at the time at, with the request's audit entry.
func (d *db) deleteVersions(ctx context.Context, seqs []int64, at int64, a auditRow) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		for _, s := range seqs {
			if _, err := tx.ExecContext(ctx, "UPDATE objects SET data = NULL, deleted = ? WHERE seq = ?", at, s); err != nil {
				return err
			}
		}
		return d.insertAudit(ctx, tx, []auditRow{a})
	})
}

// writeAudit appends audit entries in one transaction.
func (d *db) writeAudit(ctx context.Context, rows []auditRow) error {
	return d.tx(ctx, func(tx *sql.Tx) error { return d.insertAudit(ctx, tx, rows) })
}

// tx runs fn in a write transaction.
func (d *db) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// auditInsert inserts one audit row.
const auditInsert = `INSERT INTO audit (at, member, credential, remote, action, collection, object, query, status, count, seq_min, seq_max, seqs)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// insertAudit inserts audit rows in tx, with the statement prepared once.
func (d *db) insertAudit(ctx context.Context, tx *sql.Tx, rows []auditRow) error {
	ins := tx.StmtContext(ctx, d.ins)
	for _, r := range rows {
		var lo, hi, blob any
		if len(r.seqs) > 0 {
			lo, hi, blob = r.seqs[0], r.seqs[len(r.seqs)-1], packSeqs(r.seqs)
		}
		if _, err := ins.ExecContext(ctx, r.at, r.member, r.credential, r.remote, r.action, r.collection, r.object, r.query, r.status, r.count, lo, hi, blob); err != nil {
			return err
		}
	}
	return nil
}

// The formats of an audit row's seqs, told apart by their first byte.
const (
	seqsDeltas byte = 0 // uvarint deltas from seq_min, the first 0 (as written before runs)
	seqsRuns   byte = 1 // runs of consecutive seqs
)

// packSeqs writes increasing seqs as runs of consecutive seqs, after the
// byte seqsRuns: for each run, the uvarint gap from the end of the one
// before (from seq_min, the first seq, for the first: 0) and its length
// less one. A page of 1,000 consecutive versions is three bytes rather
// than a thousand, which the audit log's commits write.
func packSeqs(seqs []int64) []byte {
	out := []byte{seqsRuns}
	prev := seqs[0]
	for i := 0; i < len(seqs); {
		j := i + 1
		for j < len(seqs) && seqs[j] == seqs[j-1]+1 {
			j++
		}
		out = binary.AppendUvarint(out, uint64(seqs[i]-prev))
		out = binary.AppendUvarint(out, uint64(j-i-1))
		prev = seqs[j-1]
		i = j
	}
	return out
}

// maxAuditSeqs bounds the seqs of one audit row that unpackSeqs believes.
const maxAuditSeqs = 1 << 24

// unpackSeqs reverses packSeqs, given the first seq, and reads the
// deltas written before runs.
func unpackSeqs(first int64, b []byte) ([]int64, error) {
	corrupt := errors.New("corrupt seqs in the audit log")
	if len(b) == 0 {
		return nil, nil
	}
	var out []int64
	prev, runs := first, b[0] == seqsRuns
	switch b[0] {
	case seqsRuns:
		b = b[1:]
	case seqsDeltas:
	default:
		return nil, corrupt
	}
	for len(b) > 0 {
		d, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, corrupt
		}
		b = b[n:]
		k := uint64(0)
		if runs {
			if k, n = binary.Uvarint(b); n <= 0 || k >= maxAuditSeqs-uint64(len(out)) {
				return nil, corrupt
			}
			b = b[n:]
		}
		prev += int64(d)
		for x := range int64(k) + 1 {
			out = append(out, prev+x)
		}
		prev += int64(k)
	}
	return out, nil
}

// status returns a status resource's poster and body.
func (d *db) status(ctx context.Context, id string) (poster string, body []byte, err error) {
	err = d.r.QueryRowContext(ctx, "SELECT poster, body FROM statuses WHERE id = ?", id).Scan(&poster, &body)
	return poster, body, err
}

// counters returns the highest seq and date_added stored (deleted rows
// included), 0 for an empty database.
func (d *db) counters(ctx context.Context) (seq, added int64, err error) {
	err = d.r.QueryRowContext(ctx, "SELECT coalesce(max(seq), 0), coalesce(max(date_added), 0) FROM objects").Scan(&seq, &added)
	return seq, added, err
}

// eachObject calls fn for every stored version not deleted, in seq order;
// the row's data is valid only during the call.
func (d *db) eachObject(ctx context.Context, fn func(objRow) error) error {
	rows, err := d.r.QueryContext(ctx, `SELECT seq, collection, id, version, version_ns, date_added, type, tlp, poster, recipients, data
		FROM objects WHERE deleted IS NULL ORDER BY seq`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r objRow
		var tlp int
		var recips string
		var data sql.RawBytes // fn copies it (into the arena)
		if err := rows.Scan(&r.seq, &r.collection, &r.id, &r.version, &r.versionNS, &r.added, &r.typ, &tlp, &r.poster, &recips, &data); err != nil {
			return err
		}
		r.data = data
		r.tlp = TLP(tlp)
		if recips != "" {
			r.recipients = strings.Split(recips, ",")
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ErrLocked is wrapped by New's error when another process holds the
// database.
var ErrLocked = errors.New("the TAXII database is in use by another process")
