package notify

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestReadObjects: the objects of a bundle read as ReadSTIX reads it;
// without their indicators every sighting is left out and counted, where
// ReadSTIX refuses the bundle; sightings marked with TLP 2.0's RED are not
// passed on.
func TestReadObjects(t *testing.T) {
	r := sampleReport(t)
	var bundle bytes.Buffer
	if _, err := r.WriteSTIX(&bundle, "amber"); err != nil {
		t.Fatal(err)
	}
	objects := func(s string) []json.RawMessage {
		var doc struct{ Objects []json.RawMessage }
		if err := json.Unmarshal([]byte(s), &doc); err != nil {
			t.Fatal(err)
		}
		return doc.Objects
	}
	whole, err := ReadSTIX(bytes.NewReader(bundle.Bytes()), "b.json", "member-b")
	if err != nil || len(whole.Sources) == 0 {
		t.Fatalf("ReadSTIX: %v, %d sources", err, len(whole.Sources))
	}
	objs := objects(bundle.String())
	got, err := ReadObjects(objs, "collection", "member-b")
	if err != nil || len(got.Sources) != len(whole.Sources) || got.Unresolved != 0 {
		t.Fatalf("ReadObjects: %v, %d sources (want %d), %d unresolved", err, len(got.Sources), len(whole.Sources), got.Unresolved)
	}
	for i := range got.Sources {
		if !sameSource(got.Sources[i], whole.Sources[i]) {
			t.Errorf("source %d: %+v, ReadSTIX %+v", i, got.Sources[i], whole.Sources[i])
		}
	}

	var kept []json.RawMessage
	sightings := int64(0)
	for _, o := range objs {
		switch {
		case bytes.Contains(o, []byte(`"type": "indicator"`)) || bytes.Contains(o, []byte(`"type":"indicator"`)):
			continue
		case bytes.Contains(o, []byte(`"type": "sighting"`)) || bytes.Contains(o, []byte(`"type":"sighting"`)):
			sightings++
		}
		kept = append(kept, o)
	}
	if len(kept) == len(objs) || sightings == 0 {
		t.Fatalf("the bundle has %d sightings and no indicator to drop", sightings)
	}
	got, err = ReadObjects(kept, "collection", "")
	if err != nil || len(got.Sources) != 0 || got.Unresolved != sightings {
		t.Errorf("without indicators: %v, %d sources, %d unresolved (want %d)", err, len(got.Sources), got.Unresolved, sightings)
	}
	if _, err := readObjects(kept, "b.json", "", false); err == nil {
		t.Error("ReadSTIX's reading of objects without their indicators: no error")
	}

	amber := "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
	red2 := strings.ReplaceAll(bundle.String(), amber, tlpRed2)
	if red2 == bundle.String() {
		t.Fatal("the bundle has no TLP:AMBER marking to replace")
	}
	got, err = ReadObjects(objects(red2), "collection", "")
	if err != nil || len(got.Sources) != 0 || got.WithheldTLP == 0 {
		t.Errorf("TLP 2.0 RED: %v, %d sources, %d red sightings", err, len(got.Sources), got.WithheldTLP)
	}
	// TLP 2.0: AMBER+STRICT is withheld (the recipient's organisation
	// only), AMBER is told (clients who need it), as TLP 1.0's AMBER is.
	for _, c := range []struct {
		name, marking string
		withheld      bool
	}{
		{"TLP 2.0 AMBER+STRICT", tlpAmberStrict, true},
		{"TLP 2.0 AMBER", "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", false},
		{"TLP 1.0 AMBER", amber, false},
	} {
		got, err := ReadObjects(objects(strings.ReplaceAll(bundle.String(), amber, c.marking)), "collection", "")
		if err != nil || (len(got.Sources) == 0) != c.withheld || (got.WithheldTLP > 0) != c.withheld {
			t.Errorf("%s: %v, %d sources, %d withheld; want withheld %v", c.name, err, len(got.Sources), got.WithheldTLP, c.withheld)
		}
	}
}
