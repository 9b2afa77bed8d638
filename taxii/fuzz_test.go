package taxii

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	fuzzOnce sync.Once
	fuzzEnv  *env
)

// fuzzServer is one server for a fuzzing process, on the example
// alliance with a few objects.
func fuzzServer(t *testing.T) *env {
	fuzzOnce.Do(func() {
		clock := newClock()
		dir, err := filepathTemp()
		if err != nil {
			t.Fatal(err)
		}
		cfg := loadConfigFile(t, examplePath)
		cfg.MaxFailures = 100_000 // the fuzzer's bad passwords must not lock loopback out (TestBruteForce tests that)
		cfg.Members[0].PasswordHash = mustHash(t, "north-test-password")
		s, err := newServer(cfg, filepath.Join(dir, "taxii.db"), nil, clock.now)
		if err != nil {
			t.Fatal(err)
		}
		fuzzEnv = &env{t: t, s: s, clock: clock}
		for _, w := range []string{"north-test-token", "south-test-token"} {
			body := envelopeOf(stix(newID(), day, nil), marked(newID(), Amber), marked(newID(), Red, "vendor-east"))
			fuzzEnv.serve("POST", objectsPath(collClear), "", body, "Bearer "+w, MediaTAXII, MediaTAXII)
		}
	})
	return fuzzEnv
}

// serve runs one request through the handler from loopback.
func (e *env) serve(method, path, query string, body []byte, auth, accept, ctype string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", "/", bytes.NewReader(body))
	r.Method, r.URL.Path, r.URL.RawQuery = method, path, query
	r.RemoteAddr = "127.0.0.1:5555"
	r.Header.Set("Authorization", auth)
	r.Header.Set("Accept", accept)
	r.Header.Set("Content-Type", ctype)
	w := httptest.NewRecorder()
	e.s.Handler().ServeHTTP(w, r)
	return w
}

// versionsHeld counts the versions in memory, present and deleted.
func (s *Server) versionsHeld() (present, deleted int) {
	for _, c := range s.order {
		c.mu.RLock()
		for i := range c.vers {
			if c.vers[i].deleted {
				deleted++
			} else {
				present++
			}
		}
		c.mu.RUnlock()
	}
	return present, deleted
}

// allowedStatus are the answers the spec gives the handlers.
var allowedStatus = map[int]bool{200: true, 202: true, 400: true, 401: true, 403: true, 404: true, 405: true, 406: true, 413: true, 415: true, 422: true, 429: true}

// FuzzHandler sends arbitrary requests: the answer is one of the spec's
// statuses with a JSON body (empty only for a DELETE's 200), and only a
// 202 POST or a 200 DELETE changes what is stored.
func FuzzHandler(f *testing.F) {
	f.Add(uint8(0), "/taxii2/", "", []byte(nil), uint8(0), uint8(0))
	f.Add(uint8(0), objectsPath(collClear), "limit=1&match[type]=indicator,malware&match[version]=all", []byte(nil), uint8(1), uint8(0))
	f.Add(uint8(1), objectsPath(collClear), "", envelopeOf(stix(newID(), day, nil)), uint8(0), uint8(0))
	f.Add(uint8(2), objectsPath(collClear)+newID()+"/", "match[version]=first", []byte(nil), uint8(0), uint8(0))
	f.Add(uint8(0), root+"collections/"+collAmber+"/manifest/", "added_after=2001-07-19T00:00:00Z&next=3", []byte(nil), uint8(2), uint8(1))
	f.Add(uint8(0), "/taxii2/audit/", "member=isp-south&versions=true", []byte(nil), uint8(0), uint8(2))
	f.Add(uint8(1), objectsPath(collRed), "", []byte(`{"objects":[{"type":"indicator"}]}`), uint8(2), uint8(3))
	methods := []string{"GET", "POST", "DELETE", "PUT", "HEAD"}
	auths := []string{"Bearer north-test-token", "Bearer south-test-token", "Bearer east-test-token", "Basic bm9ydGg6eA==", ""}
	accepts := []string{MediaTAXII, "application/json", "*/*", ""}
	f.Fuzz(func(t *testing.T, m uint8, path, query string, body []byte, a, acc uint8) {
		e := fuzzServer(t)
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		method := methods[int(m)%len(methods)]
		p0, d0 := e.s.versionsHeld()
		w := e.serve(method, path, query, body, auths[int(a)%len(auths)], accepts[int(acc)%len(accepts)], MediaTAXII)
		if !allowedStatus[w.Code] {
			t.Fatalf("%s %s?%s: status %d: %s", method, path, query, w.Code, w.Body)
		}
		if b := w.Body.Bytes(); (len(b) > 0 || !(method == "DELETE" && w.Code == 200) && method != "HEAD") && !json.Valid(b) {
			t.Fatalf("%s %s?%s: %d, not JSON: %q", method, path, query, w.Code, b)
		}
		p1, d1 := e.s.versionsHeld()
		changed := p1 != p0 || d1 != d0
		if changed && !(method == "POST" && w.Code == 202) && !(method == "DELETE" && w.Code == 200) {
			t.Fatalf("%s %s?%s: %d changed the store (%d/%d -> %d/%d)", method, path, query, w.Code, p0, d0, p1, d1)
		}
	})
}

// FuzzPost posts arbitrary bodies: either a request error with nothing
// stored, or a status whose counts add up, and whose successes are
// served back.
func FuzzPost(f *testing.F) {
	f.Add(envelopeOf(stix(newID(), day, nil)))
	f.Add(envelopeOf(marked(newID(), Red, "isp-south"), []byte(`{"type":"ipv4-addr","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"198.51.100.3"}`)))
	f.Add([]byte(`{"objects":[{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--0b3ab5a9-2b6f-4b2d-9a39-2b0a1bcfe2a7","created":"2001-07-19T00:00:00.000Z","definition_type":"statement","definition":{"statement":"x"}}]}`))
	f.Add([]byte(`{"objects":[1,"a",null,{}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		e := fuzzServer(t)
		p0, _ := e.s.versionsHeld()
		w := e.serve("POST", objectsPath(collClear), "", body, "Bearer south-test-token", MediaTAXII, MediaTAXII)
		p1, _ := e.s.versionsHeld()
		if w.Code != 202 {
			if p1 != p0 || (w.Code != 413 && w.Code != 422) {
				t.Fatalf("status %d (store %d -> %d): %s", w.Code, p0, p1, w.Body)
			}
			return
		}
		var st statusResource
		if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil {
			t.Fatal(err)
		}
		if st.TotalCount != st.SuccessCount+st.FailureCount || st.SuccessCount != len(st.Successes) || st.FailureCount != len(st.Failures) {
			t.Fatalf("status counts do not add up: %+v", st)
		}
		for _, s := range st.Successes {
			if r := e.serve("GET", objectsPath(collClear)+s.ID+"/", "match[version]=all", nil, "Bearer south-test-token", MediaTAXII, ""); r.Code != 200 {
				t.Fatalf("%s stored but GET answers %d", s.ID, r.Code)
			}
		}
	})
}

// mustHash hashes a password with the fewest iterations allowed, so that
// the fuzzer's Basic attempts cost little.
func mustHash(t *testing.T, pass string) string {
	h, err := HashPassword(pass, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
