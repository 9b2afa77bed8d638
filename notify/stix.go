package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// The markings whose sightings are not passed on to owners: tlpRed is
// the TLP 1.0 RED marking-definition of STIX 2.1 (section 7.2.1.4 of the
// specification, as package share writes it), tlpRed2 and
// tlpAmberStrict TLP 2.0's (the OASIS markings of the TLP 2.0 extension
// definition). TLP 2.0's AMBER+STRICT restricts sharing to the
// recipient's own organisation, so an owner outside it may not be told;
// AMBER allows the recipient's clients who need to know to protect
// themselves, which is what an owner told of its own machines is. A
// marking defined in the bundle and named "TLP:RED" or "TLP:AMBER+STRICT"
// counts too.
const (
	tlpRed         = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
	tlpRed2        = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
	tlpAmberStrict = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
)

// stixObject holds the properties of the objects ReadSTIX reads.
type stixObject struct {
	Type           string   `json:"type"`
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	Description    string   `json:"description"`
	Labels         []string `json:"labels"`
	Value          string   `json:"value"`
	CreatedByRef   string   `json:"created_by_ref"`
	Markings       []string `json:"object_marking_refs"`
	FirstObserved  string   `json:"first_observed"`
	LastObserved   string   `json:"last_observed"`
	NumberObserved int64    `json:"number_observed"`
	ObjectRefs     []string `json:"object_refs"`
	SightingOfRef  string   `json:"sighting_of_ref"`
	ObservedRefs   []string `json:"observed_data_refs"`
	ExternalRefs   []struct {
		SourceName  string `json:"source_name"`
		ExternalID  string `json:"external_id"`
		URL         string `json:"url"`
		Description string `json:"description"`
	} `json:"external_references"`
	index int // in the bundle's objects
}

// bundle is a STIX bundle's objects by id.
type bundle struct {
	name string
	objs map[string]*stixObject
	red  map[string]bool // marking-definitions that are TLP:RED or TLP:AMBER+STRICT
}

