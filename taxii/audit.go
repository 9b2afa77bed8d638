package taxii

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// auditor writes the audit entries of reads with group commit: each
// request waits until its entry is committed, and the entries of the
// requests waiting meanwhile are committed together, so that a read is
// recorded before it is served at the cost of one commit per batch.
type auditor struct {
	db  *db
	log *slog.Logger
	ch  chan auditReq

	mu     sync.RWMutex
	closed bool
	done   chan struct{}
}

// auditReq is one entry waiting to be committed.
type auditReq struct {
	row  auditRow
	errc chan error
}

// maxAuditBatch bounds the entries of one commit.
const maxAuditBatch = 4096

func newAuditor(d *db, log *slog.Logger) *auditor {
	a := &auditor{db: d, log: log, ch: make(chan auditReq, maxAuditBatch), done: make(chan struct{})}
	go a.run()
	return a
}

// run commits the entries as they come, in batches.
func (a *auditor) run() {
	defer close(a.done)
	for req := range a.ch {
		batch := []auditReq{req}
	drain:
		for len(batch) < maxAuditBatch {
			select {
			case r, ok := <-a.ch:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		rows := make([]auditRow, len(batch))
		for i, r := range batch {
			rows[i] = r.row
		}
		err := a.db.writeAudit(context.Background(), rows)
		if err != nil {
			a.log.Error("taxii: writing the audit log", "entries", len(rows), "err", err)
		}
		for _, r := range batch {
			r.errc <- err
		}
	}
}

// record commits one entry, returning once it is durable.
func (a *auditor) record(row auditRow) error {
	a.mu.RLock()
	if a.closed {
		a.mu.RUnlock()
		return errors.New("the TAXII server is closed")
	}
	errc := make(chan error, 1)
	a.ch <- auditReq{row, errc}
	a.mu.RUnlock()
	return <-errc
}

// close stops taking entries and waits for those queued.
func (a *auditor) close() error {
	a.mu.Lock()
	if !a.closed {
		a.closed = true
		close(a.ch)
	}
	a.mu.Unlock()
	<-a.done
	return nil
}

// AuditEntry is one request in the audit log: who (the member and how it
// authenticated, from where), what (the action, the collection, the object
// or status id, the query, the HTTP status and how many object versions
// were served or written), when.
type AuditEntry struct {
	Seq        int64         `json:"seq"`
	Time       time.Time     `json:"time"`
	Member     string        `json:"member"`
	Credential string        `json:"credential"`
	Remote     string        `json:"remote"`
	Action     string        `json:"action"`
	Collection string        `json:"collection,omitempty"`
	Object     string        `json:"object,omitempty"`
	Query      string        `json:"query,omitempty"`
	Status     int           `json:"status"`
	Count      int           `json:"count"`
	Versions   []AuditObject `json:"versions,omitempty"`
}

// AuditObject is one object version an audited request served or wrote.
type AuditObject struct {
	ID      string `json:"id"`
	Version string `json:"version"`
}

// AuditQuery selects audit entries; zero fields select everything.
type AuditQuery struct {
	Member     string    // the member's name
	Action     string    // discovery, api-root, collections, collection, objects, object, versions, manifest, status, add, delete, audit, authenticate
	Collection string    // a collection id
	Object     string    // an object id: requests naming it, or serving or writing one of its versions
	Since      time.Time // entries at or after
	Until      time.Time // entries before
	After      int64     // entries of a greater Seq (paging)
	Limit      int       // at most this many (0: 1000)
	Versions   bool      // fill each entry's Versions
}

// Audit returns the audit entries q selects, oldest first, and whether
// more follow (ask again with After set to the last Seq).
func (s *Server) Audit(ctx context.Context, q AuditQuery) ([]AuditEntry, bool, error) {
	if q.Limit <= 0 {
		q.Limit = 1000
	}
	where, args := []string{"seq > ?"}, []any{q.After}
	for _, f := range []struct{ col, val string }{{"member", q.Member}, {"action", q.Action}, {"collection", q.Collection}} {
		if f.val != "" {
			where, args = append(where, f.col+" = ?"), append(args, f.val)
		}
	}
	if !q.Since.IsZero() {
		where, args = append(where, "at >= ?"), append(args, q.Since.UnixMicro())
	}
	if !q.Until.IsZero() {
		where, args = append(where, "at < ?"), append(args, q.Until.UnixMicro())
	}
	objSeqs, err := s.objectSeqs(ctx, q.Object)
	if err != nil {
		return nil, false, err
	}
	if q.Object != "" {
		cond := "object = ?"
		args = append(args, q.Object)
		if len(objSeqs) > 0 {
			cond += " OR (seq_max >= ? AND seq_min <= ?)"
			args = append(args, objSeqs[0], objSeqs[len(objSeqs)-1])
		}
		where = append(where, "("+cond+")")
	}
	rows, err := s.db.r.QueryContext(ctx, `SELECT seq, at, member, credential, remote, action, collection, object, query, status, count, seq_min, seqs
		FROM audit WHERE `+strings.Join(where, " AND ")+" ORDER BY seq", args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	return s.scanAudit(ctx, rows, q, objSeqs)
}

// scanAudit reads the entries, keeping those of q.Object that name it or
// hold one of its versions.
func (s *Server) scanAudit(ctx context.Context, rows *sql.Rows, q AuditQuery, objSeqs []int64) ([]AuditEntry, bool, error) {
	var out []AuditEntry
	want := map[int64]bool{}
	for _, x := range objSeqs {
		want[x] = true
	}
	for rows.Next() {
		var e AuditEntry
		var at int64
		var lo sql.NullInt64
		var blob []byte
		if err := rows.Scan(&e.Seq, &at, &e.Member, &e.Credential, &e.Remote, &e.Action, &e.Collection, &e.Object, &e.Query, &e.Status, &e.Count, &lo, &blob); err != nil {
			return nil, false, err
		}
		e.Time = time.UnixMicro(at).UTC()
		seqs, err := unpackSeqs(lo.Int64, blob)
		if err != nil {
			return nil, false, err
		}
		if q.Object != "" && e.Object != q.Object && !anyIn(seqs, want) {
			continue
		}
		if len(out) == q.Limit {
			return out, true, rows.Err()
		}
		if q.Versions {
			if e.Versions, err = s.versionsOf(ctx, seqs); err != nil {
				return nil, false, err
			}
		}
		out = append(out, e)
	}
	return out, false, rows.Err()
}

// anyIn reports whether one of seqs is in set.
func anyIn(seqs []int64, set map[int64]bool) bool {
	for _, x := range seqs {
		if set[x] {
			return true
		}
	}
	return false
}

// objectSeqs returns the seqs of an object's versions, deleted ones
// included, increasing.
func (s *Server) objectSeqs(ctx context.Context, id string) ([]int64, error) {
	if id == "" {
		return nil, nil
	}
	rows, err := s.db.r.QueryContext(ctx, "SELECT seq FROM objects WHERE id = ? ORDER BY seq", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var x int64
		if err := rows.Scan(&x); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// versionsOf names the object versions of seqs.
func (s *Server) versionsOf(ctx context.Context, seqs []int64) ([]AuditObject, error) {
	out := make([]AuditObject, 0, len(seqs))
	for _, x := range seqs {
		var o AuditObject
		if err := s.db.r.QueryRowContext(ctx, "SELECT id, version FROM objects WHERE seq = ?", x).Scan(&o.ID, &o.Version); err != nil {
			return nil, fmt.Errorf("audit: version %d: %w", x, err)
		}
		out = append(out, o)
	}
	return out, nil
}

// auditEndpoint answers GET /taxii2/audit/ to admins: the entries as JSON
// ({"entries": [...], "more": bool, "next": "SEQ"}), selected by member,
// action, collection, object, since, until (RFC 3339), limit, next and
// versions=true.
func (s *Server) auditEndpoint(c *call) {
	c.audit.action = "audit"
	if !s.members[c.p.member].Admin {
		c.fail(http.StatusForbidden, "Forbidden", "the audit log is for admins")
		return
	}
	q, err := parseAuditQuery(c.r)
	if err != nil {
		c.fail(http.StatusBadRequest, "Bad request", err.Error())
		return
	}
	entries, more, err := s.Audit(c.r.Context(), q)
	if err != nil {
		c.fail(http.StatusInternalServerError, "Internal error", err.Error())
		return
	}
	out := map[string]any{"entries": entries, "more": more}
	if entries == nil {
		out["entries"] = []AuditEntry{}
	}
	if more {
		out["next"] = strconv.FormatInt(entries[len(entries)-1].Seq, 10)
	}
	body, _ := json.Marshal(out)
	c.reply(http.StatusOK, "application/json", body)
}

// parseAuditQuery reads the audit endpoint's parameters.
func parseAuditQuery(r *http.Request) (AuditQuery, error) {
	v := r.URL.Query()
	allowed := []string{"member", "action", "collection", "object", "since", "until", "limit", "next", "versions"}
	for k, vals := range v {
		if !strings.Contains(","+strings.Join(allowed, ",")+",", ","+k+",") || len(vals) > 1 {
			return AuditQuery{}, fmt.Errorf("parameter %q: unknown or repeated (allowed once each: %s)", k, strings.Join(allowed, ", "))
		}
	}
	q := AuditQuery{Member: v.Get("member"), Action: v.Get("action"), Collection: v.Get("collection"), Object: v.Get("object"), Versions: v.Get("versions") == "true"}
	var err error
	for _, p := range []struct {
		key string
		t   *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		if s := v.Get(p.key); s != "" {
			if *p.t, err = time.Parse(time.RFC3339Nano, s); err != nil {
				return q, fmt.Errorf("%s=%s: want an RFC 3339 time", p.key, s)
			}
		}
	}
	if s := v.Get("limit"); s != "" {
		if q.Limit, err = strconv.Atoi(s); err != nil || q.Limit < 1 || q.Limit > 10000 {
			return q, fmt.Errorf("limit=%s: want 1 to 10000", s)
		}
	}
	if s := v.Get("next"); s != "" {
		if q.After, err = strconv.ParseInt(s, 10, 64); err != nil || q.After < 0 {
			return q, fmt.Errorf("next=%s: not a value this server gave", s)
		}
	}
	return q, nil
}
