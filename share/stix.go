package share

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Finding is what was seen of one worm family: the input of WriteSTIX. The
// detect command fills it from its report, so this package does not depend
// on detect (and a detection from any other source can be shared the same
// way).
type Finding struct {
	// Family is the family's short name (codered1, codered2, nimda, ...):
	// required and unique within one call.
	Family string
	// Name is the family's name for people ("Code Red II"); Family if empty.
	Name string
	// Description says what the indicator matches.
	Description string
	// References are where the signature comes from: URLs, CVE identifiers
	// (CVE-2001-0500) or free text such as "Snort sid 1243".
	References []string
	// URLPattern is a regular expression for the request target (path and
	// query, as in the request line): PCRE syntax that Go's regexp also reads,
	// and not anchored at the start (a URL holds a scheme and host before the
	// path). Required unless Pattern is set.
	URLPattern string
	// Method, if set, restricts the network-traffic side of the pattern to
	// requests with this HTTP method (GET, SEARCH, ...).
	Method string
	// Pattern, if set, is a complete STIX 2.1 pattern used as it is instead of
	// the one built from URLPattern (for shapes that are not a URL, such as a
	// missing Host header). It must parse.
	Pattern string
	// Count is the number of events (a Nimda burst counts once). Zero writes
	// the indicator only, with no sighting.
	Count int64
	// FirstSeen and LastSeen bound the events; required when Count > 0.
	FirstSeen, LastSeen time.Time
	// Sources are the addresses the events came from.
	Sources []Source
	// SightingDescription, if set, is the sighting's description instead
	// of "NAME: N events from M sources": for a finding whose sources are
	// counted but not listed (a live alarm says how many distinct sources
	// its series saw, not which).
	SightingDescription string
}

// Source is one address that sent a family's requests. Zero Count and times
// mean unknown: the address is then written as seen once within the
// family's first and last seen.
type Source struct {
	Addr                netip.Addr
	Count               int64
	FirstSeen, LastSeen time.Time
}

// TLP markings: the four TLP 1.0 marking-definition objects that STIX 2.1
// defines (section 7.2.1.4 of the specification; the ids are fixed there and
// in the OASIS schema).
var tlpIDs = map[string]string{
	"white": "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
	"green": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
	"amber": "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
	"red":   "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
}

// TLPLevels are the values WriteSTIX and WriteCSAF accept for tlp, in order
// of restriction.
var TLPLevels = []string{"white", "green", "amber", "red"}

// ParseTLP checks a TLP level (case-insensitive) and returns it in lower
// case; an empty string gives def.
func ParseTLP(s, def string) (string, error) {
	if s == "" {
		s = def
	}
	l := strings.ToLower(strings.TrimPrefix(strings.ToUpper(s), "TLP:"))
	if _, ok := tlpIDs[l]; !ok {
		return "", fmt.Errorf("TLP level %q: allowed values are %s", s, strings.Join(TLPLevels, ", "))
	}
	return l, nil
}

// stixTime is the time format of STIX: UTC with milliseconds, which the
// schema requires for created and modified.
const stixTime = "2006-01-02T15:04:05.000Z"

func ts(t time.Time) string { return t.UTC().Format(stixTime) }

// Namespaces of the UUIDv5 identifiers. SCOs use the namespace the STIX 2.1
// specification fixes for deterministic SCO ids (section 2.9), so that any
// producer names the same address with the same id; wormwatch's own objects
// use a namespace derived from its name.
var (
	scoNamespace = uuid.MustParse("00abedb4-aa42-466c-9c01-fed23315a9b7")
	wwNamespace  = uuid.NewSHA1(uuid.NameSpaceURL, []byte("wormwatch:stix"))
)

// identityCreated is the fixed creation time of wormwatch's identity object:
// its content never changes, so neither may its id nor its created time.
var identityCreated = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// contentID gives a STIX id derived from the object's content (every
// property but id), so identical objects get identical ids and any change
// gives a new object rather than a conflicting version.
func contentID(typ string, obj any) (string, error) {
	b, err := json.Marshal(obj)
	if err != nil {
		return "", err
	}
	return typ + "--" + uuid.NewSHA1(wwNamespace, append([]byte(typ+"\n"), b...)).String(), nil
}

