package serve

import (
	"encoding/json"
	"sync"
	"time"

	"wormwatch/store"
)

// Update is what one commit changed, as it is published to the
// subscribers (the event stream, GET /api/v1/events): the rows closed (or
// changed by late records), the alarm transitions with their IDs, and the
// service's counters.
type Update struct {
	Commit      int64            `json:"commit"` // the commit's number, counted over the data folder's life
	Time        time.Time        `json:"time"`   // when it was committed (wall clock)
	Rows        []RowJSON        `json:"rows"`
	Transitions []TransitionJSON `json:"transitions"`
	Counters    Counters         `json:"counters"`
}

// RowJSON is a row of a series in the API's JSON.
type RowJSON struct {
	Series            string    `json:"series,omitempty"` // the series' key (in updates)
	Time              time.Time `json:"time"`             // start of the interval
	Probes            int64     `json:"probes"`
	Sources           int64     `json:"sources"`
	NewSources        int64     `json:"new_sources"`
	CumulativeSources int64     `json:"cumulative_sources"`
}

// TransitionJSON is an alarm transition in the API's JSON.
type TransitionJSON struct {
	ID        int64           `json:"id"`
	Series    string          `json:"series"`
	Time      time.Time       `json:"time"` // end of the interval whose step made the change
	From      string          `json:"from"`
	To        string          `json:"to"`
	Detail    json.RawMessage `json:"detail"` // the commit, the step's estimates and the filter's alarm
	Committed time.Time       `json:"committed"`
}

// Counters are the service's counts.
type Counters struct {
	Records int64 `json:"records"` // records counted since the service started
	Refused int64 `json:"refused"` // records the watch refused (past a cap, a time out of range)
	Late    int64 `json:"late"`    // records of intervals already closed (the watch's late records)
	Sources int64 `json:"sources"` // distinct sources over all sensors
	Series  int   `json:"series"`  // the watch's series and the remote sensors'
	Inputs  int   `json:"inputs"`
	Commits int64 `json:"commits"`
}

// rowJSON converts a store row.
func rowJSON(series string, r store.Row) RowJSON {
	return RowJSON{Series: series, Time: r.Time.UTC(), Probes: r.Probes, Sources: r.Sources, NewSources: r.NewSources, CumulativeSources: r.CumulativeSources}
}

// transitionJSON converts a store transition.
func transitionJSON(t store.Transition) TransitionJSON {
	return TransitionJSON{ID: t.ID, Series: t.Series, Time: t.Time.UTC(), From: t.From, To: t.To, Detail: t.Detail, Committed: t.Committed.UTC()}
}

// update makes the update of a batch just committed as commit n.
func (l *loop) update(b *store.Batch, n int64) Update {
	u := Update{Commit: n, Time: l.svc.now().UTC(), Rows: []RowJSON{}, Transitions: []TransitionJSON{}, Counters: l.counters()}
	for _, sr := range b.Series {
		for _, r := range sr.Rows {
			u.Rows = append(u.Rows, rowJSON(sr.Series.Key, r))
		}
	}
	for _, t := range b.Transitions {
		u.Transitions = append(u.Transitions, transitionJSON(t))
	}
	return u
}

// counters returns the service's counts.
func (l *loop) counters() Counters {
	st := l.w.Stats()
	return Counters{Records: l.records, Refused: l.refused, Late: st.Late, Sources: st.Sources, Series: st.Series + len(l.rowSeries()), Inputs: len(l.inputs), Commits: l.commits}
}

// ringSize is how many recent updates the hub keeps for subscribers that
// come back (Last-Event-ID).
const ringSize = 256

// subBuffer is how many updates a subscriber may lag behind before it is
// dropped (its channel closed: an event stream then ends, and the client
// comes back with Last-Event-ID).
const subBuffer = 64

// hub hands the updates to the subscribers.
type hub struct {
	mu     sync.Mutex
	subs   map[chan Update]struct{}
	ring   []Update
	last   int64 // the latest commit's number
	closed bool
}

// newHub returns a hub whose latest commit is last.
func newHub(last int64) *hub {
	return &hub{subs: map[chan Update]struct{}{}, last: last}
}

// publish hands u to every subscriber; one that lags too far behind is
// dropped.
func (h *hub) publish(u Update) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.last = u.Commit
	if len(h.ring) == ringSize {
		copy(h.ring, h.ring[1:])
		h.ring = h.ring[:ringSize-1]
	}
	h.ring = append(h.ring, u)
	for ch := range h.subs {
		select {
		case ch <- u:
		default:
			close(ch)
			delete(h.subs, ch)
		}
	}
}

// subscribe returns a channel of the updates after commit after: those
// the hub still has come first (missed); covered is false when some of
// those after after are no longer kept (the caller reads them from the
// store). cancel ends the subscription. The channel is closed when the
// subscriber lags too far behind or the hub closes.
func (h *hub) subscribe(after int64) (ch chan Update, missed []Update, covered bool, cancel func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch = make(chan Update, subBuffer)
	if h.closed {
		close(ch)
		return ch, nil, true, func() {}
	}
	h.subs[ch] = struct{}{}
	covered = after >= h.last || len(h.ring) > 0 && h.ring[0].Commit <= after+1
	for _, u := range h.ring {
		if u.Commit > after {
			missed = append(missed, u)
		}
	}
	return ch, missed, covered, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if _, ok := h.subs[ch]; ok {
			delete(h.subs, ch)
			close(ch)
		}
	}
}

// close ends every subscription.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for ch := range h.subs {
		close(ch)
		delete(h.subs, ch)
	}
}
