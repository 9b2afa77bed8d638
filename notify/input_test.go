package notify

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"wormwatch/detect"
)

// sampleLogs are the real logs of testdata/shared/logs.
var sampleLogs = []string{"../testdata/shared/logs/honeynet2004_access_log.10", "../testdata/shared/logs/honeynet2004_access_log.22"}

// sampleReport analyzes the sample logs with detect.
func sampleReport(t *testing.T) *detect.Report {
	t.Helper()
	r, err := detect.Analyze(t.Context(), sampleLogs, detect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// byAddr indexes sources by address (one each).
func byAddr(t *testing.T, src []Source) map[netip.Addr]Source {
	t.Helper()
	out := map[netip.Addr]Source{}
	for _, s := range merge(sorted(src)) {
		out[s.Addr] = s
	}
	return out
}

func sorted(src []Source) []Source {
	src = slices.Clone(src)
	slices.SortFunc(src, func(a, b Source) int { return keyOf(a.Addr).cmp(keyOf(b.Addr)) })
	return src
}

// TestReaders reads the same detections three ways: the report itself,
// its JSON and its STIX bundle, and finds the same addresses, times and
// families.
func TestReaders(t *testing.T) {
	r := sampleReport(t)
	direct, err := FromReport(r, "honeynet")
	if err != nil {
		t.Fatal(err)
	}
	if len(direct.Sources) < 20 || direct.Hosts != 0 || direct.Families["codered2"].Title != "Code Red II" {
		t.Fatalf("%d sources, %d hosts, families %v", len(direct.Sources), direct.Hosts, direct.Families["codered2"])
	}
	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	fromJSON, err := ReadReport(&js, "found.json", "honeynet")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(sorted(direct.Sources), sorted(fromJSON.Sources), sameSource) {
		t.Error("the JSON report's sources differ from the report's")
	}
	if f := fromJSON.Families["codered2"]; f.Title != "Code Red II" || f.Kind != "worm" || !slices.Contains(f.References, "CVE-2001-0500") {
		t.Errorf("the JSON report's codered2: %+v", f)
	}
	var bundle bytes.Buffer
	if _, err := r.WriteSTIX(&bundle, "amber"); err != nil {
		t.Fatal(err)
	}
	fromSTIX, err := ReadSTIX(&bundle, "member.json", "")
	if err != nil {
		t.Fatal(err)
	}
	want, got := byAddr(t, direct.Sources), byAddr(t, fromSTIX.Sources)
	if len(got) != len(want) {
		t.Fatalf("%d addresses from the bundle, %d in the report", len(got), len(want))
	}
	for a, w := range want {
		g := got[a]
		// The bundle counts each family's lines apart (a line of two
		// families counts twice): at least the report's lines.
		if !g.FirstSeen.Equal(w.FirstSeen) || !g.LastSeen.Equal(w.LastSeen) || !slices.Equal(g.Families, w.Families) ||
			g.Count < w.Count || !slices.Equal(g.Reporters, []string{"wormwatch"}) {
			t.Errorf("%v: from the bundle %+v, in the report %+v", a, g, w)
		}
	}
	if fromSTIX.Families["codered2"].Title != "Code Red II" {
		t.Errorf("the bundle's codered2: %+v", fromSTIX.Families["codered2"])
	}
}

func sameSource(a, b Source) bool {
	return a.Addr == b.Addr && a.FirstSeen.Equal(b.FirstSeen) && a.LastSeen.Equal(b.LastSeen) && a.Count == b.Count &&
		slices.Equal(a.Families, b.Families) && slices.Equal(a.Reporters, b.Reporters)
}

// TestSTIXRed: sightings marked TLP:RED (1.0, or a marking the bundle
// names TLP:RED) are not passed on.
func TestSTIXRed(t *testing.T) {
	r := sampleReport(t)
	var bundle bytes.Buffer
	if _, err := r.WriteSTIX(&bundle, "red"); err != nil {
		t.Fatal(err)
	}
	d, err := ReadSTIX(bytes.NewReader(bundle.Bytes()), "red.json", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Sources) != 0 || d.WithheldTLP == 0 {
		t.Errorf("TLP:RED bundle: %d sources, %d red sightings", len(d.Sources), d.WithheldTLP)
	}
	// TLP 2.0: a marking-definition named TLP:RED.
	amber := "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
	bundle.Reset()
	r.WriteSTIX(&bundle, "amber")
	s := strings.Replace(bundle.String(), `"name": "TLP:AMBER"`, `"name": "TLP:RED"`, 1)
	if s == bundle.String() || !strings.Contains(s, amber) {
		t.Fatal("the bundle has no TLP:AMBER marking to rename")
	}
	if d, err = ReadSTIX(strings.NewReader(s), "red2.json", ""); err != nil || len(d.Sources) != 0 {
		t.Errorf("a marking named TLP:RED: %d sources, %v", len(d.Sources), err)
	}
}

func TestReaderErrors(t *testing.T) {
	const head = `{"schema": "wormwatch-detect/1", "sources": [`
	for _, c := range []struct{ text, field, want string }{
		{`[]`, "", "not a JSON object"},
		{`{"schema": "other/1"}`, "schema", "wormwatch-detect/1"},
		{`{"sources": []}`, "schema", "missing before"},
		{`{"lines": 3}`, "schema", "missing"},
		{head + `{"source": "192.0.2.1"}]}`, "sources[0].lines", "missing"},
		{head + `{"source": "192.0.2.1", "lines": 1, "families": ["x"], "first_seen": "yesterday", "last_seen": "2001-08-04T10:00:00Z"}]}`, "sources[0].first_seen", "RFC 3339"},
		{head + `{"source": "192.0.2.1", "lines": 1, "families": ["x"], "first_seen": "2001-08-04T11:00:00Z", "last_seen": "2001-08-04T10:00:00Z"}]}`, "sources[0].last_seen", "before first_seen"},
		{head + `{"source": "192.0.2.1", "lines": 1, "families": []}]}`, "sources[0].families", "empty"},
		{head + `{"source": "192.0.2.1", "lines": 1, "families": ["x"], "first_seen": "2001-08-04T10:00:00Z", "last_seen": "2001-08-04T10:00:00Z"},`, "sources[1]", "ends early"},
		{head + `{"source": 7}]}`, "sources[0]", "unmarshal JSON number into Go string"}, // the library words it "cannot" or "unable to", run by run
		{`{"schema": "wormwatch-detect/1"} {}`, "", "data after the report's object"},
		{`{"schema": "wormwatch-detect/1", "lines": tru}`, "lines", "invalid character"},
	} {
		_, err := ReadReport(strings.NewReader(c.text), "found.json", "x")
		checkInputError(t, err, "found.json", 0, c.field, c.want)
	}
	d, err := ReadReport(strings.NewReader(head+`{"source": "host.example", "lines": 2, "families": ["x"]}]}`), "found.json", "x")
	if err != nil || d.Hosts != 1 || len(d.Sources) != 0 {
		t.Errorf("a host name: %+v, %v", d, err)
	}

	obj := func(s ...string) string {
		return `{"type": "bundle", "id": "bundle--1", "objects": [` + strings.Join(s, ",") + `]}`
	}
	ind := `{"type": "indicator", "id": "indicator--1", "name": "Code Red II requests", "labels": ["codered2"]}`
	addr := `{"type": "ipv4-addr", "id": "ipv4-addr--1", "value": "192.0.2.1"}`
	od := func(first, last string, n int) string {
		return `{"type": "observed-data", "id": "observed-data--1", "first_observed": "` + first + `", "last_observed": "` + last + `", "number_observed": ` + strconv.Itoa(n) + `, "object_refs": ["ipv4-addr--1"]}`
	}
	sg := `{"type": "sighting", "id": "sighting--1", "sighting_of_ref": "indicator--1", "observed_data_refs": ["observed-data--1"]}`
	const t0, t1 = "2001-08-04T10:00:00.000Z", "2001-08-04T11:00:00.000Z"
	for _, c := range []struct{ text, field, want string }{
		{`{"type": "report"}`, "type", "want a STIX 2.1 bundle"},
		{`{"type": "bundle", "objects": [`, "", "ends early"},
		{obj(`{"type": "indicator", "id": "sighting--1"}`), "objects[0].id", "not an id of type"},
		{obj(ind, ind[:len(ind)-1]+`, "description": "other"}`), "objects[1].id", "appears twice, with different content"},
		{obj(sg), "objects[0].sighting_of_ref", "no indicator"},
		{obj(ind, sg), "objects[1].observed_data_refs", "no observed-data"},
		{obj(ind, addr, od("now", t1, 1), sg), "objects[2].first_observed", "not a STIX time"},
		{obj(ind, addr, od(t1, t0, 1), sg), "objects[2].last_observed", "at or after first_observed"},
		{obj(ind, addr, od(t0, t1, 0), sg), "objects[2].number_observed", "want 1 or more"},
		{obj(ind, `{"type": "ipv4-addr", "id": "ipv4-addr--1", "value": "2001:db8::1"}`, od(t0, t1, 1), sg), "objects[1].value", "not an ipv4"},
	} {
		_, err := ReadSTIX(strings.NewReader(c.text), "member.json", "")
		checkInputError(t, err, "member.json", 0, c.field, c.want)
	}
	d, err = ReadSTIX(strings.NewReader(obj(ind, addr, od(t0, t1, 3), sg)), "member.json", "member-b")
	if err != nil || len(d.Sources) != 1 || d.Sources[0].Count != 3 || d.Sources[0].Reporters[0] != "member-b" {
		t.Errorf("one sighting: %+v, %v", d, err)
	}
}

func TestWrite(t *testing.T) {
	notices, _ := Plan(testSources(), testOwners(t), PlanOptions{OptOut: testOptOut(t)})
	l := testLetter()
	dir := filepath.Join(t.TempDir(), "notices")
	if err := l.Write(t.Context(), dir, notices); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2*len(notices)+1 {
		t.Errorf("%d files, want %d", len(entries), 2*len(notices)+1)
	}
	f, err := os.Open(filepath.Join(dir, IndexName))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || !slices.Equal(rows[0], IndexColumns) || len(rows) != len(notices)+1 {
		t.Fatalf("index.csv: %v, %v", rows, err)
	}
	for i, n := range notices {
		row := rows[i+1]
		if row[0] != n.Owner.Name || row[1] != n.Owner.Contact || row[2] != strconv.Itoa(len(n.Sources)) {
			t.Errorf("index row %v for %s", row, n.Owner.Key)
		}
		var text, csvb bytes.Buffer
		l.WriteText(&text, &n)
		l.WriteCSV(&csvb, &n)
		for file, want := range map[string][]byte{row[7]: text.Bytes(), row[8]: csvb.Bytes()} {
			got, err := os.ReadFile(filepath.Join(dir, file))
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s is not the notice's: %v", file, err)
			}
		}
	}
	if rows[1][7] != "example-hosting.txt" || rows[5][8] != "ripencc-org-alpha.csv" {
		t.Errorf("stems %s, %s", rows[1][7], rows[5][8])
	}
	// The folder exists: refused, and nothing changed.
	if err := l.Write(t.Context(), dir, notices); err == nil {
		t.Error("Write replaced a folder")
	}
	// Stopped half way: no folder, no temporary one.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	dir2 := filepath.Join(t.TempDir(), "stopped")
	if err := l.Write(ctx, dir2, notices); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if left, _ := os.ReadDir(filepath.Dir(dir2)); len(left) != 0 {
		t.Errorf("a cancelled Write left %v", left)
	}
}

func TestStems(t *testing.T) {
	ns := []Notice{{Owner: Owner{Key: "Example Networks"}}, {Owner: Owner{Key: "example-networks"}}, {Owner: Owner{Key: "Éxample"}},
		{Owner: Owner{Key: "***"}}, {Owner: Owner{Key: "index"}}, {Owner: Owner{Key: strings.Repeat("a", 100)}}, {Owner: Owner{Key: "../etc"}}}
	got := Stems(ns)
	want := []string{"example-networks", "example-networks-2", "xample", "owner", "index-2", strings.Repeat("a", 60), "etc"}
	if !slices.Equal(got, want) {
		t.Errorf("Stems = %v, want %v", got, want)
	}
}
