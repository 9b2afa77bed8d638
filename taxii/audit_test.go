package taxii

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestAudit: every read and write is in the audit log with who, what and
// when, and with the versions it served or wrote; the admin endpoint and
// the Go API agree; only admins may read it.
func TestAudit(t *testing.T) {
	e := example(t)
	id := newID()
	st := e.post(south, collAmber, marked(id, Amber))
	e.clock.advance(time.Second)
	e.get(north, objectsPath(collAmber), 200)
	e.get(east, objectsPath(collAmber)+id+"/", 200) // isp-south's AMBER reaches the suppliers
	e.get(north, objectsPath(collAmber)+"?limit=1", 200)
	e.get(east, objectsPath(collInbox), 403)
	if r := e.req(south, "DELETE", objectsPath(collAmber)+id+"/", nil); r.status != 200 {
		t.Fatal(r.status)
	}
	entries, more, err := e.s.Audit(t.Context(), AuditQuery{Object: id, Versions: true})
	if err != nil || more {
		t.Fatal(err, more)
	}
	var got []string
	for _, en := range entries {
		got = append(got, en.Member+" "+en.Action+" "+itoa(int64(en.Status))+" "+itoa(int64(en.Count)))
		if en.Time.IsZero() || en.Remote != "127.0.0.1" || en.Credential != "bearer" {
			t.Errorf("entry %+v", en)
		}
		if en.Count > 0 && (len(en.Versions) != 1 || en.Versions[0].ID != id) {
			t.Errorf("entry %+v: versions %v", en, en.Versions)
		}
	}
	want := []string{"isp-south add 202 1", "cert-north objects 200 1", "vendor-east object 200 1", "cert-north objects 200 1", "isp-south delete 200 1"}
	if !slices.Equal(got, want) {
		t.Fatalf("audit of %s:\n%v\nwant\n%v", id, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, _, err := e.s.Audit(t.Context(), AuditQuery{Member: "vendor-east", Action: "objects"}); err != nil {
		t.Fatal(err)
	}
	forbidden, _, _ := e.s.Audit(t.Context(), AuditQuery{Member: "vendor-east", Collection: collInbox})
	if len(forbidden) != 1 || forbidden[0].Status != 403 {
		t.Fatalf("the refused read: %+v", forbidden)
	}
	statusReads, _, _ := e.s.Audit(t.Context(), AuditQuery{Action: "add"})
	if len(statusReads) != 1 || statusReads[0].Count != 1 {
		t.Fatalf("adds %+v (status %s)", statusReads, st.ID)
	}
	// The endpoint, for admins only.
	e.get(south, "/taxii2/audit/", 403)
	r := e.get(north, "/taxii2/audit/?object="+id+"&limit=2", 200)
	page := decode[struct {
		Entries []AuditEntry `json:"entries"`
		More    bool         `json:"more"`
		Next    string       `json:"next"`
	}](t, r.body)
	if len(page.Entries) != 2 || !page.More || page.Entries[0].Action != "add" {
		t.Fatalf("audit page %s", r.body)
	}
	r = e.get(north, "/taxii2/audit/?object="+id+"&limit=10&next="+page.Next, 200)
	if n := len(decode[struct{ Entries []AuditEntry }](t, r.body).Entries); n != 3 {
		t.Fatalf("second page: %d entries, want 3", n)
	}
	e.get(north, "/taxii2/audit/?limit=0", 400)
	e.get(north, "/taxii2/audit/?colour=red", 400)
}

// TestEmbeddedSchemasMatchTestdata: the schemas embedded are the
// repository's copy of the OASIS schemas, byte for byte.
func TestEmbeddedSchemasMatchTestdata(t *testing.T) {
	n := 0
	err := fs.WalkDir(schemaFiles, "stixschemas", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		a, _ := schemaFiles.ReadFile(p)
		b, err := os.ReadFile(filepath.Join("..", "testdata", "shared", "schemas", "stix2.1", "schemas", strings.TrimPrefix(p, "stixschemas/")))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs from testdata's copy (%v)", p, err)
		}
		n++
		return nil
	})
	if err != nil || n < 50 {
		t.Fatalf("%d schemas compared (%v)", n, err)
	}
}

// TestOASISExamples posts the objects of the OASIS STIX 2.1 example
// bundles (testdata/shared/schemas/stix2.1/examples): real documents of
// every kind, which the server must take.
func TestOASISExamples(t *testing.T) {
	e := example(t)
	files, _ := filepath.Glob("../testdata/shared/schemas/stix2.1/examples/*.json")
	more, _ := filepath.Glob("../testdata/shared/schemas/stix2.1/examples/*/*.json")
	files = append(files, more...)
	total := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var bundle struct{ Objects []json.RawMessage }
		if err := json.Unmarshal(data, &bundle); err != nil || len(bundle.Objects) == 0 {
			continue
		}
		objs := make([][]byte, len(bundle.Objects))
		for i, o := range bundle.Objects {
			objs[i] = o
		}
		st := e.post(north, collClear, objs...)
		for _, f := range st.Failures {
			t.Errorf("%s: %s refused: %s", filepath.Base(f.ID), f.ID, f.Message)
		}
		total += st.SuccessCount
	}
	if len(files) < 5 || total < 50 {
		t.Fatalf("%d files, %d objects stored", len(files), total)
	}
}
