package taxii

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// objectsDigest sums the objects table, rows and bytes: what a refused
// request must leave unchanged.
func (e *env) objectsDigest() string {
	e.t.Helper()
	rows, err := e.s.db.r.Query("SELECT seq, collection, id, version, deleted IS NOT NULL, coalesce(hex(data), '') FROM objects ORDER BY seq")
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	h := sha256.New()
	n := 0
	for rows.Next() {
		var seq int64
		var c, id, v, data string
		var del bool
		if err := rows.Scan(&seq, &c, &id, &v, &del, &data); err != nil {
			e.t.Fatal(err)
		}
		fmt.Fprintln(h, seq, c, id, v, del, data)
		n++
	}
	return fmt.Sprintf("%d rows %x", n, h.Sum(nil))
}

// unchanged runs fn and fails if the stored objects changed.
func (e *env) unchanged(what string, fn func()) {
	e.t.Helper()
	before := e.objectsDigest()
	fn()
	if after := e.objectsDigest(); after != before {
		e.t.Errorf("%s changed the store: %s -> %s", what, before, after)
	}
}

func TestMediaTypes(t *testing.T) {
	e := example(t)
	e.post(north, collClear, stix(newID(), day, nil))
	for _, accept := range []string{"application/json", "application/taxii+json;version=2.0", "text/html", ""} {
		if r := e.req(north, "GET", objectsPath(collClear), nil, "Accept", accept); r.status != http.StatusNotAcceptable {
			t.Errorf("Accept %q: status %d, want 406", accept, r.status)
		}
	}
	for _, accept := range []string{"application/taxii+json", "application/taxii+json; version=2.1", "text/html, application/taxii+json;version=2.1;q=0.9", "*/*"} {
		if r := e.req(north, "GET", objectsPath(collClear), nil, "Accept", accept); r.status != 200 {
			t.Errorf("Accept %q: status %d, want 200", accept, r.status)
		}
	}
	e.unchanged("POSTs of other media types", func() {
		for _, ct := range []string{"application/json", "application/stix+json;version=2.1", "application/taxii+json;version=2.0", "", "text/plain"} {
			if r := e.req(north, "POST", objectsPath(collClear), envelopeOf(stix(newID(), day, nil)), "Content-Type", ct); r.status != http.StatusUnsupportedMediaType {
				t.Errorf("Content-Type %q: status %d, want 415", ct, r.status)
			}
		}
	})
	if r := e.req(north, "PUT", objectsPath(collClear), nil); r.status != 405 || r.header.Get("Allow") != "GET,POST" {
		t.Errorf("PUT: status %d, Allow %q", r.status, r.header.Get("Allow"))
	}
}

func TestBadBodies(t *testing.T) {
	cfg := loadConfigFile(t, examplePath)
	cfg.MaxContentLength = 4096
	e := start(t, cfg)
	e.post(north, collClear, stix(newID(), day, nil))
	big := envelopeOf(stix(newID(), day, map[string]any{"description": strings.Repeat("x", 5000)}))
	cases := []struct {
		name string
		body []byte
		want int
	}{
		{"oversized", big, 413},
		{"malformed JSON", []byte(`{"objects": [{"type": "indicator",`), 422},
		{"not an object", []byte(`[1, 2]`), 422},
		{"null", []byte(`null`), 422},
		{"no objects", []byte(`{"more": false}`), 422},
		{"objects not a list", []byte(`{"objects": {"type": "indicator"}}`), 422},
		{"empty objects", []byte(`{"objects": []}`), 422},
		{"empty body", []byte{}, 422},
	}
	for _, c := range cases {
		e.unchanged(c.name, func() {
			r := e.req(north, "POST", objectsPath(collClear), c.body)
			if r.status != c.want || decode[taxiiError](t, r.body).HTTPStatus != fmt.Sprint(c.want) {
				t.Errorf("%s: status %d, want %d: %s", c.name, r.status, c.want, r.body)
			}
		})
	}
	// A body over the limit without a Content-Length (chunked).
	e.unchanged("chunked oversized", func() {
		req, _ := http.NewRequest("POST", e.ts.URL+objectsPath(collClear), struct{ *bytes.Reader }{bytes.NewReader(big)})
		req.Header.Set("Content-Type", MediaTAXII)
		req.Header.Set("Accept", MediaTAXII)
		req.Header.Set("Authorization", "Bearer north-test-token")
		resp, err := e.ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 413 || req.ContentLength > 0 {
			t.Errorf("chunked: status %d (Content-Length %d), want 413", resp.StatusCode, req.ContentLength)
		}
	})
}

