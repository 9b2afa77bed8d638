package alert

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"wormwatch/internal/param"
	"wormwatch/store"
)

// answer is what the receiver does with one request: a status with
// headers, or hang until the request is given up.
type answer struct {
	status int
	header map[string]string
	body   string
	hang   bool
	hold   time.Duration // wait this long first (to see concurrency)
}

// receiver is a webhook receiver on loopback: it checks each request's
// headers and signature, counts the tries per delivery id and answers as
// its script says for the n-th try (from 1) of a delivery at a path.
type receiver struct {
	t      *testing.T
	clock  func() time.Time
	script func(path string, try int) answer

	mu          sync.Mutex
	tries       map[string]int // by delivery id
	accepted    map[string]int
	bodies      map[string]Event
	bad         []string // what was wrong with requests
	inflight    int
	maxInflight int
	arrived     chan string // each request's delivery id, when it arrives

	release chan struct{}
	srv     *httptest.Server
}

func newReceiver(t *testing.T, clock func() time.Time, script func(path string, try int) answer) *receiver {
	r := &receiver{t: t, clock: clock, script: script, tries: map[string]int{}, accepted: map[string]int{}, bodies: map[string]Event{},
		arrived: make(chan string, 1000), release: make(chan struct{})}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve)) // 127.0.0.1
	t.Cleanup(func() { close(r.release); r.srv.Close() })
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	id := req.Header.Get(HeaderDelivery)
	r.mu.Lock()
	r.tries[id]++
	try := r.tries[id]
	r.inflight++
	r.maxInflight = max(r.maxInflight, r.inflight)
	var ev Event
	switch {
	case err != nil:
		r.bad = append(r.bad, "reading: "+err.Error())
	case req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json":
		r.bad = append(r.bad, req.Method+" "+req.Header.Get("Content-Type"))
	case Verify([]byte(testSecret), req.Header, body, r.clock(), 0) != nil:
		r.bad = append(r.bad, "signature of delivery "+id)
	case json.Unmarshal(body, &ev) != nil || strconv.FormatInt(ev.DeliveryID, 10) != id || req.Header.Get(HeaderEvent) != ev.Event:
		r.bad = append(r.bad, "payload of delivery "+id+": "+string(body))
	}
	r.mu.Unlock()
	r.arrived <- id
	a := r.script(req.URL.Path, try)
	defer func() { r.mu.Lock(); r.inflight--; r.mu.Unlock() }()
	if a.hold > 0 {
		time.Sleep(a.hold)
	}
	if a.hang {
		select {
		case <-req.Context().Done():
		case <-r.release:
		}
		return
	}
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	if a.status/100 == 2 {
		r.mu.Lock()
		r.accepted[id]++
		r.bodies[id] = ev
		r.mu.Unlock()
	}
	w.WriteHeader(a.status)
	io.WriteString(w, a.body)
}

// counts returns the tries and acceptances by delivery id, and the
// requests that were wrong.
func (r *receiver) counts() (tries, accepted map[string]int, bad []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return copyCounts(r.tries), copyCounts(r.accepted), slices.Clone(r.bad)
}

