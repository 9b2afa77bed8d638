package detect

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"wormwatch/internal/names"
	"wormwatch/internal/param"
	"wormwatch/share"
)

// The bounds of a signature table. A signatures file is read whole and
// every family becomes a column of the hourly table, so both are capped.
const (
	MaxSignatureBytes = 32 << 20 // the largest signatures file read, 32 MiB
	MaxFamilies       = 50_000   // the most families of a signature table, disabled ones included
)

//go:embed signatures.toml
var builtinTOML []byte

// Family is one worm family or generic rule of the signature table, as a
// signatures file declares it.
type Family struct {
	Name        string         `toml:"name" doc:"the family's key in the output: 1 to 64 lowercase letters, digits, - and _, starting with a letter or digit (codered1, nimda)"`
	Title       string         `toml:"title" doc:"the family's name for people (Code Red II); the name when empty"`
	Kind        string         `toml:"kind" default:"worm" enum:"worm,rule" doc:"worm for a worm's own request shape, rule for a generic shape that several worms and scanners share"`
	Description string         `toml:"description" doc:"what the family is and how its lines look, in a sentence or two"`
	Disabled    bool           `toml:"disabled" default:"false" doc:"true to switch the family off (a user file can so disable a built-in family by name)"`
	EventGap    param.Duration `toml:"event_gap" default:"0s" min:"0s" max:"30d" doc:"lines of the family from one source no further apart than this are one event (a burst); 0s: every line is an event"`
	STIXPattern string         `toml:"stix_pattern" doc:"the STIX 2.1 pattern of the family's indicator, checked when the file is read; when empty it is derived from the match rules"`
	References  []Reference    `toml:"references" doc:"where the shape is documented"`
	Match       []Rule         `toml:"match" doc:"the rules: a line matches the family when it matches any of them"`

	checked bool // ParseSignatures checked it whole: NewMatcher need not check it again
}

// Reference points to where a family's shape is documented.
type Reference struct {
	Source string `toml:"source" doc:"the catalogue: cve, cert, microsoft, snort, emerging-threats, ..."`
	ID     string `toml:"id" doc:"the entry in it: CVE-2001-0500, CA-2001-26, 1243 (a Snort sid)"`
	URL    string `toml:"url" doc:"a link to the entry, if any"`
}

// Rule is one way of matching a family: a line matches the rule when every
// condition given holds. Conditions left out hold for every line.
type Rule struct {
	Status    []int `toml:"status" min:"0" max:"999" doc:"the response status is one of these (0: not logged)"`
	Method    Cond  `toml:"method" doc:"the request method (GET, SEARCH)"`
	Target    Cond  `toml:"target" doc:"the request target: path, then ? and the query when there is one"`
	Path      Cond  `toml:"path" doc:"the target up to the first ? (IIS: cs-uri-stem)"`
	Query     Cond  `toml:"query" doc:"the target after the first ? (IIS: cs-uri-query)"`
	Protocol  Cond  `toml:"protocol" doc:"the protocol of the request line (HTTP/1.1); empty when not logged"`
	UserAgent Cond  `toml:"user_agent" doc:"the User-Agent header; empty when absent or not logged"`
	Referer   Cond  `toml:"referer" doc:"the Referer header; empty when absent or not logged"`
}

// Cond is a set of conditions on one field of a line; all given must hold.
type Cond struct {
	Equals      []string `toml:"equals" doc:"the field is one of these (\"\" for an empty field)"`
	Contains    []string `toml:"contains" doc:"the field contains every one of these"`
	ContainsAny []string `toml:"contains_any" doc:"the field contains at least one of these"`
	Prefix      []string `toml:"prefix" doc:"the field starts with one of these"`
	Suffix      []string `toml:"suffix" doc:"the field ends with one of these"`
	Regexp      string   `toml:"regexp" doc:"the field matches this RE2 regular expression (checked last, after the literals)"`
	MinLength   int      `toml:"min_length" min:"0" doc:"the field has at least this many bytes"`
	MaxLength   int      `toml:"max_length" min:"0" doc:"the field has at most this many bytes (0: no limit)"`
	NoCase      bool     `toml:"nocase" default:"false" doc:"compare letters without regard to case (ASCII), the regexp included"`
}

// signatureFile is the document of a signatures file.
type signatureFile struct {
	Family []Family `toml:"family" doc:"the families, in the order of the output"`

	namesChecked bool // ParseSignatures checked that no name is declared twice, naming the lines
}

var familyName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// DisplayName returns the family's title, or its name when it has none.
func (f *Family) DisplayName() string {
	if f.Title != "" {
		return f.Title
	}
	return f.Name
}

