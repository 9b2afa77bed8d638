package notify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// Fuzz targets of every parser of outside data: the owner table
// (FuzzTable), delegation files (FuzzDelegations), the opt-out list
// (FuzzOptOut), detect's JSON report (FuzzReport) and STIX bundles and
// a TAXII collection's objects (FuzzSTIX). Each checks that bad input is one *InputError naming the
// file (and, for the line-based formats, a line that exists), and that
// what is accepted holds together. Run each for a while, for example
//
//	go test ./notify -run XXX -fuzz '^FuzzTable$' -fuzztime 3m -parallel 1

// checkFuzzError fails unless err is a one-line *InputError of file name
// whose line is within the input's lines.
func checkFuzzError(t *testing.T, err error, name string, data []byte) {
	t.Helper()
	var ie *InputError
	if !errors.As(err, &ie) {
		t.Fatalf("error %v (%T), want an *InputError", err, err)
	}
	if ie.File != name || ie.Line < 0 || ie.Line > bytes.Count(data, []byte("\n"))+1 || strings.Contains(ie.Error(), "\n") {
		t.Fatalf("error %q: file %q line %d of %d lines", ie, ie.File, ie.Line, bytes.Count(data, []byte("\n"))+1)
	}
}

func seed(f *testing.F, path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
}

func FuzzTable(f *testing.F) {
	seed(f, "testdata/owners.csv")
	f.Add([]byte("prefix,owner,contact\n192.0.2.0/24,A,a@example.net\n192.0.2.0/25,B,\n2001:db8::/32,\"C, d\",c@example.net\n"))
	f.Add([]byte("owner,prefix,contact,asn\nA,0.0.0.0/0,,AS1\nB,::/0,,2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		as, err := ParseTable(bytes.NewReader(data), "owners.csv")
		if err != nil {
			checkFuzzError(t, err, "owners.csv", data)
			return
		}
		o, err := NewOwners(as, nil)
		if err != nil {
			checkFuzzError(t, err, "owners.csv", data)
			return
		}
		// Each prefix's first and last address belong to it or to a
		// longer prefix inside it.
		for _, a := range as {
			for _, addr := range []netip.Addr{a.First, a.Last} {
				i, _, ok := o.Lookup(addr)
				if !ok {
					t.Fatalf("%v (line %d) has no owner", addr, a.Line)
				}
				if o.Owner(i).Key != a.Owner.Key && !narrower(as, addr, a) {
					t.Fatalf("%v: owner %q, the prefix of line %d gives %q and none narrower holds it", addr, o.Owner(i).Key, a.Line, a.Owner.Key)
				}
			}
		}
	})
}

// narrower reports whether a prefix narrower than a holds addr.
func narrower(as []Assignment, addr netip.Addr, a Assignment) bool {
	for _, b := range as {
		inside := keyOf(b.First).cmp(keyOf(a.First)) >= 0 && keyOf(b.Last).cmp(keyOf(a.Last)) <= 0 && b != a
		if inside && keyOf(b.First).cmp(keyOf(addr)) <= 0 && keyOf(addr).cmp(keyOf(b.Last)) <= 0 && family(b.First) == family(addr) {
			return true
		}
	}
	return false
}

func FuzzDelegations(f *testing.F) {
	seed(f, "testdata/delegated-test-extended")
	f.Add([]byte("2.3|apnic|20110113|1|19850701|20110112|+1000\napnic|*|ipv4|*|1|summary\napnic|JP|ipv4|1.0.16.0|4096|20110412|allocated|A91872ED\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		as, err := ParseDelegations(bytes.NewReader(data), "delegated")
		if err != nil {
			checkFuzzError(t, err, "delegated", data)
			return
		}
		for _, a := range as {
			if keyOf(a.Last).cmp(keyOf(a.First)) < 0 || family(a.First) != family(a.Last) || a.Owner.Key == "" || a.Line < 1 {
				t.Fatalf("assignment %+v", a)
			}
		}
		if _, err := NewOwners(nil, as); err != nil {
			checkFuzzError(t, err, "delegated", data)
		}
	})
}

func FuzzOptOut(f *testing.F) {
	seed(f, "testdata/optout.txt")
	f.Add([]byte("prefix ::/0\nprefix 0.0.0.0/0\nowner x\ncontact a@b.c\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := ParseOptOut(bytes.NewReader(data), "optout.txt")
		if err != nil {
			checkFuzzError(t, err, "optout.txt", data)
			return
		}
		for _, p := range o.prefixes {
			if !o.Addr(p.Addr()) || !o.Addr(lastOf(p)) {
				t.Fatalf("%v is opted out, its ends are not", p)
			}
		}
	})
}

