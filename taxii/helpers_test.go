package taxii

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pelletier/go-toml/v2"

	"wormwatch/internal/param"
)

// examplePath is the example alliance the tests and docs/share.md use.
const examplePath = "../docs/examples/alliance.toml"

// The example's collections.
const (
	collClear       = "a3541e4d-5532-480a-9250-10940343a972"
	collGreen       = "143c6b80-1ad2-4a60-a20f-a58bb4f1233b"
	collAmber       = "74788471-9906-47d8-8ef5-623bb64b1572"
	collAmberStrict = "a133c3f4-b4a5-4ef9-9109-7fe88842d0e0"
	collRed         = "a770950a-3f8f-4f13-a0a1-2a31b705158c"
	collInbox       = "23beb225-b49a-4a5d-858e-b376524dd455"
)

// loadConfigFile reads the [taxii] table of a wormwatch serve
// configuration file with internal/param, as serve will, and validates it.
func loadConfigFile(t testing.TB, path string) Config {
	t.Helper()
	c, err := parseConfigFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// parseConfigFile is loadConfigFile's work. Other tables than [taxii]
// ([service]) are serve's and are not looked at here.
func parseConfigFile(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		return Config{}, fmt.Errorf("%s: %v", path, err)
	}
	for k := range doc {
		if k != "taxii" && k != "service" {
			return Config{}, fmt.Errorf("%s: table [%s] is neither serve's [service] nor [taxii]", path, k)
		}
	}
	only, err := toml.Marshal(map[string]any{"taxii": doc["taxii"]})
	if err != nil {
		return Config{}, err
	}
	var wrap struct {
		TAXII Config `toml:"taxii"`
	}
	l := param.NewLoader(&wrap)
	if err := l.Decode(only); err != nil {
		return Config{}, fmt.Errorf("%s: %v", path, err)
	}
	if errs := l.Validate(); len(errs) > 0 {
		return Config{}, fmt.Errorf("%s: %v", path, errs[0])
	}
	return wrap.TAXII, nil
}

// testClock is a clock tests move by hand.
type testClock struct{ ns atomic.Int64 }

