//go:build unix

package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"wormwatch/alert"
	"wormwatch/detect"
	"wormwatch/serve"
	"wormwatch/store" // also registers the sqlite driver the checks read the store with
)

// alertSecret is the HMAC secret of TestServeAlertsKill9's webhooks.
const alertSecret = "kill9-webhook-secret-0123456789"

// alertReceiver is a webhook receiver on loopback for
// TestServeAlertsKill9. Path /soc refuses each delivery's first two tries
// (500, then 503) and accepts the next; /down answers 503 to every try.
// Each request's signature is checked with alert.Verify; deliveries are
// told apart by X-Wormwatch-Delivery, the idempotency key. When armed,
// the receiver calls the kill function on the next delivery it accepts,
// before answering: the service dies between its send and its record of
// the send.
type alertReceiver struct {
	srv *httptest.Server

	mu       sync.Mutex
	tries    map[string]int      // path and delivery id: requests
	accepted map[string][][]byte // path and delivery id: the bodies accepted
	events   map[string]string   // path and delivery id: X-Wormwatch-Event
	bad      []string            // requests that did not verify
	kill     func()              // armed: called on the next acceptance
	killed   int                 // acceptances the kill was called on
}

// newAlertReceiver starts a receiver.
func newAlertReceiver(t *testing.T) *alertReceiver {
	r := &alertReceiver{tries: map[string]int{}, accepted: map[string][][]byte{}, events: map[string]string{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

// serve answers one request.
func (r *alertReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	key := req.URL.Path + " " + req.Header.Get(alert.HeaderDelivery)
	if err == nil {
		err = alert.Verify([]byte(alertSecret), req.Header, body, time.Now(), 0)
	}
	r.mu.Lock()
	if err != nil {
		r.bad = append(r.bad, fmt.Sprintf("%s: %v", key, err))
		r.mu.Unlock()
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	r.tries[key]++
	r.events[key] = req.Header.Get(alert.HeaderEvent)
	code := http.StatusServiceUnavailable
	if req.URL.Path == "/soc" {
		code = [...]int{http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusOK}[min(r.tries[key], 3)-1]
	}
	var kill func()
	if code == http.StatusOK {
		r.accepted[key] = append(r.accepted[key], body)
		if kill = r.kill; kill != nil {
			r.kill = nil
			r.killed++
		}
	}
	r.mu.Unlock()
	if kill != nil {
		kill() // the delivery is received; the sender dies before it hears so
	}
	w.WriteHeader(code)
}

// arm sets the function called on the next acceptance.
func (r *alertReceiver) arm(kill func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.kill = kill
}

// disarm removes an armed kill and reports whether it was called.
func (r *alertReceiver) disarm() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	fired := r.kill == nil
	r.kill = nil
	return fired
}

// alertsConfig writes serve.toml in dir: the log access.log as the
// sensor web (a /16), intervals of a minute, an alarm that subsides
// after 10 quiet minutes and closes 20 minutes later, and, as
// docs/serve.md configures them, STIX bundles and CSAF drafts with the
// webhooks of hooks (name: URL), retried quickly, three tries at most.
func alertsConfig(t *testing.T, dir, data string, hooks ...[2]string) string {
	t.Helper()
	secret := filepath.Join(dir, "webhook.secret")
	if err := os.WriteFile(secret, []byte(alertSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`[service]
listen = "127.0.0.1:0"
data = %q
commit_interval = "30ms"
poll = "20ms"
clock = false

[[input]]
path = %q
name = "web"
size = 65536

[watch]
subside = "10m"
quiet = "20m"

[alert]
max_attempts = 3
backoff_base = "20ms"
backoff_cap = "100ms"
timeout = "10s"
poll = "20ms"
stix = true
csaf = true
tlp = "amber"
base_url = "https://wormwatch.test"
publisher = "wormwatch"
namespace = "https://wormwatch.invalid"
`, filepath.Join(dir, data), filepath.Join(dir, "access.log"))
	for _, h := range hooks {
		cfg += fmt.Sprintf("\n[[alert.webhook]]\nname = %q\nurl = %q\nsecret_file = %q\nevents = [\"opened\", \"changed\", \"closed\", \"watching\"]\n", h[0], h[1], secret)
	}
	path := filepath.Join(dir, data+".toml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// alertsLog returns the Code Red web server's log of TestServeKill9 to
// 17:00, cut in 12 pieces at random lines, then a page request every 15
// minutes from 17:00 to 19:00 (no probe: the alarms subside and close) in
// 4 pieces.
func alertsLog(t *testing.T, rng *rand.Rand) [][]byte {
	t.Helper()
	probes := serveCodeRedLog(t, time.Date(2001, 7, 19, 17, 0, 0, 0, time.UTC), 3)
	var tail []byte
	for m := 0; m <= 120; m += 15 {
		at := time.Date(2001, 7, 19, 17, m, 0, 0, time.UTC)
		tail = fmt.Appendf(tail, "192.0.2.7 - - [%s] \"GET /index.html HTTP/1.1\" 200 - \"-\" \"-\"\n", at.Format("02/Jan/2006:15:04:05 -0700"))
	}
	var pieces [][]byte
	for _, part := range []struct {
		data []byte
		n    int
	}{{probes, 12}, {tail, 4}} {
		lines := bytes.SplitAfter(part.data, []byte("\n"))
		lines = lines[:len(lines)-1]
		cuts := []int{0, len(lines)}
		for len(cuts) < part.n+1 {
			if c := 1 + rng.IntN(len(lines)-1); !slices.Contains(cuts, c) {
				cuts = append(cuts, c)
			}
		}
		slices.Sort(cuts)
		for i := range part.n {
			pieces = append(pieces, bytes.Join(lines[cuts[i]:cuts[i+1]], nil))
		}
	}
	return pieces
}

// TestServeAlertsKill9 follows a Code Red web server's log with alerts
// configured (STIX bundles, CSAF drafts, a webhook "soc" to a receiver on
// loopback that refuses each delivery's first two tries, a webhook
// "down" that refuses every try) and kills wormwatch serve with SIGKILL
// 16 times while the log is appended, its alarms open, subside and close
// and its deliveries are tried: at random moments (a fixed seed), and, a
// third of the times and while the last pieces (the page requests that
// make the alarms subside and close) are read, at the moment the receiver
// accepts a delivery, before it answers (the service has sent, and not
// recorded that it has); when no delivery is accepted within 1.5 s, at
// that moment.
// After each kill the service starts again. At the end:
//   - the alarm transitions are those of the same log followed without a
//     kill, each committed once;
//   - the outbox holds, per transition, exactly the entries alert.Plan
//     makes of the transition and the forecasts of its commit, byte for
//     byte, written in its commit: one STIX bundle and one CSAF draft per
//     alarm transition (stored sent), one delivery per webhook;
//   - every "soc" delivery is sent, and each body the receiver accepted is
//     the delivery's payload as planned, completed with its ids
//     (alert.Complete), validly signed; it arrived more than once only
//     after a kill between send and record, always with the same
//     X-Wormwatch-Delivery and the same bytes;
//   - every "down" delivery is dead after its 3 tries, recorded, and
//     the receiver saw at least those.
func TestServeAlertsKill9(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rcv := newAlertReceiver(t)
	conf := alertsConfig(t, dir, "data", [2]string{"soc", rcv.srv.URL + "/soc"}, [2]string{"down", rcv.srv.URL + "/down"})
	rng := rand.New(rand.NewPCG(9, 17))
	pieces := alertsLog(t, rng)
	log := filepath.Join(dir, "access.log")
	written := 0
	for kill, p := range pieces {
		s := startServer(t, dir, "--config", conf)
		appendFile(t, log, p)
		written += len(p)
		if rng.IntN(3) == 0 || kill >= 12 { // the pieces of the tail make the alarms' last transitions
			rcv.arm(func() { s.cmd.Process.Kill(); <-s.exited })
			select {
			case <-s.exited:
			case <-time.After(1500 * time.Millisecond): // nothing accepted meanwhile
			}
			if rcv.disarm() {
				<-s.exited
				t.Logf("kill %d: on a delivery accepted, before its answer (%d bytes written)", kill+1, written)
				continue
			}
		} else {
			time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond) // the moment of the kill, not a wait for anything
		}
		s.signal(t, syscall.SIGKILL)
		t.Logf("kill %d: at a random moment, or 1.5 s after it was armed (%d bytes written)", kill+1, written)
	}
	s := startServer(t, dir, "--config", conf)
	s.waitCommitted(t, map[string]int64{log: int64(written)})
	waitSettled(t, s)
	if code := s.signal(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("SIGTERM: exit status %d, want 0:\n%s", code, s.stderr)
	}

	// The same log followed at once, without a kill (and no webhook).
	refConf := alertsConfig(t, dir, "ref")
	ref := startServer(t, dir, "--config", refConf)
	ref.waitCommitted(t, map[string]int64{log: int64(written)})
	if code := ref.signal(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("SIGTERM: exit status %d, want 0:\n%s", code, ref.stderr)
	}
	got, want := readOutbox(t, filepath.Join(dir, "data")), readOutbox(t, filepath.Join(dir, "ref"))
	checkTransitions(t, got.transitions, want.transitions)
	cfg, err := serve.Load(conf, serve.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	checkPlanned(t, cfg, got)
	checkWebhooks(t, rcv, cfg.Alert, got)
}

// appendFile appends p to the file at path (made when missing).
func appendFile(t *testing.T, path string, p []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(p); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// waitSettled waits until no webhook delivery is pending.
func waitSettled(t *testing.T, s *server) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var out struct {
			Counts map[string]map[string]int64 `json:"counts"`
		}
		if err := json.Unmarshal(s.get(t, "/api/v1/deliveries?limit=1"), &out); err != nil {
			t.Fatal(err)
		}
		if out.Counts["webhook"]["pending"] == 0 && out.Counts["webhook"]["sent"] > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhook deliveries still pending after a minute: %v\n%s", out.Counts, s.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// outbox is what a data folder's store holds of alarms and alerts.
type outbox struct {
	transitions []store.Transition
	forecasts   []store.Forecast
	series      []store.SeriesKey
	deliveries  []store.Delivery
}

// readOutbox reads the transitions, forecasts, series and deliveries of
// the store in the data folder data (no service running on it), in the
// order of their ids, straight from its tables.
func readOutbox(t *testing.T, data string) outbox {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: filepath.Join(data, store.FileName)}).EscapedPath()+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var o outbox
	query := func(q string, scan func(*sql.Rows) error) {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				t.Fatal(err)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	query(`SELECT t.id, s.key, t.time_ns, t.from_state, t.to_state, t.detail, t.committed_ns FROM transitions t JOIN series s ON s.id = t.series_id ORDER BY t.id`, func(r *sql.Rows) error {
		var tr store.Transition
		var at, committed int64
		var detail string
		err := r.Scan(&tr.ID, &tr.Series, &at, &tr.From, &tr.To, &detail, &committed)
		tr.Time, tr.Committed, tr.Detail = time.Unix(0, at).UTC(), time.Unix(0, committed).UTC(), json.RawMessage(detail)
		o.transitions = append(o.transitions, tr)
		return err
	})
	query(`SELECT f.id, s.key, f.time_ns, f.state, f.analysis, f.committed_ns FROM forecasts f JOIN series s ON s.id = f.series_id ORDER BY f.id`, func(r *sql.Rows) error {
		var f store.Forecast
		var at, committed int64
		var analysis string
		err := r.Scan(&f.ID, &f.Series, &at, &f.State, &analysis, &committed)
		f.Time, f.Committed, f.Analysis = time.Unix(0, at).UTC(), time.Unix(0, committed).UTC(), json.RawMessage(analysis)
		o.forecasts = append(o.forecasts, f)
		return err
	})
	query(`SELECT key, sensor, kind, name, size, interval_ns, origin FROM series ORDER BY id`, func(r *sql.Rows) error {
		var k store.SeriesKey
		err := r.Scan(&k.Key, &k.Sensor, &k.Kind, &k.Name, &k.Size, &k.Interval, &k.Origin)
		o.series = append(o.series, k)
		return err
	})
	query(`SELECT id, COALESCE(transition_id, 0), channel, target, payload, state, attempts, last_error, created_ns FROM deliveries ORDER BY id`, func(r *sql.Rows) error {
		var d store.Delivery
		var created int64
		err := r.Scan(&d.ID, &d.TransitionID, &d.Channel, &d.Target, &d.Payload, &d.State, &d.Attempts, &d.LastError, &created)
		d.Created = time.Unix(0, created).UTC()
		o.deliveries = append(o.deliveries, d)
		return err
	})
	return o
}

// transitionText is a transition without its id, commit and wall-clock
// time.
func transitionText(t *testing.T, tr store.Transition) string {
	t.Helper()
	var d map[string]json.RawMessage
	if err := json.Unmarshal(tr.Detail, &d); err != nil {
		t.Fatalf("transition %d: detail %s: %v", tr.ID, tr.Detail, err)
	}
	delete(d, "commit")
	b, _ := json.Marshal(d)
	return fmt.Sprintf("%s %s %s->%s %s", tr.Series, tr.Time.Format(time.RFC3339), tr.From, tr.To, b)
}

// checkTransitions checks that the transitions committed across the
// kills are those of the log followed without a kill, each once, and that
// they include alarms opened, changed and closed.
func checkTransitions(t *testing.T, got, want []store.Transition) {
	t.Helper()
	var g, w []string
	for _, tr := range got {
		g = append(g, transitionText(t, tr))
	}
	for _, tr := range want {
		w = append(w, transitionText(t, tr))
	}
	if !slices.Equal(g, w) {
		t.Fatalf("transitions across 16 kills (%d):\n%s\nwithout a kill (%d):\n%s", len(g), strings.Join(g, "\n"), len(w), strings.Join(w, "\n"))
	}
	events := map[string]int{}
	for _, tr := range got {
		events[eventOf(tr.From, tr.To)]++
	}
	if events[alert.Watching] == 0 || events[alert.Opened] == 0 || events[alert.Changed] == 0 || events[alert.Closed] == 0 {
		t.Errorf("transitions by event: %v; want each of watching, opened, changed and closed", events)
	}
	t.Logf("%d transitions, each once, as without a kill: %v", len(got), events)
}

// eventOf is the alert event of a transition between two states.
func eventOf(from, to string) string {
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

// checkPlanned plans the deliveries of each commit's transitions again
// (alert.Plan with the configuration, the commit's forecasts, the series
// and the families) and checks that the outbox holds exactly those, in
// order, byte for byte, each written in its transition's commit.
func checkPlanned(t *testing.T, cfg *serve.Config, o outbox) {
	t.Helper()
	fams, _, err := detect.LoadTable(cfg.Signatures)
	if err != nil {
		t.Fatal(err)
	}
	var want []store.Delivery
	for i := 0; i < len(o.transitions); {
		j := i + 1
		for j < len(o.transitions) && o.transitions[j].Committed.Equal(o.transitions[i].Committed) {
			j++
		}
		commit := o.transitions[i:j]
		var fcs []store.Forecast
		for _, f := range o.forecasts {
			if f.Committed.Equal(commit[0].Committed) {
				fcs = append(fcs, f)
			}
		}
		ds, err := alert.Plan(cfg.Alert, commit, alert.Facts{Series: o.series, Forecasts: fcs, Families: fams})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			d.TransitionID = commit[d.TransitionIndex-1].ID
			d.Created = commit[0].Committed
			want = append(want, d)
		}
		i = j
	}
	for i, d := range o.deliveries {
		if i >= len(want) {
			t.Fatalf("the outbox has %d entries, %d planned: entry %d (%s %s of transition %d) is one too many", len(o.deliveries), len(want), d.ID, d.Channel, d.Target, d.TransitionID)
		}
		w := want[i]
		if d.TransitionID != w.TransitionID || d.Channel != w.Channel || d.Target != w.Target || !bytes.Equal(d.Payload, w.Payload) || !d.Created.Equal(w.Created) {
			t.Fatalf("outbox entry %d: %s %s of transition %d (written %v, %d bytes); planned: %s %s of transition %d (its commit %v, %d bytes)",
				d.ID, d.Channel, d.Target, d.TransitionID, d.Created, len(d.Payload), w.Channel, w.Target, w.TransitionID, w.Created, len(w.Payload))
		}
		if artifact := d.Channel != alert.ChannelWebhook; artifact && (d.State != store.Sent || d.Attempts != 0) {
			t.Errorf("outbox entry %d (%s): %s after %d tries, want sent at once", d.ID, d.Channel, d.State, d.Attempts)
		}
	}
	if len(o.deliveries) != len(want) {
		t.Fatalf("the outbox has %d entries, %d planned", len(o.deliveries), len(want))
	}
	t.Logf("outbox: %d entries, each as planned from its commit, byte for byte", len(want))
}

// checkWebhooks checks every webhook delivery against what the receiver
// got.
func checkWebhooks(t *testing.T, rcv *alertReceiver, cfg alert.Config, o outbox) {
	t.Helper()
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.bad) > 0 {
		t.Errorf("requests that did not verify: %q", rcv.bad)
	}
	known := map[string]bool{}
	repeats, sent, dead := 0, 0, 0
	for _, d := range o.deliveries {
		if d.Channel != alert.ChannelWebhook {
			continue
		}
		key := "/" + d.Target + " " + strconv.FormatInt(d.ID, 10)
		known[key] = true
		tries, acc := rcv.tries[key], rcv.accepted[key]
		if d.Attempts < 1 || d.Attempts > tries {
			t.Errorf("delivery %d (%s): %d tries recorded, the receiver saw %d", d.ID, d.Target, d.Attempts, tries)
		}
		if ev := eventOfPayload(t, d.Payload); rcv.events[key] != ev {
			t.Errorf("delivery %d: X-Wormwatch-Event %q, the payload's event %q", d.ID, rcv.events[key], ev)
		}
		switch d.Target {
		case "soc":
			body := alert.Complete(d, cfg.BaseURL)
			for i, b := range acc {
				if !bytes.Equal(b, body) {
					t.Errorf("delivery %d: accepted body %d of %d is not the payload planned (with its ids):\n got %s\nwant %s", d.ID, i+1, len(acc), b, body)
				}
			}
			if d.State != store.Sent || len(acc) == 0 || d.LastError != "" {
				t.Errorf("delivery %d (soc): %s after %d tries (%q), accepted %d times", d.ID, d.State, d.Attempts, d.LastError, len(acc))
			}
			repeats += max(len(acc)-1, 0)
			sent++
		case "down":
			if d.State != store.Dead || d.Attempts != cfg.MaxAttempts || !strings.HasPrefix(d.LastError, "503") || len(acc) != 0 {
				t.Errorf("delivery %d (down): %s after %d tries (%q), accepted %d times; want dead after %d", d.ID, d.State, d.Attempts, d.LastError, len(acc), cfg.MaxAttempts)
			}
			dead++
		}
	}
	for key := range rcv.tries {
		if !known[key] {
			t.Errorf("the receiver got %s, which is not in the outbox", key)
		}
	}
	if repeats < rcv.killed || rcv.killed == 0 || sent == 0 || dead == 0 {
		t.Errorf("%d soc deliveries sent (%d repeats), %d down deliveries dead; %d kills between a send and its record: each must have made a repeat", sent, repeats, dead, rcv.killed)
	}
	t.Logf("webhooks: %d deliveries sent to soc, each body as planned; %d accepted again after %d kills between send and record (same X-Wormwatch-Delivery, same bytes); %d dead letters of down after %d tries", sent, repeats, rcv.killed, dead, cfg.MaxAttempts)
}

// eventOfPayload reads a webhook payload's event.
func eventOfPayload(t *testing.T, payload []byte) string {
	t.Helper()
	var ev alert.Event
	if err := json.Unmarshal(payload, &ev); err != nil {
		t.Fatal(err)
	}
	return ev.Event
}
