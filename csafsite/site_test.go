package csafsite

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	gocsaf "github.com/gocsaf/csaf/v3/csaf"
	"github.com/gocsaf/csaf/v3/util"
)

// get fetches a path of the site through its handler.
func get(t *testing.T, h http.Handler, host, path string) (*http.Response, []byte) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "https://"+host+path, nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	res := w.Result()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

// getOK fetches a path that must answer 200 with the given content type.
func getOK(t *testing.T, h http.Handler, path, ctype string) []byte {
	t.Helper()
	res, b := get(t, h, "wormwatch.test", path)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", path, res.Status)
	}
	if got := res.Header.Get("Content-Type"); got != ctype {
		t.Errorf("GET %s: Content-Type %q, want %q", path, got, ctype)
	}
	return b
}

// local turns a URL of the site into its path.
func local(t *testing.T, u string) string {
	t.Helper()
	p, ok := strings.CutPrefix(u, testBase)
	if !ok {
		t.Fatalf("URL %s is not on %s", u, testBase)
	}
	return p
}

// TestServe publishes the example advisories of a folder and two
// wormwatch advisories, then reads the site as a client would: the
// provider metadata (valid against its schema, naming the key by its
// fingerprint), the feed, each advisory byte for byte with its hashes and
// signature, index.txt, changes.csv, the listings and security.txt.
func TestServe(t *testing.T) {
	folder, n := exampleFolder(t)
	cfg := testConfig()
	cfg.Folder = folder
	s, _ := newSite(t, cfg)
	published := map[string][]byte{}
	for _, d := range []time.Time{time.Date(2001, 7, 20, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 8, 30, 0, 0, time.UTC)} {
		doc := wormAdvisory(t, "codered2-july19", d)
		u, err := s.Publish(doc)
		if err != nil {
			t.Fatal(err)
		}
		published[u] = doc
	}
	if s.Len() != n+2 {
		t.Fatalf("%d advisories served, want %d", s.Len(), n+2)
	}
	h := s.Handler()
	pmd := checkPMD(t, h, s)
	keyring := checkKey(t, h, pmd)
	feed := checkFeed(t, h, pmd)
	if len(feed.Feed.Entry) != n+2 {
		t.Fatalf("feed has %d entries, want %d", len(feed.Feed.Entry), n+2)
	}
	var paths []string
	for _, e := range feed.Feed.Entry {
		paths = append(paths, checkEntry(t, h, e, keyring, published))
	}
	checkIndexes(t, h, paths)
	checkListings(t, h, paths)
	checkSecurityTxt(t, h, s)
}

