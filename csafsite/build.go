package csafsite

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	gocsaf "github.com/gocsaf/csaf/v3/csaf"
)

// The paths of the site (CSAF 2.0 section 7.1: the provider's folder under
// /.well-known/csaf/, one folder per TLP label, one folder per year).
const (
	wellKnown    = "/.well-known/csaf/"
	pmdPath      = wellKnown + "provider-metadata.json"
	servicePath  = wellKnown + "service.json"
	tlpDir       = wellKnown + tlpFolder + "/"
	feedPath     = tlpDir + "csaf-feed-tlp-" + tlpFolder + ".json"
	categoryPath = tlpDir + "category-" + tlpFolder + ".json"
	securityPath = "/.well-known/security.txt"
	schemaURL    = "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json"
	rolieScheme  = "urn:ietf:params:rolie:category:information-type"
)

// Content types of what the site serves. The checker asks advisories for
// exactly application/json.
const (
	typeJSON = "application/json"
	typeText = "text/plain; charset=utf-8"
	typeCSV  = "text/csv; charset=utf-8"
	typeHTML = "text/html; charset=utf-8"
	typeSig  = "application/pgp-signature"
	typeKey  = "application/pgp-keys"
)

// file is one document the site serves.
type file struct {
	body  []byte
	ctype string
	mod   time.Time
}

// snapshot is everything the site serves at one moment: built whole after
// each publication and swapped in, so a reader never sees half of one.
type snapshot struct {
	files   map[string]*file // by URL path; folders end in /
	entries []*advisory      // newest current release first
	updated time.Time        // the last change: provider-metadata.json's last_updated
}

// url is the absolute URL of a path of the site.
func (s *Site) url(p string) string { return s.base.String() + p }

func (s *Site) pmdURL() string { return s.url(pmdPath) }

func (s *Site) keyPath() string { return wellKnown + "openpgp/" + s.key.fingerprint + ".asc" }

func (s *Site) advisoryURL(a *advisory) string { return s.url(tlpDir + a.path()) }

// build makes the snapshot of the current advisories.
func (s *Site) build() *snapshot {
	sn := &snapshot{files: map[string]*file{}, updated: s.key.created.UTC().Truncate(time.Second)}
	for _, a := range s.advisories {
		sn.entries = append(sn.entries, a)
		sn.updated = later(sn.updated, a.modTime.Truncate(time.Second))
	}
	slices.SortFunc(sn.entries, func(a, b *advisory) int {
		return cmp.Or(b.current.Compare(a.current), cmp.Compare(a.id, b.id))
	})
	add := func(p, ctype string, body []byte, mod time.Time) { sn.files[p] = &file{body, ctype, mod} }
	for _, a := range sn.entries {
		p := tlpDir + a.path()
		add(p, typeJSON, a.body, a.modTime)
		add(p+".sha256", typeText, []byte(a.sha256+"  "+a.name+"\n"), a.modTime)
		add(p+".sha512", typeText, []byte(a.sha512+"  "+a.name+"\n"), a.modTime)
		add(p+".asc", typeSig, a.sig, a.modTime)
	}
	add(s.keyPath(), typeKey, s.key.public, s.key.created)
	add(tlpDir+"index.txt", typeText, index(sn.entries), sn.updated)
	add(tlpDir+"changes.csv", typeCSV, changes(sn.entries), sn.updated)
	add(feedPath, typeJSON, mustJSON(s.feed(sn)), sn.updated)
	add(categoryPath, typeJSON, mustJSON(categories(sn.entries)), sn.updated)
	add(servicePath, typeJSON, mustJSON(s.service()), sn.updated)
	add(pmdPath, typeJSON, mustJSON(s.providerMetadata(sn.updated)), sn.updated)
	addListings(sn)
	return sn
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// mustJSON encodes a document of the site's own types, which cannot fail.
func mustJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("csafsite: encoding %T: %v", v, err))
	}
	return b.Bytes()
}

// index is index.txt: the advisories' paths relative to the TLP folder,
// one a line, sorted.
func index(entries []*advisory) []byte {
	paths := make([]string, len(entries))
	for i, a := range entries {
		paths[i] = a.path()
	}
	slices.Sort(paths)
	var b strings.Builder
	for _, p := range paths {
		b.WriteString(p + "\n")
	}
	return []byte(b.String())
}

// changes is changes.csv: path and current release date of each advisory,
// the most recent first.
func changes(entries []*advisory) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	for _, a := range entries {
		w.Write([]string{a.path(), a.current.UTC().Format(time.RFC3339Nano)})
	}
	w.Flush()
	return b.Bytes()
}

