package csafsite

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	gocsaf "github.com/gocsaf/csaf/v3/csaf"

	"wormwatch/share"
)

// ErrRefused is wrapped by every error that refuses a document for what it
// is (too large, not JSON, not valid CSAF 2.0, not TLP:WHITE, a draft, an
// older revision of a published advisory): the caller's to fix. Other
// errors of Publish are the site's (storage, signing).
var ErrRefused = errors.New("advisory refused")

// refuse returns an error wrapping ErrRefused.
func refuse(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrRefused, fmt.Sprintf(format, args...))
}

// advisory is one CSAF document on the site, with what is served beside it.
type advisory struct {
	id, name, title, summary, category string
	initial, current                   time.Time
	body                               []byte
	sha256, sha512                     string // hex
	sig                                []byte // armored detached signature
	modTime                            time.Time
	source                             string // the file it was read from
	fromFolder                         bool   // the operator's folder, not the data folder
}

// year is the folder of the advisory: the year of its initial release
// date, in UTC (CSAF 2.0 requirement 11).
func (a *advisory) year() int { return a.initial.UTC().Year() }

// path is the advisory's path under the TLP folder: 2001/name.json.
func (a *advisory) path() string { return fmt.Sprintf("%04d/%s", a.year(), a.name) }

// maxSchemaErrors is how many schema violations an error lists; maxDepth
// is the deepest nesting of JSON values accepted.
const (
	maxSchemaErrors = 5
	maxDepth        = 1000
)

// parse checks a document as the site publishes it and reads what the site
// needs of it: at most maxBytes, UTF-8, one JSON object with no duplicate
// names, valid against the CSAF 2.0 JSON schema (the validator of the BSI's
// csaf tools, which the checker uses too), TLP:WHITE (the site serves
// everyone; AMBER and RED need access control, GREEN stays in its
// community), not a draft, dates in order.
func parse(body []byte, maxBytes int64) (*advisory, error) {
	if int64(len(body)) > maxBytes {
		return nil, refuse("%d bytes, more than max_bytes (%d)", len(body), maxBytes)
	}
	if !utf8.Valid(body) {
		return nil, refuse("not UTF-8")
	}
	doc, err := decodeStrict(body)
	if err != nil {
		return nil, refuse("not JSON: %v", err)
	}
	if errs, err := gocsaf.ValidateCSAF(doc); err != nil {
		return nil, fmt.Errorf("validating: %w", err)
	} else if len(errs) > 0 {
		more := ""
		if len(errs) > maxSchemaErrors {
			more = fmt.Sprintf("; and %d more", len(errs)-maxSchemaErrors)
			errs = errs[:maxSchemaErrors]
		}
		return nil, refuse("not a valid CSAF 2.0 document: %s%s", strings.Join(errs, "; "), more)
	}
	var c share.CSAF
	if err := json.Unmarshal(body, &c); err != nil {
		return nil, refuse("reading the document: %v", err)
	}
	return fromDocument(&c, body)
}

// fromDocument applies the site's rules to a schema-valid document.
func fromDocument(c *share.CSAF, body []byte) (*advisory, error) {
	d := &c.Document
	t := d.Tracking
	tlp := ""
	if d.Distribution != nil && d.Distribution.TLP != nil {
		tlp = d.Distribution.TLP.Label
	}
	if tlp != "WHITE" {
		return nil, refuse("%s: TLP %q: this site serves TLP:WHITE only (AMBER and RED need access control, GREEN stays in its community, and an unlabeled document says nothing)", t.ID, tlp)
	}
	if t.Status == "draft" {
		return nil, refuse("%s: document/tracking/status is draft: review it and set it to interim or final before publishing", t.ID)
	}
	initial, err1 := time.Parse(time.RFC3339, t.InitialReleaseDate)
	current, err2 := time.Parse(time.RFC3339, t.CurrentReleaseDate)
	if err := errors.Join(err1, err2); err != nil {
		return nil, refuse("%s: release dates: %v", t.ID, err)
	}
	if current.Before(initial) {
		return nil, refuse("%s: current_release_date %s is before initial_release_date %s", t.ID, t.CurrentReleaseDate, t.InitialReleaseDate)
	}
	if y := initial.UTC().Year(); y < 1 || y > 9999 {
		return nil, refuse("%s: initial_release_date %s: year %d has no folder", t.ID, t.InitialReleaseDate, y)
	}
	a := &advisory{id: t.ID, name: share.CSAFFileName(t.ID), title: d.Title, category: d.Category,
		initial: initial, current: current, body: body}
	for _, n := range d.Notes {
		if n.Category == "summary" && a.summary == "" {
			a.summary = n.Text
		}
	}
	s256, s512 := sha256.Sum256(body), sha512.Sum512(body)
	a.sha256, a.sha512 = hex.EncodeToString(s256[:]), hex.EncodeToString(s512[:])
	return a, nil
}

// decodeStrict decodes one JSON value, refusing anything after it and an
// object that names a member twice (which JSON readers resolve differently:
// a document must mean one thing to every consumer).
func decodeStrict(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := noDuplicates(dec, "", 0); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("more data after the document")
	}
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// noDuplicates reads one JSON value from dec token by token and fails on
// an object with a repeated member name. encoding/json has no such option;
// this walk is the smallest check that finds them. Values nested deeper
// than maxDepth are refused (no CSAF document comes near).
func noDuplicates(dec *json.Decoder, at string, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("nested more than %d levels deep at %s", maxDepth, at)
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return err
			}
			key := k.(string)
			if seen[key] {
				return fmt.Errorf("member %q given twice in %s", key, at+"/")
			}
			seen[key] = true
			if err := noDuplicates(dec, at+"/"+key, depth+1); err != nil {
				return err
			}
		}
		_, err = dec.Token()
	case json.Delim('['):
		for i := 0; dec.More(); i++ {
			if err := noDuplicates(dec, fmt.Sprintf("%s/%d", at, i), depth+1); err != nil {
				return err
			}
		}
		_, err = dec.Token()
	}
	return err
}
