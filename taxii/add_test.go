package taxii

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestAdd: the Go API files objects as a POST of the member would: the
// members who may see them read them over HTTP, those who may not do not,
// an invalid object is refused alone, the audit log has the service's
// entry; an unknown member or collection, or no write right, stores
// nothing.
func TestAdd(t *testing.T) {
	cfg := loadConfigFile(t, examplePath)
	for i := range cfg.Collections {
		if cfg.Collections[i].Alias == "red" {
			cfg.Collections[i].Write = []string{"responders"} // not the suppliers: vendor-east may not write
		}
	}
	e := start(t, cfg)
	good, bad := newID(), newID()
	objs := []json.RawMessage{marked(good, Amber), json.RawMessage(`{"type":"indicator","spec_version":"2.1","id":"` + bad + `"}`)}
	res, err := e.s.Add(t.Context(), "cert-north", "amber", objs)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 1 || len(res.Refused) != 1 || !strings.HasPrefix(res.Refused[0], bad+": ") {
		t.Fatalf("result %+v: want 1 accepted and %s refused", res, bad)
	}
	e.get(north, objectsPath(collAmber)+good+"/", 200)
	e.get(south, objectsPath(collAmber)+good+"/", 200) // cert-north's AMBER reaches the responders
	e.get(east, objectsPath(collAmber)+good+"/", 404)  // not a responder
	e.get(north, objectsPath(collAmber)+bad+"/", 404)
	entries, _, err := e.s.Audit(t.Context(), AuditQuery{Object: good, Action: "add", Versions: true})
	if err != nil || len(entries) != 1 || entries[0].Credential != "service" || entries[0].Member != "cert-north" || entries[0].Count != 1 {
		t.Fatalf("audit %+v %v: want one add by cert-north with credential service", entries, err)
	}
	for _, c := range []struct{ member, coll string }{{"nobody", "amber"}, {"cert-north", "no-such"}, {"vendor-east", "red"}} {
		before := string(e.get(north, objectsPath(collAmber), 200).body) + string(e.get(north, objectsPath(collRed), 200).body)
		if _, err := e.s.Add(t.Context(), c.member, c.coll, []json.RawMessage{marked(newID(), Amber)}); err == nil {
			t.Errorf("Add as %s to %s: no error", c.member, c.coll)
		}
		if after := string(e.get(north, objectsPath(collAmber), 200).body) + string(e.get(north, objectsPath(collRed), 200).body); after != before {
			t.Errorf("Add as %s to %s refused, but the collection changed", c.member, c.coll)
		}
	}
}

// TestObjects: the Go API reads a collection as a GET of the member
// would, over every page: the objects it may see (TLP 2.0), each once in
// its last version, and none it may not; the read is in the audit log;
// an unknown member or collection, or no read right, is an error.
func TestObjects(t *testing.T) {
	e := example(t)
	amber, green := newID(), newID()
	e.post(north, collAmber, marked(amber, Amber), marked(green, Green))
	for _, c := range []struct {
		member string
		want   []string
	}{{"cert-north", []string{amber, green}}, {"isp-south", []string{amber, green}}, {"vendor-east", nil}} {
		objs, err := e.s.Objects(c.member, "amber")
		if err != nil {
			t.Fatalf("%s: %v", c.member, err)
		}
		var ids []string
		for _, o := range objs {
			var v struct{ ID string }
			if err := json.Unmarshal(o, &v); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, v.ID)
		}
		if strings.Join(ids, " ") != strings.Join(c.want, " ") {
			t.Errorf("%s reads %v, want %v", c.member, ids, c.want)
		}
		// The same as the member reads over HTTP.
		w := map[string]who{"cert-north": north, "isp-south": south, "vendor-east": east}[c.member]
		var http []string
		for _, id := range decode[envelope](t, e.get(w, objectsPath(collAmber), 200).body).ids() {
			http = append(http, strings.Split(id, "@")[0]) // ids() gives id@modified
		}
		if strings.Join(http, " ") != strings.Join(ids, " ") {
			t.Errorf("%s reads %v over HTTP, %v through Objects", c.member, http, ids)
		}
	}
	entries, _, err := e.s.Audit(t.Context(), AuditQuery{Action: "objects", Member: "isp-south"})
	if err != nil || len(entries) == 0 || entries[0].Credential != "service" || entries[0].Count != 2 {
		t.Errorf("audit %+v %v: want isp-south's read of 2 objects with credential service", entries, err)
	}
	for _, c := range []struct{ member, coll string }{{"nobody", "amber"}, {"cert-north", "no-such"}} {
		if _, err := e.s.Objects(c.member, c.coll); err == nil {
			t.Errorf("Objects as %s of %s: no error", c.member, c.coll)
		}
	}
}