// scoID is the deterministic id of an ipv4-addr or ipv6-addr object: UUIDv5
// in the STIX SCO namespace over the canonical JSON of its id-contributing
// property, {"value":"..."} (RFC 8785 serialisation of one string member).
func scoID(typ, value string) string {
	name, _ := json.Marshal(struct {
		Value string `json:"value"`
	}{value})
	return typ + "--" + uuid.NewSHA1(scoNamespace, name).String()
}

type stixCommon struct {
	Type             string   `json:"type"`
	SpecVersion      string   `json:"spec_version"`
	ID               string   `json:"id,omitempty"`
	CreatedByRef     string   `json:"created_by_ref,omitempty"`
	Created          string   `json:"created,omitempty"`
	Modified         string   `json:"modified,omitempty"`
	ObjectMarkingRef []string `json:"object_marking_refs,omitempty"`
}

type stixIdentity struct {
	stixCommon
	Name          string `json:"name"`
	Description   string `json:"description"`
	IdentityClass string `json:"identity_class"`
}

type stixMarking struct {
	Type           string            `json:"type"`
	SpecVersion    string            `json:"spec_version"`
	ID             string            `json:"id"`
	Created        string            `json:"created"`
	DefinitionType string            `json:"definition_type"`
	Name           string            `json:"name"`
	Definition     map[string]string `json:"definition"`
}

type externalRef struct {
	SourceName  string `json:"source_name"`
	Description string `json:"description,omitempty"`
	URL         string `json:"url,omitempty"`
	ExternalID  string `json:"external_id,omitempty"`
}

type stixIndicator struct {
	stixCommon
	Name           string        `json:"name"`
	Description    string        `json:"description,omitempty"`
	IndicatorTypes []string      `json:"indicator_types"`
	Pattern        string        `json:"pattern"`
	PatternType    string        `json:"pattern_type"`
	PatternVersion string        `json:"pattern_version"`
	ValidFrom      string        `json:"valid_from"`
	Labels         []string      `json:"labels,omitempty"`
	ExternalRefs   []externalRef `json:"external_references,omitempty"`
}

type stixAddr struct {
	Type             string   `json:"type"`
	SpecVersion      string   `json:"spec_version"`
	ID               string   `json:"id"`
	Value            string   `json:"value"`
	ObjectMarkingRef []string `json:"object_marking_refs,omitempty"`
}

type stixObserved struct {
	stixCommon
	FirstObserved  string   `json:"first_observed"`
	LastObserved   string   `json:"last_observed"`
	NumberObserved int64    `json:"number_observed"`
	ObjectRefs     []string `json:"object_refs"`
}

type stixSighting struct {
	stixCommon
	Description      string   `json:"description,omitempty"`
	FirstSeen        string   `json:"first_seen"`
	LastSeen         string   `json:"last_seen"`
	Count            int64    `json:"count"`
	SightingOfRef    string   `json:"sighting_of_ref"`
	ObservedDataRefs []string `json:"observed_data_refs,omitempty"`
}

type stixBundle struct {
	Type    string `json:"type"`
	ID      string `json:"id"`
	Objects []any  `json:"objects"`
}

// maxCount is the largest count and number_observed STIX allows.
const maxCount = 999_999_999

func clamp(n, lo, hi int64) int64 { return max(lo, min(n, hi)) }

var reCVE = regexp.MustCompile(`^CVE-\d{4}-(0\d{3}|[1-9]\d{3,})$`)

