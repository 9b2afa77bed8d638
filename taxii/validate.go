package taxii

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed stixschemas/common/*.json stixschemas/sdos/*.json stixschemas/sros/*.json stixschemas/observables/*.json
var schemaFiles embed.FS

// schemaBase is the URL prefix of the STIX 2.1 schemas' $id and $ref.
const schemaBase = "http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/"

// embedLoader maps the schemas' URLs to the embedded files and refuses
// every other URL: validation never touches the network.
type embedLoader struct{}

// Load reads the schema at url from the embedded files.
func (embedLoader) Load(url string) (any, error) {
	rest, ok := strings.CutPrefix(url, schemaBase)
	if !ok {
		return nil, fmt.Errorf("schema %s is not among the embedded STIX 2.1 schemas", url)
	}
	b, err := schemaFiles.ReadFile(path.Join("stixschemas", rest))
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(b))
}

// validator checks posted objects against the OASIS STIX 2.1 schemas
// (compiled once per type, on first use) and the server's own rules.
type validator struct {
	types map[string]string // object type -> schema path under stixschemas/
	sco   map[string]bool   // the cyber-observable types

	mu       sync.Mutex
	compiled map[string]*jsonschema.Schema
}

// newValidator lists the types the embedded schemas define.
func newValidator() *validator {
	v := &validator{types: map[string]string{}, sco: map[string]bool{}, compiled: map[string]*jsonschema.Schema{}}
	for _, dir := range []string{"sdos", "sros", "observables"} {
		entries, _ := fs.ReadDir(schemaFiles, "stixschemas/"+dir)
		for _, e := range entries {
			typ := strings.TrimSuffix(e.Name(), ".json")
			v.types[typ] = dir + "/" + e.Name()
			v.sco[typ] = dir == "observables"
		}
	}
	for _, typ := range []string{"marking-definition", "language-content", "extension-definition"} {
		v.types[typ] = "common/" + typ + ".json"
	}
	return v
}

// schema returns the compiled schema of a type.
func (v *validator) schema(typ string) (*jsonschema.Schema, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if s := v.compiled[typ]; s != nil {
		return s, nil
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(embedLoader{})
	c.UseRegexpEngine(memoEngine)
	c.AssertFormat()
	s, err := c.Compile(schemaBase + v.types[typ])
	if err != nil {
		return nil, fmt.Errorf("compiling the schema of %s: %w", typ, err)
	}
	v.compiled[typ] = s
	return s, nil
}

// object is a posted object that passed validation: its bytes (compact
// JSON) and the properties the server files it by.
type object struct {
	raw        []byte
	id, typ    string
	version    string // modified, else created, else "" (filled with date_added)
	versionNS  int64
	markings   []string // object_marking_refs and granular_markings' marking_ref
	recipients []string // x_tlp_recipients
	hasRecips  bool
}

// check validates one posted object; the error is the message of its
// failure in the status resource.
func (v *validator) check(raw []byte) (object, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return object{}, fmt.Errorf("not JSON: %v", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(buf.Bytes()))
	if err != nil {
		return object{}, fmt.Errorf("not JSON: %v", err)
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return object{}, errors.New("not a JSON object")
	}
	o := object{raw: buf.Bytes()}
	o.typ, _ = m["type"].(string)
	o.id, _ = m["id"].(string)
	if err := v.checkType(m, o); err != nil {
		return o, err
	}
	s, err := v.schema(o.typ)
	if err != nil {
		return o, err
	}
	if err := s.Validate(doc); err != nil {
		return o, fmt.Errorf("not valid against the STIX 2.1 schema of %s: %s", o.typ, schemaMessage(err))
	}
	return o, o.fill(m)
}

// checkType checks the type, the id's prefix and the spec_version.
func (v *validator) checkType(m map[string]any, o object) error {
	if _, ok := m["type"].(string); !ok {
		return errors.New("no type")
	}
	if _, ok := v.types[o.typ]; !ok {
		return fmt.Errorf("unknown object type %q: this server stores the types of STIX 2.1 only", o.typ)
	}
	if !strings.HasPrefix(o.id, o.typ+"--") {
		return fmt.Errorf("id %q does not start with its type %q and --", o.id, o.typ)
	}
	sv, given := m["spec_version"]
	switch {
	case given && sv != "2.1":
		return fmt.Errorf("spec_version %v: this server stores STIX 2.1 objects only", sv)
	case !given && !v.sco[o.typ]:
		return errors.New("no spec_version (want \"2.1\")")
	}
	return nil
}

// fill reads the version, the markings and the recipients.
func (o *object) fill(m map[string]any) error {
	for _, k := range []string{"modified", "created"} {
		if s, ok := m[k].(string); ok {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return fmt.Errorf("%s %q: %v", k, s, err)
			}
			o.version, o.versionNS = s, t.UnixNano()
			break
		}
	}
	if refs, ok := m["object_marking_refs"].([]any); ok {
		for _, r := range refs {
			s, _ := r.(string)
			o.markings = append(o.markings, s)
		}
	}
	if gms, ok := m["granular_markings"].([]any); ok {
		for _, g := range gms {
			if gm, ok := g.(map[string]any); ok {
				if s, ok := gm["marking_ref"].(string); ok {
					o.markings = append(o.markings, s)
				}
			}
		}
	}
	return o.fillRecipients(m)
}

// fillRecipients reads x_tlp_recipients: a non-empty list of names.
func (o *object) fillRecipients(m map[string]any) error {
	r, ok := m[RecipientsProperty]
	if !ok {
		return nil
	}
	list, ok := r.([]any)
	if !ok || len(list) == 0 {
		return fmt.Errorf("%s: want a non-empty list of member names", RecipientsProperty)
	}
	o.hasRecips = true
	for _, x := range list {
		s, ok := x.(string)
		if !ok {
			return fmt.Errorf("%s: want a list of member names, found %v", RecipientsProperty, x)
		}
		o.recipients = append(o.recipients, s)
	}
	return nil
}

// schemaMessage makes a validation error one line of bounded length.
func schemaMessage(err error) string {
	var ve *jsonschema.ValidationError
	s := err.Error()
	if errors.As(err, &ve) {
		s = ve.Error()
	}
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 600 {
		s = s[:600] + "..."
	}
	return s
}

// memoEngine compiles the schemas' patterns with Go's regexp and
// remembers the answers for short strings: the STIX schemas match every
// property name of every object against patternProperties, and the same
// few dozen names come again and again. A regexp's answer for a string
// never changes, so this changes no result.
func memoEngine(expr string) (jsonschema.Regexp, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, err
	}
	return &memoRegexp{re: re}, nil
}

// memoRegexp is a regexp with a bounded memory of its answers.
type memoRegexp struct {
	re    *regexp.Regexp
	known sync.Map // string -> bool
	n     atomic.Int32
}

// The strings remembered: at most memoStrings of at most memoLen bytes.
const (
	memoStrings = 1024
	memoLen     = 64
)

// MatchString reports whether s holds a match of the pattern.
func (m *memoRegexp) MatchString(s string) bool {
	if len(s) > memoLen {
		return m.re.MatchString(s)
	}
	if v, ok := m.known.Load(s); ok {
		return v.(bool)
	}
	ok := m.re.MatchString(s)
	if m.n.Load() < memoStrings {
		m.n.Add(1)
		m.known.Store(s, ok)
	}
	return ok
}

// String returns the pattern.
func (m *memoRegexp) String() string { return m.re.String() }