func copyCounts(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// quiet is a logger for tests that discards.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// deliverySetup is a store with deliveries committed, a receiver and a
// Deliverer on a hand-moved clock.
type deliverySetup struct {
	st    *store.Store
	clock *clock
	rcv   *receiver
	d     *Deliverer
	cfg   Config
}

// setup commits the first n test transitions for one webhook per path to
// a receiver answering with script, and makes a Deliverer with cfg's
// changes. The clock starts a minute from now (after the deliveries'
// creation, which is on the wall clock).
func setup(t *testing.T, dir string, n int, paths []string, script func(string, int) answer, mod func(*Config)) *deliverySetup {
	t.Helper()
	s := &deliverySetup{clock: &clock{t: time.Now().Add(time.Minute).Truncate(time.Second)}}
	s.rcv = newReceiver(t, s.clock.Now, script)
	s.cfg = DefaultConfig()
	// A timeout no answer of the tests comes near, even on a loaded machine
	// (a test of timeouts sets its own).
	s.cfg.Timeout = param.Duration(10 * time.Second)
	for i, p := range paths {
		s.cfg.Webhooks = append(s.cfg.Webhooks, hook(t, "hook"+strconv.Itoa(i), s.rcv.srv.URL+p))
	}
	if mod != nil {
		mod(&s.cfg)
	}
	s.st = openStore(t, dir)
	t.Cleanup(func() { s.st.Close() })
	if n > 0 {
		ts, keys := testTransitions()
		commitTransitions(t, s.st, s.cfg, ts[:n], keys[:n])
	}
	var err error
	if s.d, err = NewDeliverer(s.st, s.cfg, Options{Logger: quiet, Now: s.clock.Now, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	return s
}

// round runs one round of tries and returns how many there were.
func (s *deliverySetup) round(t *testing.T) int {
	t.Helper()
	n, err := s.d.round(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// list returns the deliveries of a channel in a state, by id.
func (s *deliverySetup) list(t *testing.T, state string) []store.Delivery {
	t.Helper()
	ds, err := s.st.Deliveries(t.Context(), state, 0)
	if err != nil {
		t.Fatal(err)
	}
	ds = slices.DeleteFunc(ds, func(d store.Delivery) bool { return d.Channel != ChannelWebhook })
	slices.SortFunc(ds, func(a, b store.Delivery) int { return int(a.ID - b.ID) })
	return ds
}

// TestDeliverRetries: a receiver that answers each delivery's first try
// with 500, its second with 429 and Retry-After: 30, lets its third time
// out and accepts its fourth. Every delivery arrives once accepted, with a
// valid signature, after four tries whose waits are those configured.
func TestDeliverRetries(t *testing.T) {
	script := func(_ string, try int) answer {
		switch try {
		case 1:
			return answer{status: 500, body: "database locked"}
		case 2:
			return answer{status: 429, header: map[string]string{"Retry-After": "30"}}
		case 3:
			return answer{hang: true}
		}
		return answer{status: 204}
	}
	// A timeout of 2 s: the accepted answers must come within it even on a
	// loaded machine (a 204 after the timeout counts as a failure, rightly).
	s := setup(t, t.TempDir(), 3, []string{"/hook"}, script, func(c *Config) { c.Timeout = param.Duration(2 * time.Second) })
	// waits checks the pending deliveries after failure n at now: each
	// waits from lo to hi.
	waits := func(attempt int, lo, hi time.Duration, errText string) time.Time {
		t.Helper()
		now, latest := s.clock.Now(), time.Time{}
		ds := s.list(t, store.Pending)
		if len(ds) != 3 {
			t.Fatalf("after try %d: %d pending, want 3", attempt, len(ds))
		}
		for _, d := range ds {
			if w := d.Next.Sub(now); d.Attempts != attempt || w < lo || w > hi || !strings.Contains(d.LastError, errText) {
				t.Errorf("after try %d: delivery %d has %d attempts, waits %s (want %s to %s), error %q (want %q)", attempt, d.ID, d.Attempts, w, lo, hi, d.LastError, errText)
			}
			if d.Next.After(latest) {
				latest = d.Next
			}
		}
		return latest
	}
	if n := s.round(t); n != 3 {
		t.Fatalf("first round: %d tries", n)
	}
	s.clock.Set(waits(1, 500*time.Millisecond, time.Second, "500 Internal Server Error: database locked"))
	if s.round(t) != 3 {
		t.Fatal("no second tries")
	}
	s.clock.Set(waits(2, 30*time.Second, 30*time.Second, "429 Too Many Requests")) // Retry-After over 1-2 s of backoff
	start := time.Now()
	if s.round(t) != 3 {
		t.Fatal("no third tries")
	}
	if el := time.Since(start); el < 2*time.Second || el > 6*time.Second {
		t.Errorf("the tries that timed out took %s, want about the timeout of 2s (in parallel)", el)
	}
	s.clock.Set(waits(3, 2*time.Second, 4*time.Second, "no answer within 2s"))
	if s.round(t) != 3 {
		t.Fatal("no fourth tries")
	}
	s.clock.Set(s.clock.Now().Add(time.Hour))
	if n := s.round(t); n != 0 {
		t.Errorf("%d tries after every delivery was made", n)
	}
	tries, accepted, bad := s.rcv.counts()
	if len(bad) > 0 {
		t.Errorf("bad requests: %q", bad)
	}
	sent := s.list(t, store.Sent)
	if len(sent) != 3 {
		t.Fatalf("%d sent, want 3", len(sent))
	}
	for _, d := range sent {
		id := strconv.FormatInt(d.ID, 10)
		if tries[id] != 4 || accepted[id] != 1 || d.Attempts != 4 || d.LastError != "" {
			t.Errorf("delivery %s: %d tries, %d accepted, %d attempts recorded, error %q", id, tries[id], accepted[id], d.Attempts, d.LastError)
		}
		if ev := s.rcv.bodies[id]; ev.TransitionID != d.TransitionID || ev.Links.Alarms == "" {
			t.Errorf("delivery %s: body %+v", id, ev)
		}
	}
}

// TestDeliverDead: a receiver that always fails; the delivery is dead
// after max_attempts tries, listed among the dead letters with its last
// error, and not tried again; Redeliver enqueues it anew.
func TestDeliverDead(t *testing.T) {
	s := setup(t, t.TempDir(), 1, []string{"/hook"}, func(string, int) answer { return answer{status: 502, body: "upstream\ndown"} },
		func(c *Config) { c.MaxAttempts = 3 })
	for i := 0; i < 10; i++ {
		s.round(t)
		pending := s.list(t, store.Pending)
		if len(pending) == 0 {
			break
		}
		s.clock.Set(pending[0].Next)
	}
	tries, _, _ := s.rcv.counts()
	dead := s.list(t, store.Dead)
	if len(dead) != 1 || dead[0].Attempts != 3 || dead[0].LastError != "502 Bad Gateway: upstream down" || tries[strconv.FormatInt(dead[0].ID, 10)] != 3 {
		t.Fatalf("dead letters %+v, tries %v", dead, tries)
	}
	s.clock.Set(s.clock.Now().Add(24 * time.Hour))
	if n := s.round(t); n != 0 {
		t.Errorf("a dead letter was tried again (%d tries)", n)
	}
	if err := Redeliver(t.Context(), s.st, dead); err != nil {
		t.Fatal(err)
	}
	if p := s.list(t, store.Pending); len(p) != 1 || p[0].Attempts != 0 || p[0].TransitionID != dead[0].TransitionID || string(p[0].Payload) != string(dead[0].Payload) {
		t.Errorf("redelivered: %+v", p)
	}
}

// TestDeliverPermanent: 4xx answers other than 408, 425 and 429 and
// redirects are permanent (dead at once; the redirect not followed), as
// are a webhook no longer configured and a channel with no deliverer;
// 408 and 503 are tried again, 503's Retry-After date honoured.
func TestDeliverPermanent(t *testing.T) {
	elsewhere := 0
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere++ }))
	defer other.Close()
	var s *deliverySetup
	script := func(path string, _ int) answer {
		switch path {
		case "/redirect":
			return answer{status: 307, header: map[string]string{"Location": other.URL + "/x"}}
		case "/unavailable":
			return answer{status: 503, header: map[string]string{"Retry-After": s.clock.Now().Add(2 * time.Hour).UTC().Format(http.TimeFormat)}}
		}
		code, _ := strconv.Atoi(strings.TrimPrefix(path, "/"))
		return answer{status: code}
	}
	paths := []string{"/400", "/401", "/404", "/410", "/422", "/redirect", "/408", "/425", "/unavailable"}
	s = setup(t, t.TempDir(), 1, paths, script, nil)
	if err := s.st.Enqueue(t.Context(), []store.Delivery{{Channel: ChannelWebhook, Target: "gone", Payload: []byte("{}")}, {Channel: "taxii", Target: "x", Payload: []byte("{}")}}); err != nil {
		t.Fatal(err)
	}
	if n := s.round(t); n != len(paths)+2 {
		t.Fatalf("%d tries, want %d", n, len(paths)+2)
	}
	var deadErrs []string
	dead, err := s.st.Deliveries(t.Context(), store.Dead, 0) // every channel
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dead {
		deadErrs = append(deadErrs, d.Target+": "+d.LastError)
	}
	all := strings.Join(deadErrs, "\n")
	for _, want := range []string{"hook0: permanent: 400", "hook1: permanent: 401", "hook2: permanent: 404", "hook3: permanent: 410", "hook4: permanent: 422",
		"hook5: permanent: 307 Temporary Redirect: redirect to \"" + other.URL + "/x\" not followed", `gone: permanent: webhook "gone" is not in the configuration`, `x: permanent: no deliverer for channel "taxii"`} {
		if !strings.Contains(all, want) {
			t.Errorf("no dead letter %q among:\n%s", want, all)
		}
	}
	if len(deadErrs) != 8 || elsewhere != 0 {
		t.Errorf("%d dead letters, want 8; the redirect's target got %d requests", len(deadErrs), elsewhere)
	}
	pending := s.list(t, store.Pending)
	if len(pending) != 3 {
		t.Fatalf("%d pending, want 3 (408, 425, 503)", len(pending))
	}
	for _, d := range pending {
		if w := d.Next.Sub(s.clock.Now()); d.Target == "hook8" && w != 2*time.Hour {
			t.Errorf("503 with Retry-After in 2 hours: next try in %s", w)
		}
	}
}

// TestDeliverRestart: deliveries pending when the store is closed (tried
// and failed, or not tried yet) are made after it is opened again, once
// each.
func TestDeliverRestart(t *testing.T) {
	dir := t.TempDir()
	failing := func(string, int) answer { return answer{status: 500} }
	s := setup(t, dir, 2, []string{"/hook"}, failing, nil)
	if n := s.round(t); n != 2 {
		t.Fatalf("%d tries before the restart", n)
	}
	ts, keys := testTransitions()
	commitTransitions(t, s.st, s.cfg, ts[2:3], keys[2:3]) // committed, never tried
	if err := s.st.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := setup(t, dir, 0, []string{"/hook"}, func(string, int) answer { return answer{status: 200} }, nil)
	s2.clock.Set(s.clock.Now().Add(time.Minute))
	if n := s2.round(t); n != 3 {
		t.Fatalf("%d tries after the restart, want 3", n)
	}
	s2.clock.Set(s2.clock.Now().Add(time.Hour))
	s2.round(t)
	_, accepted, bad := s2.rcv.counts()
	sent := s2.list(t, store.Sent)
	if len(sent) != 3 || len(bad) > 0 {
		t.Fatalf("%d sent after the restart, bad requests %q", len(sent), bad)
	}
	for i, d := range sent {
		wantAttempts := 2
		if i == 2 {
			wantAttempts = 1
		}
		if accepted[strconv.FormatInt(d.ID, 10)] != 1 || d.Attempts != wantAttempts {
			t.Errorf("delivery %d: accepted %d times, %d attempts (want %d)", d.ID, accepted[strconv.FormatInt(d.ID, 10)], d.Attempts, wantAttempts)
		}
	}
}

// TestBackoff: the waits lie between half and all of min(cap, base
// 2^(n-1)), reach the cap, vary, and repeat with the seed.
func TestBackoff(t *testing.T) {
	cfg := DefaultConfig()
	draws := func(seed uint64) []time.Duration {
		d, err := NewDeliverer(nil, cfg, Options{Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		var out []time.Duration
		for n := 1; n <= 14; n++ {
			for range 50 {
				out = append(out, d.backoff(cfg, n))
			}
		}
		return out
	}
	a := draws(7)
	for i, w := range a {
		n := i/50 + 1
		full := min(time.Second<<(n-1), 10*time.Minute)
		if w < full/2 || w > full {
			t.Errorf("wait after failure %d: %s, want %s to %s", n, w, full/2, full)
		}
	}
	if last := a[len(a)-50:]; slices.Min(last) == slices.Max(last) || slices.Max(last) < 9*time.Minute {
		t.Errorf("capped waits %s to %s: no jitter, or the cap not reached", slices.Min(last), slices.Max(last))
	}
	if !slices.Equal(a, draws(7)) || slices.Equal(a, draws(8)) {
		t.Error("the seed does not fix the waits")
	}
}

// TestRun runs the Deliverer's loop on the wall clock: a commit's
// deliveries go out at its Wake (the poll is an hour), at most
// Concurrency at once; failed tries are retried at the polls; on cancel
// Run returns and leaves no goroutine behind.
func TestRun(t *testing.T) {
	var s *deliverySetup
	script := func(path string, try int) answer {
		if path == "/flaky" && try == 1 {
			return answer{status: 500}
		}
		return answer{status: 200, hold: 40 * time.Millisecond}
	}
	s = setup(t, t.TempDir(), 0, []string{"/a", "/b", "/flaky"}, script, func(c *Config) {
		c.Concurrency, c.Poll = 2, param.Duration(time.Hour)
		c.BackoffBase, c.BackoffCap = param.Duration(10*time.Millisecond), param.Duration(20*time.Millisecond)
	})
	s.d.now = time.Now
	base := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(t.Context())
	ran := make(chan error)
	go func() { ran <- s.d.Run(ctx) }()
	ts, keys := testTransitions()
	commitTransitions(t, s.st, s.cfg, ts[:2], keys[:2]) // 6 deliveries
	s.d.Wake()
	waitFor(t, "the first tries", func() bool { tries, _, _ := s.rcv.counts(); return len(tries) == 6 })
	// The flaky webhook's two deliveries wait for a poll: make it short.
	s.cfg.Poll = param.Duration(20 * time.Millisecond)
	if err := s.d.SetConfig(s.cfg); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every delivery", func() bool { _, acc, _ := s.rcv.counts(); return len(acc) == 6 })
	waitFor(t, "every delivery recorded", func() bool { return len(s.list(t, store.Sent)) == 6 })
	_, accepted, bad := s.rcv.counts()
	for id, n := range accepted {
		if n != 1 {
			t.Errorf("delivery %s accepted %d times", id, n)
		}
	}
	if s.rcv.maxInflight != 2 || len(bad) > 0 {
		t.Errorf("%d requests at once, want 2 (concurrency); bad requests %q", s.rcv.maxInflight, bad)
	}
	cancel()
	select {
	case err := <-ran:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	s.rcv.srv.CloseClientConnections()
	waitFor(t, "the goroutines to end", func() bool { return runtime.NumGoroutine() <= base })
}

// TestRunCancel: a try in flight when Run is cancelled is cut short and
// left pending without a failure counted; Run returns at once.
func TestRunCancel(t *testing.T) {
	s := setup(t, t.TempDir(), 1, []string{"/hang"}, func(string, int) answer { return answer{hang: true} }, func(c *Config) {
		c.Timeout = param.Duration(time.Minute)
	})
	ctx, cancel := context.WithCancel(t.Context())
	ran := make(chan error)
	go func() { ran <- s.d.Run(ctx) }()
	select {
	case <-s.rcv.arrived:
	case <-time.After(5 * time.Second):
		t.Fatal("the delivery never arrived")
	}
	start := time.Now()
	cancel()
	select {
	case <-ran:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("Run took %s to return", el)
	}
	p := s.list(t, store.Pending)
	if len(p) != 1 || p[0].Attempts != 0 || p[0].LastError != "" {
		t.Errorf("after a cut try: %+v", p)
	}
}

// waitFor polls cond for up to 10 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestDeliverErrorHidesURL sends to a webhook whose URL holds a token in
// its path and query (as many chat services' do) on a port nothing
// listens on: the failure recorded (and listed with the dead letters, and
// logged) names the host and the cause, never the path or the query.
func TestDeliverErrorHidesURL(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	s := setup(t, t.TempDir(), 1, nil, nil, func(c *Config) {
		c.Webhooks = append(c.Webhooks, hook(t, "chat", "http://"+addr+"/services/T0SECRETPATH?token=SECRETQUERY"))
	})
	if n := s.round(t); n != 1 {
		t.Fatalf("%d tries, want 1", n)
	}
	p := s.list(t, store.Pending)
	if len(p) != 1 || p[0].Attempts != 1 {
		t.Fatalf("pending: %+v", p)
	}
	if e := p[0].LastError; !strings.HasPrefix(e, "POST to "+addr+": ") || strings.Contains(e, "SECRET") {
		t.Errorf("the failure recorded is %q: want the host and the cause, and nothing of the path or query", e)
	}
}
