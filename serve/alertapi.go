package serve

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"wormwatch/alert"
	"wormwatch/store"
)

// The API of the alert outbox: the deliveries (GET /api/v1/deliveries),
// the documents kept in it (GET /api/v1/artifacts/{id}, and by their own
// ids /api/v1/stix/{id} and /api/v1/csaf/{id}, the links of the webhook
// payloads), and the retry of a dead letter (POST
// /api/v1/deliveries/{id}/retry).

// The bounds of GET /api/v1/deliveries.
const (
	DefaultDeliveriesLimit = 100
	MaxDeliveriesLimit     = 10_000
)

// The content types of the documents of the outbox.
const (
	ContentTypeSTIX = "application/stix+json;version=2.1"
	ContentTypeCSAF = "application/json"
)

// DeliveryJSON is an entry of the outbox in the API's JSON, without its
// payload.
type DeliveryJSON struct {
	ID           int64         `json:"id"`
	Channel      string        `json:"channel"` // webhook, stix or csaf
	Target       string        `json:"target"`  // the webhook's name, the bundle's id, the draft's tracking id
	State        string        `json:"state"`   // pending, sent or dead
	Attempts     int           `json:"attempts"`
	LastError    string        `json:"last_error,omitempty"`
	NextTry      *time.Time    `json:"next_try,omitempty"` // a pending delivery's next try (wall clock)
	Created      time.Time     `json:"created"`
	Updated      time.Time     `json:"updated"`
	TransitionID int64         `json:"transition_id,omitempty"`
	Series       string        `json:"series,omitempty"`
	Event        string        `json:"event,omitempty"` // opened, changed, closed or watching
	From         string        `json:"from,omitempty"`
	To           string        `json:"to,omitempty"`
	Time         *time.Time    `json:"time,omitempty"`       // the transition's (data time)
	RetriedBy    int64         `json:"retried_by,omitempty"` // a dead letter enqueued again: the new delivery
	Links        DeliveryLinks `json:"links"`
}

// DeliveryLinks are the API's addresses about a delivery, relative to
// the service.
type DeliveryLinks struct {
	Artifact string `json:"artifact,omitempty"` // the document of a stix or csaf entry
	Retry    string `json:"retry,omitempty"`    // POST: a dead webhook delivery not retried yet
	Alarm    string `json:"alarm,omitempty"`    // the transition in GET /api/v1/alarms
}

// deliveryJSON converts a listed delivery.
func deliveryJSON(l store.ListedDelivery) DeliveryJSON {
	d := l.Delivery
	j := DeliveryJSON{ID: d.ID, Channel: d.Channel, Target: d.Target, State: d.State, Attempts: d.Attempts, LastError: d.LastError,
		Created: d.Created.UTC(), Updated: d.Updated.UTC(), TransitionID: d.TransitionID, Series: l.Series, From: l.From, To: l.To, RetriedBy: l.RetriedBy}
	id := strconv.FormatInt(d.ID, 10)
	switch {
	case d.State == store.Pending:
		next := d.Next.UTC()
		j.NextTry = &next
	case d.State == store.Dead && worked(d.Channel) && l.RetriedBy == 0:
		j.Links.Retry = "/api/v1/deliveries/" + id + "/retry"
	}
	if d.Channel == alert.ChannelSTIX || d.Channel == alert.ChannelCSAF {
		j.Links.Artifact = "/api/v1/artifacts/" + id
	}
	if d.TransitionID > 0 {
		t := l.TransitionTime.UTC()
		j.Time, j.Event = &t, eventName(l.From, l.To)
		j.Links.Alarm = "/api/v1/alarms?after=" + strconv.FormatInt(d.TransitionID-1, 10) + "&limit=1"
	}
	return j
}

// eventName is the alert event of a transition (alert's events: an
// alarm opens, changes or closes, or a trend is seen or gone).
func eventName(from, to string) string {
	inAlarm := func(s string) bool { return s == "alarm" || s == "subsiding" }
	switch {
	case inAlarm(from) && inAlarm(to):
		return alert.Changed
	case inAlarm(to):
		return alert.Opened
	case inAlarm(from):
		return alert.Closed
	}
	return alert.Watching
}

