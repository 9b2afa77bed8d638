package taxii

// One test per mandatory TAXII Server row of the TAXII 2.1 Interoperability
// Test Document Version 1.0 (CSD01, 30 March 2022), named by the row's
// section. The rows are the test cases of its section 3, which the client
// (TXC, Table 51) and server (TXS, Table 52) checklists share: each test
// here plays the client's part against this server and checks what the
// server must answer. The optional rows (3.13.2, filters on other
// properties) are not implemented: such a filter is refused with 400.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// Collections the interop tests add to the example: for vendor-east,
// sightings-inbox is write-only, advisories read-only, internal neither.
const (
	collAdvisories = "5d7a6f0e-3c1b-4e29-9a53-7b2f0d8c4e61"
	collInternal   = "9e0c1d2b-8f4a-4b6d-a1c3-2e5f7a9b0c84"
)

// interopConfig is the example alliance with the collections above.
func interopConfig(t testing.TB) Config {
	c := loadConfigFile(t, examplePath)
	c.Collections = append(c.Collections,
		Collection{ID: collAdvisories, Alias: "advisories", Title: "Advisories", TLP: "clear", Read: []string{"responders", "suppliers"}, Write: []string{"responders"}},
		Collection{ID: collInternal, Alias: "internal", Title: "Internal", TLP: "clear", Read: []string{"responders"}, Write: []string{"responders"}})
	return c
}

func interop(t *testing.T) *env { return start(t, interopConfig(t)) }

func TestInterop_3_1_1_MissingAuthorization(t *testing.T) {
	e := interop(t)
	r := e.req(nobody, "GET", "/taxii2/", nil)
	if r.status != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", r.status)
	}
	ch := r.header.Values("WWW-Authenticate")
	if len(ch) != 2 || !strings.HasPrefix(ch[0], "Basic ") || !strings.HasPrefix(ch[1], "Bearer ") {
		t.Fatalf("WWW-Authenticate %q: want a Basic and a Bearer challenge", ch)
	}
	if decode[taxiiError](t, r.body).HTTPStatus != "401" {
		t.Fatalf("error resource %s", r.body)
	}
}

func TestInterop_3_1_2_AuthorizationError(t *testing.T) {
	e := interop(t)
	for _, w := range []who{{token: "not-a-token"}, {user: "north", pass: "wrong"}, {user: "nobody", pass: "north-test-password"}} {
		if r := e.req(w, "GET", "/taxii2/", nil); r.status != http.StatusUnauthorized {
			t.Fatalf("%+v: status %d, want 401", w, r.status)
		}
	}
}

func TestInterop_3_1_3_CertificateAuthentication(t *testing.T) {
	cfg := interopConfig(t)
	cert := clientCert(t)
	cfg.Members[1].CertSHA256 = []string{HashToken(cert.Certificate[0])}
	clock := newClock()
	s, err := newServer(cfg, t.TempDir()+"/taxii.db", nil, clock.now)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	e := &env{t: t, s: s, clock: clock}
	e.ts = newTLSServer(t, s)
	e.ts.TLS.ClientAuth = s.ClientAuth()
	if s.ClientAuth() != tls.RequestClientCert {
		t.Fatal("ClientAuth does not ask for client certificates although a member pins one")
	}
	e.ts.StartTLS()
	defer e.ts.Close()
	tr := e.ts.Client().Transport.(*http.Transport)
	tr.TLSClientConfig.Certificates = []tls.Certificate{cert}
	r := e.get(nobody, root+"collections/"+collAdvisories+"/", 200)
	if c := decode[map[string]any](t, r.body); c["can_write"] != true || c["can_read"] != true {
		t.Fatalf("the certificate did not log in as isp-south (a responder, who reads and writes advisories): %s", r.body)
	}
	r2 := e.get(south, root+"collections/"+collAdvisories+"/", 200)
	if string(r.body) != string(r2.body) {
		t.Fatalf("certificate login %s differs from isp-south's token login %s", r.body, r2.body)
	}
	tr.TLSClientConfig.Certificates = []tls.Certificate{clientCert(t)} // another key
	tr.CloseIdleConnections()
	if r := e.req(nobody, "GET", "/taxii2/", nil); r.status != http.StatusUnauthorized {
		t.Fatalf("an unknown certificate: status %d, want 401", r.status)
	}
}