// externalRefs maps the free-form references of a finding to STIX external
// references: a CVE identifier becomes source "cve" with its id, a URL is
// kept with its host as source, anything else is a description.
func externalRefs(refs []string) []externalRef {
	var out []externalRef
	for _, r := range refs {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		if reCVE.MatchString(r) {
			out = append(out, externalRef{SourceName: "cve", ExternalID: r})
			continue
		}
		if u, err := url.Parse(r); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
			out = append(out, externalRef{SourceName: u.Hostname(), URL: r})
			continue
		}
		out = append(out, externalRef{SourceName: "wormwatch signature table", Description: r})
	}
	return out
}

// URLPatternSTIX builds the STIX pattern of a finding from its URLPattern:
// two observation expressions joined by OR, one on url:value (what proxies
// and URL feeds hold) and one on the HTTP request line of network-traffic
// (what web-server logs hold), so that a consumer with either kind of data
// can match it. The regular expression is not anchored, so it matches the
// path part of a full URL as well as a bare request target.
func URLPatternSTIX(urlPattern, method string) string {
	q := QuotePattern(urlPattern)
	nt := "network-traffic:extensions.'http-request-ext'.request_value MATCHES " + q
	if method != "" {
		// STIX writes request_method in lower case.
		nt = "network-traffic:extensions.'http-request-ext'.request_method = " + QuotePattern(strings.ToLower(method)) + " AND " + nt
	}
	return "[url:value MATCHES " + q + "] OR [" + nt + "]"
}

// checkFinding validates one finding and returns its pattern.
func checkFinding(f *Finding) (string, error) {
	if f.Family == "" {
		return "", fmt.Errorf("finding with an empty Family")
	}
	where := "finding " + f.Family
	pattern := f.Pattern
	if pattern == "" {
		if f.URLPattern == "" {
			return "", fmt.Errorf("%s: URLPattern and Pattern are both empty; an indicator needs a pattern", where)
		}
		if strings.HasPrefix(f.URLPattern, "^") {
			return "", fmt.Errorf("%s: URLPattern %q is anchored with ^; it must match anywhere in a URL (scheme and host come before the path)", where, f.URLPattern)
		}
		if _, err := regexp.Compile(f.URLPattern); err != nil {
			return "", fmt.Errorf("%s: URLPattern: %w", where, err)
		}
		if f.Method != "" && strings.ContainsAny(f.Method, " \t'\\") {
			return "", fmt.Errorf("%s: Method %q is not an HTTP method", where, f.Method)
		}
		pattern = URLPatternSTIX(f.URLPattern, f.Method)
	}
	if _, err := checkPattern(pattern); err != nil {
		return "", fmt.Errorf("%s: STIX pattern %q: %w", where, pattern, err)
	}
	if f.Count < 0 {
		return "", fmt.Errorf("%s: Count %d is negative", where, f.Count)
	}
	if f.Count > 0 {
		if f.FirstSeen.IsZero() || f.LastSeen.IsZero() {
			return "", fmt.Errorf("%s: Count is %d but FirstSeen or LastSeen is not set", where, f.Count)
		}
		if f.LastSeen.Before(f.FirstSeen) {
			return "", fmt.Errorf("%s: LastSeen %s is before FirstSeen %s", where, f.LastSeen.UTC().Format(time.RFC3339), f.FirstSeen.UTC().Format(time.RFC3339))
		}
	}
	for _, s := range f.Sources {
		if !s.Addr.IsValid() {
			return "", fmt.Errorf("%s: a source has no address", where)
		}
		if s.Count < 0 {
			return "", fmt.Errorf("%s: source %s: Count %d is negative", where, s.Addr, s.Count)
		}
		if !s.FirstSeen.IsZero() && !s.LastSeen.IsZero() && s.LastSeen.Before(s.FirstSeen) {
			return "", fmt.Errorf("%s: source %s: LastSeen is before FirstSeen", where, s.Addr)
		}
	}
	return pattern, nil
}

func addrType(a netip.Addr) string {
	if a.Unmap().Is4() {
		return "ipv4-addr"
	}
	return "ipv6-addr"
}

