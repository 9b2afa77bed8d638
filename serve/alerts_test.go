package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"wormwatch/alert"
	"wormwatch/serve/servetest"
	"wormwatch/share/schematest"
	"wormwatch/store"
)

// testSecret is the HMAC secret of the tests' webhooks.
const testSecret = "webhook-secret-0123456789abcdef"

// hookReceiver is a webhook receiver on loopback: it checks every
// request's signature with alert.Verify and answers as its script says
// for the n-th try (from 1) of each delivery (by X-Wormwatch-Delivery).
type hookReceiver struct {
	srv    *httptest.Server
	script func(path string, try int) (int, http.Header)

	mu       sync.Mutex
	tries    map[string]int
	accepted map[string]int
	bodies   map[string][]byte      // the accepted body of each delivery
	times    map[string][]time.Time // when each try came
	answers  map[string][]int       // the status of each try
	bad      []string               // requests whose signature did not verify
}

// newHookReceiver starts a receiver.
func newHookReceiver(t testing.TB, script func(path string, try int) (int, http.Header)) *hookReceiver {
	h := &hookReceiver{script: script, tries: map[string]int{}, accepted: map[string]int{}, bodies: map[string][]byte{},
		times: map[string][]time.Time{}, answers: map[string][]int{}}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	return h
}

// serve answers one try.
func (h *hookReceiver) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	id := r.Header.Get(alert.HeaderDelivery)
	h.mu.Lock()
	defer h.mu.Unlock()
	if err == nil {
		err = alert.Verify([]byte(testSecret), r.Header, body, time.Now(), 0)
	}
	if err != nil {
		h.bad = append(h.bad, fmt.Sprintf("delivery %s: %v", id, err))
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	h.tries[id]++
	h.times[id] = append(h.times[id], time.Now())
	code, hdr := h.script(r.URL.Path, h.tries[id])
	h.answers[id] = append(h.answers[id], code)
	if code/100 == 2 {
		h.accepted[id]++
		h.bodies[id] = body
	}
	for k, v := range hdr {
		w.Header()[k] = v
	}
	w.WriteHeader(code)
	fmt.Fprintf(w, "answer %d to try %d\n", code, h.tries[id])
}

// snapshot returns copies of the receiver's counts.
func (h *hookReceiver) snapshot() (tries, accepted map[string]int, bad []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	tries, accepted = map[string]int{}, map[string]int{}
	for k, v := range h.tries {
		tries[k] = v
	}
	for k, v := range h.accepted {
		accepted[k] = v
	}
	return tries, accepted, append([]string(nil), h.bad...)
}

// alertConfig writes serve.toml in dir with the [alert] table given (its
// webhooks' secret_file is the test secret's) and loads it with the
// service settings of the tests, the inputs and the assignments sets.
func alertConfig(t testing.TB, dir, alertTable string, ins []Input, sets ...string) *Config {
	t.Helper()
	secret := filepath.Join(dir, "webhook.secret")
	writeFile(t, secret, []byte(testSecret+"\n"))
	conf := filepath.Join(dir, "serve.toml")
	writeFile(t, conf, []byte(strings.ReplaceAll(alertTable, "SECRET_FILE", strconv.Quote(secret))))
	return loadConfig(t, conf, ins, servetest.Sets(filepath.Join(dir, "data"), sets...))
}

// deliveriesOf reads GET /api/v1/deliveries with a query.
func deliveriesOf(t testing.TB, r *running, query string, header ...string) []DeliveryJSON {
	t.Helper()
	code, body := r.get(t, "/api/v1/deliveries"+query, header...)
	var out struct {
		Deliveries []DeliveryJSON `json:"deliveries"`
	}
	if code != 200 || json.Unmarshal(body, &out) != nil {
		t.Fatalf("deliveries%s: %d %s", query, code, body)
	}
	return out.Deliveries
}