func TestInterop_3_1_4_HTTPBasic(t *testing.T) {
	e := startAt(t, interopConfig(t), t.TempDir()+"/taxii.db", true)
	r := e.get(who{user: "north", pass: "north-test-password"}, "/taxii2/", 200)
	if !strings.HasPrefix(decode[map[string]any](t, r.body)["default"].(string), "https://") {
		t.Fatalf("discovery over TLS: %s", r.body)
	}
	if r := e.req(who{user: "north", pass: "north-test-passwor"}, "GET", "/taxii2/", nil); r.status != 401 {
		t.Fatalf("a wrong password: status %d, want 401", r.status)
	}
}

func TestInterop_3_2_1_GetDiscovery(t *testing.T) {
	e := interop(t)
	r := e.get(north, "/taxii2/", 200)
	if ct := r.header.Get("Content-Type"); ct != MediaTAXII {
		t.Fatalf("Content-Type %q", ct)
	}
	d := decode[map[string]any](t, r.body)
	want := e.ts.URL + root
	if d["title"] != "Code Red alliance" || d["default"] != want || len(d["api_roots"].([]any)) != 1 || d["api_roots"].([]any)[0] != want {
		t.Fatalf("discovery %s, want title, default and api_roots %s", r.body, want)
	}
}

func TestInterop_3_3_1_GetAPIRoot(t *testing.T) {
	e := interop(t)
	d := decode[map[string]any](t, e.get(north, root, 200).body)
	if v := d["versions"].([]any); len(v) != 1 || v[0] != MediaTAXII || d["max_content_length"].(float64) != 10485760 || d["title"] == "" {
		t.Fatalf("API root %v", d)
	}
}

func TestInterop_3_3_2_IncorrectAPIRoot(t *testing.T) {
	e := interop(t)
	r := e.get(north, "/taxii2/no-such-root/", 404)
	if decode[taxiiError](t, r.body).HTTPStatus != "404" {
		t.Fatalf("%s", r.body)
	}
	e.get(north, "/taxii2/no-such-root/collections/", 404)
}

func TestInterop_3_4_1_GetCollections(t *testing.T) {
	e := interop(t)
	d := decode[struct {
		Collections []map[string]any `json:"collections"`
	}](t, e.get(east, root+"collections/", 200).body)
	if len(d.Collections) != 8 {
		t.Fatalf("%d collections, want 8", len(d.Collections))
	}
	for _, c := range d.Collections {
		if c["id"] == "" || c["title"] == "" || c["media_types"].([]any)[0] != MediaSTIX {
			t.Fatalf("collection %v", c)
		}
	}
}

// rights returns can_read and can_write of a collection for a member.
func rights(e *env, w who, coll string) (bool, bool) {
	e.t.Helper()
	c := decode[map[string]any](e.t, e.get(w, root+"collections/"+coll+"/", 200).body)
	return c["can_read"].(bool), c["can_write"].(bool)
}

func TestInterop_3_5_1_1_WriteOnlyCollection(t *testing.T) {
	e := interop(t)
	if r, w := rights(e, east, collInbox); r || !w {
		t.Fatalf("can_read %v, can_write %v: want false, true", r, w)
	}
	if st := e.post(east, collInbox, stix(newID(), day, nil)); st.SuccessCount != 1 {
		t.Fatalf("status %+v", st)
	}
}

func TestInterop_3_5_1_2_ReadWriteCollection(t *testing.T) {
	e := interop(t)
	if r, w := rights(e, east, collClear); !r || !w {
		t.Fatalf("can_read %v, can_write %v: want true, true", r, w)
	}
	id := newID()
	e.post(east, collClear, stix(id, day, nil))
	if got := decode[envelope](t, e.get(east, objectsPath(collClear), 200).body).ids(); !slices.Equal(got, []string{id + "@2001-07-19T00:00:00.000Z"}) {
		t.Fatalf("objects %v", got)
	}
}

func TestInterop_3_5_1_3_ReadOnlyCollection(t *testing.T) {
	e := interop(t)
	if r, w := rights(e, east, collAdvisories); !r || w {
		t.Fatalf("can_read %v, can_write %v: want true, false", r, w)
	}
	e.post(north, collAdvisories, stix(newID(), day, nil))
	if n := len(decode[envelope](t, e.get(east, objectsPath(collAdvisories), 200).body).Objects); n != 1 {
		t.Fatalf("%d objects, want 1", n)
	}
}

func TestInterop_3_5_1_4_NoReadNoWriteCollection(t *testing.T) {
	e := interop(t)
	if r, w := rights(e, east, collInternal); r || w {
		t.Fatalf("can_read %v, can_write %v: want false, false", r, w)
	}
}

