package serve

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wormwatch/forecast"
	"wormwatch/serve/servetest"
)

const (
	testReadToken = "read-token-0123456789abcdef"
	testPushToken = "push-token-0123456789abcdef"
)

// tokenFile writes a token to a file of dir and returns its path.
func tokenFile(t *testing.T, dir, name, tok string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	writeFile(t, p, []byte(tok+"\n"))
	return p
}

// apiService runs a service with a read token, a remote sensor "far" and
// the honeynet log followed as sensor web, read to its end.
func apiService(t *testing.T, sets ...string) (*running, string) {
	t.Helper()
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	data, err := os.ReadFile("../testdata/shared/logs/honeynet2004_access_log.10")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, log, data)
	conf := filepath.Join(dir, "serve.toml")
	writeFile(t, conf, []byte("[[remote]]\nsensor = \"far\"\ntoken_file = \""+tokenFile(t, dir, "push", testPushToken)+"\"\n"))
	all := servetest.Sets(filepath.Join(dir, "data"), append([]string{"service.token_file=" + tokenFile(t, dir, "read", testReadToken)}, sets...)...)
	r := start(t, loadConfig(t, conf, []Input{logInput(t, log, "name=web")}, all), Options{})
	auth := []string{"Authorization", "Bearer " + testReadToken}
	servetest.WaitFor(t, "the log read", func() bool {
		code, body := r.get(t, "/api/v1/status", auth...)
		return code == 200 && bytes.Contains(body, []byte(`"lines": 518`)) && !bytes.Contains(body, []byte(`"position": ""`))
	})
	return r, log
}

// errorOf returns the error of a JSON error body, failing if it is none.
func errorOf(t *testing.T, body []byte) string {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
		t.Fatalf("not a JSON error: %s", body)
	}
	return e.Error
}