func FuzzReport(f *testing.F) {
	f.Add([]byte(`{"schema": "wormwatch-detect/1", "families": {"codered2": {"title": "Code Red II", "references": [{"source": "cve", "id": "CVE-2001-0500"}]}},
"sources": [{"source":"192.0.2.1","first_seen":"2004-08-01T11:02:57Z","last_seen":"2004-08-01T11:02:57Z","lines":1,"families":["codered2"]}], "hourly": []}`))
	f.Add([]byte(`{"schema": "wormwatch-detect/1", "sources": [{"source":"host.example","lines":2,"families":["x"]}]}`))
	f.Add([]byte(`{"schema": "wormwatch-detect/1", "sources": [ { "families" : [ "b" , "a","b" ] , "x": [1, {"y": "]}\\""}, null], "lines" : 12 ,
"source" : "2001:db8::1%eth0", "first_seen": "2004-02-29T23:59:59Z", "last_seen" : "2004-03-01T00:00:00.5+01:00"},
{"source":"10.0.0.\u0031","lines":1e0,"families":["a\u0062"],"first_seen":"2004-02-30T00:00:00Z","last_seen":"2004-08-01T11:02:57z"},
{"source":"10.0.0.1","lines":3,"families":[null],"first_seen":"2004-08-01T11:02:57Z","last_seen":"2004-08-01T11:02:57Z","z":-0.5e+3},
7, null, {"source":"010.0.0.1","lines":01}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ReadReport(bytes.NewReader(data), "found.json", "me")
		libraryOnly = true
		ref, refErr := ReadReport(bytes.NewReader(data), "found.json", "me")
		libraryOnly = false
		if fmt.Sprint(err) != fmt.Sprint(refErr) {
			t.Fatalf("error %v; decoding every source with the library: %v", err, refErr)
		}
		if err != nil {
			checkFuzzError(t, err, "found.json", data)
			return
		}
		if !slices.EqualFunc(d.Sources, ref.Sources, func(a, b Source) bool { return reflect.DeepEqual(a, b) }) || d.Hosts != ref.Hosts {
			t.Fatalf("sources %+v, %d hosts; decoding every source with the library: %+v, %d", d.Sources, d.Hosts, ref.Sources, ref.Hosts)
		}
		for _, s := range d.Sources {
			if !s.Addr.IsValid() || s.Addr.Is4In6() || s.Count < 1 || len(s.Families) == 0 || s.LastSeen.Before(s.FirstSeen) {
				t.Fatalf("source %+v", s)
			}
		}
	})
}

func FuzzSTIX(f *testing.F) {
	f.Add([]byte(`{"type": "bundle", "id": "bundle--1", "objects": [
{"type": "indicator", "id": "indicator--1", "name": "Code Red II requests", "labels": ["codered2"]},
{"type": "ipv4-addr", "id": "ipv4-addr--1", "value": "192.0.2.1"},
{"type": "observed-data", "id": "observed-data--1", "first_observed": "2001-08-04T10:00:00.000Z", "last_observed": "2001-08-04T11:00:00.000Z", "number_observed": 3, "object_refs": ["ipv4-addr--1"]},
{"type": "sighting", "id": "sighting--1", "sighting_of_ref": "indicator--1", "observed_data_refs": ["observed-data--1"]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ReadSTIX(bytes.NewReader(data), "member.json", "")
		checkSightings(t, d, err, data)
		// The same objects read as a TAXII collection's (ReadObjects): an
		// error only where the objects themselves do not read; otherwise
		// what the bundle gave, and the sightings ReadSTIX refused counted.
		var doc struct {
			Type    string            `json:"type"`
			Objects []json.RawMessage `json:"objects"`
		}
		if json.Unmarshal(data, &doc) != nil || doc.Type != "bundle" {
			return
		}
		lenient, lerr := ReadObjects(doc.Objects, "member.json", "")
		checkSightings(t, lenient, lerr, data)
		if err == nil && (lerr != nil || len(lenient.Sources) != len(d.Sources) || lenient.Unresolved != 0) {
			t.Fatalf("ReadObjects: %v, %d sources, %d unresolved; ReadSTIX read %d sources", lerr, len(lenient.Sources), lenient.Unresolved, len(d.Sources))
		}
	})
}

// checkSightings checks what a reader of sightings returned: an
// *InputError, or sources that hold together.
func checkSightings(t *testing.T, d *Detections, err error, data []byte) {
	t.Helper()
	if err != nil {
		checkFuzzError(t, err, "member.json", data)
		return
	}
	for _, s := range d.Sources {
		if !s.Addr.IsValid() || s.Count < 1 || len(s.Families) != 1 || len(s.Reporters) != 1 || s.LastSeen.Before(s.FirstSeen) {
			t.Fatalf("source %+v", s)
		}
	}
}
