package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// DeliveryQuery selects outbox entries for a list (DeliveryList): of one
// state and one channel ("" for any), with IDs below BeforeID (0: from the
// newest), newest first, at most Limit (0: no limit).
type DeliveryQuery struct {
	State    string
	Channel  string
	BeforeID int64
	Limit    int
}

// ListedDelivery is an outbox entry as a list shows it: the entry without
// its payload, with its transition's series and states and, for a dead
// letter enqueued again (Redeliver), the entry that took its place.
type ListedDelivery struct {
	Delivery                 // Payload is nil
	Series         string    // the transition's series; "" without a transition
	From, To       string    // the transition's states
	TransitionTime time.Time // the transition's time (data time); zero without one
	RetriedBy      int64     // for a dead letter: the first later entry of the same transition, channel and target; 0 for none
}

// DeliveryList returns the outbox entries q selects, newest first, without
// their payloads: the list of the API and the page.
func (s *Store) DeliveryList(ctx context.Context, q DeliveryQuery) ([]ListedDelivery, error) {
	query := `SELECT d.id, COALESCE(d.transition_id, 0), d.channel, d.target, d.state, d.attempts, d.next_ns, d.last_error, d.created_ns, d.updated_ns,
		COALESCE(s.key, ''), COALESCE(t.from_state, ''), COALESCE(t.to_state, ''), COALESCE(t.time_ns, 0),
		CASE WHEN d.state = 'dead' THEN COALESCE((SELECT MIN(r.id) FROM deliveries r WHERE r.id > d.id AND r.transition_id IS d.transition_id
			AND r.channel = d.channel AND r.target = d.target), 0) ELSE 0 END
		FROM deliveries d LEFT JOIN transitions t ON t.id = d.transition_id LEFT JOIN series s ON s.id = t.series_id
		WHERE (?1 = '' OR d.state = ?1) AND (?2 = '' OR d.channel = ?2) AND (?3 <= 0 OR d.id < ?3)
		ORDER BY d.id DESC`
	args := []any{q.State, q.Channel, q.BeforeID}
	if q.Limit > 0 {
		query += " LIMIT ?4"
		args = append(args, q.Limit)
	}
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ListedDelivery
	for rows.Next() {
		var l ListedDelivery
		d := &l.Delivery
		var next, created, updated, at int64
		if err := rows.Scan(&d.ID, &d.TransitionID, &d.Channel, &d.Target, &d.State, &d.Attempts, &next, &d.LastError, &created, &updated,
			&l.Series, &l.From, &l.To, &at, &l.RetriedBy); err != nil {
			return nil, err
		}
		d.Next, d.Created, d.Updated = fromNS(next), fromNS(created), fromNS(updated)
		if d.TransitionID > 0 {
			l.TransitionTime = fromNS(at)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// DeliveryByID returns the outbox entry id with its payload, or an error
// wrapping ErrNotFound.
func (s *Store) DeliveryByID(ctx context.Context, id int64) (Delivery, error) {
	ds, err := s.deliveries(ctx, "id = ?", id, 1)
	if err == nil && len(ds) == 0 {
		err = fmt.Errorf("delivery %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Delivery{}, err
	}
	return ds[0], nil
}

// Artifact returns the latest outbox entry of a channel for a target (a
// STIX bundle by its id, a CSAF draft by its tracking id) with its
// payload, or an error wrapping ErrNotFound.
func (s *Store) Artifact(ctx context.Context, channel, target string) (Delivery, error) {
	var d Delivery
	var next, created, updated int64
	err := s.r.QueryRowContext(ctx, `SELECT id, COALESCE(transition_id, 0), channel, target, payload, state, attempts, next_ns, last_error, created_ns, updated_ns
		FROM deliveries WHERE channel = ? AND target = ? ORDER BY id DESC LIMIT 1`, channel, target).
		Scan(&d.ID, &d.TransitionID, &d.Channel, &d.Target, &d.Payload, &d.State, &d.Attempts, &next, &d.LastError, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("%s %s: %w", channel, target, ErrNotFound)
	}
	d.Next, d.Created, d.Updated = fromNS(next), fromNS(created), fromNS(updated)
	return d, err
}

// RetriedBy returns the first entry enqueued after d for the same
// transition, channel and target (what Redeliver adds for a dead letter),
// 0 when there is none.
func (s *Store) RetriedBy(ctx context.Context, d Delivery) (int64, error) {
	var tid any
	if d.TransitionID > 0 {
		tid = d.TransitionID
	}
	var id int64
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MIN(id), 0) FROM deliveries WHERE id > ? AND transition_id IS ? AND channel = ? AND target = ?`,
		d.ID, tid, d.Channel, d.Target).Scan(&id)
	return id, err
}