// parseDeliveriesQuery reads state, channel, before (a delivery's ID) and
// limit.
func parseDeliveriesQuery(q url.Values) (store.DeliveryQuery, error) {
	dq := store.DeliveryQuery{}
	get, err := queryParams(q, "state", "channel", "before", "limit")
	if err != nil {
		return dq, err
	}
	switch v := get("state"); v {
	case "", store.Pending, store.Sent, store.Dead:
		dq.State = v
	default:
		return dq, fmt.Errorf("state=%s: allowed: pending, sent, dead", v)
	}
	switch v := get("channel"); v {
	case "", alert.ChannelWebhook, alert.ChannelSTIX, alert.ChannelCSAF, alert.ChannelTAXII:
		dq.Channel = v
	default:
		return dq, fmt.Errorf("channel=%s: allowed: webhook, stix, csaf, taxii", v)
	}
	if v := get("before"); v != "" {
		if dq.BeforeID, err = parseID(v); err != nil {
			return dq, fmt.Errorf("before=%s: %v", v, err)
		}
	}
	dq.Limit, err = parseLimit(get("limit"), DefaultDeliveriesLimit, MaxDeliveriesLimit)
	return dq, err
}

// parseID reads an ID of the store strictly: a whole number from 1 to
// 2^63-1 in decimal digits, without sign, leading zeros or spaces.
func parseID(v string) (int64, error) {
	ok := v != "" && len(v) <= 19 && v[0] != '0'
	for i := 0; ok && i < len(v); i++ {
		ok = v[i] >= '0' && v[i] <= '9'
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if !ok || err != nil || n < 1 {
		return 0, errors.New("want an ID: a whole number from 1, in digits, without leading zeros")
	}
	return n, nil
}

// handleDeliveries answers the outbox's entries, newest first, without
// their payloads, and the counts by channel and state.
func (s *Service) handleDeliveries(w http.ResponseWriter, r *http.Request) {
	q, err := parseDeliveriesQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	list, err := s.st.DeliveryList(r.Context(), q)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	counts, err := s.st.DeliveryCounts(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	out := struct {
		Deliveries []DeliveryJSON              `json:"deliveries"`
		Counts     map[string]map[string]int64 `json:"counts"`
	}{Deliveries: []DeliveryJSON{}, Counts: map[string]map[string]int64{}}
	for _, l := range list {
		out.Deliveries = append(out.Deliveries, deliveryJSON(l))
	}
	for _, c := range counts {
		if out.Counts[c.Channel] == nil {
			out.Counts[c.Channel] = map[string]int64{store.Pending: 0, store.Sent: 0, store.Dead: 0}
		}
		out.Counts[c.Channel][c.State] = c.N
	}
	writeJSON(w, http.StatusOK, out)
}

// The forms of the documents' own ids: a STIX bundle's (bundle--UUID, as
// share writes it) and a CSAF draft's tracking id (alert.TrackingID).
var (
	stixIDForm = regexp.MustCompile(`^bundle--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	csafIDForm = regexp.MustCompile(`^WORMWATCH-LIVE-[0-9A-F]{12}$`)
)

// handleArtifact answers a document of the outbox by its delivery's ID: a
// STIX bundle or a CSAF draft, as stored.
func (s *Service) handleArtifact(w http.ResponseWriter, r *http.Request) {
	if !noParams(w, r) {
		return
	}
	id, err := parseID(r.PathValue("id"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "artifact %q: %v", r.PathValue("id"), err)
		return
	}
	d, err := s.st.DeliveryByID(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "no artifact %d (GET /api/v1/deliveries lists them)", id)
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, "%v", err)
		return
	case d.Channel != alert.ChannelSTIX && d.Channel != alert.ChannelCSAF:
		writeError(w, http.StatusNotFound, "delivery %d is a %s delivery, not a STIX bundle or a CSAF draft (GET /api/v1/deliveries?channel=stix lists the bundles)", id, d.Channel)
		return
	}
	writeArtifact(w, d)
}

// handleDocument answers a STIX bundle (channel stix) or a CSAF draft
// (csaf) by its own id, as the webhook payloads link them.
func (s *Service) handleDocument(channel string) http.HandlerFunc {
	form, what := stixIDForm, "a STIX bundle's id (bundle--UUID, lower case)"
	if channel == alert.ChannelCSAF {
		form, what = csafIDForm, "a CSAF draft's tracking id (WORMWATCH-LIVE- and 12 hex digits, upper case)"
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if !noParams(w, r) {
			return
		}
		id := r.PathValue("id")
		if !form.MatchString(id) {
			writeError(w, http.StatusBadRequest, "%q: want %s", id, what)
			return
		}
		d, err := s.st.Artifact(r.Context(), channel, id)
		if errors.Is(err, store.ErrNotFound) {
			writeError(w, http.StatusNotFound, "no %s document %s (GET /api/v1/deliveries?channel=%s lists them)", channel, id, channel)
			return
		}
		if err != nil {
			writeError(w, http.StatusInternalServerError, "%v", err)
			return
		}
		writeArtifact(w, d)
	}
}

// writeArtifact answers a document as stored, with its content type.
func writeArtifact(w http.ResponseWriter, d store.Delivery) {
	ctype := ContentTypeCSAF
	if d.Channel == alert.ChannelSTIX {
		ctype = ContentTypeSTIX
	}
	writeBody(w, http.StatusOK, ctype, d.Payload)
}

// crossOrigin refuses the POSTs of browsers from other origins (a page
// elsewhere making a user's browser retry a dead letter): Go's check of
// Sec-Fetch-Site and Origin. Requests of programs, which send neither,
// pass.
var crossOrigin http.CrossOriginProtection

// handleRetry enqueues a dead letter again (alert.Redeliver) and wakes the
// deliverer: 202 with the new delivery's ID. Only a dead webhook delivery
// not retried yet, of a webhook still configured, may be retried; a
// request of a browser from another origin is refused.
func (s *Service) handleRetry(w http.ResponseWriter, r *http.Request) {
	if err := crossOrigin.Check(r); err != nil {
		writeError(w, http.StatusForbidden, "%v: the retry must come from the service's own page or a program", err)
		return
	}
	if !noParams(w, r) {
		return
	}
	id, err := parseID(r.PathValue("id"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "delivery %q: %v", r.PathValue("id"), err)
		return
	}
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "the body is larger than %d bytes (a retry needs none)", maxRequestBody)
			return
		}
		writeError(w, http.StatusBadRequest, "reading the body: %v", err)
		return
	}
	s.retryMu.Lock()
	defer s.retryMu.Unlock()
	d, status, err := s.retryable(r, id)
	if err != nil {
		writeError(w, status, "%v", err)
		return
	}
	if err := alert.Redeliver(r.Context(), s.st, []store.Delivery{d}); err != nil {
		writeError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	s.deliverer.Wake()
	next, err := s.st.RetriedBy(r.Context(), d)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	s.log.Info("dead letter enqueued again", "delivery", d.ID, "as", next, "webhook", d.Target)
	writeJSON(w, http.StatusAccepted, struct {
		Retried  int64 `json:"retried"`
		Delivery int64 `json:"delivery"`
	}{d.ID, next})
}

// retryable returns the dead letter id, or the status and error of why it
// cannot be retried.
func (s *Service) retryable(r *http.Request, id int64) (store.Delivery, int, error) {
	d, err := s.st.DeliveryByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return d, http.StatusNotFound, fmt.Errorf("no delivery %d (GET /api/v1/deliveries?state=dead lists the dead letters)", id)
	}
	if err != nil {
		return d, http.StatusInternalServerError, err
	}
	if !worked(d.Channel) || d.State != store.Dead {
		return d, http.StatusConflict, fmt.Errorf("delivery %d is a %s %s delivery: only a dead webhook delivery (or taxii share) is retried", id, d.State, d.Channel)
	}
	next, err := s.st.RetriedBy(r.Context(), d)
	if err != nil {
		return d, http.StatusInternalServerError, err
	}
	if next > 0 {
		return d, http.StatusConflict, fmt.Errorf("delivery %d was retried already, as delivery %d", id, next)
	}
	if d.Channel == alert.ChannelTAXII {
		if s.taxii == nil {
			return d, http.StatusConflict, fmt.Errorf("delivery %d shares a bundle in the TAXII server, and the service has none ([taxii] enabled = true)", id)
		}
		return d, 0, nil
	}
	for _, h := range s.cfg.Load().Alert.Webhooks {
		if h.Name == d.Target {
			return d, 0, nil
		}
	}
	return d, http.StatusConflict, fmt.Errorf("webhook %s of delivery %d is not in the configuration: it would die again (add it to [alert], reload, then retry)", d.Target, id)
}

// worked reports whether the deliverer works off a channel's deliveries
// (tries, retries, dead letters): webhooks and the TAXII shares; the
// others are documents stored as sent.
func worked(channel string) bool {
	return channel == alert.ChannelWebhook || channel == alert.ChannelTAXII
}