func TestInterop_3_5_2_1_ReadWriteOnlyForbidden(t *testing.T) {
	e := interop(t)
	for _, p := range []string{"objects/", "manifest/", "objects/" + newID() + "/", "objects/" + newID() + "/versions/"} {
		e.get(east, root+"collections/"+collInbox+"/"+p, 403)
	}
}

func TestInterop_3_5_2_2_WriteReadOnlyForbidden(t *testing.T) {
	e := interop(t)
	before := e.get(north, objectsPath(collAdvisories), 200).body
	if r := e.req(east, "POST", objectsPath(collAdvisories), envelopeOf(stix(newID(), day, nil))); r.status != 403 {
		t.Fatalf("status %d, want 403", r.status)
	}
	if after := e.get(north, objectsPath(collAdvisories), 200).body; string(after) != string(before) {
		t.Fatal("a refused POST changed the collection")
	}
}

func TestInterop_3_5_2_3_DeleteForbidden(t *testing.T) {
	e := interop(t)
	id := newID()
	e.post(north, collAdvisories, stix(id, day, nil))
	if r := e.req(east, "DELETE", objectsPath(collAdvisories)+id+"/", nil); r.status != 403 {
		t.Fatalf("delete in a read-only collection: status %d, want 403", r.status)
	}
	// Nor may a writer delete another organisation's object.
	if r := e.req(south, "DELETE", objectsPath(collAdvisories)+id+"/", nil); r.status != 403 {
		t.Fatalf("delete of another's object: status %d, want 403", r.status)
	}
	e.get(east, objectsPath(collAdvisories)+id+"/", 200)
}

func TestInterop_3_5_2_4_DeleteNotFound(t *testing.T) {
	e := interop(t)
	if r := e.req(north, "DELETE", objectsPath(collClear)+newID()+"/", nil); r.status != 404 {
		t.Fatalf("status %d, want 404", r.status)
	}
}

func TestInterop_3_5_3_IncorrectCollection(t *testing.T) {
	e := interop(t)
	for _, p := range []string{"", "objects/", "manifest/"} {
		e.get(north, root+"collections/00000000-0000-4000-8000-000000000000/"+p, 404)
	}
}

// seed posts n indicators to the clear collection, a second version of the
// first, and returns their ids in order.
func seed(e *env, n int) []string {
	var ids []string
	var objs [][]byte
	for range n {
		id := newID()
		ids = append(ids, id)
		objs = append(objs, stix(id, day, nil))
	}
	e.post(north, collClear, objs...)
	e.clock.advance(time.Second)
	e.post(north, collClear, stix(ids[0], day.Add(time.Hour), nil))
	return ids
}

func TestInterop_3_6_1_GetManifest(t *testing.T) {
	e := interop(t)
	ids := seed(e, 3)
	r := e.get(east, root+"collections/"+collClear+"/manifest/", 200)
	m := decode[struct {
		More    bool             `json:"more"`
		Objects []map[string]any `json:"objects"`
	}](t, r.body)
	var got []string
	for _, o := range m.Objects {
		if o["media_type"] != MediaSTIX || o["date_added"] == "" {
			t.Fatalf("record %v", o)
		}
		got = append(got, o["id"].(string)+"@"+o["version"].(string))
	}
	want := []string{ids[1] + "@2001-07-19T00:00:00.000Z", ids[2] + "@2001-07-19T00:00:00.000Z", ids[0] + "@2001-07-19T01:00:00.000Z"}
	if !slices.Equal(got, want) || m.More {
		t.Fatalf("manifest %v, want %v (latest versions by date_added)", got, want)
	}
	if r.header.Get("X-TAXII-Date-Added-First") != "2001-07-19T12:00:00.000001Z" || r.header.Get("X-TAXII-Date-Added-Last") != "2001-07-19T12:00:01.000000Z" {
		t.Fatalf("headers %v", r.header)
	}
}

func TestInterop_3_7_1_GetObjects(t *testing.T) {
	e := interop(t)
	ids := seed(e, 2)
	r := e.get(east, objectsPath(collClear), 200)
	en := decode[envelope](t, r.body)
	want := []string{ids[1] + "@2001-07-19T00:00:00.000Z", ids[0] + "@2001-07-19T01:00:00.000Z"}
	if got := en.ids(); !slices.Equal(got, want) || en.More {
		t.Fatalf("objects %v more %v, want %v", got, en.More, want)
	}
	if r.header.Get("Content-Type") != MediaTAXII {
		t.Fatalf("Content-Type %q", r.header.Get("Content-Type"))
	}
}