func TestBadObjects(t *testing.T) {
	e := example(t)
	unknownMark := "marking-definition--0b3ab5a9-2b6f-4b2d-9a39-2b0a1bcfe2a7"
	cases := []struct {
		name string
		obj  []byte
		want string
	}{
		{"unknown type", []byte(`{"type":"x-worm-thing","spec_version":"2.1","id":"x-worm-thing--6b6a6a2e-2d6c-4f0e-8d3a-3c1d2e4f5a6b","created":"2001-07-19T00:00:00.000Z","modified":"2001-07-19T00:00:00.000Z"}`), "unknown object type"},
		{"bundle as an object", []byte(`{"type":"bundle","id":"bundle--6b6a6a2e-2d6c-4f0e-8d3a-3c1d2e4f5a6b","objects":[]}`), "unknown object type"},
		{"spec_version 2.0", stix(newID(), day, map[string]any{"spec_version": "2.0"}), "spec_version 2.0"},
		{"no spec_version", stix(newID(), day, map[string]any{"spec_version": nil}), "no spec_version"},
		{"schema: no pattern", stix(newID(), day, map[string]any{"pattern": nil}), "schema"},
		{"schema: bad timestamp", stix(newID(), day, map[string]any{"modified": "yesterday"}), "schema"},
		{"id of another type", stix("malware--6b6a6a2e-2d6c-4f0e-8d3a-3c1d2e4f5a6b", day, nil), "does not start with its type"},
		{"unknown marking", stix(newID(), day, map[string]any{"object_marking_refs": []string{unknownMark}}), "no such marking-definition"},
		{"unknown granular marking", stix(newID(), day, map[string]any{"granular_markings": []map[string]any{{"marking_ref": unknownMark, "selectors": []string{"name"}}}}), "no such marking-definition"},
		{"recipients below RED", stix(newID(), day, map[string]any{RecipientsProperty: []string{"isp-south"}}), "only for objects served as TLP:RED"},
		{"unknown recipient", marked(newID(), Red, "isp-west"), `no member named "isp-west"`},
		{"recipients not a list", stix(newID(), day, map[string]any{"object_marking_refs": []string{MarkingID(Red)}, RecipientsProperty: "isp-south"}), "list of member names"},
		{"not an object", []byte(`"indicator"`), "not a JSON object"},
		{"no type", []byte(`{"id":"indicator--6b6a6a2e-2d6c-4f0e-8d3a-3c1d2e4f5a6b"}`), "no type"},
	}
	for _, c := range cases {
		e.unchanged(c.name, func() {
			st := e.post(north, collClear, c.obj)
			if st.TotalCount != 1 || st.FailureCount != 1 || st.SuccessCount != 0 || !strings.Contains(st.Failures[0].Message, c.want) {
				t.Errorf("%s: status %+v, want a failure saying %q", c.name, st, c.want)
			}
		})
	}
	// One bad object does not keep the good ones out.
	good := newID()
	st := e.post(north, collClear, stix(good, day, nil), cases[0].obj)
	if st.SuccessCount != 1 || st.FailureCount != 1 || st.Successes[0].ID != good {
		t.Fatalf("mixed envelope: %+v", st)
	}
}

func TestMarkingDefinitions(t *testing.T) {
	e := example(t)
	def := []byte(`{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--0b3ab5a9-2b6f-4b2d-9a39-2b0a1bcfe2a7","created":"2001-07-19T00:00:00.000Z","definition_type":"statement","definition":{"statement":"Copyright 2001 CERT North"}}`)
	ref := map[string]any{"object_marking_refs": []string{"marking-definition--0b3ab5a9-2b6f-4b2d-9a39-2b0a1bcfe2a7"}}
	if st := e.post(north, collClear, def, stix(newID(), day, ref)); st.SuccessCount != 2 {
		t.Fatalf("a marking defined in the same envelope: %+v", st)
	}
	if st := e.post(south, collClear, stix(newID(), day, ref)); st.SuccessCount != 1 {
		t.Fatalf("a marking defined in the collection: %+v", st)
	}
	if st := e.post(south, collAmber, stix(newID(), day, ref)); st.FailureCount != 1 {
		t.Fatalf("a marking of another collection: %+v", st)
	}
}

func TestDuplicateVersions(t *testing.T) {
	e := example(t)
	id := newID()
	obj := marked(id, AmberStrict)
	e.post(north, collClear, obj)
	if st := e.post(north, collClear, obj); st.SuccessCount != 1 || st.Successes[0].Message != "already stored" {
		t.Fatalf("the same object again by its poster: %+v", st)
	}
	e.unchanged("the same id and version by another organisation", func() {
		// east cannot see north's AMBER+STRICT object; it learns only
		// that the version exists, not what it holds.
		st := e.post(east, collClear, marked(id, Clear))
		if st.FailureCount != 1 || !strings.Contains(st.Failures[0].Message, "already") {
			t.Fatalf("%+v", st)
		}
		if st := e.post(north, collClear, obj, obj); st.SuccessCount != 2 {
			t.Fatalf("twice in one envelope by its poster, stored: %+v", st)
		}
	})
	e.get(east, objectsPath(collClear)+id+"/", 404)
}