// TestAlertsEndToEnd follows a Code Red web server's log with a webhook to
// a receiver on loopback that refuses each delivery's first two tries
// (500, then 429 with Retry-After: 1) and accepts the third. The service
// is stopped right after the first refusal and started again on the same
// data folder: every alarm-opened delivery then arrives, each signature
// verifies with alert.Verify, each delivery is accepted exactly once,
// the 429's Retry-After is honoured, the STIX bundles the payloads link
// validate against the OASIS schemas (and the CSAF drafts against
// CSAF 2.0's), and a third start delivers nothing again.
func TestAlertsEndToEnd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	rcv := newHookReceiver(t, func(_ string, try int) (int, http.Header) {
		switch try {
		case 1:
			return http.StatusInternalServerError, nil
		case 2:
			return http.StatusTooManyRequests, http.Header{"Retry-After": {"1"}}
		}
		return http.StatusOK, nil
	})
	table := "[alert]\nbackoff_base = \"50ms\"\nbackoff_cap = \"1s\"\npoll = \"50ms\"\n\n[[alert.webhook]]\nname = \"soc\"\nurl = \"" + rcv.srv.URL + "/hook\"\nsecret_file = SECRET_FILE\n"
	cfg := alertConfig(t, dir, table, []Input{logInput(t, path, "name=web", "size=65536")})
	logs := &servetest.LockedBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	defer func() {
		if strings.Contains(logs.String(), testSecret) || !strings.Contains(logs.String(), "alert delivered") {
			t.Errorf("the log lines hold the secret, or no delivery:\n%s", logs.String())
		}
	}()
	a := start(t, cfg, Options{Logger: logger})
	port := a.svc.Addr().(*net.TCPAddr).Port
	data := servetest.Lines(servetest.CodeRedLog(t, time.Date(2001, 7, 19, 15, 30, 0, 0, time.UTC), 1))
	servetest.AppendFile(t, path, data)
	servetest.WaitFor(t, "the first try", func() bool { tries, _, _ := rcv.snapshot(); return len(tries) > 0 })
	if err := a.stop(); err != nil {
		t.Fatal(err)
	}
	tries, accepted, _ := rcv.snapshot()
	t.Logf("stopped after the first refusal: tries %v, accepted %v", tries, accepted)
	stopped := time.Now()

	// Again on the same data folder and port (the links of the payloads
	// name the service's address).
	cfg = alertConfig(t, dir, table, []Input{logInput(t, path, "name=web", "size=65536")}, fmt.Sprintf("service.listen=127.0.0.1:%d", port))
	b := start(t, cfg, Options{Logger: logger})
	servetest.WaitFor(t, "the whole log", func() bool { return b.committedOffset(t, path) == int64(len(data)) })
	var hooks []DeliveryJSON
	servetest.WaitFor(t, "every webhook delivery sent", func() bool {
		hooks = deliveriesOf(t, b, "?channel=webhook")
		for _, d := range hooks {
			if d.State != store.Sent {
				return false
			}
		}
		return len(hooks) > 0
	})
	checkReceived(t, rcv, hooks, stopped)
	checkDocuments(t, rcv, b)
	outbox := deliveriesOf(t, b, "")
	if err := b.stop(); err != nil {
		t.Fatal(err)
	}

	// A third start: nothing is planned or delivered again.
	tries, accepted, _ = rcv.snapshot()
	c := start(t, alertConfig(t, dir, table, []Input{logInput(t, path, "name=web", "size=65536")}, fmt.Sprintf("service.listen=127.0.0.1:%d", port)), Options{Logger: logger})
	time.Sleep(500 * time.Millisecond) // ten polls of the outbox and 25 commit intervals
	after := deliveriesOf(t, c, "")
	tries2, accepted2, _ := rcv.snapshot()
	if fmt.Sprint(tries2) != fmt.Sprint(tries) || fmt.Sprint(accepted2) != fmt.Sprint(accepted) || len(after) != len(outbox) {
		t.Errorf("after a restart: tries %v (before %v), accepted %v (before %v), %d outbox entries (%d before)", tries2, tries, accepted2, accepted, len(after), len(outbox))
	}
	t.Logf("outbox: %d entries (%d webhook deliveries); a restart delivered nothing again", len(outbox), len(hooks))
}