// TestAPIErrors checks the answers to requests that are wrong: each a
// JSON error with its status, the read token on every /api/ request but
// pushes, which need their sensor's, and the bounds of bodies.
func TestAPIErrors(t *testing.T) {
	t.Parallel()
	r, _ := apiService(t, "service.max_push_bytes=1048576")
	auth := []string{"Authorization", "Bearer " + testReadToken}
	c := http.DefaultClient
	for _, tc := range []struct {
		method, path string
		body         string
		header       []string
		code         int
		msg          string
	}{
		{"GET", "/api/v1/detect", "", nil, 401, "token"},
		{"GET", "/api/v1/detect", "", []string{"Authorization", "Bearer nope-nope-nope-nope"}, 401, "token"},
		{"GET", "/api/v1/detect", "", []string{"Authorization", "Basic " + testReadToken}, 401, "token"},
		{"GET", "/api/v1/events", "", nil, 401, "token"},
		{"POST", "/api/v1/detect", "x", auth, 405, "method POST"},
		{"DELETE", "/api/v1/series/web", "", auth, 405, "allowed: GET, POST"},
		{"GET", "/api/v1/nothing", "", auth, 404, "no such endpoint"},
		{"GET", "/api/v1/detect?x=1", "", auth, 400, `unknown parameter "x"`},
		{"GET", "/api/v1/series/web?limit=0", "", auth, 400, "limit=0"},
		{"GET", "/api/v1/series/web?limit=1&limit=2", "", auth, 400, "given 2 times"},
		{"GET", "/api/v1/series/web?from=yesterday", "", auth, 400, "RFC 3339"},
		{"GET", "/api/v1/series/web?from=2001-01-02T00:00:00Z&to=2001-01-01T00:00:00Z", "", auth, 400, "not before"},
		{"GET", "/api/v1/series/web?format=xml", "", auth, 400, "format=xml"},
		{"GET", "/api/v1/series/nope", "", auth, 404, "no series nope"},
		{"GET", "/api/v1/series/web/port/tcp/080", "", auth, 400, "leading zeros"},
		{"GET", "/api/v1/series/..%2f..%2fetc", "", auth, 400, "series"},
		{"GET", "/api/v1/forecast", "", auth, 400, "sensor: missing"},
		{"GET", "/api/v1/forecast?sensor=web&family=codered2&port=tcp/80", "", auth, 400, "not both"},
		{"GET", "/api/v1/forecast?sensor=Web", "", auth, 400, "sensor=Web"},
		{"GET", "/api/v1/forecast?sensor=nope", "", auth, 404, "no series nope"},
		{"GET", "/api/v1/alarms?after=-1", "", auth, 400, "after=-1"},
		{"GET", "/api/v1/alarms?series=a/b", "", auth, 400, "series=a/b"},
		{"GET", "/api/v1/events", "", append([]string{"Last-Event-ID", "x"}, auth...), 400, "Last-Event-ID"},
		{"POST", "/api/v1/series/far", "time,probes\n", auth, 401, "token"},
		{"POST", "/api/v1/series/web", "x", []string{"Authorization", "Bearer " + testPushToken}, 403, "no [[remote]]"},
		{"POST", "/api/v1/series/Far", "x", []string{"Authorization", "Bearer " + testPushToken}, 400, "sensor"},
		{"POST", "/api/v1/series/far", "time,probes\n", []string{"Authorization", "Bearer " + testPushToken}, 400, "column"},
		{"POST", "/api/v1/series/far", strings.Repeat("x", 2<<20), []string{"Authorization", "Bearer " + testPushToken}, 413, "larger than"},
		{"POST", "/api/v1/series/far?interval=1ms", "", []string{"Authorization", "Bearer " + testPushToken}, 400, "interval=1ms"},
		{"POST", "/api/v1/series/far", `{"size": 1, "rows": []`, []string{"Authorization", "Bearer " + testPushToken, "Content-Type", "application/json"}, 400, "JSON"},
		{"POST", "/api/v1/series/far", "time,probes,sources,new_sources,cumulative_sources,size\n2001-07-19T10:00:00Z,3,2,2,2,1\n", []string{"Authorization", "Bearer " + testPushToken}, 400, "interval"},
	} {
		code, body := servetest.Request(t, c, tc.method, r.url+tc.path, strings.NewReader(tc.body), tc.header...)
		if code != tc.code {
			t.Errorf("%s %s: %d, want %d: %s", tc.method, tc.path, code, tc.code, body)
			continue
		}
		if msg := errorOf(t, body); !strings.Contains(msg, tc.msg) {
			t.Errorf("%s %s: %q, want it to say %q", tc.method, tc.path, msg, tc.msg)
		}
	}
	for _, p := range []string{"/healthz", "/readyz"} { // no token: for probes
		if code, body := r.get(t, p); code != 200 {
			t.Errorf("%s: %d %s", p, code, body)
		}
	}
	if code, body := r.get(t, "/api/v1/detect", auth...); code != 200 || !bytes.Contains(body, []byte(`"schema": "wormwatch-detect/1"`)) {
		t.Errorf("detect with the token: %d %.200s", code, body)
	}
}