// TestAcrossGroups: ids another group's members may not see are 404 on
// every endpoint, exactly as ids that do not exist, and deleting them
// changes nothing.
func TestAcrossGroups(t *testing.T) {
	e := example(t)
	id := newID()
	e.post(north, collAmber, marked(id, Amber)) // responders only
	missing := newID()
	for _, p := range []string{"%s/", "%s/versions/"} {
		a := e.get(east, objectsPath(collAmber)+fmt.Sprintf(p, id), 404)
		b := e.get(east, objectsPath(collAmber)+fmt.Sprintf(p, missing), 404)
		if strings.ReplaceAll(string(a.body), id, "X") != strings.ReplaceAll(string(b.body), missing, "X") {
			t.Errorf("the 404 of a hidden object %s differs from a missing one's %s", a.body, b.body)
		}
	}
	for _, q := range []string{"?match[id]=" + id, "?match[id]=" + id + "&match[version]=all", ""} {
		if en := decode[envelope](t, e.get(east, objectsPath(collAmber)+q, 200).body); len(en.Objects) != 0 {
			t.Errorf("%s: %d objects", q, len(en.Objects))
		}
	}
	e.unchanged("deletes of others' objects", func() {
		if r := e.req(east, "DELETE", objectsPath(collAmber)+id+"/", nil); r.status != 404 {
			t.Errorf("delete of a hidden object: %d, want 404", r.status)
		}
		if r := e.req(south, "DELETE", objectsPath(collAmber)+id+"/", nil); r.status != 403 {
			t.Errorf("delete of another organisation's visible object: %d, want 403", r.status)
		}
	})
	e.get(south, objectsPath(collAmber)+id+"/", 200)
}

func TestBruteForce(t *testing.T) {
	e := example(t)
	bad := who{user: "north", pass: "guess"}
	for i := range e.s.cfg.MaxFailures {
		if r := e.req(bad, "GET", "/taxii2/", nil); r.status != 401 {
			t.Fatalf("failure %d: status %d, want 401", i+1, r.status)
		}
	}
	good := who{user: "north", pass: "north-test-password"}
	r := e.req(good, "GET", "/taxii2/", nil)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "300" {
		t.Fatalf("after %d failures the right password: status %d, Retry-After %q; want 429, 300", e.s.cfg.MaxFailures, r.status, r.header.Get("Retry-After"))
	}
	if r := e.req(north, "GET", "/taxii2/", nil); r.status != 429 {
		t.Fatalf("the address is locked out, tokens too: status %d", r.status)
	}
	e.clock.advance(e.s.cfg.Lockout.D() + time.Second)
	e.get(good, "/taxii2/", 200)
	// Failures spread over more than the window do not lock.
	for range 3 * e.s.cfg.MaxFailures {
		e.req(who{token: "guess"}, "GET", "/taxii2/", nil)
		e.clock.advance(e.s.cfg.FailureWindow.D() / time.Duration(e.s.cfg.MaxFailures-2)) // at most max-1 in a window
	}
	e.get(north, "/taxii2/", 200)
	// The failures are in the audit log.
	entries, _, err := e.s.Audit(t.Context(), AuditQuery{Action: "authenticate"})
	if err != nil || len(entries) != 4*e.s.cfg.MaxFailures {
		t.Fatalf("%d failed authentications audited (%v), want %d", len(entries), err, 4*e.s.cfg.MaxFailures)
	}
}

func TestCleartextCredentials(t *testing.T) {
	e := example(t)
	r := httptest.NewRequest("GET", "/taxii2/", nil)
	r.RemoteAddr = "192.0.2.7:40000"
	r.Header.Set("Accept", MediaTAXII)
	r.SetBasicAuth("north", "north-test-password")
	w := httptest.NewRecorder()
	e.s.Handler().ServeHTTP(w, r)
	if w.Code != 401 || !strings.Contains(w.Body.String(), "TLS") {
		t.Fatalf("Basic over plain HTTP from afar: %d %s", w.Code, w.Body)
	}
	r.RemoteAddr = "127.0.0.1:40000"
	w = httptest.NewRecorder()
	e.s.Handler().ServeHTTP(w, r)
	if w.Code != 200 {
		t.Fatalf("from loopback: %d %s", w.Code, w.Body)
	}
}
