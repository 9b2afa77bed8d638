package serve

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"wormwatch/store"
)

// keepAlive is how often an idle event stream gets a comment line, so
// that proxies keep it open and a client notices a dead one.
const keepAlive = 15 * time.Second

// handleEvents streams the updates as Server-Sent Events: one event
// "update" per commit (id: the commit's number, data: the Update as
// JSON). A client that comes back with Last-Event-ID (or ?after=N) gets
// the updates it missed while the service still holds them (the last
// 256); otherwise, or after a restart, one event "resync" (data: the
// transitions committed after its commit, from the store) tells it to
// read the rows again from /api/v1/series.
func (s *Service) handleEvents(w http.ResponseWriter, r *http.Request) {
	after, resume, err := parseLastEventID(r.Header.Get("Last-Event-ID"), r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	if !resume {
		after = 1<<62 - 1 // from the next commit on
	}
	ch, missed, covered, cancel := s.hub.subscribe(after)
	defer cancel()
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Time{}) // a stream lasts: no write timeout
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriter(w)
	if resume && !covered {
		if err := s.resync(r.Context(), bw, after); err != nil {
			s.log.Warn("event stream: resync from the store failed", "error", err)
			return
		}
	}
	for _, u := range missed {
		writeEvent(bw, "update", u.Commit, u)
	}
	if bw.Flush() != nil || rc.Flush() != nil {
		return
	}
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		select {
		case u, ok := <-ch:
			if !ok {
				return // lagging, or the service stops: the client comes back
			}
			writeEvent(bw, "update", u.Commit, u)
		case <-tick.C:
			bw.WriteString(": keep-alive\n\n")
		case <-r.Context().Done():
			return
		}
		if bw.Flush() != nil || rc.Flush() != nil {
			return
		}
	}
}

// writeEvent writes one event.
func writeEvent(w *bufio.Writer, event string, id int64, v any) {
	data, _ := json.Marshal(v) // plain data: it cannot fail
	fmt.Fprintf(w, "event: %s\nid: %d\ndata: %s\n\n", event, id, data)
}

// resync writes the event "resync": the transitions committed after
// commit after, as the store has them (their detail names their commit),
// and the latest commit's number as its id.
func (s *Service) resync(ctx context.Context, w *bufio.Writer, after int64) error {
	ts, err := s.st.Transitions(ctx, store.TransitionQuery{})
	if err != nil {
		return err
	}
	out := struct {
		After       int64            `json:"after"`
		Transitions []TransitionJSON `json:"transitions"`
	}{After: after, Transitions: []TransitionJSON{}}
	for _, t := range ts {
		var d struct {
			Commit int64 `json:"commit"`
		}
		if json.Unmarshal(t.Detail, &d) == nil && d.Commit > after {
			out.Transitions = append(out.Transitions, transitionJSON(t))
		}
	}
	s.hub.mu.Lock()
	last := s.hub.last
	s.hub.mu.Unlock()
	writeEvent(w, "resync", last, out)
	return nil
}