// providerMetadata is provider-metadata.json: the trusted provider's
// publisher, the directory and ROLIE distributions of its TLP:WHITE
// folder, and its OpenPGP key.
func (s *Site) providerMetadata(updated time.Time) *gocsaf.ProviderMetadata {
	canonical := gocsaf.ProviderURL(s.pmdURL())
	last := gocsaf.TimeStamp(updated)
	version, role := gocsaf.MetadataVersion20, gocsaf.MetadataRoleTrustedProvider
	list, mirror := s.cfg.ListOnAggregators, s.cfg.MirrorOnAggr
	cat, name, ns := gocsaf.Category(s.cfg.PublisherCategory), s.cfg.PublisherName, s.cfg.Namespace
	label, feed := gocsaf.TLPLabel(gocsaf.TLPLabelWhite), gocsaf.JSONURL(s.url(feedPath))
	keyURL := s.url(s.keyPath())
	return &gocsaf.ProviderMetadata{
		CanonicalURL: &canonical,
		Distributions: []gocsaf.Distribution{
			{DirectoryURL: s.url(tlpDir)},
			{Rolie: &gocsaf.ROLIE{
				Feeds:      []gocsaf.Feed{{Summary: "TLP:WHITE advisories of " + name, TLPLabel: &label, URL: &feed}},
				Categories: []gocsaf.JSONURL{gocsaf.JSONURL(s.url(categoryPath))},
				Services:   []gocsaf.JSONURL{gocsaf.JSONURL(s.url(servicePath))},
			}},
		},
		LastUpdated:             &last,
		ListOnCSAFAggregators:   &list,
		MetadataVersion:         &version,
		MirrorOnCSAFAggregators: &mirror,
		PGPKeys:                 []gocsaf.PGPKey{{Fingerprint: gocsaf.Fingerprint(s.key.fingerprint), URL: &keyURL}},
		Publisher: &gocsaf.Publisher{Category: &cat, Name: &name, Namespace: &ns,
			ContactDetails: s.cfg.ContactDetails, IssuingAuthority: s.cfg.IssuingAuthority},
		Role: &role,
	}
}

// feed is the ROLIE feed of the TLP:WHITE folder (RFC 8322, as CSAF 2.0
// section 7.1.15 profiles it): one entry per advisory with its hashes and
// signature, the most recently changed first.
func (s *Site) feed(sn *snapshot) *gocsaf.ROLIEFeed {
	entries := make([]*gocsaf.Entry, len(sn.entries))
	for i, a := range sn.entries {
		u := s.advisoryURL(a)
		e := &gocsaf.Entry{
			ID: a.id, Titel: a.title,
			Link: []gocsaf.Link{
				{Rel: "self", HRef: u}, {Rel: "hash", HRef: u + ".sha256"},
				{Rel: "hash", HRef: u + ".sha512"}, {Rel: "signature", HRef: u + ".asc"},
			},
			Category:  []gocsaf.ROLIECategory{{Term: a.category}},
			Published: gocsaf.TimeStamp(a.initial), Updated: gocsaf.TimeStamp(a.current),
			Content: gocsaf.Content{Type: typeJSON, Src: u},
			Format:  gocsaf.Format{Schema: schemaURL, Version: "2.0"},
		}
		if a.summary != "" {
			e.Summary = &gocsaf.Summary{Content: a.summary}
		}
		entries[i] = e
	}
	return &gocsaf.ROLIEFeed{Feed: gocsaf.FeedData{
		ID:       "csaf-feed-tlp-" + tlpFolder,
		Title:    s.cfg.PublisherName + " CSAF feed (TLP:WHITE)",
		Link:     []gocsaf.Link{{Rel: "self", HRef: s.url(feedPath)}, {Rel: "service", HRef: s.url(servicePath)}},
		Category: []gocsaf.ROLIECategory{{Scheme: rolieScheme, Term: "csaf"}},
		Updated:  gocsaf.TimeStamp(sn.updated),
		Entry:    entries,
	}}
}

// categories is the ROLIE category document of the feed: the document
// categories of its entries (csaf_security_advisory, csaf_vex, ...).
func categories(entries []*advisory) *gocsaf.ROLIECategoryDocument {
	terms := []string{}
	for _, a := range entries {
		terms = append(terms, a.category)
	}
	return gocsaf.NewROLIECategoryDocument(terms...)
}

// service is the ROLIE service document: one workspace with the feed.
func (s *Site) service() *gocsaf.ROLIEServiceDocument {
	return &gocsaf.ROLIEServiceDocument{Service: gocsaf.ROLIEService{Workspace: []gocsaf.ROLIEServiceWorkspace{{
		Title: s.cfg.PublisherName + " CSAF feeds",
		Collection: []gocsaf.ROLIEServiceWorkspaceCollection{{
			Title: "CSAF feed (TLP:WHITE)", HRef: s.url(feedPath),
			Categories: gocsaf.ROLIEServiceWorkspaceCollectionCategories{
				Category: []gocsaf.ROLIEServiceWorkspaceCollectionCategoriesCategory{{Scheme: rolieScheme, Term: "csaf"}},
			},
		}},
	}}}}
}

// folders lists, for each folder of the site, its files and subfolders
// (with a trailing /), sorted.
func folders(files map[string]*file) map[string][]string {
	dirs := map[string]map[string]bool{wellKnown: {}}
	for p := range files {
		for p != wellKnown {
			parent := path.Dir(strings.TrimSuffix(p, "/")) + "/"
			if dirs[parent] == nil {
				dirs[parent] = map[string]bool{}
			}
			name := strings.TrimPrefix(p, parent)
			if dirs[parent][name] {
				break
			}
			dirs[parent][name] = true
			p = parent
		}
	}
	out := map[string][]string{}
	for d, names := range dirs {
		out[d] = slices.Sorted(maps.Keys(names))
	}
	return out
}
