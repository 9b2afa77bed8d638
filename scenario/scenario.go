// Package scenario reads scenario files: TOML documents that declare one
// outbreak to simulate (the address space, the vulnerable population, the
// worm variants and the clock). Every key, its default, its bounds and its
// documentation are declared once, in the tags of the parameter structs
// (Scenario, ipv4.SpaceParams, ipv4.PopulationParams, worm.Params); package
// internal/param reads the tags. This package adds the rules that tie keys
// together, the error messages with file and line, and the built-in
// scenarios.
package scenario

import (
	"cmp"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"wormwatch/internal/infile"
	"wormwatch/internal/names"
	"wormwatch/internal/param"
	"wormwatch/ipv4"
)

// Error is a problem with a scenario: a syntax error, an unknown key, a
// value of the wrong type or out of range, a --set that does not apply, or
// keys that do not fit together. Its Error method gives one line, like
//
//	codered.toml:12: worm.crv2.rate.threads: 0 is below the minimum 1 (allowed 1 to 100000)
//	--set worm.rate.threads=0: worm.crv2.rate.threads: 0 is below the minimum 1 (allowed 1 to 100000)
type Error struct {
	File string // the scenario file as named to Parse or Load (a built-in: its name + ".toml")
	Line int    // line of the key in File, from 1; 0 when the value is a default or came from --set
	Col  int    // column, for syntax errors only
	Key  string // the dotted key, as a user writes it (worm.crv2.rate.threads); may be empty
	Set  string // the --set argument ("worm.rate.threads=0") when the error comes from one
	Msg  string // what is wrong and what is allowed
}

// Error formats the error as one line.
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.Set != "":
		b.WriteString("--set " + e.Set)
	case e.Line > 0 && e.Col > 0:
		fmt.Fprintf(&b, "%s:%d:%d", e.File, e.Line, e.Col)
	case e.Line > 0:
		fmt.Fprintf(&b, "%s:%d", e.File, e.Line)
	default:
		b.WriteString(e.File)
	}
	if e.Key != "" {
		b.WriteString(": " + e.Key)
	}
	b.WriteString(": " + e.Msg)
	return param.OneLine(b.String())
}

// fromField turns a param error into an *Error of file.
func fromField(file string, fe param.FieldError) *Error {
	e := &Error{File: file, Line: fe.Line, Key: fe.Path, Set: fe.Set, Msg: fe.Msg}
	if fe.Syntax {
		e.Col = fe.Col
	}
	if e.Msg == "" {
		e.Msg = "invalid value"
	}
	return e
}

// asError turns an error from param into an *Error of file.
func asError(file string, err error) *Error {
	var fe *param.FieldError
	if errors.As(err, &fe) {
		return fromField(file, *fe)
	}
	return &Error{File: file, Msg: err.Error()}
}

// Parse reads a scenario: the defaults of every key, then the TOML document
// data (strictly: an unknown key is an error), then the --set assignments
// in order ("dotted.key=value"; see param.Loader.Set), then the bounds and
// allowed values of each key, then the rules between keys (see check).
// name is the file name used in messages; a relative population.file is
// looked up in baseDir. The error, if any, is the first problem found, as
// an *Error.
//
// Keys that do not apply (a sub-table of another strategy, say) are reset
// to their defaults. An empty name becomes name's base name without
// extension, made a valid name by names.Sanitize (an error if nothing of
// it is left). A UTF-8 byte order mark at the start of data is skipped.
func Parse(name string, data []byte, baseDir string, sets []string) (*Scenario, error) {
	s := new(Scenario)
	l := param.NewLoader(s)
	if err := l.Decode(data); err != nil {
		return nil, asError(name, err)
	}
	for _, a := range sets {
		if err := l.Set(a); err != nil {
			return nil, asError(name, err)
		}
	}
	if s.Name == "" {
		// Derived before validation, so that the name is checked like
		// one written down.
		base := path.Base(filepath.ToSlash(name))
		s.Name = names.Sanitize(strings.TrimSuffix(base, path.Ext(base)))
		if s.Name == "" {
			return nil, &Error{File: name, Key: "name", Msg: fmt.Sprintf("missing, and the file name %q leaves nothing usable as a name: give name = \"...\" (%s)", base, names.Rule)}
		}
	}
	if errs := l.Validate(); len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b param.FieldError) int {
			return cmp.Or(cmp.Compare(rank(a.Origin), rank(b.Origin)), cmp.Compare(a.Line, b.Line))
		})
		return nil, fromField(name, errs[0])
	}
	l.Prune()
	if fe := check(s, l, baseDir); fe != nil {
		return nil, fromField(name, *fe)
	}
	return s, nil
}