// checkReceived checks what the receiver got: every delivery of the
// outbox accepted exactly once after a 500 and a 429, the third try at
// least a second after the 429 (its Retry-After), every signature valid,
// and an alarm opened among them.
//
// A 429 answered while the first service stopped (before stopped) may
// not have been recorded (a try cut short by the stop is not a try), so
// its Retry-After binds the next try only when it came after the
// restart.
func checkReceived(t *testing.T, rcv *hookReceiver, hooks []DeliveryJSON, stopped time.Time) {
	t.Helper()
	tries, accepted, bad := rcv.snapshot()
	if len(bad) > 0 {
		t.Errorf("signatures that did not verify: %q", bad)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	opened := 0
	for _, d := range hooks {
		id := strconv.FormatInt(d.ID, 10)
		ans, at := rcv.answers[id], rcv.times[id]
		if accepted[id] != 1 || len(ans) < 3 || ans[0] != 500 || ans[1] != 429 || ans[len(ans)-1] != 200 {
			t.Errorf("delivery %d: tries %d, accepted %d times, answers %v", d.ID, tries[id], accepted[id], ans)
			continue
		}
		if gap := at[len(at)-1].Sub(at[1]); gap < time.Second && !at[1].Before(stopped) {
			t.Errorf("delivery %d: tried again %v after the 429 with Retry-After: 1", d.ID, gap)
		}
		var ev alert.Event
		if err := json.Unmarshal(rcv.bodies[id], &ev); err != nil {
			t.Fatal(err)
		}
		if ev.DeliveryID != d.ID || ev.TransitionID != d.TransitionID || ev.Webhook != "soc" || ev.Series != d.Series || ev.Event != d.Event {
			t.Errorf("delivery %d: payload %+v, outbox %+v", d.ID, ev, d)
		}
		if ev.Event == alert.Opened {
			opened++
		}
	}
	if opened == 0 || len(accepted) != len(hooks) {
		t.Errorf("%d alarms opened among %d deliveries; the receiver accepted %d", opened, len(hooks), len(accepted))
	}
	t.Logf("%d webhook deliveries, %d of an alarm opened, each accepted once on its third try", len(hooks), opened)
}

// checkDocuments fetches the STIX bundle and the CSAF draft each accepted
// payload links (through the service's address that the links name),
// validates them against the OASIS schemas, and checks that
// /api/v1/artifacts/{id} answers the same bytes with its content type.
func checkDocuments(t *testing.T, rcv *hookReceiver, r *running) {
	t.Helper()
	rcv.mu.Lock()
	var evs []alert.Event
	for _, b := range rcv.bodies {
		var ev alert.Event
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	rcv.mu.Unlock()
	artifacts := map[string]int64{}
	for _, d := range deliveriesOf(t, r, "?state=sent") {
		if d.Links.Artifact != "" {
			artifacts[d.Target] = d.ID
		}
	}
	bundles := 0
	for _, ev := range evs {
		if code, body := servetest.Request(t, http.DefaultClient, "GET", ev.Links.Alarms, nil); code != 200 || !bytes.Contains(body, []byte(fmt.Sprintf(`"id": %d,`, ev.TransitionID))) {
			t.Errorf("%s: %d %.300s", ev.Links.Alarms, code, body)
		}
		for _, doc := range []struct {
			link, id string
			kind     schematest.Kind
			ctype    string
		}{{ev.Links.STIX, ev.STIXBundle, schematest.STIX, ContentTypeSTIX}, {ev.Links.CSAF, ev.CSAFAdvisory, schematest.CSAF, ContentTypeCSAF}} {
			if doc.link == "" {
				continue
			}
			body := fetchDocument(t, doc.link, doc.ctype)
			if err := schematest.Validate(doc.kind, body); err != nil {
				t.Errorf("%s: %v", doc.link, err)
			}
			again := fetchDocument(t, r.url+"/api/v1/artifacts/"+strconv.FormatInt(artifacts[doc.id], 10), doc.ctype)
			if !bytes.Equal(again, body) {
				t.Errorf("%s and /api/v1/artifacts/%d differ", doc.link, artifacts[doc.id])
			}
			if doc.kind == schematest.STIX {
				bundles++
			}
		}
	}
	if bundles == 0 {
		t.Error("no STIX bundle linked by the payloads")
	}
	t.Logf("%d STIX bundles and their CSAF drafts valid", bundles)
}

// fetchDocument GETs a document and checks its content type.
func fetchDocument(t *testing.T, url, ctype string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != ctype {
		t.Fatalf("%s: %d %q %v %.200s", url, resp.StatusCode, resp.Header.Get("Content-Type"), err, body)
	}
	return body
}

// TestAlertAPI checks the outbox's endpoints on a service with a read
// token, with entries enqueued in its store: the list (filters, no
// payloads, links, counts), the documents by delivery ID and by their own
// ids with their content types, the retry of a dead letter (202, then the
// delivery sent; a second retry 409), and every wrong request a JSON error
// with its status: IDs parsed strictly, methods, the token, a browser's
// request from another origin, a body too large.
func TestAlertAPI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rcv := newHookReceiver(t, func(string, int) (int, http.Header) { return 200, nil })
	table := "[alert]\npoll = \"20ms\"\n\n[[alert.webhook]]\nname = \"soc\"\nurl = \"" + rcv.srv.URL + "/hook\"\nsecret_file = SECRET_FILE\n"
	cfg := alertConfig(t, dir, table, nil, "service.token_file="+tokenFile(t, dir, "read", testReadToken))
	r := start(t, cfg, Options{})
	st := r.svc.Store()
	const bundleID, trackingID = "bundle--0f2e4a1c-9d7b-5e3f-8a6b-1c2d3e4f5a6b", "WORMWATCH-LIVE-0123456789AB"
	later := time.Now().Add(time.Hour) // 3 and 4 are made dead below: not due before (the deliverer took them first, now and then)
	ds := []store.Delivery{
		{Channel: alert.ChannelSTIX, Target: bundleID, Payload: []byte(`{"type": "bundle"}`), State: store.Sent},                // 1
		{Channel: alert.ChannelCSAF, Target: trackingID, Payload: []byte(`{"document": {}}`), State: store.Sent},                // 2
		{Channel: alert.ChannelWebhook, Target: "soc", Payload: []byte(`{"version": 1, "event": "opened"}`), Next: later},       // 3: dies
		{Channel: alert.ChannelWebhook, Target: "gone", Payload: []byte(`{"version": 1, "event": "opened"}`), Next: later},      // 4: dies, no webhook
		{Channel: alert.ChannelWebhook, Target: "ops", Payload: []byte(`{"version": 1, "event": "closed"}`), State: store.Sent}, // 5
	}
	if err := st.Enqueue(t.Context(), ds); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{3, 4} {
		if err := st.Settle(t.Context(), id, "503 Service Unavailable", time.Now(), 1); err != nil {
			t.Fatal(err)
		}
	}
	auth := []string{"Authorization", "Bearer " + testReadToken}
	list := deliveriesOf(t, r, "", auth...)
	if len(list) != 5 || list[0].ID != 5 || list[2].State != store.Dead || list[2].Links.Retry != "/api/v1/deliveries/3/retry" || list[4].Links.Artifact != "/api/v1/artifacts/1" || list[2].NextTry != nil {
		t.Fatalf("the list: %+v", list)
	}
	if _, body := r.get(t, "/api/v1/deliveries", auth...); bytes.Contains(body, []byte("payload")) || !bytes.Contains(body, []byte(`"dead": 2`)) {
		t.Errorf("the list has payloads or lacks the counts: %s", body)
	}
	checkAlertErrors(t, r, auth)
	for _, doc := range []struct{ path, ctype, body string }{
		{"/api/v1/artifacts/1", ContentTypeSTIX, `{"type": "bundle"}`}, {"/api/v1/stix/" + bundleID, ContentTypeSTIX, `{"type": "bundle"}`},
		{"/api/v1/artifacts/2", ContentTypeCSAF, `{"document": {}}`}, {"/api/v1/csaf/" + trackingID, ContentTypeCSAF, `{"document": {}}`},
	} {
		req, _ := http.NewRequest("GET", r.url+doc.path, nil)
		req.Header.Set(auth[0], auth[1])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != doc.ctype || string(body) != doc.body {
			t.Errorf("%s: %d %q %s", doc.path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}

	// The retry of the dead letter 3: 202, delivered, listed as retried.
	code, body := servetest.Request(t, http.DefaultClient, "POST", r.url+"/api/v1/deliveries/3/retry", nil, append([]string{"Sec-Fetch-Site", "same-origin"}, auth...)...)
	if code != 202 || !bytes.Contains(body, []byte(`"delivery": 6`)) {
		t.Fatalf("retry: %d %s", code, body)
	}
	servetest.WaitFor(t, "the retry delivered", func() bool {
		d := deliveriesOf(t, r, "?channel=webhook&limit=1", auth...)
		return len(d) == 1 && d[0].ID == 6 && d[0].State == store.Sent
	})
	if _, acc, _ := rcv.snapshot(); acc["6"] != 1 || len(acc) != 1 {
		t.Errorf("accepted: %v", acc)
	}
	dead := deliveriesOf(t, r, "?state=dead&channel=webhook", auth...)
	if len(dead) != 2 || dead[1].ID != 3 || dead[1].RetriedBy != 6 || dead[1].Links.Retry != "" || dead[0].Links.Retry == "" {
		t.Errorf("the dead letters after the retry: %+v", dead)
	}
	code, body = servetest.Request(t, http.DefaultClient, "POST", r.url+"/api/v1/deliveries/3/retry", nil, auth...)
	if code != 409 || !strings.Contains(errorOf(t, body), "retried already, as delivery 6") {
		t.Errorf("a second retry: %d %s", code, body)
	}
}

// checkAlertErrors checks the outbox endpoints' answers to wrong
// requests: each a JSON error with its status and what it says.
func checkAlertErrors(t *testing.T, r *running, auth []string) {
	t.Helper()
	cross := append([]string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}, auth...)
	for _, tc := range []struct {
		method, path string
		body         string
		header       []string
		code         int
		msg          string
	}{
		{"GET", "/api/v1/deliveries", "", nil, 401, "token"},
		{"GET", "/api/v1/deliveries?state=lost", "", auth, 400, "state=lost"},
		{"GET", "/api/v1/deliveries?channel=misp", "", auth, 400, "channel=misp"},
		{"GET", "/api/v1/deliveries?limit=0", "", auth, 400, "limit=0"},
		{"GET", "/api/v1/deliveries?limit=10001", "", auth, 400, "limit=10001"},
		{"GET", "/api/v1/deliveries?before=01", "", auth, 400, "before=01"},
		{"GET", "/api/v1/deliveries?payload=1", "", auth, 400, `unknown parameter "payload"`},
		{"POST", "/api/v1/deliveries", "", auth, 405, "method POST"},
		{"GET", "/api/v1/deliveries/3", "", auth, 404, "no such endpoint"},
		{"GET", "/api/v1/artifacts/1", "", nil, 401, "token"},
		{"GET", "/api/v1/artifacts/0", "", auth, 400, "want an ID"},
		{"GET", "/api/v1/artifacts/01", "", auth, 400, "want an ID"},
		{"GET", "/api/v1/artifacts/+1", "", auth, 400, "want an ID"},
		{"GET", "/api/v1/artifacts/1e3", "", auth, 400, "want an ID"},
		{"GET", "/api/v1/artifacts/%201", "", auth, 400, "want an ID"},
		{"GET", "/api/v1/artifacts/99999999999999999999", "", auth, 400, "want an ID"},
		{"GET", "/api/v1/artifacts/999", "", auth, 404, "no artifact 999"},
		{"GET", "/api/v1/artifacts/3", "", auth, 404, "webhook delivery"},
		{"GET", "/api/v1/artifacts/1?x=1", "", auth, 400, `unknown parameter "x"`},
		{"DELETE", "/api/v1/artifacts/1", "", auth, 405, "method DELETE"},
		{"GET", "/api/v1/stix/bundle--ZZ", "", auth, 400, "bundle--UUID"},
		{"GET", "/api/v1/stix/bundle--00000000-0000-0000-0000-000000000000", "", auth, 404, "no stix document"},
		{"GET", "/api/v1/csaf/WORMWATCH-LIVE-0123456789ab", "", auth, 400, "tracking id"},
		{"GET", "/api/v1/csaf/..%2f..%2fetc", "", auth, 400, "tracking id"},
		{"GET", "/api/v1/deliveries/3/retry", "", auth, 405, "allowed: POST"},
		{"POST", "/api/v1/deliveries/3/retry", "", nil, 401, "token"},
		{"POST", "/api/v1/deliveries/3/retry", "", cross, 403, "cross-origin"},
		{"POST", "/api/v1/deliveries/3/retry?now=1", "", auth, 400, `unknown parameter "now"`},
		{"POST", "/api/v1/deliveries/03/retry", "", auth, 400, "want an ID"},
		{"POST", "/api/v1/deliveries/3/retry", strings.Repeat("x", 65<<10), auth, 413, "larger than"},
		{"POST", "/api/v1/deliveries/999/retry", "", auth, 404, "no delivery 999"},
		{"POST", "/api/v1/deliveries/1/retry", "", auth, 409, "only a dead webhook delivery"},
		{"POST", "/api/v1/deliveries/5/retry", "", auth, 409, "only a dead webhook delivery"},
		{"POST", "/api/v1/deliveries/4/retry", "", auth, 409, "not in the configuration"},
	} {
		code, body := servetest.Request(t, http.DefaultClient, tc.method, r.url+tc.path, strings.NewReader(tc.body), tc.header...)
		if code != tc.code {
			t.Errorf("%s %s: %d, want %d: %s", tc.method, tc.path, code, tc.code, body)
			continue
		}
		if msg := errorOf(t, body); !strings.Contains(msg, tc.msg) {
			t.Errorf("%s %s: %q, want it to say %q", tc.method, tc.path, msg, tc.msg)
		}
	}
}

// TestAlertConfig checks the [alert] table's rules at load: a webhook's
// secret that cannot be read names its key, an http:// URL to another
// host is refused, and base_url, when not given, names the address the
// service listens on.
func TestAlertConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	conf := filepath.Join(dir, "serve.toml")
	for _, tc := range []struct{ toml, want string }{
		{"[[alert.webhook]]\nname = \"soc\"\nurl = \"https://hooks.example.org/x\"\nsecret_file = \"" + filepath.Join(dir, "none") + "\"\n", "serve.toml:4: alert.webhook.soc.secret_file: webhook soc: secret:"},
		{"[[alert.webhook]]\nname = \"soc\"\nurl = \"https://hooks.example.org/x\"\nsecret_env = \"WORMWATCH_TEST_NO_SUCH_VARIABLE\"\n", "alert.webhook.soc.secret_env: webhook soc: secret: environment variable"},
		{"[[alert.webhook]]\nname = \"soc\"\nurl = \"http://hooks.example.org/x\"\nsecret_env = \"X\"\n", "http:// only to a loopback address"},
		{"[alert]\nbackoff_base = \"1m\"\nbackoff_cap = \"1s\"\n", "backoff_cap 1s is below backoff_base 1m"},
	} {
		writeFile(t, conf, []byte(tc.toml))
		_, err := Load(conf, Overrides{Sets: []string{"service.data=" + filepath.Join(dir, "data")}})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.toml, err, tc.want)
		}
	}
	cfg := alertConfig(t, dir, "[[alert.webhook]]\nname = \"soc\"\nurl = \"http://127.0.0.1:9/x?token=T0KEN\"\nsecret_file = SECRET_FILE\n", nil)
	var out bytes.Buffer
	if err := cfg.Describe(&out); err != nil || !strings.Contains(out.String(), "webhook  soc: http://127.0.0.1:9/... [opened changed closed]") {
		t.Errorf("Describe: %v\n%s", err, out.String())
	}
	r := start(t, cfg, Options{})
	if got, want := r.svc.alertConfig(cfg).BaseURL, r.url; got != want {
		t.Errorf("base_url not given: %s, want %s", got, want)
	}
	given := alertConfig(t, t.TempDir(), "[alert]\nbase_url = \"https://wormwatch.example.org\"\n", nil)
	if got := r.svc.alertConfig(given).BaseURL; got != "https://wormwatch.example.org" {
		t.Errorf("base_url given: %s", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "webhook.secret")); err != nil {
		t.Fatal(err)
	}
}

