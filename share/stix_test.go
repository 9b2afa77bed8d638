package share

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"wormwatch/share/schematest"
)

// codeRedFindings is a detection as the detect command would report it:
// Code Red II with two sources (one with its own counts, one without), a
// family with no events, an IPv6 source and a family with its own pattern.
func codeRedFindings() []Finding {
	t0 := time.Date(2004, 8, 1, 11, 2, 57, 0, time.UTC)
	return []Finding{
		{
			Family: "codered2", Name: "Code Red II", Description: "GET /default.ida? with 224 X of padding",
			References: []string{"CVE-2001-0500", "https://learn.microsoft.com/en-us/security-updates/securitybulletins/2001/ms01-033", "Snort sid 1243"},
			URLPattern: `/default\.ida\?X{224}`, Method: "GET",
			Count: 17, FirstSeen: t0, LastSeen: t0.Add(96 * time.Hour),
			Sources: []Source{
				{Addr: netip.MustParseAddr("218.18.157.69"), Count: 2, FirstSeen: t0.Add(time.Hour), LastSeen: t0.Add(2 * time.Hour)},
				{Addr: netip.MustParseAddr("172.152.188.242")},
				{Addr: netip.MustParseAddr("2001:db8::1"), Count: 1, FirstSeen: t0, LastSeen: t0},
			},
		},
		{Family: "codered1", Name: "Code Red I", URLPattern: `/default\.ida\?N{224}`, Method: "GET"},
		{
			Family: "slapper", Pattern: "[network-traffic:extensions.'http-request-ext'.request_value = '/' AND network-traffic:extensions.'http-request-ext'.request_version = 'http/1.1']",
			Count: 3, FirstSeen: t0, LastSeen: t0.Add(time.Minute),
			Sources: []Source{{Addr: netip.MustParseAddr("172.152.188.242"), Count: 3}},
		},
	}
}