// rank orders error origins: keys of the file, then --set, then defaults.
func rank(o param.Origin) int {
	switch {
	case o.Line > 0:
		return 0
	case o.Set != "":
		return 1
	}
	return 2
}

// TOML renders the scenario as a TOML document with every key and its
// value (defaults included), each under a comment with its documentation.
// Parsing the result gives back an equal scenario.
func (s *Scenario) TOML() ([]byte, error) {
	body, err := param.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", s.Name, err)
	}
	head := fmt.Sprintf("# Scenario %s, resolved: every key with the value used, defaults included.\n# Keys are documented in docs/scenario.md.\n\n", s.Name)
	return append([]byte(head), body...), nil
}

//go:embed builtin/*.toml
var builtinFS embed.FS

// Info names a built-in scenario.
type Info struct {
	Name        string // what Load takes, like "codered2-july19"
	Description string // the scenario's description key
}

// Builtins lists the built-in scenarios, sorted by name.
func Builtins() []Info {
	ents, err := fs.Glob(builtinFS, "builtin/*.toml")
	if err != nil {
		panic(err) // the pattern is constant and valid
	}
	var out []Info
	for _, e := range ents {
		data, _ := builtinFS.ReadFile(e)
		var head struct {
			Description string `toml:"description"`
		}
		_ = toml.Unmarshal(data, &head) // the tests check that every built-in parses
		out = append(out, Info{Name: strings.TrimSuffix(path.Base(e), ".toml"), Description: head.Description})
	}
	slices.SortFunc(out, func(a, b Info) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Builtin returns the text of a built-in scenario, comments included.
func Builtin(name string) ([]byte, error) {
	if name == "" || strings.ContainsAny(name, `/\.`) {
		return nil, fmt.Errorf("no built-in scenario %q (built-ins: %s)", name, builtinNames())
	}
	data, err := builtinFS.ReadFile("builtin/" + name + ".toml")
	if err != nil {
		return nil, fmt.Errorf("no built-in scenario %q (built-ins: %s)", name, builtinNames())
	}
	return data, nil
}

func builtinNames() string {
	var names []string
	for _, b := range Builtins() {
		names = append(names, b.Name)
	}
	return strings.Join(names, ", ")
}

// MaxFileBytes is the largest scenario file read: 16 MiB, far more than
// any scenario needs (the longest array, of 256 worms, takes about 1 MiB).
// Past it, Load stops reading with an error.
const MaxFileBytes = 16 << 20

// Load reads a scenario by built-in name or file path, applies the --set
// assignments, and returns it with its resolved TOML (see Scenario.TOML).
// A name with a path separator or a .toml extension is always a file; other
// names are looked up among the built-ins first. A file must be a regular
// file or a FIFO of at most MaxFileBytes: a device (/dev/zero), a folder or
// a socket is refused before it is read.
func Load(nameOrPath string, sets []string) (*Scenario, []byte, error) {
	var data []byte
	file, dir := nameOrPath, filepath.Dir(nameOrPath)
	isPath := strings.ContainsAny(nameOrPath, `/\`) || strings.HasSuffix(nameOrPath, ".toml")
	if b, err := Builtin(nameOrPath); err == nil && !isPath {
		data, file, dir = b, nameOrPath+".toml", ""
	} else {
		data, err = infile.ReadAll(nameOrPath, "scenario file", MaxFileBytes)
		switch {
		case errors.Is(err, infile.ErrTooLarge):
			return nil, nil, &Error{File: nameOrPath, Msg: fmt.Sprintf("larger than %s, the most a scenario file may be", infile.Size(MaxFileBytes))}
		case errors.Is(err, fs.ErrNotExist):
			return nil, nil, &Error{File: nameOrPath, Msg: fmt.Sprintf("neither a built-in scenario (%s) nor a readable file (no such file)", builtinNames())}
		case err != nil:
			// "is a device, not a scenario file", "permission denied", ...
			return nil, nil, &Error{File: nameOrPath, Msg: strings.TrimPrefix(errShort(err), nameOrPath+" ")}
		}
	}
	s, err := Parse(file, data, dir, sets)
	if err != nil {
		return nil, nil, err
	}
	// A population file is recorded by its absolute path, so the resolved
	// scenario (scenario.toml in a results folder) runs from anywhere.
	if s.Population.Placement == ipv4.PlacementFile && !filepath.IsAbs(s.Population.File) {
		if abs, err := filepath.Abs(filepath.Join(dir, s.Population.File)); err == nil {
			s.Population.File = abs
		}
	}
	resolved, err := s.TOML()
	if err != nil {
		return nil, nil, &Error{File: file, Msg: err.Error()}
	}
	return s, resolved, nil
}