// Check validates a family's own keys (param calls it): its name (the
// rule of package names, without '.'), a description and match rules when
// it is enabled, and a STIX pattern that parses (the one given, or one
// derivable from the rules).
func (f *Family) Check() error {
	if f.checked {
		return nil
	}
	if key, err := f.checkKeys(); err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	return nil
}

// checkKeys is Check, with the key at fault apart.
func (f *Family) checkKeys() (key string, err error) {
	switch {
	case !familyName.MatchString(f.Name):
		return "name", fmt.Errorf("%q: want lowercase letters, digits, - and _, starting with a letter or digit (like codered1 or webdav-search)", f.Name)
	case names.Check(f.Name) != nil: // the rule for names that become file stems and STIX labels: at most 64 characters
		return "name", names.Check(f.Name)
	case f.Disabled:
		return "", nil
	case strings.TrimSpace(f.Description) == "":
		return "description", errors.New("is empty: say what the family is")
	case len(f.Match) == 0:
		return "match", errors.New("no [[family.match]] rule: give at least one")
	case f.STIXPattern != "":
		if err := checkSTIXPattern(f.STIXPattern); err != nil {
			return "stix_pattern", err
		}
	case f.Pattern() == "":
		return "stix_pattern", errors.New("none can be derived from the match rules (they test no target, path, query, method or protocol literal): give one")
	}
	return "", nil
}

// checkSTIXPattern checks the syntax of a STIX 2.1 pattern with the parser
// of package share, which checks every pattern it writes.
func checkSTIXPattern(p string) error {
	if err := share.CheckPattern(p); err != nil {
		return fmt.Errorf("STIX pattern %q: %w", p, err)
	}
	return nil
}

// Check validates a rule (param calls it).
func (r *Rule) Check() error {
	if len(r.Status) > 0 {
		return nil
	}
	for _, c := range r.conds() {
		if !c.Cond.empty() {
			return nil
		}
	}
	return errors.New("the rule has no condition, so it would match every line: give status or a condition on method, target, path, query, protocol, user_agent or referer")
}

// Check validates one field's conditions (param calls it).
func (c *Cond) Check() error {
	for _, l := range [][]string{c.Contains, c.ContainsAny, c.Prefix, c.Suffix} {
		if slices.Contains(l, "") {
			return errors.New("an empty literal in contains, contains_any, prefix or suffix matches everything: remove it")
		}
	}
	if c.Regexp != "" {
		if _, err := regexp.Compile(c.Regexp); err != nil {
			return fmt.Errorf("regexp %q: %v", c.Regexp, err)
		}
	}
	if c.MaxLength > 0 && c.MaxLength < c.MinLength {
		return fmt.Errorf("max_length %d is below min_length %d", c.MaxLength, c.MinLength)
	}
	return nil
}

// Check rejects two families of one file with the same name.
func (s *signatureFile) Check() error {
	if s.namesChecked {
		return nil
	}
	seen := map[string]bool{}
	for _, f := range s.Family {
		if seen[f.Name] {
			return fmt.Errorf("family %q is declared twice", f.Name)
		}
		seen[f.Name] = true
	}
	return nil
}

func (c *Cond) empty() bool {
	return len(c.Equals) == 0 && len(c.Contains) == 0 && len(c.ContainsAny) == 0 && len(c.Prefix) == 0 &&
		len(c.Suffix) == 0 && c.Regexp == "" && c.MinLength == 0 && c.MaxLength == 0
}

// Field names a field of a Record that a rule can test.
type Field uint8

// The fields a rule can test.
const (
	FieldMethod Field = iota
	FieldTarget
	FieldPath
	FieldQuery
	FieldProtocol
	FieldUserAgent
	FieldReferer
	numFields
)

var fieldNames = [numFields]string{"method", "target", "path", "query", "protocol", "user_agent", "referer"}

// String returns the field's key in a signatures file.
func (f Field) String() string {
	if f < numFields {
		return fieldNames[f]
	}
	return "unknown"
}

// bytesOf returns the field of rec.
func (f Field) bytesOf(rec *Record) []byte {
	switch f {
	case FieldMethod:
		return rec.Method
	case FieldTarget:
		return rec.Target
	case FieldPath:
		return rec.Path
	case FieldQuery:
		return rec.Query
	case FieldProtocol:
		return rec.Protocol
	case FieldUserAgent:
		return rec.UserAgent
	case FieldReferer:
		return rec.Referer
	}
	return nil
}

// FieldCond is a Cond with the field it applies to.
type FieldCond struct {
	Field Field
	Cond  Cond
}

// conds returns the rule's conditions by field, in a fixed order.
func (r *Rule) conds() []FieldCond {
	return []FieldCond{
		{FieldMethod, r.Method}, {FieldTarget, r.Target}, {FieldPath, r.Path}, {FieldQuery, r.Query},
		{FieldProtocol, r.Protocol}, {FieldUserAgent, r.UserAgent}, {FieldReferer, r.Referer},
	}
}