// TestAlertReload changes a webhook's URL with Reload (SIGHUP's): a
// delivery enqueued before goes to the old URL, one enqueued after to the
// new; a reload whose secret cannot be read is refused and changes
// nothing.
func TestAlertReload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var mu sync.Mutex
	paths := map[int]string{}
	rcv := newHookReceiver(t, func(path string, try int) (int, http.Header) {
		mu.Lock()
		paths[len(paths)+1] = path
		mu.Unlock()
		return 200, nil
	})
	table := func(path string) string {
		return "[alert]\npoll = \"20ms\"\n\n[[alert.webhook]]\nname = \"soc\"\nurl = \"" + rcv.srv.URL + path + "\"\nsecret_file = SECRET_FILE\n"
	}
	r := start(t, alertConfig(t, dir, table("/old"), nil), Options{})
	send := func(n int) {
		t.Helper()
		if err := r.svc.Store().Enqueue(t.Context(), []store.Delivery{{Channel: alert.ChannelWebhook, Target: "soc", Payload: []byte(`{"version": 1}`)}}); err != nil {
			t.Fatal(err)
		}
		r.svc.deliverer.Wake()
		servetest.WaitFor(t, "the delivery", func() bool { _, acc, _ := rcv.snapshot(); return len(acc) == n })
	}
	send(1)
	if err := r.svc.Reload(t.Context(), alertConfig(t, dir, table("/new"), nil)); err != nil {
		t.Fatal(err)
	}
	send(2)
	bad := alertConfig(t, dir, table("/bad"), nil)
	bad.Alert.Webhooks[0].SecretFile = filepath.Join(dir, "none")
	if err := r.svc.Reload(t.Context(), bad); err == nil || !strings.Contains(err.Error(), "secret") {
		t.Errorf("a reload with a secret that cannot be read: %v", err)
	}
	send(3)
	mu.Lock()
	defer mu.Unlock()
	if paths[1] != "/old" || paths[2] != "/new" || paths[3] != "/new" {
		t.Errorf("the deliveries went to %v", paths)
	}
}