// WriteSTIX writes a STIX 2.1 bundle of the findings to w, marked with the
// TLP level tlp (white, green, amber or red; empty means amber). The bundle
// holds wormwatch's identity (created_by_ref of every object), the TLP
// marking-definition, one ipv4-addr (or ipv6-addr) object per source
// address, and per family an indicator, one observed-data per source and a
// sighting of the indicator that refers to them. The same findings always
// give the same bytes: ids are UUIDv5 of the content, times come from the
// findings, families and sources are sorted.
func WriteSTIX(w io.Writer, findings []Finding, tlp string) error {
	level, err := ParseTLP(tlp, "amber")
	if err != nil {
		return err
	}
	fs, patterns, err := sortedFindings(findings)
	if err != nil {
		return err
	}
	b := &bundleBuilder{marks: []string{tlpIDs[level]}}
	if err := b.identity(); err != nil {
		return err
	}
	b.add(tlpIDs[level], stixMarking{Type: "marking-definition", SpecVersion: "2.1", ID: tlpIDs[level], Created: "2017-01-20T00:00:00.000Z",
		DefinitionType: "tlp", Name: "TLP:" + strings.ToUpper(level), Definition: map[string]string{"tlp": level}})
	b.addresses(fs)
	earliest := earliestSeen(fs)
	for i := range fs {
		if err := b.family(&fs[i], patterns[i], earliest); err != nil {
			return err
		}
	}
	bundle := stixBundle{Type: "bundle", ID: "bundle--" + uuid.NewSHA1(wwNamespace, []byte(strings.Join(b.ids, "\n"))).String(), Objects: b.objects}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(bundle)
}

// sortedFindings returns the findings sorted by family, each checked, with
// their patterns; a family given twice is an error.
func sortedFindings(findings []Finding) ([]Finding, []string, error) {
	fs := slices.Clone(findings)
	slices.SortFunc(fs, func(a, b Finding) int { return strings.Compare(a.Family, b.Family) })
	patterns := make([]string, len(fs))
	for i := range fs {
		if i > 0 && fs[i].Family == fs[i-1].Family {
			return nil, nil, fmt.Errorf("finding %s appears twice", fs[i].Family)
		}
		var err error
		if patterns[i], err = checkFinding(&fs[i]); err != nil {
			return nil, nil, err
		}
	}
	return fs, patterns, nil
}

// earliestSeen is the earliest FirstSeen of the findings (the identity's
// creation time when none has one): the valid_from of an indicator whose
// family was never seen.
func earliestSeen(fs []Finding) time.Time {
	earliest := identityCreated
	for _, f := range fs {
		if !f.FirstSeen.IsZero() && (earliest.Equal(identityCreated) || f.FirstSeen.Before(earliest)) {
			earliest = f.FirstSeen
		}
	}
	return earliest
}

// bundleBuilder gathers the objects of a bundle, in order, with their ids.
type bundleBuilder struct {
	marks   []string // object_marking_refs of every object: the TLP marking
	identID string   // wormwatch's identity, created_by_ref of every SDO
	objects []any
	ids     []string
}

func (b *bundleBuilder) add(id string, obj any) {
	b.ids = append(b.ids, id)
	b.objects = append(b.objects, obj)
}

// common is the common part of an SDO of type typ created at created.
func (b *bundleBuilder) common(typ string, created time.Time) stixCommon {
	return stixCommon{Type: typ, SpecVersion: "2.1", CreatedByRef: b.identID, Created: ts(created), Modified: ts(created), ObjectMarkingRef: b.marks}
}

// identity adds wormwatch's identity, the creator of every other object.
func (b *bundleBuilder) identity() error {
	ident := stixIdentity{
		stixCommon: stixCommon{Type: "identity", SpecVersion: "2.1", Created: ts(identityCreated), Modified: ts(identityCreated), ObjectMarkingRef: b.marks},
		Name:       "wormwatch",
		Description: "wormwatch, a program that finds Internet worms in web-server logs and forecasts their outbreaks; " +
			"it produced these objects automatically from the logs it was given.",
		IdentityClass: "system",
	}
	var err error
	if ident.ID, err = contentID("identity", ident); err != nil {
		return err
	}
	b.identID = ident.ID
	b.add(ident.ID, ident)
	return nil
}

