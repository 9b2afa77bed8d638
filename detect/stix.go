package detect

import (
	"fmt"
	"io"
	"net/netip"
	"strings"

	"wormwatch/internal/timespan"
	"wormwatch/share"
)

// MaxSTIXSources bounds the source addresses a STIX bundle lists per
// family (the most active ones), so that a bundle of millions of sources
// stays small in memory and useful to the receiver; the sighting's count
// covers every source.
const MaxSTIXSources = 10_000

// WriteSTIX writes the STIX 2.1 bundle of the report with package share,
// marked tlp: per family an indicator (its pattern), and when it was seen
// a sighting with the event count and first and last seen, and the
// sources as observed data. It returns notes for people about what the
// bundle leaves out: sources logged as host names, not addresses (they
// cannot be STIX address objects), and the sources of a family past
// MaxSTIXSources.
func (r *Report) WriteSTIX(w io.Writer, tlp string) (notes []string, err error) {
	findings, notes, err := r.STIXFindings()
	if err != nil {
		return nil, err
	}
	return notes, share.WriteSTIX(w, findings, tlp)
}

// STIXFindings maps the report to share's findings, one per family in the
// report's order, with the notes WriteSTIX returns.
func (r *Report) STIXFindings() ([]share.Finding, []string, error) {
	src, err := r.stixSources()
	if err != nil {
		return nil, nil, err
	}
	var findings []share.Finding
	for _, f := range r.Families {
		fd := share.Finding{
			Family:      f.Name,
			Name:        f.DisplayName(),
			Description: oneLine(f.Description),
			Pattern:     f.Pattern(),
			Count:       f.Events,
			FirstSeen:   f.FirstSeen,
			LastSeen:    f.LastSeen,
		}
		for _, ref := range f.References {
			fd.References = append(fd.References, ref.ShareText())
		}
		for _, k := range src.byFam[f.Name] {
			fd.Sources = append(fd.Sources, *src.bySrc[k])
		}
		findings = append(findings, fd)
	}
	var notes []string
	if src.hosts > 0 {
		notes = append(notes, fmt.Sprintf("the STIX bundle leaves out %d sources logged as host names, not addresses", src.hosts))
	}
	for _, f := range r.Families {
		if n := src.left[f.Name]; n > 0 {
			notes = append(notes, fmt.Sprintf("the STIX bundle lists the %d most active sources of %s and leaves out %d others (the sighting counts them all)", MaxSTIXSources, f.Name, n))
		}
	}
	return findings, notes, nil
}

// stixKey is one address of one family.
type stixKey struct {
	fam  string
	addr netip.Addr
}

// stixSources are the source addresses of a bundle, by family.
type stixSources struct {
	bySrc map[stixKey]*share.Source
	byFam map[string][]stixKey // in the order of the report's sources: most active first
	left  map[string]int64     // sources left out past MaxSTIXSources, by family
	hosts int                  // sources logged as host names, left out
}

// stixSources gathers the sources of every family as addresses: the same
// address logged in two forms (::ffff:10.0.0.1 and 10.0.0.1) is one, and
// past MaxSTIXSources a family's further (less active) sources are only
// counted.
func (r *Report) stixSources() (*stixSources, error) {
	out := &stixSources{bySrc: map[stixKey]*share.Source{}, byFam: map[string][]stixKey{}, left: map[string]int64{}}
	for s, err := range r.Sources.All() {
		if err != nil {
			return nil, err
		}
		a, err := netip.ParseAddr(s.Source)
		if err != nil {
			out.hosts++
			continue
		}
		a = a.Unmap().WithZone("")
		for _, f := range s.Families {
			k := stixKey{f.Name, a}
			if p := out.bySrc[k]; p != nil { // the same address logged in two forms
				p.Count += f.Lines
				p.FirstSeen, p.LastSeen = timespan.Earlier(p.FirstSeen, f.FirstSeen), timespan.Later(p.LastSeen, f.LastSeen)
				continue
			}
			if len(out.byFam[f.Name]) >= MaxSTIXSources {
				out.left[f.Name]++ // sources come most active first: the rest are left out
				continue
			}
			out.bySrc[k] = &share.Source{Addr: a, Count: f.Lines, FirstSeen: f.FirstSeen, LastSeen: f.LastSeen}
			out.byFam[f.Name] = append(out.byFam[f.Name], k)
		}
	}
	return out, nil
}

// ShareText writes a signature reference the way share reads one: a CVE
// identifier, a URL, or words ("Snort sid 1243").
func (r Reference) ShareText() string {
	switch {
	case strings.EqualFold(r.Source, "cve"):
		return r.ID
	case r.URL != "":
		return r.URL
	}
	if n, ok := referenceSources[strings.ToLower(r.Source)]; ok {
		return n + " " + r.ID
	}
	return r.Source + " " + r.ID
}

// referenceSources are the words for the sources of references share
// knows, by the name a signatures file gives.
var referenceSources = map[string]string{"snort": "Snort sid", "emerging-threats": "Emerging Threats sid", "cert": "CERT", "microsoft": "Microsoft"}