func TestInterop_3_7_2_NoObjects(t *testing.T) {
	e := interop(t)
	en := decode[envelope](t, e.get(east, objectsPath(collClear), 200).body)
	if len(en.Objects) != 0 || en.More {
		t.Fatalf("envelope %+v, want empty", en)
	}
}

func TestInterop_3_8_1_GetObject(t *testing.T) {
	e := interop(t)
	ids := seed(e, 2)
	en := decode[envelope](t, e.get(east, objectsPath(collClear)+ids[0]+"/", 200).body)
	if got := en.ids(); !slices.Equal(got, []string{ids[0] + "@2001-07-19T01:00:00.000Z"}) {
		t.Fatalf("object %v: want its last version", got)
	}
	en = decode[envelope](t, e.get(east, objectsPath(collClear)+ids[0]+"/?match[version]=all", 200).body)
	if len(en.Objects) != 2 {
		t.Fatalf("match[version]=all: %d versions", len(en.Objects))
	}
}

func TestInterop_3_8_2_ObjectNotFound(t *testing.T) {
	e := interop(t)
	seed(e, 1)
	e.get(east, objectsPath(collClear)+newID()+"/", 404)
}

func TestInterop_3_9_1_GetObjectVersions(t *testing.T) {
	e := interop(t)
	ids := seed(e, 1)
	r := e.get(east, objectsPath(collClear)+ids[0]+"/versions/", 200)
	v := decode[struct {
		More     bool     `json:"more"`
		Versions []string `json:"versions"`
	}](t, r.body)
	if !slices.Equal(v.Versions, []string{"2001-07-19T00:00:00.000Z", "2001-07-19T01:00:00.000Z"}) || v.More {
		t.Fatalf("versions %+v", v)
	}
}

