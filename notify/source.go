package notify

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"
	"time"

	"wormwatch/detect"
	"wormwatch/internal/timespan"
)

// Source is one infected address as detections saw it.
type Source struct {
	Addr                netip.Addr // IPv4 unmapped, no zone
	FirstSeen, LastSeen time.Time  // its first and last matched request (UTC)
	Count               int64      // requests matched (log lines, or a sighting's number observed)
	Families            []string   // the worm families its requests matched, sorted
	Reporters           []string   // who saw it (this sensor, alliance members), sorted
	Port                uint16     // the destination port, when known; 0 otherwise
}

// Family is what detections say of a worm family: the notices' text for a
// family the built-in guide does not know (Guide).
type Family struct {
	Name        string   // codered2, nimda, ...
	Title       string   // for people: Code Red II; Name when empty
	Kind        string   // worm, or rule (a shape several worms and scanners share); "" when not known
	Description string   // what its requests look like
	References  []string // CVE ids, URLs or words (Snort sid 1243)
}

// DisplayName returns the title, or the name when there is none.
func (f *Family) DisplayName() string { return cmp.Or(f.Title, f.Name) }

// Detections are sources read from one input or more, with the families
// they name. Add gathers several; Plan merges the sources of one address.
type Detections struct {
	Sources     []Source
	Families    map[string]Family // by name
	Hosts       int64             // sources logged as host names, not addresses: left out
	WithheldTLP int64             // sightings marked TLP:RED or TLP:AMBER+STRICT, which may not be passed on: left out
	// Unresolved counts the sightings ReadObjects left out: their
	// indicator or observed-data was not among the objects read.
	Unresolved int64
}

// Add appends the detections of o to d.
func (d *Detections) Add(o *Detections) {
	d.Sources = append(d.Sources, o.Sources...)
	if d.Families == nil {
		d.Families = map[string]Family{}
	}
	for n, f := range o.Families {
		if _, ok := d.Families[n]; !ok {
			d.Families[n] = f
		}
	}
	d.Hosts += o.Hosts
	d.WithheldTLP += o.WithheldTLP
	d.Unresolved += o.Unresolved
}

// interner shares the slices of equal sets of names among sources.
type interner struct {
	sets map[string][]string
	key  []byte
}

// of returns names sorted and without repeats, shared with every equal
// set (names itself is not kept: a caller may reuse it).
func (in *interner) of(names []string) []string { return intern(in, names) }

// intern is interner.of of names as strings or bytes.
func intern[T string | []byte](in *interner, names []T) []string {
	in.key = in.key[:0]
	for _, n := range names {
		in.key = append(append(in.key, n...), 0)
	}
	if s, ok := in.sets[string(in.key)]; ok { // no allocation: the compiler looks up []byte keys in place
		return s
	}
	if in.sets == nil {
		in.sets = map[string][]string{}
	}
	strs := make([]string, len(names))
	for i, n := range names {
		strs[i] = string(n)
	}
	s := slices.Compact(slices.Sorted(slices.Values(strs)))
	in.sets[string(in.key)] = s
	return s
}

// FromReport returns the sources of a detect report whose source is an
// address (a host name is counted in Hosts), each seen by reporter, and
// the report's families.
func FromReport(r *detect.Report, reporter string) (*Detections, error) {
	d := &Detections{Families: map[string]Family{}}
	for _, f := range r.Families {
		fam := Family{Name: f.Name, Title: f.DisplayName(), Kind: f.Kind, Description: f.Description}
		for _, ref := range f.References {
			fam.References = append(fam.References, ref.ShareText())
			if ref.URL != "" && !strings.EqualFold(ref.Source, "cve") {
				fam.References[len(fam.References)-1] = ref.Source + " " + ref.ID + ": " + ref.URL
			}
		}
		d.Families[f.Name] = fam
	}
	in := &interner{}
	reps := []string{reporter}
	for s, err := range r.Sources.All() {
		if err != nil {
			return nil, err
		}
		a, err := netip.ParseAddr(s.Source)
		if err != nil {
			d.Hosts++
			continue
		}
		d.Sources = append(d.Sources, Source{Addr: a.Unmap().WithZone(""), FirstSeen: s.FirstSeen, LastSeen: s.LastSeen,
			Count: s.Lines, Families: in.of(s.FamilyNames()), Reporters: reps})
	}
	return d, nil
}

// merge merges the sources of one address (sorted by address) in place
// and returns them, one per address.
func merge(src []Source) []Source {
	in := &interner{}
	out := src[:0]
	for i := 0; i < len(src); {
		s := src[i]
		j := i + 1
		for ; j < len(src) && src[j].Addr == s.Addr; j++ {
			t := &src[j]
			s.FirstSeen, s.LastSeen = timespan.Earlier(s.FirstSeen, t.FirstSeen), timespan.Later(s.LastSeen, t.LastSeen)
			s.Count += t.Count
			s.Families = in.of(append(slices.Clone(s.Families), t.Families...))
			s.Reporters = in.of(append(slices.Clone(s.Reporters), t.Reporters...))
			if s.Port == 0 {
				s.Port = t.Port // the first known
			}
		}
		out = append(out, s)
		i = j
	}
	return out
}