// SignatureError is a problem with a signatures file: its name, and the
// line and key from param.
type SignatureError struct {
	File string
	Err  error
}

// Error says "file: problem", the problem naming the line and key.
func (e *SignatureError) Error() string { return e.File + ": " + e.Err.Error() }

// Unwrap returns the underlying error (a *param.FieldError when a key is at fault).
func (e *SignatureError) Unwrap() error { return e.Err }

// ParseSignatures reads a signatures document (TOML, the shape of the
// built-in signatures.toml) and checks every key, so that the families it
// returns need no other check (NewMatcher does not check them again). name
// is the file name used in errors, which name the line and key and say what
// is allowed.
func ParseSignatures(name string, data []byte) ([]Family, error) {
	if len(data) > MaxSignatureBytes {
		return nil, &SignatureError{File: name, Err: fmt.Errorf("%d bytes: a signatures file holds at most %d (32 MiB)", len(data), MaxSignatureBytes)}
	}
	var doc signatureFile
	l := param.NewLoader(&doc)
	if err := l.Decode(data); err != nil {
		return nil, &SignatureError{File: name, Err: err}
	}
	if len(doc.Family) == 0 {
		return nil, &SignatureError{File: name, Err: errors.New("no [[family]] table: the file declares no signature")}
	}
	if len(doc.Family) > MaxFamilies {
		e := l.Error("family."+strconv.Itoa(MaxFamilies), fmt.Sprintf("the file declares %d families; a signature table holds at most %d", len(doc.Family), MaxFamilies))
		return nil, &SignatureError{File: name, Err: &e}
	}
	// The family's own keys, each error at its key; then the rest (param
	// calls Check again, which passes over the families checked here). An
	// error in a rule comes first: it may be why no STIX pattern can be
	// derived.
	var own []param.FieldError
	first := map[string]int{}
	doc.namesChecked = true
	for i := range doc.Family {
		f := &doc.Family[i]
		at := "family." + strconv.Itoa(i)
		f.checked = true
		if key, err := f.checkKeys(); err != nil {
			own = append(own, l.Error(at+"."+key, err.Error()))
		} else if j, dup := first[f.Name]; dup {
			own = append(own, l.Error(at+".name", fmt.Sprintf("family %q is declared twice (first at line %d)", f.Name, l.Locate("family."+strconv.Itoa(j)).Line)))
		} else {
			first[f.Name] = i
		}
	}
	for _, errs := range [][]param.FieldError{l.Validate(), own} {
		if len(errs) > 0 {
			e := slices.MinFunc(errs, func(a, b param.FieldError) int { return lineOrder(a.Line) - lineOrder(b.Line) })
			return nil, &SignatureError{File: name, Err: &e}
		}
	}
	return doc.Family, nil
}

// lineOrder sorts line numbers with 0 (unknown) last.
func lineOrder(n int) int {
	if n == 0 {
		return 1 << 30
	}
	return n
}

// LoadSignatures reads a signatures file (see ParseSignatures) of at most
// MaxSignatureBytes.
func LoadSignatures(path string) ([]Family, error) {
	fail := func(err error) ([]Family, error) {
		if pe := (*os.PathError)(nil); errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &SignatureError{File: path, Err: err}
	}
	f, err := os.Open(path)
	if err != nil {
		return fail(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSignatureBytes+1))
	if err != nil {
		return fail(err)
	}
	if len(data) > MaxSignatureBytes {
		return fail(fmt.Errorf("larger than %d bytes (32 MiB), the most a signatures file may hold", MaxSignatureBytes))
	}
	return ParseSignatures(path, data)
}

var builtin = sync.OnceValues(func() ([]Family, error) {
	return ParseSignatures("signatures.toml (built in)", builtinTOML)
})

// Builtin returns the built-in signature table, embedded from
// signatures.toml. It panics if that file is broken, which the package's
// tests rule out.
func Builtin() []Family {
	fams, err := builtin()
	if err != nil {
		panic(err)
	}
	return slices.Clone(fams)
}

// BuiltinTOML returns the text of the built-in signature table, a starting
// point for a user's own file.
func BuiltinTOML() []byte { return slices.Clone(builtinTOML) }

// Merge returns base with extra applied: a family of extra replaces the
// family of base with the same name, in its place; the others are appended
// in their order.
func Merge(base, extra []Family) []Family {
	out := slices.Clone(base)
	at := make(map[string]int, len(out)+len(extra))
	for i, f := range out {
		if _, dup := at[f.Name]; !dup {
			at[f.Name] = i
		}
	}
	for _, f := range extra {
		if i, found := at[f.Name]; found {
			out[i] = f
		} else {
			at[f.Name] = len(out)
			out = append(out, f)
		}
	}
	return out
}