// addresses adds one SCO per distinct source address of the findings that
// were seen, sorted.
func (b *bundleBuilder) addresses(fs []Finding) {
	var addrs []netip.Addr
	for _, f := range fs {
		if f.Count == 0 {
			continue
		}
		for _, s := range f.Sources {
			addrs = append(addrs, s.Addr.Unmap())
		}
	}
	slices.SortFunc(addrs, func(a, b netip.Addr) int { return a.Compare(b) })
	for _, a := range slices.Compact(addrs) {
		typ := addrType(a)
		id := scoID(typ, a.String())
		b.add(id, stixAddr{Type: typ, SpecVersion: "2.1", ID: id, Value: a.String(), ObjectMarkingRef: b.marks})
	}
}

// family adds a finding's indicator and, if it was seen, one observed-data
// per source and the sighting that refers to them.
func (b *bundleBuilder) family(f *Finding, pattern string, earliest time.Time) error {
	name := f.Name
	if name == "" {
		name = f.Family
	}
	from := f.FirstSeen
	if from.IsZero() {
		from = earliest
	}
	ind := stixIndicator{
		stixCommon:     b.common("indicator", from),
		Name:           name + " requests",
		Description:    f.Description,
		IndicatorTypes: []string{"malicious-activity"},
		Pattern:        pattern,
		PatternType:    "stix",
		PatternVersion: "2.1",
		ValidFrom:      ts(from),
		Labels:         []string{f.Family},
		ExternalRefs:   externalRefs(f.References),
	}
	var err error
	if ind.ID, err = contentID("indicator", ind); err != nil {
		return err
	}
	b.add(ind.ID, ind)
	if f.Count == 0 {
		return nil
	}
	observed, err := b.observed(f)
	if err != nil {
		return err
	}
	sg := stixSighting{
		stixCommon:       b.common("sighting", f.LastSeen),
		Description:      f.SightingDescription,
		FirstSeen:        ts(f.FirstSeen),
		LastSeen:         ts(f.LastSeen),
		Count:            clamp(f.Count, 0, maxCount),
		SightingOfRef:    ind.ID,
		ObservedDataRefs: observed,
	}
	if sg.Description == "" {
		sg.Description = fmt.Sprintf("%s: %d events from %d sources", name, f.Count, len(f.Sources))
	}
	if f.Count > maxCount {
		sg.Description += fmt.Sprintf(" (count capped at STIX's maximum of %d)", maxCount)
	}
	if sg.ID, err = contentID("sighting", sg); err != nil {
		return err
	}
	b.add(sg.ID, sg)
	return nil
}

// observed adds one observed-data per source of a finding, sorted by
// address, and returns their ids; a source given twice is an error.
func (b *bundleBuilder) observed(f *Finding) ([]string, error) {
	srcs := slices.Clone(f.Sources)
	slices.SortFunc(srcs, func(a, b Source) int { return a.Addr.Unmap().Compare(b.Addr.Unmap()) })
	var ids []string
	for j, s := range srcs {
		a := s.Addr.Unmap()
		if j > 0 && a == srcs[j-1].Addr.Unmap() {
			return nil, fmt.Errorf("finding %s: source %s appears twice", f.Family, a)
		}
		first, last := s.FirstSeen, s.LastSeen
		if first.IsZero() || last.IsZero() {
			first, last = f.FirstSeen, f.LastSeen
		}
		od := stixObserved{
			stixCommon:     b.common("observed-data", last),
			FirstObserved:  ts(first),
			LastObserved:   ts(last),
			NumberObserved: clamp(s.Count, 1, maxCount),
			ObjectRefs:     []string{scoID(addrType(a), a.String())},
		}
		var err error
		if od.ID, err = contentID("observed-data", od); err != nil {
			return nil, err
		}
		ids = append(ids, od.ID)
		b.add(od.ID, od)
	}
	return ids, nil
}
