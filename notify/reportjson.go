package notify

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"wormwatch/detect"
	"wormwatch/internal/ipv4text"
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

// readSources reads the report's "sources" array one element at a time:
// each is read whole by the decoder (which checks its syntax and that no
// name is given twice) and taken apart by fastSource when it has the shape
// detect writes; any other element is decoded by the JSON library, as
// before that shortcut, with the same results and errors.
func readSources(dec *jsontext.Decoder, d *Detections, reporter string) error {
	if t, err := dec.ReadToken(); err != nil || t.Kind() != '[' {
		return &InputError{Field: "sources", Msg: "not an array"}
	}
	in := &interner{}
	reps := []string{reporter}
	var fs fastSource
	// The sources are kept in chunks and copied once at the end: a slice
	// grown by doubling copied and cleared twice as much.
	var chunks [][]Source
	var chunk []Source
	defer func() { d.Sources = slices.Concat(append(append([][]Source{d.Sources}, chunks...), chunk)...) }()
	for i := 0; dec.PeekKind() != ']'; i++ {
		raw, err := dec.ReadValue()
		if err != nil {
			return &InputError{Field: fmt.Sprintf("sources[%d]", i), Msg: jsonErr(err).Error()}
		}
		var s Source
		var host bool
		var ie *InputError
		if !libraryOnly && fs.parse(raw) {
			s, host, ie = fs.source(in)
		} else {
			rs := reportSource{}
			if err := jsonv2.Unmarshal(raw, &rs); err != nil {
				return &InputError{Field: fmt.Sprintf("sources[%d]", i), Msg: jsonErr(within(err, i)).Error()}
			}
			s, host, ie = rs.source(in)
		}
		if ie != nil {
			ie.Field = fmt.Sprintf("sources[%d].%s", i, ie.Field)
			return ie
		}
		if host {
			d.Hosts++
			continue
		}
		s.Reporters = reps
		if len(chunk) == cap(chunk) {
			chunks = append(chunks, chunk)
			chunk = make([]Source, 0, 1<<15)
		}
		chunk = append(chunk, s)
	}
	_, err := dec.ReadToken() // ]
	return err
}

// libraryOnly makes readSources decode every element with the JSON
// library: the tests compare fastSource with it.
var libraryOnly = false

// within says where in the report an error of decoding element i of
// "sources" on its own is.
func within(err error, i int) error {
	var se *jsonv2.SemanticError
	if errors.As(err, &se) {
		se.JSONPointer = jsontext.Pointer(fmt.Sprintf("/sources/%d", i)) + se.JSONPointer
	}
	return err
}

// source checks an element of "sources"; host is true for a source
// logged as a host name.
func (rs *reportSource) source(in *interner) (s Source, host bool, _ *InputError) {
	return check(rs.Source, rs.FirstSeen, rs.LastSeen, rs.Lines, rs.Families, in)
}

// check makes the Source of an element of "sources" from its fields'
// text; host is true for a source logged as a host name.
func check[T string | []byte](source, first, last T, lines int64, fams []T, in *interner) (s Source, host bool, _ *InputError) {
	switch {
	case len(source) == 0:
		return s, false, &InputError{Field: "source", Msg: "missing"}
	case lines < 1:
		return s, false, &InputError{Field: "lines", Msg: "missing, or not a count of 1 or more"}
	case len(fams) == 0:
		return s, false, &InputError{Field: "families", Msg: "missing or empty"}
	}
	if v4, ok := ipv4text.Parse([]byte(source)); ok {
		s.Addr = netip.AddrFrom4([4]byte{byte(v4 >> 24), byte(v4 >> 16), byte(v4 >> 8), byte(v4)})
	} else if a, err := netip.ParseAddr(string(source)); err == nil {
		s.Addr = a.Unmap().WithZone("")
	} else {
		return s, true, nil
	}
	s.Count, s.Families = lines, intern(in, fams)
	var ie *InputError
	if s.FirstSeen, ie = jsonTime(first, "first_seen"); ie != nil {
		return s, false, ie
	}
	if s.LastSeen, ie = jsonTime(last, "last_seen"); ie != nil {
		return s, false, ie
	}
	if s.LastSeen.Before(s.FirstSeen) {
		return s, false, &InputError{Field: "last_seen", Msg: "before first_seen"}
	}
	return s, false, nil
}

// jsonTime reads a required RFC 3339 time: "2001-07-19T10:00:00Z" by
// hand (a million sources' times through time.Parse cost a tenth of
// reading them), any other form with time.Parse.
func jsonTime[T string | []byte](s T, field string) (time.Time, *InputError) {
	if len(s) == 0 {
		return time.Time{}, &InputError{Field: field, Msg: "missing"}
	}
	if t, ok := utcSeconds(s); ok {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, string(s))
	if err != nil {
		return t, &InputError{Field: field, Msg: fmt.Sprintf("%q is not an RFC 3339 time", s)}
	}
	return t.UTC(), nil
}

// utcSeconds reads a time written as "2006-01-02T15:04:05Z" with every
// field in its range; ok is false for anything else.
func utcSeconds[T string | []byte](s T) (t time.Time, ok bool) {
	if len(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z' {
		return t, false
	}
	var v [6]int
	for k, at := range [6]int{0, 5, 8, 11, 14, 17} {
		width := 2
		if k == 0 {
			width = 4
		}
		for _, c := range []byte(s[at : at+width]) {
			if c < '0' || c > '9' {
				return t, false
			}
			v[k] = v[k]*10 + int(c-'0')
		}
	}
	y, mo, d := v[0], time.Month(v[1]), v[2]
	if mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || v[3] > 23 || v[4] > 59 || v[5] > 59 {
		return t, false
	}
	return time.Date(y, mo, d, v[3], v[4], v[5], 0, time.UTC), true
}

// daysIn returns the number of days of a month.
func daysIn(y int, m time.Month) int {
	if m == time.February {
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	}
	return 31 - int(m-1)%7%2
}