// TestPush checks a remote sensor's pushes: CSV as detect --series writes
// it, then JSON, a row sent again taken as it was (remote_test.go checks
// the rest), listed with origin remote and read back as CSV byte for byte.
func TestPush(t *testing.T) {
	t.Parallel()
	r, _ := apiService(t, "service.max_push_bytes=1048576")
	push := []string{"Authorization", "Bearer " + testPushToken}
	auth := []string{"Authorization", "Bearer " + testReadToken}
	csv := "time,probes,sources,new_sources,cumulative_sources,size\n2001-07-19T10:00:00Z,3,2,2,2,65536\n2001-07-19T10:01:00Z,5,3,1,3,65536\n"
	if code, body := servetest.Request(t, http.DefaultClient, "POST", r.url+"/api/v1/series/far", strings.NewReader(csv), push...); code != 200 {
		t.Fatalf("push CSV: %d %s", code, body)
	}
	js := `{"size": 65536, "rows": [{"time": "2001-07-19T10:01:00Z", "probes": 5, "sources": 3, "new_sources": 1, "cumulative_sources": 3}, {"time": "2001-07-19T10:02:00Z", "probes": 1, "sources": 1, "new_sources": 0, "cumulative_sources": 3}]}`
	if code, body := servetest.Request(t, http.DefaultClient, "POST", r.url+"/api/v1/series/far", strings.NewReader(js), append(push, "Content-Type", "application/json")...); code != 200 {
		t.Fatalf("push JSON: %d %s", code, body)
	}
	code, got := r.get(t, "/api/v1/series/far?format=csv", auth...)
	want := "time,probes,sources,new_sources,cumulative_sources,size\n2001-07-19T10:00:00Z,3,2,2,2,65536\n2001-07-19T10:01:00Z,5,3,1,3,65536\n2001-07-19T10:02:00Z,1,1,0,3,65536\n"
	if code != 200 || string(got) != want {
		t.Errorf("the pushed series as CSV: %d\n%s\nwant\n%s", code, got, want)
	}
	bad := `{"size": 65536, "interval_seconds": 300, "rows": [{"time": "2001-07-19T10:05:00Z", "probes": 1, "sources": 1, "new_sources": 0, "cumulative_sources": 3}]}`
	if code, body := servetest.Request(t, http.DefaultClient, "POST", r.url+"/api/v1/series/far", strings.NewReader(bad), append(push, "Content-Type", "application/json")...); code != 409 {
		t.Errorf("a push of another interval: %d %s", code, body)
	}
	// The forecast of a remote series is forecast's of its rows as pushed.
	ser, err := forecast.ReadSeries(context.Background(), strings.NewReader(want), "far")
	if err != nil {
		t.Fatal(err)
	}
	set := forecast.DefaultSettings
	a, err := forecast.Analyze(context.Background(), ser, set.Options(32))
	var wantFC bytes.Buffer
	if err == nil {
		err = a.WriteJSON(&wantFC)
	}
	if err != nil {
		t.Fatal(err)
	}
	if code, fc := r.get(t, "/api/v1/forecast?sensor=far", auth...); code != 200 || !bytes.Equal(fc, wantFC.Bytes()) {
		t.Errorf("the forecast of the remote series: %d %s", code, firstDiff(string(fc), wantFC.String()))
	}
	_, list := r.get(t, "/api/v1/series", auth...)
	if !bytes.Contains(list, []byte(`"key": "far"`)) || !bytes.Contains(list, []byte(`"origin": "remote"`)) {
		t.Errorf("the remote series is not listed: %s", list)
	}
}

// TestListenRules checks that an address other than loopback is refused
// without TLS and a token, and accepted with both; the service then
// answers over TLS.
func TestListenRules(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tok := tokenFile(t, dir, "tok", testReadToken)
	cert, key := selfSigned(t, dir)
	for _, tc := range []struct {
		sets []string
		ok   bool
	}{
		{[]string{"service.listen=0.0.0.0:8080"}, false},
		{[]string{"service.listen=:8080"}, false},
		{[]string{"service.listen=192.0.2.1:8080", "service.token_file=" + tok}, false},
		{[]string{"service.listen=[::]:8080", "service.tls_cert=" + cert, "service.tls_key=" + key}, false},
		{[]string{"service.listen=0.0.0.0:8080", "service.tls_cert=" + cert, "service.tls_key=" + key, "service.token_file=" + tok}, true},
		{[]string{"service.listen=localhost:8080"}, true},
		{[]string{"service.listen=[::1]:8080"}, true},
	} {
		_, err := Load("", Overrides{Sets: tc.sets})
		if (err == nil) != tc.ok {
			t.Errorf("%v: %v", tc.sets, err)
		}
		if err != nil && !tc.ok && !strings.Contains(err.Error(), "not a loopback address") {
			t.Errorf("%v: %v", tc.sets, err)
		}
	}
	cfg := testConfig(t, filepath.Join(dir, "data"), nil, "service.tls_cert="+cert, "service.tls_key="+key, "service.token_file="+tok)
	r := start(t, cfg, Options{})
	pool := x509.NewCertPool()
	certPEM, _ := os.ReadFile(cert)
	pool.AppendCertsFromPEM(certPEM)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	if code, body := servetest.Request(t, c, "GET", r.url+"/api/v1/status", nil, "Authorization", "Bearer "+testReadToken); code != 200 {
		t.Errorf("over TLS: %d %s", code, body)
	}
	if code, _ := servetest.Request(t, c, "GET", r.url+"/api/v1/status", nil); code != 401 {
		t.Errorf("over TLS without the token: %d", code)
	}
}

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T, dir string) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "wormwatch test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeFile(t, cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	writeFile(t, key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}))
	return cert, key
}
