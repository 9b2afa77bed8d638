package serve

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wormwatch/serve/servetest"
	"wormwatch/share"
	"wormwatch/store"
)

// csafTable is a CSAF site for the tests.
const csafTable = `
[alert]
taxii_collection = "amber"
taxii_member = "cert-north"
poll = "50ms"

[csaf]
base_url = "https://wormwatch.test"
namespace = "https://wormwatch.test"
contacts = ["mailto:csirt@wormwatch.test"]
`

// TestSharing runs the service with the example alliance's TAXII server
// (docs/examples/alliance.toml) and a CSAF site, follows a Code Red log
// into an alarm, and checks: the TAXII server answers its members under
// /taxii2/ and refuses others; a draft advisory of the alarm is published
// only with tlp=white, as version 1 (interim) marked WHITE with the site's
// publisher, served by the site with its hash, and not twice; the
// alarms' STIX bundles are shared in the alliance's AMBER collection as
// cert-north, seen by its group (isp-south) and not by others
// (vendor-east).
func TestSharing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	example, err := os.ReadFile(servetest.ModuleFile(t, "docs/examples/alliance.toml"))
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "serve.toml")
	writeFile(t, conf, append(example, csafTable...))
	path := filepath.Join(dir, "access.log")
	cfg := loadConfig(t, conf, []Input{logInput(t, path, "name=web", "size=65536")}, servetest.Sets(filepath.Join(dir, "data")))
	r := start(t, cfg, Options{})

	// TAXII: members in, others out.
	north := []string{"Authorization", "Bearer north-test-token", "Accept", "application/taxii+json;version=2.1"}
	if code, body := r.get(t, "/taxii2/", north...); code != 200 || !bytes.Contains(body, []byte(`/taxii2/alliance/`)) {
		t.Fatalf("TAXII discovery for a member: %d %s", code, body)
	}
	if code, _ := r.get(t, "/taxii2/", "Authorization", "Bearer not-a-member", "Accept", "application/taxii+json;version=2.1"); code != 401 {
		t.Errorf("TAXII discovery with a wrong token: %d, want 401", code)
	}

	// An alarm, and its draft.
	servetest.AppendFile(t, path, servetest.Lines(servetest.CodeRedLog(t, time.Date(2001, 7, 19, 15, 30, 0, 0, time.UTC), 1)))
	var id string
	servetest.WaitFor(t, "a CSAF draft", func() bool {
		for _, d := range deliveriesOf(t, r, "?channel=csaf") {
			id = d.Target
		}
		return id != ""
	})
	publish := func(query string) (int, []byte) {
		return servetest.Request(t, http.DefaultClient, "POST", r.url+"/api/v1/csaf/"+id+"/publish"+query, nil)
	}
	for _, q := range []string{"", "?tlp=amber", "?tlp=white&status=draft", "?tlp=white&x=1"} {
		if code, body := publish(q); code != 400 {
			t.Errorf("publish%s: %d %s, want 400", q, code, body)
		}
	}
	if code, _ := servetest.Request(t, http.DefaultClient, "POST", r.url+"/api/v1/csaf/WORMWATCH-LIVE-000000000000/publish?tlp=white", nil); code != 404 {
		t.Errorf("publishing a draft that does not exist: %d, want 404", code)
	}
	code, body := publish("?tlp=white")
	var got struct{ ID, Status, URL string }
	if err := json.Unmarshal(body, &got); code != 201 || err != nil || got.ID != id || got.Status != "interim" {
		t.Fatalf("publish: %d %s", code, body)
	}
	if code, body := publish("?tlp=white"); code != 409 || !bytes.Contains(body, []byte(got.URL)) {
		t.Errorf("publishing again: %d %s, want 409 naming the URL", code, body)
	}

	// The bundles in the TAXII server.
	var bundles []DeliveryJSON
	servetest.WaitFor(t, "the bundles shared", func() bool {
		bundles = deliveriesOf(t, r, "?channel=taxii")
		for _, d := range bundles {
			if d.State != store.Sent {
				return false
			}
		}
		return len(bundles) > 0
	})
	objects := "/taxii2/alliance/collections/74788471-9906-47d8-8ef5-623bb64b1572/objects/?match[type]=indicator"
	south := []string{"Authorization", "Bearer south-test-token", "Accept", "application/taxii+json;version=2.1"}
	east := []string{"Authorization", "Bearer east-test-token", "Accept", "application/taxii+json;version=2.1"}
	if code, body := r.get(t, objects, south...); code != 200 || !bytes.Contains(body, []byte(`"type":"indicator"`)) {
		t.Errorf("isp-south reads no indicator of the %d bundles shared: %d %s", len(bundles), code, body)
	}
	if code, body := r.get(t, objects, east...); code != 200 || bytes.Contains(body, []byte(`"type":"indicator"`)) {
		t.Errorf("vendor-east, not of cert-north's group, reads the AMBER indicators: %d %s", code, body)
	}

	// The site serves it, reviewed.
	u, err := url.Parse(got.URL)
	if err != nil || u.Host != "wormwatch.test" {
		t.Fatalf("the advisory's URL %q", got.URL)
	}
	code, doc := r.get(t, u.Path)
	if code != 200 {
		t.Fatalf("GET %s: %d", u.Path, code)
	}
	c, err := share.ReadCSAF(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	tr := c.Document.Tracking
	if tr.ID != id || tr.Status != "interim" || tr.Version != "1" || len(tr.RevisionHistory) != 2 || tr.RevisionHistory[1].Number != "1" ||
		c.Document.Distribution.TLP.Label != "WHITE" || c.Document.Publisher.Namespace != "https://wormwatch.test" || c.Document.Publisher.Name != "wormwatch" {
		t.Errorf("the published advisory: tracking %+v, TLP %+v, publisher %+v", tr, c.Document.Distribution.TLP, c.Document.Publisher)
	}
	sum := sha256.Sum256(doc)
	if code, h := r.get(t, u.Path+".sha256"); code != 200 || !strings.HasPrefix(string(h), hex.EncodeToString(sum[:])) {
		t.Errorf("its .sha256: %d %s", code, h)
	}
	if code, pmd := r.get(t, "/.well-known/csaf/provider-metadata.json"); code != 200 || !bytes.Contains(pmd, []byte(`"role"`)) {
		t.Errorf("provider-metadata.json: %d %s", code, pmd)
	}
}
