package notify

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"wormwatch/detect"
)

// reportFamily is a family of detect's JSON report, as read here.
type reportFamily struct {
	Title       string `json:"title"`
	Kind        string `json:"kind"`
	Description string `json:"description"`
	References  []struct {
		Source string `json:"source"`
		ID     string `json:"id"`
		URL    string `json:"url"`
	} `json:"references"`
}

// reportSource is an element of the report's "sources". A key that is
// missing reads as its zero value, which no valid element has.
type reportSource struct {
	Source    string   `json:"source"`
	FirstSeen string   `json:"first_seen"`
	LastSeen  string   `json:"last_seen"`
	Lines     int64    `json:"lines"`
	Families  []string `json:"families"`
}

// ReadReport reads detect's JSON report (`wormwatch detect --format json`,
// schema wormwatch-detect/1, docs/detect.md): its families, and its
// sources one at a time (a report of millions of sources is not held as
// a document), each seen by reporter. Sources logged as host names are
// counted in Hosts. name is the file's name in errors. It decodes with
// github.com/go-json-experiment/json (encoding/json/v2 to be), which reads
// a million sources in about half the time encoding/json takes.
func ReadReport(r io.Reader, name, reporter string) (*Detections, error) {
	dec := jsontext.NewDecoder(r)
	d := &Detections{Families: map[string]Family{}}
	bad := func(field, format string, a ...any) error { return inputErr(name, 0, field, format, a...) }
	if t, err := dec.ReadToken(); err != nil || t.Kind() != '{' {
		return nil, bad("", "not a JSON object: want detect's JSON report (wormwatch detect --format json)")
	}
	schema := false
	for dec.PeekKind() != '}' {
		t, err := dec.ReadToken()
		if err != nil {
			return nil, bad("", "%v", jsonErr(err))
		}
		k := t.String()
		switch k {
		case "schema":
			var s string
			if err := jsonv2.UnmarshalDecode(dec, &s); err != nil || s != detect.JSONSchema {
				return nil, bad("schema", "want %q (detect's JSON report)", detect.JSONSchema)
			}
			schema = true
		case "families":
			err = readFamilies(dec, d)
		case "sources":
			if !schema {
				return nil, bad("schema", "missing before \"sources\": want %q (detect's JSON report)", detect.JSONSchema)
			}
			err = readSources(dec, d, reporter)
		default:
			err = dec.SkipValue()
		}
		if err != nil {
			var ie *InputError
			if errors.As(err, &ie) {
				ie.File = name
				return nil, ie
			}
			return nil, bad(k, "%v", jsonErr(err))
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, bad("", "%v", jsonErr(err))
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return nil, bad("", "data after the report's object")
	}
	if !schema {
		return nil, bad("schema", "missing: want %q (detect's JSON report)", detect.JSONSchema)
	}
	return d, nil
}

// jsonErr drops the package prefix of the JSON decoder's errors, and says
// what an early end means.
func jsonErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("the JSON ends early (a truncated file?)")
	}
	msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "jsontext: "), "json: ")
	return errors.New(msg)
}

// readFamilies reads the report's "families" object.
func readFamilies(dec *jsontext.Decoder, d *Detections) error {
	var fams map[string]reportFamily
	if err := jsonv2.UnmarshalDecode(dec, &fams); err != nil {
		return err
	}
	for n, f := range fams {
		fam := Family{Name: n, Title: f.Title, Kind: f.Kind, Description: f.Description}
		for _, r := range f.References {
			ref := detect.Reference{Source: r.Source, ID: r.ID, URL: r.URL}
			fam.References = append(fam.References, ref.ShareText())
		}
		d.Families[n] = fam
	}
	return nil
}

// readSources reads the report's "sources" array one element at a time.
func readSources(dec *jsontext.Decoder, d *Detections, reporter string) error {
	if t, err := dec.ReadToken(); err != nil || t.Kind() != '[' {
		return &InputError{Field: "sources", Msg: "not an array"}
	}
	in := &interner{}
	reps := []string{reporter}
	var rs reportSource
	for i := 0; dec.PeekKind() != ']'; i++ {
		rs = reportSource{Families: rs.Families[:0]} // the families' slice is reused
		if err := jsonv2.UnmarshalDecode(dec, &rs); err != nil {
			return &InputError{Field: fmt.Sprintf("sources[%d]", i), Msg: jsonErr(err).Error()}
		}
		s, host, err := rs.source(in)
		if err != nil {
			err.Field = fmt.Sprintf("sources[%d].%s", i, err.Field)
			return err
		}
		if host {
			d.Hosts++
			continue
		}
		s.Reporters = reps
		d.Sources = append(d.Sources, s)
	}
	_, err := dec.ReadToken() // ]
	return err
}

// source checks an element of "sources"; host is true for a source
// logged as a host name.
func (rs *reportSource) source(in *interner) (s Source, host bool, _ *InputError) {
	switch {
	case rs.Source == "":
		return s, false, &InputError{Field: "source", Msg: "missing"}
	case rs.Lines < 1:
		return s, false, &InputError{Field: "lines", Msg: "missing, or not a count of 1 or more"}
	case len(rs.Families) == 0:
		return s, false, &InputError{Field: "families", Msg: "missing or empty"}
	}
	a, err := netip.ParseAddr(rs.Source)
	if err != nil {
		return s, true, nil
	}
	s = Source{Addr: a.Unmap().WithZone(""), Count: rs.Lines, Families: in.of(rs.Families)}
	var ie *InputError
	if s.FirstSeen, ie = jsonTime(rs.FirstSeen, "first_seen"); ie != nil {
		return s, false, ie
	}
	if s.LastSeen, ie = jsonTime(rs.LastSeen, "last_seen"); ie != nil {
		return s, false, ie
	}
	if s.LastSeen.Before(s.FirstSeen) {
		return s, false, &InputError{Field: "last_seen", Msg: "before first_seen"}
	}
	return s, false, nil
}

// jsonTime reads a required RFC 3339 time.
func jsonTime(s string, field string) (time.Time, *InputError) {
	if s == "" {
		return time.Time{}, &InputError{Field: field, Msg: "missing"}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return t, &InputError{Field: field, Msg: fmt.Sprintf("%q is not an RFC 3339 time", s)}
	}
	return t.UTC(), nil
}