// checkPMD reads provider-metadata.json at its two places.
func checkPMD(t *testing.T, h http.Handler, s *Site) *gocsaf.ProviderMetadata {
	t.Helper()
	b := getOK(t, h, pmdPath, typeJSON)
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if errs, err := gocsaf.ValidateProviderMetadata(doc); err != nil || len(errs) > 0 {
		t.Fatalf("provider-metadata.json: %v %v", err, errs)
	}
	pmd, err := gocsaf.LoadProviderMetadata(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if *pmd.Role != gocsaf.MetadataRoleTrustedProvider || string(*pmd.CanonicalURL) != testBase+pmdPath {
		t.Errorf("role %s, canonical URL %s", *pmd.Role, *pmd.CanonicalURL)
	}
	if len(pmd.PGPKeys) != 1 || string(pmd.PGPKeys[0].Fingerprint) != s.Fingerprint() {
		t.Errorf("keys %+v, want the fingerprint %s", pmd.PGPKeys, s.Fingerprint())
	}
	res, dns := get(t, h, "csaf.data.security.wormwatch.test", "/")
	if res.StatusCode != http.StatusOK || !bytes.Equal(dns, b) {
		t.Errorf("DNS path: %s, same document %v", res.Status, bytes.Equal(dns, b))
	}
	return pmd
}

// checkKey fetches the public key and checks its fingerprint.
func checkKey(t *testing.T, h http.Handler, pmd *gocsaf.ProviderMetadata) openpgp.EntityList {
	t.Helper()
	b := getOK(t, h, local(t, *pmd.PGPKeys[0].URL), typeKey)
	keys, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || !strings.EqualFold(hex.EncodeToString(keys[0].PrimaryKey.Fingerprint), string(pmd.PGPKeys[0].Fingerprint)) {
		t.Fatalf("public key: %d keys, want one with fingerprint %s", len(keys), pmd.PGPKeys[0].Fingerprint)
	}
	if keys[0].PrivateKey != nil {
		t.Fatal("the public key file holds a private key")
	}
	return keys
}

// checkFeed reads the ROLIE feed the metadata names, with its service and
// category documents.
func checkFeed(t *testing.T, h http.Handler, pmd *gocsaf.ProviderMetadata) *gocsaf.ROLIEFeed {
	t.Helper()
	var rolie *gocsaf.ROLIE
	for _, d := range pmd.Distributions {
		if d.Rolie != nil {
			rolie = d.Rolie
		}
	}
	if rolie == nil || len(rolie.Feeds) != 1 || *rolie.Feeds[0].TLPLabel != gocsaf.TLPLabelWhite {
		t.Fatalf("ROLIE distribution %+v", rolie)
	}
	b := getOK(t, h, local(t, string(*rolie.Feeds[0].URL)), typeJSON)
	var doc any
	json.Unmarshal(b, &doc)
	if errs, err := gocsaf.ValidateROLIE(doc); err != nil || len(errs) > 0 {
		t.Fatalf("feed: %v %v", err, errs)
	}
	feed, err := gocsaf.LoadROLIEFeed(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := gocsaf.LoadROLIEServiceDocument(bytes.NewReader(getOK(t, h, local(t, string(rolie.Services[0])), typeJSON)))
	if err != nil || svc.Service.Workspace[0].Collection[0].HRef != string(*rolie.Feeds[0].URL) {
		t.Errorf("service document: %v %+v", err, svc)
	}
	cat, err := gocsaf.LoadROLIECategoryDocument(bytes.NewReader(getOK(t, h, local(t, string(rolie.Categories[0])), typeJSON)))
	if err != nil || len(cat.Categories.Category) == 0 {
		t.Errorf("category document: %v %+v", err, cat)
	}
	if !slices.IsSortedFunc(feed.Feed.Entry, func(a, b *gocsaf.Entry) int { return time.Time(b.Updated).Compare(time.Time(a.Updated)) }) {
		t.Error("feed entries are not the most recently updated first")
	}
	return feed
}

// checkEntry fetches one advisory of the feed with its hashes and
// signature, and returns its path relative to the TLP folder.
func checkEntry(t *testing.T, h http.Handler, e *gocsaf.Entry, keys openpgp.EntityList, published map[string][]byte) string {
	t.Helper()
	links := map[string]string{}
	for _, l := range e.Link {
		links[l.Rel+strings.TrimPrefix(l.HRef, e.Content.Src)] = l.HRef
	}
	u := links["self"]
	body := getOK(t, h, local(t, u), typeJSON)
	if want, ok := published[u]; ok && !bytes.Equal(body, want) {
		t.Errorf("%s: not the published bytes", u)
	}
	s256, s512 := sha256.Sum256(body), sha512.Sum512(body)
	name := u[strings.LastIndexByte(u, '/')+1:]
	for rel, want := range map[string]string{"hash.sha256": hex.EncodeToString(s256[:]), "hash.sha512": hex.EncodeToString(s512[:])} {
		got := string(getOK(t, h, local(t, links[rel]), typeText))
		if got != want+"  "+name+"\n" {
			t.Errorf("%s: %q, want the hash of the advisory", links[rel], got)
		}
	}
	sig := getOK(t, h, local(t, links["signature.asc"]), typeSig)
	if _, err := openpgp.CheckArmoredDetachedSignature(keys, bytes.NewReader(body), bytes.NewReader(sig), nil); err != nil {
		t.Errorf("%s: signature: %v", u, err)
	}
	var doc any
	json.Unmarshal(body, &doc)
	if err := util.IDMatchesFilename(util.NewPathEval(), doc, name); err != nil {
		t.Error(err)
	}
	return strings.TrimPrefix(u, testBase+tlpDir)
}

// checkIndexes compares index.txt and changes.csv with the feed's paths.
func checkIndexes(t *testing.T, h http.Handler, paths []string) {
	t.Helper()
	var index []string
	sc := bufio.NewScanner(bytes.NewReader(getOK(t, h, tlpDir+"index.txt", typeText)))
	for sc.Scan() {
		index = append(index, sc.Text())
	}
	if want := slices.Sorted(slices.Values(paths)); !slices.Equal(index, want) {
		t.Errorf("index.txt %q, want %q", index, want)
	}
	rows, err := csv.NewReader(bytes.NewReader(getOK(t, h, tlpDir+"changes.csv", typeCSV))).ReadAll()
	if err != nil || len(rows) != len(paths) {
		t.Fatalf("changes.csv: %v, %d rows", err, len(rows))
	}
	for i, r := range rows {
		if r[0] != paths[i] {
			t.Errorf("changes.csv row %d: %s, want %s (the feed's order)", i, r[0], paths[i])
		}
		if i > 0 && r[1] > rows[i-1][1] {
			t.Errorf("changes.csv row %d: %s is later than the row before", i, r[1])
		}
	}
}

// checkListings finds each advisory linked from its folder's listing.
func checkListings(t *testing.T, h http.Handler, paths []string) {
	t.Helper()
	for _, p := range paths {
		dir, name, _ := strings.Cut(p, "/")
		page := string(getOK(t, h, tlpDir+dir+"/", typeHTML))
		for _, f := range []string{name, name + ".sha256", name + ".sha512", name + ".asc"} {
			if !strings.Contains(page, `href="`+f+`"`) {
				t.Errorf("listing of %s has no link to %s", dir, f)
			}
		}
		if res, _ := get(t, h, "wormwatch.test", tlpDir+dir); res.StatusCode != http.StatusMovedPermanently {
			t.Errorf("%s without a slash: %s, want a redirect", dir, res.Status)
		}
	}
	if page := string(getOK(t, h, wellKnown, typeHTML)); !strings.Contains(page, `href="provider-metadata.json"`) {
		t.Error("the listing of /.well-known/csaf/ does not link provider-metadata.json")
	}
}

// checkSecurityTxt reads security.txt's fields.
func checkSecurityTxt(t *testing.T, h http.Handler, s *Site) {
	t.Helper()
	b := getOK(t, h, securityPath, typeText)
	urls, err := gocsaf.ExtractProviderURL(bytes.NewReader(b), true)
	if err != nil || !slices.Equal(urls, []string{s.ProviderMetadataURL()}) {
		t.Errorf("security.txt CSAF fields %q, want %s", urls, s.ProviderMetadataURL())
	}
	var expires time.Time
	for l := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "Expires: "); ok {
			expires, err = time.Parse(time.RFC3339, v)
		}
	}
	if d := time.Until(expires); err != nil || d < 29*24*time.Hour || d > 30*24*time.Hour {
		t.Errorf("Expires %v (%v), want 30 days from now", expires, err)
	}
	if !strings.Contains(string(b), "Contact: mailto:csaf@wormwatch.test\n") {
		t.Errorf("security.txt has no Contact:\n%s", b)
	}
}

// TestMethods: only GET and HEAD; unknown paths are 404.
func TestMethods(t *testing.T) {
	s, _ := newSite(t, testConfig())
	h := s.Handler()
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(m, testBase+pmdPath, strings.NewReader("{}")))
		if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: %d, Allow %q", m, w.Code, w.Header().Get("Allow"))
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodHead, testBase+pmdPath, nil))
	if w.Code != http.StatusOK || w.Body.Len() != 0 || w.Header().Get("Content-Length") == "" {
		t.Errorf("HEAD: %d, %d bytes, Content-Length %q", w.Code, w.Body.Len(), w.Header().Get("Content-Length"))
	}
	for _, p := range []string{"/.well-known/csaf/nothing.json", "/.well-known/csaf/white/2001/x.json", "/", "/.well-known/csaf/../../etc/passwd"} {
		if res, _ := get(t, h, "wormwatch.test", p); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %s", p, res.Status)
		}
	}
}