// ReadSTIX reads the sightings of a STIX 2.1 bundle, as `wormwatch detect
// --stix` and alliance members write them: each sighting of an indicator
// (its family: the indicator's first label, else its name) refers to
// observed-data, each observing one ipv4-addr or ipv6-addr over a time
// span, number_observed times. Every address observed (not a network in
// CIDR notation) becomes a Source
// seen by reporter (the identity that created the sighting when reporter
// is ""). Sightings marked TLP:RED or TLP:AMBER+STRICT may not be passed on: they are counted
// in WithheldTLP and left out. name is the file's name in errors.
func ReadSTIX(r io.Reader, name, reporter string) (*Detections, error) {
	var doc struct {
		Type    string            `json:"type"`
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.NewDecoder(r).Decode(&doc); err != nil {
		return nil, inputErr(name, 0, "", "not a STIX bundle: %v", jsonErr(err))
	}
	if doc.Type != "bundle" {
		return nil, inputErr(name, 0, "type", "%q: want a STIX 2.1 bundle (\"bundle\")", doc.Type)
	}
	return readObjects(doc.Objects, name, reporter, false)
}

// ReadObjects reads the sightings among STIX 2.1 objects as ReadSTIX reads
// a bundle's, except that a sighting whose indicator or observed-data is
// not among them, or does not read, is left out (counted in Unresolved)
// rather than an error: the objects of a TAXII collection, as a member may
// read them, need not hold every object a sighting refers to. name names
// them in errors.
func ReadObjects(objects []json.RawMessage, name, reporter string) (*Detections, error) {
	return readObjects(objects, name, reporter, true)
}

// readObjects reads the sightings of objects; lenient leaves out a
// sighting that does not resolve instead of failing.
func readObjects(objects []json.RawMessage, name, reporter string, lenient bool) (*Detections, error) {
	b, err := readBundle(objects, name)
	if err != nil {
		return nil, err
	}
	d := &Detections{Families: map[string]Family{}}
	in := &interner{}
	for _, o := range b.sorted("sighting") {
		var part Detections
		part.Families = d.Families
		if err := b.sighting(o, &part, in, reporter); err != nil {
			if !lenient {
				return nil, err
			}
			d.Unresolved++
			continue
		}
		d.Sources = append(d.Sources, part.Sources...)
		d.WithheldTLP += part.WithheldTLP
	}
	return d, nil
}

// readBundle reads a bundle's objects.
func readBundle(objects []json.RawMessage, name string) (*bundle, error) {
	b := &bundle{name: name, objs: map[string]*stixObject{}, red: map[string]bool{tlpRed: true, tlpRed2: true, tlpAmberStrict: true}}
	raws := map[string]json.RawMessage{}
	for i, raw := range objects {
		o := &stixObject{index: i}
		if err := json.Unmarshal(raw, o); err != nil {
			return nil, inputErr(name, 0, fmt.Sprintf("objects[%d]", i), "%v", err)
		}
		if o.Type == "" || !strings.HasPrefix(o.ID, o.Type+"--") {
			return nil, inputErr(name, 0, fmt.Sprintf("objects[%d].id", i), "%q is not an id of type %q", o.ID, o.Type)
		}
		if prev, dup := raws[o.ID]; dup {
			if bytes.Equal(prev, raw) {
				continue // the same object again (one observed-data shared by two sightings)
			}
			return nil, inputErr(name, 0, fmt.Sprintf("objects[%d].id", i), "%s appears twice, with different content", o.ID)
		}
		b.objs[o.ID], raws[o.ID] = o, raw
		if o.Type == "marking-definition" && withheldName(o.Name) {
			b.red[o.ID] = true
		}
	}
	return b, nil
}

// withheldName reports whether a marking-definition's name is TLP:RED or
// TLP:AMBER+STRICT.
func withheldName(name string) bool {
	name = strings.TrimSpace(name)
	return strings.EqualFold(name, "TLP:RED") || strings.EqualFold(name, "TLP:AMBER+STRICT")
}

// sorted returns the objects of a type in bundle order.
func (b *bundle) sorted(typ string) []*stixObject {
	var out []*stixObject
	for _, o := range b.objs {
		if o.Type == typ {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(x, y *stixObject) int { return x.index - y.index })
	return out
}

// ref returns the object an id refers to, which must be of type typ.
func (b *bundle) ref(from *stixObject, field, id, typ string) (*stixObject, error) {
	o := b.objs[id]
	if o == nil || o.Type != typ {
		return nil, inputErr(b.name, 0, fmt.Sprintf("objects[%d].%s", from.index, field), "%q: the bundle holds no %s of that id", id, typ)
	}
	return o, nil
}

// isRed reports whether an object is marked TLP:RED or TLP:AMBER+STRICT.
func (b *bundle) isRed(o *stixObject) bool {
	return slices.ContainsFunc(o.Markings, func(m string) bool { return b.red[m] })
}

// sighting adds the sources of one sighting.
func (b *bundle) sighting(s *stixObject, d *Detections, in *interner, reporter string) error {
	ind, err := b.ref(s, "sighting_of_ref", s.SightingOfRef, "indicator")
	if err != nil {
		return err
	}
	if b.isRed(s) {
		d.WithheldTLP++
		return nil
	}
	fam := b.family(ind)
	if _, ok := d.Families[fam.Name]; !ok {
		d.Families[fam.Name] = fam
	}
	if reporter == "" {
		if id := b.objs[s.CreatedByRef]; id != nil && id.Type == "identity" && id.Name != "" {
			reporter = id.Name
		} else {
			reporter = b.name
		}
	}
	fams, reps := in.of([]string{fam.Name}), in.of([]string{reporter})
	for _, ref := range s.ObservedRefs {
		od, err := b.ref(s, "observed_data_refs", ref, "observed-data")
		if err != nil {
			return err
		}
		srcs, err := b.observed(od)
		if err != nil {
			return err
		}
		for _, src := range srcs {
			src.Families, src.Reporters = fams, reps
			d.Sources = append(d.Sources, src)
		}
	}
	return nil
}

// family returns what an indicator says of its family.
func (b *bundle) family(ind *stixObject) Family {
	f := Family{Name: strings.TrimSuffix(ind.Name, " requests"), Description: ind.Description}
	if len(ind.Labels) > 0 && ind.Labels[0] != "" {
		f.Name = ind.Labels[0]
	}
	f.Title = strings.TrimSuffix(ind.Name, " requests")
	for _, r := range ind.ExternalRefs {
		switch {
		case r.SourceName == "cve" && r.ExternalID != "":
			f.References = append(f.References, r.ExternalID)
		case r.URL != "":
			f.References = append(f.References, r.URL)
		case r.Description != "":
			f.References = append(f.References, r.Description)
		}
	}
	return f
}

// observed returns the addresses an observed-data observed.
func (b *bundle) observed(od *stixObject) ([]Source, error) {
	field := func(f string) string { return fmt.Sprintf("objects[%d].%s", od.index, f) }
	first, err := time.Parse(time.RFC3339Nano, od.FirstObserved)
	if err != nil {
		return nil, inputErr(b.name, 0, field("first_observed"), "%q is not a STIX time", od.FirstObserved)
	}
	last, err := time.Parse(time.RFC3339Nano, od.LastObserved)
	if err != nil || last.Before(first) {
		return nil, inputErr(b.name, 0, field("last_observed"), "%q is not a STIX time at or after first_observed", od.LastObserved)
	}
	if od.NumberObserved < 1 {
		return nil, inputErr(b.name, 0, field("number_observed"), "%d: want 1 or more", od.NumberObserved)
	}
	var out []Source
	for _, ref := range od.ObjectRefs {
		o := b.objs[ref]
		if o == nil || (o.Type != "ipv4-addr" && o.Type != "ipv6-addr") || strings.Contains(o.Value, "/") {
			continue // a network-traffic or other object, or a network (CIDR): not an infected address
		}
		a, err := netip.ParseAddr(o.Value)
		if err != nil || (o.Type == "ipv4-addr") != a.Unmap().Is4() {
			return nil, inputErr(b.name, 0, fmt.Sprintf("objects[%d].value", o.index), "%q is not an %s", o.Value, strings.TrimSuffix(o.Type, "-addr"))
		}
		out = append(out, Source{Addr: a.Unmap().WithZone(""), FirstSeen: first.UTC(), LastSeen: last.UTC(), Count: od.NumberObserved})
	}
	return out, nil
}