func newClock() *testClock {
	c := &testClock{}
	c.ns.Store(time.Date(2001, 7, 19, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *testClock) now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *testClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// env is a server under test behind an httptest server.
type env struct {
	t     testing.TB
	s     *Server
	ts    *httptest.Server
	file  string
	clock *testClock
}

// start opens a server on cfg with a database in a temporary folder.
func start(t testing.TB, cfg Config) *env {
	t.Helper()
	return startAt(t, cfg, filepath.Join(t.TempDir(), "taxii.db"), false)
}

// startAt opens a server on the database file, behind TLS when tls.
func startAt(t testing.TB, cfg Config, file string, tls bool) *env {
	t.Helper()
	clock := newClock()
	s, err := newServer(cfg, file, nil, clock.now)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, s: s, file: file, clock: clock}
	if tls {
		e.ts = httptest.NewUnstartedServer(s.Handler())
		e.ts.StartTLS()
	} else {
		e.ts = httptest.NewServer(s.Handler())
	}
	t.Cleanup(func() {
		e.ts.Close()
		s.Close()
	})
	return e
}

// example starts a server on the example alliance.
func example(t testing.TB) *env { return start(t, loadConfigFile(t, examplePath)) }

// who is how a test request authenticates: a member's test token, Basic,
// or nothing.
type who struct {
	token, user, pass string
}

var (
	north  = who{token: "north-test-token"}
	south  = who{token: "south-test-token"}
	east   = who{token: "east-test-token"}
	nobody = who{}
)

// response is an answer read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

// req sends a request with the TAXII Accept header (and Content-Type for
// a body) unless hdr replaces them.
func (e *env) req(w who, method, path string, body []byte, hdr ...string) response {
	e.t.Helper()
	r, err := http.NewRequest(method, e.ts.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	r.Header.Set("Accept", MediaTAXII)
	if body != nil {
		r.Header.Set("Content-Type", MediaTAXII)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			r.Header.Del(hdr[i])
		} else {
			r.Header.Set(hdr[i], hdr[i+1])
		}
	}
	switch {
	case w.token != "":
		r.Header.Set("Authorization", "Bearer "+w.token)
	case w.user != "":
		r.SetBasicAuth(w.user, w.pass)
	}
	resp, err := e.ts.Client().Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

// get is req GET, failing unless the status is want.
func (e *env) get(w who, path string, want int) response {
	e.t.Helper()
	r := e.req(w, "GET", path, nil)
	if r.status != want {
		e.t.Fatalf("GET %s: status %d, want %d: %s", path, r.status, want, r.body)
	}
	return r
}

// root is the API root's path.
const root = "/taxii2/alliance/"

// objectsPath is a collection's objects path.
func objectsPath(coll string) string { return root + "collections/" + coll + "/objects/" }

// post posts objects to a collection and returns the status resource,
// failing unless the answer is 202.
func (e *env) post(w who, coll string, objs ...[]byte) statusResource {
	e.t.Helper()
	r := e.req(w, "POST", objectsPath(coll), envelopeOf(objs...))
	if r.status != http.StatusAccepted {
		e.t.Fatalf("POST to %s: status %d: %s", coll, r.status, r.body)
	}
	var st statusResource
	if err := json.Unmarshal(r.body, &st); err != nil {
		e.t.Fatal(err)
	}
	return st
}

// envelopeOf wraps objects in an envelope.
func envelopeOf(objs ...[]byte) []byte {
	raws := make([]json.RawMessage, len(objs))
	for i, o := range objs {
		raws[i] = o
	}
	b, _ := json.Marshal(map[string]any{"objects": raws})
	return b
}

// envelope is a TAXII envelope as read back.
type envelope struct {
	More    bool              `json:"more"`
	Next    string            `json:"next"`
	Objects []json.RawMessage `json:"objects"`
}

// ids reads the "id" and "modified" (or version) of each object.
func (en envelope) ids() []string {
	var out []string
	for _, o := range en.Objects {
		var m struct {
			ID       string `json:"id"`
			Modified string `json:"modified"`
		}
		json.Unmarshal(o, &m)
		out = append(out, m.ID+"@"+m.Modified)
	}
	return out
}

// decode reads a JSON body.
func decode[T any](t testing.TB, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return v
}

// stix makes a STIX 2.1 indicator; extra adds or replaces properties (a
// nil value removes one).
func stix(id string, modified time.Time, extra map[string]any) []byte {
	m := map[string]any{
		"type": "indicator", "spec_version": "2.1", "id": id,
		"created":         "2001-07-19T00:00:00.000Z",
		"modified":        modified.UTC().Format("2006-01-02T15:04:05.000Z"),
		"name":            "Code Red requests",
		"pattern":         "[url:value MATCHES '/default\\\\.ida\\\\?N+']",
		"pattern_type":    "stix",
		"pattern_version": "2.1",
		"valid_from":      "2001-07-19T00:00:00Z",
		"indicator_types": []string{"malicious-activity"},
	}
	typ, _ := extra["type"].(string)
	if typ != "" && typ != "indicator" {
		for _, k := range []string{"name", "pattern", "pattern_type", "pattern_version", "valid_from", "indicator_types"} {
			delete(m, k)
		}
	}
	for k, v := range extra {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, _ := json.Marshal(m)
	return b
}

// newID is a fresh indicator id.
func newID() string { return "indicator--" + uuid.NewString() }

// day is the modified time of a first version.
var day = time.Date(2001, 7, 19, 0, 0, 0, 0, time.UTC)

// marked makes an indicator marked with a TLP level (and recipients).
func marked(id string, t TLP, recipients ...string) []byte {
	extra := map[string]any{"object_marking_refs": []string{MarkingID(t)}}
	if len(recipients) > 0 {
		extra[RecipientsProperty] = recipients
	}
	return stix(id, day, extra)
}

// httptestServer is httptest.Server.
type httptestServer = httptest.Server

// newUnstartedTLS is an httptest server of h, to be started with StartTLS.
func newUnstartedTLS(h http.Handler) *httptest.Server {
	ts := httptest.NewUnstartedServer(h)
	ts.TLS = &tls.Config{}
	return ts
}

// bytesReader is a reader of b.
func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// itoa formats n.
func itoa(n int64) string { return fmt.Sprint(n) }

// filepathTemp makes a temporary folder that lives as long as the process
// (the fuzzing server's).
func filepathTemp() (string, error) { return os.MkdirTemp("", "taxii-fuzz-") }
