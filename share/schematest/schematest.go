// Package schematest validates STIX 2.1 bundles and CSAF 2.0 documents
// against the OASIS JSON schemas kept in the project's shared folder
// (a copy of shared/data/schemas in testdata/shared), without the network: the
// schemas' $id URLs are mapped to the local files. It is meant for tests:
// every package that writes STIX or CSAF validates its output with it.
package schematest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// EnvDir names an environment variable that, when set, gives the schemas
// folder instead of the default <module root>/testdata/shared/schemas.
const EnvDir = "WORMWATCH_SCHEMAS"

// URL prefixes of the schemas, as their $id and $ref name them, and where
// they are under the schemas folder.
const (
	stixBase = "http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/"
	csafURL  = "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json"
	cvssBase = "https://www.first.org/cvss/"
)

// Dir finds the schemas folder: $WORMWATCH_SCHEMAS, or the copy in the
// repository (testdata/shared/schemas at the module root, found by walking
// up from the working directory to go.mod).
func Dir() (string, error) {
	if d := os.Getenv(EnvDir); d != "" {
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			s := filepath.Join(d, "testdata", "shared", "schemas")
			if _, err := os.Stat(s); err != nil {
				return "", fmt.Errorf("schemas folder %s: %w (set %s to its path)", s, err, EnvDir)
			}
			return s, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s, so the schemas folder is unknown (set %s)", wd, EnvDir)
		}
	}
}

// localLoader maps schema URLs to files under the schemas folder and refuses
// every other URL, so validation never touches the network.
type localLoader struct {
	dir        string
	strictCVSS bool
}

func (l localLoader) Load(u string) (any, error) {
	var path string
	switch {
	case strings.HasPrefix(u, stixBase):
		path = filepath.Join(l.dir, "stix2.1", "schemas", filepath.FromSlash(strings.TrimPrefix(u, stixBase)))
	case u == csafURL:
		path = filepath.Join(l.dir, "csaf2.0", "json_schema", "csaf_json_schema.json")
	case strings.HasPrefix(u, cvssBase):
		name := strings.TrimPrefix(u, cvssBase)
		name, _, _ = strings.Cut(name, "?")
		if l.strictCVSS {
			name = strings.TrimSuffix(name, ".json") + "_strict.json"
		}
		path = filepath.Join(l.dir, "csaf2.0", "referenced_schema", "first", name)
	default:
		return nil, fmt.Errorf("schema %s is not in the local schemas folder (no network in tests)", u)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(b))
}

// Kind selects a schema.
type Kind int

// The schemas this package validates against.
const (
	// STIX is the STIX 2.1 bundle schema (common/bundle.json) with every SDO,
	// SRO and SCO schema it refers to.
	STIX Kind = iota
	// CSAF is the CSAF 2.0 schema with the CVSS 2.0, 3.0 and 3.1 schemas as
	// FIRST publishes them (the files the schema's $ref URLs name).
	CSAF
	// CSAFStrict is CSAF with the strict CVSS schemas (no properties beyond
	// the standard ones): what wormwatch's own documents must pass.
	CSAFStrict
)

func (k Kind) String() string {
	return [...]string{"STIX 2.1 bundle", "CSAF 2.0", "CSAF 2.0 (strict CVSS)"}[k]
}

var (
	mu       sync.Mutex
	compiled = map[string]*jsonschema.Schema{}
)

// Schema compiles (once) and returns the schema of the given kind. Formats
// (date-time, uri, ...) are asserted, not only annotated.
func Schema(k Kind) (*jsonschema.Schema, error) {
	root := csafURL
	if k == STIX {
		root = stixBase + "common/bundle.json"
	}
	return compile(root, k == CSAFStrict)
}

// STIXObject compiles (once) and returns the schema of one STIX object type
// (indicator, ipv4-addr, marking-definition, ...), for documents that hold a
// single object rather than a bundle.
func STIXObject(typ string) (*jsonschema.Schema, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	for _, sub := range []string{"sdos", "sros", "observables", "common"} {
		if _, err := os.Stat(filepath.Join(dir, "stix2.1", "schemas", sub, typ+".json")); err == nil {
			return compile(stixBase+sub+"/"+typ+".json", false)
		}
	}
	return nil, fmt.Errorf("no STIX 2.1 schema for object type %q", typ)
}

func compile(root string, strictCVSS bool) (*jsonschema.Schema, error) {
	key := fmt.Sprint(root, strictCVSS)
	mu.Lock()
	defer mu.Unlock()
	if s := compiled[key]; s != nil {
		return s, nil
	}
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(localLoader{dir: dir, strictCVSS: strictCVSS})
	c.AssertFormat()
	s, err := c.Compile(root)
	if err != nil {
		return nil, fmt.Errorf("compiling the schema %s: %w", root, err)
	}
	compiled[key] = s
	return s, nil
}

// Validate checks a JSON document against the schema of the given kind and
// returns an error that lists every violation with its place in the
// document. For STIX, a document whose type is not "bundle" is checked
// against the schema of its own type.
func Validate(k Kind, doc []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	var s *jsonschema.Schema
	if m, ok := v.(map[string]any); ok && k == STIX && m["type"] != "bundle" {
		typ, _ := m["type"].(string)
		s, err = STIXObject(typ)
	} else {
		s, err = Schema(k)
	}
	if err != nil {
		return err
	}
	if err := s.Validate(v); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			return fmt.Errorf("not a valid %s:\n%s", k, ve.Error())
		}
		return err
	}
	return nil
}
