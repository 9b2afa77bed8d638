package store

import "context"

// DeliveryCount is how many entries of the outbox are in one state on one
// channel.
type DeliveryCount struct {
	Channel string // webhook, stix, csaf, ...
	State   string // Pending, Sent or Dead
	N       int64
}

// DeliveryCounts counts the outbox's entries by channel and state (the
// metrics of serve), in the order of channel and state; a pair with no
// entry is left out.
func (s *Store) DeliveryCounts(ctx context.Context) ([]DeliveryCount, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT channel, state, COUNT(*) FROM deliveries GROUP BY channel, state ORDER BY channel, state")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DeliveryCount
	for rows.Next() {
		var c DeliveryCount
		if err := rows.Scan(&c.Channel, &c.State, &c.N); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
