package store

import (
	"context"
	"database/sql"
	"time"
)

// Delivery states.
const (
	Pending = "pending" // to be tried (again) from Next on
	Sent    = "sent"    // delivered
	Dead    = "dead"    // given up after too many failures: the dead-letter list
)

// Delivery is an entry of the outbox: an alert to deliver (a webhook POST,
// a STIX bundle, a CSAF draft), written in the transaction of what caused
// it and worked off by a deliverer that marks each try (Settle).
type Delivery struct {
	ID              int64
	TransitionID    int64  // the transition that caused it; 0 for none
	TransitionIndex int    // in a Batch: 1 + the index of its transition among the Batch's; 0 for none
	Channel         string // webhook, stix, csaf, ...
	Target          string // where to
	Payload         []byte
	State           string    // Pending, Sent or Dead; "" is Pending
	Attempts        int       // tries so far
	Next            time.Time // not to be tried before; zero: at once
	LastError       string
	Created         time.Time
	Updated         time.Time
}

// insertDelivery writes a new outbox entry.
func insertDelivery(ctx context.Context, tx *sql.Tx, d *Delivery, now time.Time) error {
	var tid any
	if d.TransitionID > 0 {
		tid = d.TransitionID
	}
	state := d.State
	if state == "" {
		state = Pending
	}
	next := now
	if !d.Next.IsZero() {
		next = d.Next
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO deliveries (transition_id, channel, target, payload, state, attempts, next_ns, last_error, created_ns, updated_ns)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, tid, d.Channel, d.Target, d.Payload, state, d.Attempts, ns(next), d.LastError, ns(now), ns(now))
	if err != nil {
		return err
	}
	d.ID, err = res.LastInsertId()
	return err
}

// Enqueue writes outbox entries in a transaction of their own.
func (s *Store) Enqueue(ctx context.Context, ds []Delivery) error {
	now := time.Now()
	return s.tx(ctx, func(tx *sql.Tx) error {
		for i := range ds {
			if err := insertDelivery(ctx, tx, &ds[i], now); err != nil {
				return err
			}
		}
		return nil
	})
}

// Due returns the pending deliveries whose time has come at now, oldest
// first, at most limit (0: no limit).
func (s *Store) Due(ctx context.Context, now time.Time, limit int) ([]Delivery, error) {
	return s.deliveries(ctx, "state = 'pending' AND next_ns <= ?", ns(now), limit)
}

// Deliveries returns the deliveries in a state (Pending, Sent or Dead),
// newest first, at most limit (0: no limit): the dead letters for a page.
func (s *Store) Deliveries(ctx context.Context, state string, limit int) ([]Delivery, error) {
	return s.deliveries(ctx, "state = ? ORDER BY id DESC", state, limit)
}

// deliveries selects outbox entries.
func (s *Store) deliveries(ctx context.Context, where string, arg any, limit int) ([]Delivery, error) {
	q := `SELECT id, COALESCE(transition_id, 0), channel, target, payload, state, attempts, next_ns, last_error, created_ns, updated_ns
		FROM deliveries WHERE ` + where
	if limit > 0 {
		q += " LIMIT ?"
	}
	args := []any{arg}
	if limit > 0 {
		args = append(args, limit)
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var d Delivery
		var next, created, updated int64
		if err := rows.Scan(&d.ID, &d.TransitionID, &d.Channel, &d.Target, &d.Payload, &d.State, &d.Attempts, &next, &d.LastError, &created, &updated); err != nil {
			return nil, err
		}
		d.Next, d.Created, d.Updated = fromNS(next), fromNS(created), fromNS(updated)
		out = append(out, d)
	}
	return out, rows.Err()
}

// Settle records a try of delivery id: delivered (errText empty) it is
// Sent; else it counts a failure and is tried again from next, or is Dead
// when it has failed maxAttempts times.
func (s *Store) Settle(ctx context.Context, id int64, errText string, next time.Time, maxAttempts int) error {
	now := ns(time.Now())
	if errText == "" {
		_, err := s.w.ExecContext(ctx, "UPDATE deliveries SET state = 'sent', attempts = attempts + 1, last_error = '', updated_ns = ? WHERE id = ?", now, id)
		return err
	}
	_, err := s.w.ExecContext(ctx, `UPDATE deliveries SET attempts = attempts + 1, last_error = ?, next_ns = ?, updated_ns = ?,
		state = CASE WHEN attempts + 1 >= ? THEN 'dead' ELSE 'pending' END WHERE id = ?`, errText, ns(next), now, maxAttempts, id)
	return err
}