func writeBundle(t *testing.T, fs []Finding, tlp string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteSTIX(&buf, fs, tlp); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type stixObject map[string]any

func (o stixObject) str(k string) string { s, _ := o[k].(string); return s }

func decodeBundle(t *testing.T, b []byte) (bundle stixObject, objs []stixObject) {
	t.Helper()
	var raw struct {
		Type    string       `json:"type"`
		ID      string       `json:"id"`
		Objects []stixObject `json:"objects"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	return stixObject{"type": raw.Type, "id": raw.ID}, raw.Objects
}

// refs returns every identifier the object refers to (properties ending in
// _ref or _refs).
func refs(o stixObject) []string {
	var out []string
	for k, v := range o {
		switch {
		case strings.HasSuffix(k, "_ref"):
			out = append(out, v.(string))
		case strings.HasSuffix(k, "_refs"):
			for _, x := range v.([]any) {
				out = append(out, x.(string))
			}
		}
	}
	return out
}

func TestWriteSTIX(t *testing.T) {
	t.Parallel()
	// The TLP 1.0 marking ids of the STIX 2.1 specification, section 7.2.1.4.
	tlpSpec := map[string]string{
		"":        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", // amber by default
		"white":   "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
		"GREEN":   "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
		"amber":   "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
		"TLP:RED": "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
	}
	sets := map[string][]Finding{
		"code red":    codeRedFindings(),
		"no findings": nil,
		"huge count": {{Family: "x", URLPattern: `\.idq\?`, Count: 5_000_000_000, FirstSeen: time.Unix(0, 0), LastSeen: time.Unix(1, 0),
			Sources: []Source{{Addr: netip.MustParseAddr("::ffff:10.0.0.1"), Count: 5_000_000_000}}}},
	}
	for name, fs := range sets {
		for tlp, marking := range tlpSpec {
			t.Run(name+"/"+tlp, func(t *testing.T) {
				t.Parallel()
				b := writeBundle(t, fs, tlp)
				if err := schematest.Validate(schematest.STIX, b); err != nil {
					t.Fatal(err)
				}
				_, objs := decodeBundle(t, b)
				byID := map[string]stixObject{}
				count := map[string]int{}
				for _, o := range objs {
					if byID[o.str("id")] != nil {
						t.Errorf("id %s twice", o.str("id"))
					}
					byID[o.str("id")] = o
					count[o.str("type")]++
				}
				var identity string
				for _, o := range objs {
					if o.str("type") == "identity" {
						identity = o.str("id")
					}
				}
				for _, o := range objs {
					for _, r := range refs(o) {
						if byID[r] == nil {
							t.Errorf("%s refers to %s, which is not in the bundle", o.str("id"), r)
						}
					}
					typ := o.str("type")
					if typ == "marking-definition" {
						if o.str("id") != marking {
							t.Errorf("marking %s, want %s", o.str("id"), marking)
						}
						continue
					}
					if m, _ := o["object_marking_refs"].([]any); len(m) != 1 || m[0] != marking {
						t.Errorf("%s is marked %v, want %s", o.str("id"), o["object_marking_refs"], marking)
					}
					if typ != "identity" && typ != "ipv4-addr" && typ != "ipv6-addr" && o.str("created_by_ref") != identity {
						t.Errorf("%s created by %q, want the identity %s", o.str("id"), o.str("created_by_ref"), identity)
					}
				}
				var events, sightings, indicators, observed int
				var sources []string
				for _, f := range fs {
					indicators++
					if f.Count > 0 {
						sightings++
						events += int(min(f.Count, 999_999_999))
						observed += len(f.Sources)
						for _, s := range f.Sources {
							sources = append(sources, s.Addr.Unmap().String())
						}
					}
				}
				slices.Sort(sources)
				sources = slices.Compact(sources)
				if count["indicator"] != indicators || count["sighting"] != sightings || count["observed-data"] != observed ||
					count["ipv4-addr"]+count["ipv6-addr"] != len(sources) || count["identity"] != 1 || count["marking-definition"] != 1 {
					t.Errorf("objects by type %v; want %d indicators, %d sightings, %d observed-data, %d addresses", count, indicators, sightings, observed, len(sources))
				}
				got := 0
				for _, o := range objs {
					if o.str("type") == "sighting" {
						got += int(o["count"].(float64))
						ind := byID[o.str("sighting_of_ref")]
						if ind.str("type") != "indicator" {
							t.Errorf("sighting of %s", o.str("sighting_of_ref"))
						}
					}
				}
				if got != events {
					t.Errorf("sightings count %d events, want %d", got, events)
				}
			})
		}
	}
}

// TestSTIXDetails checks one family's objects property by property.
func TestSTIXDetails(t *testing.T) {
	t.Parallel()
	_, objs := decodeBundle(t, writeBundle(t, codeRedFindings(), "amber"))
	byID := map[string]stixObject{}
	for _, o := range objs {
		byID[o.str("id")] = o
	}
	var sg stixObject
	for _, o := range objs {
		if o.str("type") == "sighting" && byID[o.str("sighting_of_ref")]["labels"].([]any)[0] == "codered2" {
			sg = o
		}
	}
	if sg == nil {
		t.Fatal("no sighting of codered2")
	}
	if sg["count"].(float64) != 17 || sg.str("first_seen") != "2004-08-01T11:02:57.000Z" || sg.str("last_seen") != "2004-08-05T11:02:57.000Z" {
		t.Errorf("sighting %v", sg)
	}
	ind := byID[sg.str("sighting_of_ref")]
	if ind.str("valid_from") != "2004-08-01T11:02:57.000Z" || ind.str("pattern_type") != "stix" || ind.str("name") != "Code Red II requests" {
		t.Errorf("indicator %v", ind)
	}
	b, _ := json.Marshal(ind["external_references"])
	var ext []externalRef
	if err := json.Unmarshal(b, &ext); err != nil {
		t.Fatal(err)
	}
	wantRefs := []externalRef{
		{SourceName: "cve", ExternalID: "CVE-2001-0500"},
		{SourceName: "learn.microsoft.com", URL: "https://learn.microsoft.com/en-us/security-updates/securitybulletins/2001/ms01-033"},
		{SourceName: "wormwatch signature table", Description: "Snort sid 1243"},
	}
	if !slices.Equal(ext, wantRefs) {
		t.Errorf("external references %+v, want %+v", ext, wantRefs)
	}
	// One observed-data per source: its own window and count when known,
	// the family's window and 1 otherwise.
	want := map[string][3]string{
		"218.18.157.69":   {"2004-08-01T12:02:57.000Z", "2004-08-01T13:02:57.000Z", "2"},
		"172.152.188.242": {"2004-08-01T11:02:57.000Z", "2004-08-05T11:02:57.000Z", "1"},
		"2001:db8::1":     {"2004-08-01T11:02:57.000Z", "2004-08-01T11:02:57.000Z", "1"},
	}
	for _, r := range sg["observed_data_refs"].([]any) {
		od := byID[r.(string)]
		addr := byID[od["object_refs"].([]any)[0].(string)]
		w, ok := want[addr.str("value")]
		if !ok {
			t.Errorf("observed-data of %s", addr.str("value"))
			continue
		}
		delete(want, addr.str("value"))
		if od.str("first_observed") != w[0] || od.str("last_observed") != w[1] || jsonString(od["number_observed"]) != w[2] {
			t.Errorf("%s: observed %s to %s, %v times; want %v", addr.str("value"), od.str("first_observed"), od.str("last_observed"), od["number_observed"], w)
		}
	}
	if len(want) != 0 {
		t.Errorf("sources without observed-data: %v", want)
	}
}

// TestSightingDescription checks the sighting's description: counts of
// events and listed sources by default, the finding's own when given.
func TestSightingDescription(t *testing.T) {
	t.Parallel()
	for _, own := range []string{"", "Code Red II on sensor tel: 12 distinct sources"} {
		fs := codeRedFindings()[:1]
		fs[0].SightingDescription = own
		_, objs := decodeBundle(t, writeBundle(t, fs, "amber"))
		want := own
		if own == "" {
			want = fmt.Sprintf("Code Red II: %d events from %d sources", fs[0].Count, len(fs[0].Sources))
		}
		n := 0
		for _, o := range objs {
			if o.str("type") == "sighting" {
				n++
				if o.str("description") != want {
					t.Errorf("description %q, want %q", o.str("description"), want)
				}
			}
		}
		if n != 1 {
			t.Errorf("%d sightings, want 1", n)
		}
	}
}

// TestSCOIDs checks the deterministic SCO ids against values computed
// independently with Python's uuid module:
//
//	uuid.uuid5(uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7"), '{"value":"198.51.100.3"}')
func TestSCOIDs(t *testing.T) {
	t.Parallel()
	cases := []struct{ typ, value, want string }{
		{"ipv4-addr", "198.51.100.3", "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"},
		{"ipv4-addr", "203.0.113.7", "ipv4-addr--9ddd739e-87b1-587d-83f2-62ef1130af2f"},
		{"ipv6-addr", "2001:db8::1", "ipv6-addr--6469e3a9-b053-5e34-a025-9396ae051d26"},
	}
	for _, c := range cases {
		if got := scoID(c.typ, c.value); got != c.want {
			t.Errorf("scoID(%s, %s) = %s, want %s", c.typ, c.value, got, c.want)
		}
	}
}

// TestSTIXDeterministic checks that the same findings in any order give the
// same bytes, and that a changed count changes the sighting but not the
// indicator.
func TestSTIXDeterministic(t *testing.T) {
	t.Parallel()
	a := writeBundle(t, codeRedFindings(), "amber")
	shuffled := codeRedFindings()
	slices.Reverse(shuffled)
	slices.Reverse(shuffled[len(shuffled)-1].Sources)
	if b := writeBundle(t, shuffled, "amber"); !bytes.Equal(a, b) {
		t.Error("the same findings in another order gave another bundle")
	}
	changed := codeRedFindings()
	changed[0].Count++
	_, o1 := decodeBundle(t, a)
	_, o2 := decodeBundle(t, writeBundle(t, changed, "amber"))
	ids := func(objs []stixObject, typ string) []string {
		var out []string
		for _, o := range objs {
			if o.str("type") == typ {
				out = append(out, o.str("id"))
			}
		}
		return out
	}
	if !slices.Equal(ids(o1, "indicator"), ids(o2, "indicator")) {
		t.Error("a changed count changed the indicators")
	}
	if slices.Equal(ids(o1, "sighting"), ids(o2, "sighting")) {
		t.Error("a changed count kept the sighting ids")
	}
}

// requestTargets reads the request targets of the shared sample logs
// (Apache combined format): the middle of "METHOD TARGET VERSION".
func requestTargets(t *testing.T) []string {
	t.Helper()
	dir, err := schematest.Dir()
	if err != nil {
		t.Fatal(err)
	}
	logs, err := filepath.Glob(filepath.Join(dir, "..", "logs", "honeynet2004_access_log.*"))
	if err != nil || len(logs) != 2 {
		t.Fatalf("sample logs: %v %v", logs, err)
	}
	req := regexp.MustCompile(`"([A-Z]+) (\S+) HTTP/[0-9.]+"`)
	var out []string
	for _, p := range logs {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if m := req.FindStringSubmatch(sc.Text()); m != nil {
				out = append(out, m[2])
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestPatternMatchesRealLogs takes the patterns WriteSTIX writes apart again
// and runs their regular expressions over the request targets of the real
// sample logs: the Code Red II pattern must match exactly the 17 Code Red II
// requests the logs' README counts (5 + 12), as a request_value and inside a
// full URL, and the Code Red I pattern none.
func TestPatternMatchesRealLogs(t *testing.T) {
	t.Parallel()
	targets := requestTargets(t)
	if len(targets) < 2000 {
		t.Fatalf("only %d request targets read from the sample logs", len(targets))
	}
	cases := []struct {
		urlPattern string
		want       int
	}{
		{`/default\.ida\?X{224}`, 17},
		{`/default\.ida\?N{224}`, 0},
		{`root\.exe\?/c\+dir`, -1}, // Nimda: some, counted below
	}
	for _, c := range cases {
		pattern := URLPatternSTIX(c.urlPattern, "GET")
		cmps, err := checkPattern(pattern)
		if err != nil {
			t.Fatalf("%s: %v", pattern, err)
		}
		var url, value *regexp.Regexp
		for _, cmp := range cmps {
			switch {
			case cmp.Path == "url:value" && cmp.Op == "MATCHES":
				url = regexp.MustCompile(cmp.Value)
			case strings.HasSuffix(cmp.Path, ".request_value") && cmp.Op == "MATCHES":
				value = regexp.MustCompile(cmp.Value)
			case strings.HasSuffix(cmp.Path, ".request_method"):
				if cmp.Value != "get" {
					t.Errorf("request_method %q, want get", cmp.Value)
				}
			}
		}
		if url == nil || value == nil {
			t.Fatalf("%s: no url:value and request_value regexes in %+v", pattern, cmps)
		}
		nURL, nValue := 0, 0
		for _, tg := range targets {
			if value.MatchString(tg) {
				nValue++
			}
			if url.MatchString("http://192.0.2.1" + tg) {
				nURL++
			}
		}
		if nURL != nValue {
			t.Errorf("%s: %d full URLs match, %d request targets", c.urlPattern, nURL, nValue)
		}
		if c.want >= 0 && nValue != c.want {
			t.Errorf("%s: %d request targets match, want %d", c.urlPattern, nValue, c.want)
		}
		if c.want < 0 && nValue == 0 {
			t.Errorf("%s: no request target matches", c.urlPattern)
		}
	}
}

func TestWriteSTIXErrors(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC)
	ok := Finding{Family: "f", URLPattern: "x", Count: 1, FirstSeen: t0, LastSeen: t0}
	with := func(edit func(*Finding)) []Finding {
		f := ok
		edit(&f)
		return []Finding{f}
	}
	cases := []struct {
		name string
		fs   []Finding
		tlp  string
		want string
	}{
		{"bad tlp", []Finding{ok}, "purple", "allowed values are white, green, amber, red"},
		{"no family", with(func(f *Finding) { f.Family = "" }), "", "empty Family"},
		{"twice", []Finding{ok, ok}, "", "finding f appears twice"},
		{"no pattern", with(func(f *Finding) { f.URLPattern = "" }), "", "finding f: URLPattern and Pattern are both empty"},
		{"anchored", with(func(f *Finding) { f.URLPattern = "^/default" }), "", "anchored"},
		{"bad regexp", with(func(f *Finding) { f.URLPattern = "a(b" }), "", "finding f: URLPattern"},
		{"bad method", with(func(f *Finding) { f.Method = "GET'" }), "", "not an HTTP method"},
		{"bad pattern", with(func(f *Finding) { f.Pattern = "[url:value = 'x'" }), "", "finding f: STIX pattern"},
		{"negative count", with(func(f *Finding) { f.Count = -1 }), "", "Count -1 is negative"},
		{"no times", with(func(f *Finding) { f.LastSeen = time.Time{} }), "", "FirstSeen or LastSeen is not set"},
		{"time reversed", with(func(f *Finding) { f.LastSeen = t0.Add(-time.Second) }), "", "LastSeen 2001-07-19T09:59:59Z is before FirstSeen"},
		{"no address", with(func(f *Finding) { f.Sources = []Source{{Count: 1}} }), "", "a source has no address"},
		{"same source twice", with(func(f *Finding) {
			f.Sources = []Source{{Addr: netip.MustParseAddr("10.0.0.1")}, {Addr: netip.MustParseAddr("::ffff:10.0.0.1")}}
		}), "", "source 10.0.0.1 appears twice"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			err := WriteSTIX(&buf, c.fs, c.tlp)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one saying %q", err, c.want)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes despite the error", buf.Len())
			}
		})
	}
}