func TestInterop_3_10_1_AddObjects(t *testing.T) {
	e := interop(t)
	a, b := newID(), newID()
	r := e.req(north, "POST", objectsPath(collClear), envelopeOf(stix(a, day, nil), stix(b, day, nil)))
	if r.status != http.StatusAccepted || r.header.Get("Content-Type") != MediaTAXII {
		t.Fatalf("status %d %q: %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	st := decode[statusResource](t, r.body)
	if st.Status != "complete" || st.TotalCount != 2 || st.SuccessCount != 2 || st.FailureCount != 0 || st.PendingCount != 0 {
		t.Fatalf("status %+v", st)
	}
	if n := len(decode[envelope](t, e.get(north, objectsPath(collClear), 200).body).Objects); n != 2 {
		t.Fatalf("%d objects stored, want 2", n)
	}
}

func TestInterop_3_11_1_GetStatus(t *testing.T) {
	e := interop(t)
	st := e.post(north, collClear, stix(newID(), day, nil))
	got := decode[statusResource](t, e.get(north, root+"status/"+st.ID+"/", 200).body)
	if got.ID != st.ID || got.SuccessCount != 1 || got.Status != "complete" {
		t.Fatalf("status %+v, want %+v", got, st)
	}
	e.get(south, root+"status/"+st.ID+"/", 404) // another organisation's
	e.get(north, root+"status/"+newID()[len("indicator--"):]+"/", 404)
}

func TestInterop_3_11_2_GetAllStatusProperties(t *testing.T) {
	e := interop(t)
	good := newID()
	st := e.post(north, collClear, stix(good, day, nil), stix(newID(), day, map[string]any{"pattern": nil}))
	r := e.get(north, root+"status/"+st.ID+"/", 200)
	m := decode[map[string]any](t, r.body)
	for _, k := range []string{"id", "status", "request_timestamp", "total_count", "success_count", "successes", "failure_count", "failures", "pending_count"} {
		if _, ok := m[k]; !ok {
			t.Errorf("status has no %s: %s", k, r.body)
		}
	}
	if st.TotalCount != 2 || st.SuccessCount != 1 || st.FailureCount != 1 || st.Successes[0].ID != good || st.Failures[0].Message == "" {
		t.Fatalf("status %+v", st)
	}
}

func TestInterop_3_12_1_DeleteObject(t *testing.T) {
	e := interop(t)
	ids := seed(e, 2)
	if r := e.req(north, "DELETE", objectsPath(collClear)+ids[0]+"/", nil); r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	e.get(north, objectsPath(collClear)+ids[0]+"/", 404)
	if got := decode[envelope](t, e.get(north, objectsPath(collClear), 200).body).ids(); len(got) != 1 || !strings.HasPrefix(got[0], ids[1]) {
		t.Fatalf("after delete: %v", got)
	}
}

// filtered is the ids@modified a query of the clear collection serves.
func filtered(e *env, query string) []string {
	e.t.Helper()
	return decode[envelope](e.t, e.get(east, objectsPath(collClear)+"?"+query, 200).body).ids()
}

func TestInterop_3_13_1_1_AddedAfter(t *testing.T) {
	e := interop(t)
	ids := seed(e, 2)
	got := filtered(e, "added_after="+url.QueryEscape("2001-07-19T12:00:00.000000Z")) // the first object's date_added
	if want := []string{ids[1] + "@2001-07-19T00:00:00.000Z", ids[0] + "@2001-07-19T01:00:00.000Z"}; !slices.Equal(got, want) {
		t.Fatalf("%v, want %v", got, want)
	}
	if got := filtered(e, "added_after=2001-07-19T12:00:00.5Z"); len(got) != 1 || !strings.HasPrefix(got[0], ids[0]) {
		t.Fatalf("%v", got)
	}
	e.get(east, objectsPath(collClear)+"?added_after=yesterday", 400)
}

func TestInterop_3_13_1_2_Limit(t *testing.T) {
	e := interop(t)
	ids := seed(e, 3)
	en := decode[envelope](t, e.get(east, objectsPath(collClear)+"?limit=2", 200).body)
	if got := en.ids(); len(got) != 2 || !en.More || en.Next == "" || !strings.HasPrefix(got[0], ids[1]) {
		t.Fatalf("limit=2: %v more %v next %q", got, en.More, en.Next)
	}
	for _, bad := range []string{"0", "-1", "x"} {
		e.get(east, objectsPath(collClear)+"?limit="+bad, 400)
	}
}

func TestInterop_3_13_1_3_MatchID(t *testing.T) {
	e := interop(t)
	ids := seed(e, 3)
	if got := filtered(e, "match[id]="+ids[2]); !slices.Equal(got, []string{ids[2] + "@2001-07-19T00:00:00.000Z"}) {
		t.Fatalf("%v", got)
	}
}

func TestInterop_3_13_1_4_MatchType(t *testing.T) {
	e := interop(t)
	seed(e, 2)
	sco := []byte(`{"type":"ipv4-addr","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"198.51.100.3"}`)
	e.post(north, collClear, sco)
	if got := filtered(e, "match[type]=ipv4-addr"); len(got) != 1 || !strings.HasPrefix(got[0], "ipv4-addr--ff26c055") {
		t.Fatalf("%v", got)
	}
	if got := filtered(e, "match[type]=indicator"); len(got) != 2 {
		t.Fatalf("%v", got)
	}
	if got := filtered(e, "match[type]=malware"); len(got) != 0 {
		t.Fatalf("%v", got)
	}
}

func TestInterop_3_13_1_5_MatchVersion(t *testing.T) {
	e := interop(t)
	ids := seed(e, 2)
	cases := map[string][]string{
		"first":                    {ids[0] + "@2001-07-19T00:00:00.000Z", ids[1] + "@2001-07-19T00:00:00.000Z"},
		"last":                     {ids[1] + "@2001-07-19T00:00:00.000Z", ids[0] + "@2001-07-19T01:00:00.000Z"},
		"all":                      {ids[0] + "@2001-07-19T00:00:00.000Z", ids[1] + "@2001-07-19T00:00:00.000Z", ids[0] + "@2001-07-19T01:00:00.000Z"},
		"2001-07-19T01:00:00.000Z": {ids[0] + "@2001-07-19T01:00:00.000Z"},
	}
	for q, want := range cases {
		if got := filtered(e, "match[version]="+q); !slices.Equal(got, want) {
			t.Errorf("match[version]=%s: %v, want %v", q, got, want)
		}
	}
}

func TestInterop_3_13_1_6_MatchSpecVersion(t *testing.T) {
	e := interop(t)
	seed(e, 2)
	if got := filtered(e, "match[spec_version]=2.1"); len(got) != 2 {
		t.Fatalf("2.1: %v", got)
	}
	if got := filtered(e, "match[spec_version]=2.0"); len(got) != 0 {
		t.Fatalf("2.0: %v", got)
	}
}

func TestInterop_3_13_1_7_LogicalOR(t *testing.T) {
	e := interop(t)
	ids := seed(e, 3)
	got := filtered(e, "match[id]="+ids[1]+","+ids[2])
	if want := []string{ids[1] + "@2001-07-19T00:00:00.000Z", ids[2] + "@2001-07-19T00:00:00.000Z"}; !slices.Equal(got, want) {
		t.Fatalf("%v, want %v", got, want)
	}
}

func TestInterop_3_13_1_8_LogicalAND(t *testing.T) {
	e := interop(t)
	ids := seed(e, 2)
	if got := filtered(e, "match[type]=indicator&match[id]="+ids[1]); len(got) != 1 || !strings.HasPrefix(got[0], ids[1]) {
		t.Fatalf("%v", got)
	}
	if got := filtered(e, "match[type]=malware&match[id]="+ids[1]); len(got) != 0 {
		t.Fatalf("%v", got)
	}
}

func TestInterop_3_13_1_9_LogicalORAndAND(t *testing.T) {
	e := interop(t)
	ids := seed(e, 3)
	got := filtered(e, "match[type]=indicator,malware&match[id]="+ids[0]+","+ids[2]+"&match[version]=first")
	if want := []string{ids[0] + "@2001-07-19T00:00:00.000Z", ids[2] + "@2001-07-19T00:00:00.000Z"}; !slices.Equal(got, want) {
		t.Fatalf("%v, want %v", got, want)
	}
}

func TestInterop_3_13_1_10_DuplicateFilter(t *testing.T) {
	e := interop(t)
	seed(e, 1)
	r := e.get(east, objectsPath(collClear)+"?match[type]=indicator&match[type]=malware", 400)
	if decode[taxiiError](t, r.body).HTTPStatus != "400" {
		t.Fatalf("%s", r.body)
	}
}

func TestInterop_3_14_1_Pagination(t *testing.T) {
	e := interop(t)
	ids := seed(e, 5) // 6 versions; the last 5 are the latest of each id
	var got []string
	q := "limit=2"
	pages := 0
	for {
		r := e.get(east, objectsPath(collClear)+"?"+q, 200)
		en := decode[envelope](t, r.body)
		got = append(got, en.ids()...)
		pages++
		if r.header.Get("X-TAXII-Date-Added-First") == "" || r.header.Get("X-TAXII-Date-Added-Last") == "" {
			t.Fatal("no X-TAXII-Date-Added headers")
		}
		if !en.More {
			break
		}
		q = "limit=2&next=" + en.Next
	}
	want := []string{ids[1], ids[2], ids[3], ids[4], ids[0]}
	if pages != 3 || len(got) != 5 {
		t.Fatalf("%d pages, %v", pages, got)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Fatalf("page order %v, want %v", got, want)
		}
	}
	// Paging by added_after from X-TAXII-Date-Added-Last reads the same.
	var again []string
	q = "limit=2"
	for {
		r := e.get(east, objectsPath(collClear)+"?"+q, 200)
		en := decode[envelope](t, r.body)
		if len(en.Objects) == 0 {
			break
		}
		again = append(again, en.ids()...)
		q = "limit=2&added_after=" + url.QueryEscape(r.header.Get("X-TAXII-Date-Added-Last"))
	}
	if !slices.Equal(again, got) {
		t.Fatalf("by added_after %v, by next %v", again, got)
	}
}

func TestInterop_3_15_1_CustomProperties(t *testing.T) {
	e := interop(t)
	id := newID()
	obj := stix(id, day, map[string]any{"x_wormwatch_family": "codered2", "x_score": 7})
	env := []byte(`{"x_envelope_note":"custom","objects":[` + string(obj) + `]}`)
	r := e.req(north, "POST", objectsPath(collClear), env)
	if r.status != 202 || decode[statusResource](t, r.body).SuccessCount != 1 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	en := decode[envelope](t, e.get(east, objectsPath(collClear)+id+"/", 200).body)
	m := decode[map[string]any](t, en.Objects[0])
	if m["x_wormwatch_family"] != "codered2" || m["x_score"] != float64(7) {
		t.Fatalf("custom properties lost: %s", en.Objects[0])
	}
}

// newTLSServer is an unstarted httptest TLS server of s.
func newTLSServer(t *testing.T, s *Server) *httptestServer {
	return newUnstartedTLS(s.Handler())
}

// clientCert makes a self-signed client certificate.
func clientCert(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "isp-south"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
