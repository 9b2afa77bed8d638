package param

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// Origin says where a key got its value.
type Origin struct {
	Line, Col int    // position of the key in the document, from 1; 0 when it did not come from the document
	Set       string // the assignment ("key=value") given to Loader.Set, when it came from one
}

// FieldError is a problem with the value of one key.
type FieldError struct {
	Path   string // the key, dotted, as a user writes it (worm.crv2.rate.threads); may be empty for a syntax error
	Msg    string // what is wrong, with the allowed values
	Syntax bool   // the document is not well-formed TOML (Line and Col give the place)
	Origin        // where the key was given, when known
}

// Error formats the problem as one line: "line 12: worm.crv2.rate.threads:
// 0 is below ...", "--set worm.rate.threads=0: worm.crv2.rate.threads: ...".
func (e FieldError) Error() string {
	var b strings.Builder
	switch {
	case e.Set != "":
		b.WriteString("--set " + e.Set + ": ")
	case e.Line > 0 && e.Syntax:
		fmt.Fprintf(&b, "line %d:%d: ", e.Line, e.Col)
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return OneLine(b.String())
}

// OneLine replaces line breaks and other control characters of s with
// spaces, so that a message quoting user input stays on one line.
func OneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
}

// Loader fills one parameter struct from its defaults, a TOML document and
// --set assignments, and remembers which keys were given and where: the
// when rules of Validate and the positions in error messages need that.
type Loader struct {
	root    reflect.Value
	origins originTree // by canonical path (arrays of tables by index: worm.0.rate)
	sets    []string   // the assignments given to Set, in order
}

// NewLoader sets the defaults of the struct v points to (see Defaults) and
// returns a Loader that fills it.
func NewLoader(v any) *Loader {
	l := &Loader{root: structOf(v)}
	setDefaults(l.root)
	return l
}

// pending is an error found while decoding, before its path is displayed.
type pending struct {
	path    string // canonical path
	origin  Origin
	msg     string
	suggest []string // canonical paths to propose instead of an unknown key
}

// decoder assigns generic TOML values to a struct and records origins.
type decoder struct {
	l      *Loader
	pos    map[string]Origin // positions of the document's keys; nil for --set
	origin Origin            // origin of everything for --set
	errs   []pending
}

// Decode reads a TOML document over the current values: keys it gives
// replace the values (a list, or an array of tables, replaces the whole
// list; each new table of an array gets its own defaults first), keys it
// does not give keep them. An unknown key, a value of the wrong type or a
// syntax error is an error; the one returned is the first in the document,
// a *FieldError with its line.
func (l *Loader) Decode(data []byte) error {
	// A UTF-8 byte order mark, which some editors write, is not TOML; it
	// sits on line 1, so dropping it leaves every line number as it was.
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		fe := &FieldError{Msg: strings.TrimPrefix(err.Error(), "toml: "), Syntax: true}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			fe.Line, fe.Col = de.Position()
			fe.Path = strings.Join(de.Key(), ".")
		}
		return fe
	}
	d := &decoder{l: l, pos: positions(data)}
	d.table(l.root, doc, "")
	slices.SortStableFunc(d.errs, func(a, b pending) int {
		if (a.origin.Line == 0) != (b.origin.Line == 0) {
			return cmp.Compare(b.origin.Line, a.origin.Line) // located ones first
		}
		return cmp.Or(cmp.Compare(a.origin.Line, b.origin.Line), cmp.Compare(a.origin.Col, b.origin.Col))
	})
	return d.first()
}

// first returns the first pending error as a *FieldError, or nil.
func (d *decoder) first() error {
	if len(d.errs) == 0 {
		return nil
	}
	e := d.errs[0]
	msg := e.msg
	if len(e.suggest) > 0 {
		s := make([]string, len(e.suggest))
		for i, p := range e.suggest {
			s[i] = d.l.Display(p)
		}
		msg += "; did you mean " + orList(s) + "?"
	}
	return &FieldError{Path: d.l.Display(e.path), Msg: msg, Origin: e.origin}
}

// orList joins "a", "a or b", "a, b or c".
func orList(s []string) string {
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// at returns where path was given.
func (d *decoder) at(path string) Origin {
	if d.pos == nil {
		return d.origin
	}
	return d.pos[path]
}

func (d *decoder) fail(path, msg string) {
	d.errs = append(d.errs, pending{path: path, origin: d.at(path), msg: msg})
}

func (d *decoder) record(path string) { d.l.origins.set(path, d.at(path)) }

// table assigns the keys of m to the struct sv.
func (d *decoder) table(sv reflect.Value, m map[string]any, prefix string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		path := join(prefix, k)
		f, ok := fieldByName(sv.Type(), k)
		if !ok {
			p := pending{path: path, origin: d.at(path), msg: "unknown key"}
			for _, rel := range suggest(sv.Type(), k, nil) {
				p.suggest = append(p.suggest, join(prefix, rel))
			}
			if len(p.suggest) == 0 {
				p.msg += " (valid keys here: " + strings.Join(keyNames(sv.Type()), ", ") + ")"
			}
			d.errs = append(d.errs, p)
			continue
		}
		d.value(sv.Field(f.index), m[k], path, f)
	}
}

// value assigns val to fv, the value at path declared by f (the zero field
// for an element of an array of tables).
func (d *decoder) value(fv reflect.Value, val any, path string, f field) {
	d.record(path)
	switch kindOf(fv.Type()) {
	case kTable:
		m, ok := val.(map[string]any)
		if !ok {
			d.fail(path, fmt.Sprintf("want a table ([%s] or %s = {...}), got %s", path, lastPart(path), describe(val)))
			return
		}
		d.table(fv, m, path)
	case kTableArray:
		arr, ok := val.([]any)
		if !ok {
			d.fail(path, fmt.Sprintf("want an array of tables ([[%s]] or %s = [{...}, ...]), got %s", path, lastPart(path), describe(val)))
			return
		}
		if f.maxLen > 0 && len(arr) > f.maxLen {
			// Refused before decoding the tables: a document with a
			// million of them costs no more than reading it.
			ep := join(path, strconv.Itoa(f.maxLen))
			d.errs = append(d.errs, pending{path: path, origin: cmp.Or(d.at(ep), d.at(path)), msg: tooMany(len(arr), f)})
			return
		}
		d.l.forget(path)
		d.record(path)
		out := reflect.Zero(fv.Type()) // an empty list is nil, as a list without a default is
		if len(arr) > 0 {
			out = reflect.MakeSlice(fv.Type(), len(arr), len(arr))
		}
		for i, x := range arr {
			ep := join(path, strconv.Itoa(i))
			setDefaults(out.Index(i))
			m, ok := x.(map[string]any)
			if !ok {
				d.fail(ep, fmt.Sprintf("want a table, got %s", describe(x)))
				continue
			}
			d.record(ep)
			d.table(out.Index(i), m, ep)
		}
		fv.Set(out)
	default:
		if arr, ok := val.([]any); ok && f.maxLen > 0 && len(arr) > f.maxLen {
			d.fail(path, tooMany(len(arr), f))
			return
		}
		if err := assignScalar(fv, val); err != nil {
			d.fail(path, withHint(err.Error(), f))
			return
		}
		if _, text := val.(string); kindOf(fv.Type()) == kTime && !text && fv.Interface().(time.Time).IsZero() {
			// 0001-01-01T00:00:00Z is Go's zero time, which stands for
			// "not set" (written ""): say it is out of range, not missing.
			const zero = "0001-01-01T00:00:00Z"
			if f.min != "" {
				d.fail(path, rangeMsg(zero, true, false, f))
			} else {
				d.fail(path, zero+" cannot be told from a date-time not set (want a later date-time, or \"\" for not set)")
			}
		}
	}
}

// forget drops the origins of the keys under path, whose old values a new
// list replaces.
func (l *Loader) forget(path string) { l.origins.forgetUnder(path) }

func lastPart(path string) string {
	return path[strings.LastIndexByte(path, '.')+1:]
}

// keyNames lists the TOML keys of struct type t.
func keyNames(t reflect.Type) []string {
	var out []string
	for _, f := range fields(t) {
		out = append(out, f.name)
	}
	return out
}

// positions maps the canonical path of every key, table and array element
// of a well-formed TOML document to its position, by walking the document
// with go-toml's unstable parser (the decoded map has no positions).
// Arrays of tables get their element index in the path, as the decoder
// numbers them: the second [[worm]] is worm.1.
func positions(data []byte) map[string]Origin {
	pos := map[string]Origin{}
	var p unstable.Parser
	p.Reset(data)
	lines := newLineIndex(data)
	at := func(n *unstable.Node) Origin {
		if n == nil || n.Raw.Length == 0 {
			return Origin{}
		}
		line, col := lines.at(int(n.Raw.Offset))
		return Origin{Line: line, Col: col}
	}
	put := func(path string, o Origin) {
		if _, ok := pos[path]; !ok && o.Line > 0 {
			pos[path] = o
		}
	}
	keyParts := func(it unstable.Iterator) ([]string, *unstable.Node) {
		var parts []string
		var first *unstable.Node
		for it.Next() {
			if first == nil {
				first = it.Node()
			}
			parts = append(parts, string(it.Node().Data))
		}
		return parts, first
	}
	var walkValue func(path string, n *unstable.Node)
	keyValue := func(prefix string, kv *unstable.Node) {
		parts, first := keyParts(kv.Key())
		o := at(first)
		path := prefix
		for _, part := range parts {
			path = join(path, part)
			put(path, o)
		}
		walkValue(path, kv.Value())
	}
	walkValue = func(path string, n *unstable.Node) {
		switch n.Kind {
		case unstable.InlineTable:
			it := n.Children()
			for it.Next() {
				if it.Node().Kind == unstable.KeyValue {
					keyValue(path, it.Node())
				}
			}
		case unstable.Array:
			i := 0
			it := n.Children()
			for it.Next() {
				c := it.Node()
				if c.Kind == unstable.Comment {
					continue
				}
				ep := join(path, strconv.Itoa(i))
				put(ep, at(c))
				walkValue(ep, c)
				i++
			}
		}
	}
	count := map[string]int{} // elements of each array of tables so far
	table := ""
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.KeyValue:
			keyValue(table, e)
		case unstable.Table, unstable.ArrayTable:
			parts, first := keyParts(e.Key())
			o := at(first)
			table = ""
			for i, part := range parts {
				table = join(table, part)
				if i == len(parts)-1 && e.Kind == unstable.ArrayTable {
					n := count[table]
					count[table] = n + 1
					put(table, o)
					table = join(table, strconv.Itoa(n))
				} else if n, ok := count[table]; ok {
					table = join(table, strconv.Itoa(n-1))
				}
				put(table, o)
			}
		}
	}
	return pos
}

// Set assigns a value given as text (from --set key=value) to the key at a
// dotted path of the struct v points to, parsing the text by the key's type.
// See Loader.Set.
func Set(v any, path, text string) error {
	l := &Loader{root: structOf(v)}
	return l.Set(path + "=" + text)
}

// Set applies one assignment "key=value", as given to --set. The key is a
// dotted path; an element of an array of tables is addressed by its index
// (worm.0.rate.threads) or by its name key (worm.crv2.rate.threads), and
// when the array has one element it may be left out (worm.rate.threads).
// The value is read by the key's type: numbers, true/false, durations
// ("21s", "3d"), RFC 3339 date-times, strings without quotes, lists as
// a,b,c or ["a", "b"], tables and arrays of tables in TOML inline syntax.
// Errors are *FieldError naming the assignment.
func (l *Loader) Set(assignment string) error {
	origin := Origin{Set: assignment}
	l.sets = append(l.sets, assignment)
	key, text, ok := strings.Cut(assignment, "=")
	key, text = strings.TrimSpace(key), strings.TrimSpace(text)
	if !ok || key == "" {
		return &FieldError{Path: key, Msg: "want key=value, like worm.rate.threads=300", Origin: origin}
	}
	path, target, f, err := l.resolve(key)
	if err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			fe.Origin = origin
			return fe
		}
		return &FieldError{Path: key, Msg: err.Error(), Origin: origin}
	}
	val, err := parseText(target.Type(), text)
	if err != nil {
		return &FieldError{Path: l.Display(path), Msg: withHint(err.Error(), f), Origin: origin}
	}
	d := &decoder{l: l, origin: origin}
	d.value(target, val, path, f)
	return d.first()
}

// resolve finds the value a user's dotted key names and its canonical path.
func (l *Loader) resolve(key string) (string, reflect.Value, field, error) {
	segs := strings.Split(key, ".")
	cur, canon, typed := l.root, "", ""
	var last field
	for i := 0; i < len(segs); {
		seg := segs[i]
		switch kindOf(cur.Type()) {
		case kTable:
			f, ok := fieldByName(cur.Type(), seg)
			if !ok {
				msg := "unknown key"
				if s := suggest(cur.Type(), seg, segs[i+1:]); len(s) > 0 {
					for j := range s {
						s[j] = join(typed, s[j])
					}
					msg += "; did you mean " + orList(s) + "?"
				} else {
					msg += " (valid keys in " + cmp.Or(typed, "the top level") + ": " + strings.Join(keyNames(cur.Type()), ", ") + ")"
				}
				return "", reflect.Value{}, field{}, &FieldError{Path: key, Msg: msg}
			}
			cur, canon, typed, last = cur.Field(f.index), join(canon, seg), join(typed, seg), f
			i++
		case kTableArray:
			next := ""
			if i+1 < len(segs) {
				next = segs[i+1]
			}
			idx, consumed, err := element(cur, typed, seg, next)
			if err != nil {
				return "", reflect.Value{}, field{}, &FieldError{Path: key, Msg: err.Error()}
			}
			cur, canon, last = cur.Index(idx), join(canon, strconv.Itoa(idx)), field{}
			if consumed {
				typed = join(typed, seg)
				i++
			}
		default:
			return "", reflect.Value{}, field{}, &FieldError{Path: key, Msg: fmt.Sprintf("%s is a %s, not a table, so it has no key %q", typed, typeName(cur.Type()), seg)}
		}
	}
	return canon, cur, last, nil
}

// element picks the element of the array of tables arr that seg names: an
// index, a name, or (for a one-element array, without consuming seg) the
// only element. next is the part after seg, if any.
func element(arr reflect.Value, typed, seg, next string) (idx int, consumed bool, err error) {
	n := arr.Len()
	if n == 0 {
		return 0, false, fmt.Errorf("%s has no elements to set (add a [[%s]] table to the file)", typed, typed)
	}
	if i, err := strconv.Atoi(seg); err == nil {
		if i < 0 || i >= n {
			return 0, false, fmt.Errorf("%s has %d element(s): index %d is out of range (0 to %d)", typed, n, i, n-1)
		}
		return i, true, nil
	}
	for i := range n {
		if name, ok := nameOf(arr.Index(i)); ok && name == seg {
			return i, true, nil
		}
	}
	if n == 1 {
		// The shorthand for the only element, unless seg looks like a
		// misspelt name: followed by a key of the element.
		if _, isField := fieldByName(arr.Type().Elem(), seg); isField || next == "" {
			return 0, false, nil
		}
		if _, nextIsField := fieldByName(arr.Type().Elem(), next); !nextIsField {
			return 0, false, nil
		}
	}
	var have []string
	for i := range n {
		name, _ := nameOf(arr.Index(i))
		have = append(have, strings.TrimSpace(strconv.Itoa(i)+" "+name))
	}
	return 0, false, fmt.Errorf("%s has no element named %q (address one by index or name: %s)", typed, seg, strings.Join(have, ", "))
}

// nameOf returns the value of the name key of a table, if it has one.
func nameOf(sv reflect.Value) (string, bool) {
	f, ok := fieldByName(sv.Type(), "name")
	if !ok || f.kind != kString {
		return "", false
	}
	return sv.Field(f.index).String(), true
}

// Display turns a canonical path (arrays of tables by index) into the form
// a user reads best: an element with a unique name is shown by its name
// (worm.0.rate.threads becomes worm.crv2.rate.threads). Parts of the path
// that name nothing are kept as they are.
func (l *Loader) Display(path string) string {
	if path == "" {
		return ""
	}
	segs := strings.Split(path, ".")
	cur := l.root
	out := make([]string, 0, len(segs))
	for i, seg := range segs {
		switch kindOf(cur.Type()) {
		case kTable:
			f, ok := fieldByName(cur.Type(), seg)
			if !ok {
				return strings.Join(append(out, segs[i:]...), ".")
			}
			cur = cur.Field(f.index)
		case kTableArray:
			idx, err := strconv.Atoi(seg)
			if err != nil || idx < 0 || idx >= cur.Len() {
				return strings.Join(append(out, segs[i:]...), ".")
			}
			seg = label(cur, idx)
			cur = cur.Index(idx)
		default:
			return strings.Join(append(out, segs[i:]...), ".")
		}
		out = append(out, seg)
	}
	return strings.Join(out, ".")
}

// label is how Display names element idx of an array of tables: its name
// when that is unique, not a number and not a key of the element, else its
// index.
func label(arr reflect.Value, idx int) string {
	name, ok := nameOf(arr.Index(idx))
	bad := !ok || name == "" || strings.ContainsAny(name, ". =") || strings.Trim(name, "0123456789") == ""
	if _, isField := fieldByName(arr.Type().Elem(), name); isField {
		bad = true
	}
	if f, _ := fieldByName(arr.Type().Elem(), "name"); f.valid != "" && rules[f.valid].check(name) != nil {
		bad = true // a name that breaks its own rule is shown by index
	}
	for i := 0; !bad && i < arr.Len(); i++ {
		if other, _ := nameOf(arr.Index(i)); i != idx && other == name {
			bad = true
		}
	}
	if bad {
		return strconv.Itoa(idx)
	}
	return name
}

// Locate returns where the value at a canonical path was given: its own
// origin, or that of the nearest table around it that was given as a whole.
// The zero Origin means the value is a default.
func (l *Loader) Locate(path string) Origin {
	o, _ := l.origins.locate(path)
	return o
}

// Explicit reports whether the key at a canonical path, or any key inside
// it, was given in the document or by Set.
func (l *Loader) Explicit(path string) bool {
	_, _, ok := l.firstExplicit(path)
	return ok
}

// firstExplicit returns the key at or under path that was given first (the
// document in line order, then assignments).
func (l *Loader) firstExplicit(path string) (string, Origin, bool) {
	best, bestO, found := "", Origin{}, false
	l.origins.walk(path, func(p string, o Origin) {
		if !found || before(o, p, bestO, best) {
			best, bestO, found = p, o, true
		}
	})
	return best, bestO, found
}

// before orders origins: document positions first by line, then
// assignments; on a tie the longer path (a dotted key rather than the
// table it implies), then by path for determinism.
func before(a Origin, ap string, b Origin, bp string) bool {
	ka, kb := a.Line, b.Line
	if ka == 0 {
		ka = 1 << 30
	}
	if kb == 0 {
		kb = 1 << 30
	}
	if ka != kb {
		return ka < kb
	}
	if a.Set != b.Set {
		return a.Set < b.Set
	}
	if len(ap) != len(bp) {
		return len(ap) > len(bp) // on one line, the most specific key
	}
	return ap < bp
}

// blame returns the origin to show for a problem with the value at a
// canonical path, which may be a whole table: the last assignment that
// changed a key in it, else the first place the document gives it, else
// the table around it that was given (see Locate).
func (l *Loader) blame(path string) Origin {
	best, bestSeq := Origin{}, -1
	l.origins.walk(path, func(_ string, o Origin) {
		if o.Set == "" {
			return
		}
		if i := slices.Index(l.sets, o.Set); i > bestSeq {
			best, bestSeq = o, i
		}
	})
	if bestSeq >= 0 {
		return best
	}
	if _, o, ok := l.firstExplicit(path); ok {
		return o
	}
	return l.Locate(path)
}

// Error returns a FieldError for the value at a canonical path, with the
// path displayed and the origin located; for rules a caller checks across
// fields. For a table, the origin is the last assignment that changed a
// key in it, else the first line that gives it.
func (l *Loader) Error(path, msg string) FieldError {
	return FieldError{Path: l.Display(path), Msg: msg, Origin: l.blame(path)}
}

// withHint adds the allowed values of f to a message about a value of the
// wrong type.
func withHint(msg string, f field) string {
	if a := allowedText(f); a != "" {
		return msg + " (allowed " + a + ")"
	}
	return msg
}

// allowedText words the bounds or allowed values of f, or "".
func allowedText(f field) string {
	var parts []string
	if allowed := f.allowed(); len(allowed) > 0 {
		parts = append(parts, strings.Join(allowed, ", "))
	} else if b := boundsText(f); b != "" {
		parts = append(parts, b)
	}
	return strings.Join(append(parts, extraRules(f)...), "; ")
}

// extraRules words the valid and maxlen tags of f.
func extraRules(f field) []string {
	var out []string
	if f.valid != "" {
		out = append(out, rules[f.valid].text)
	}
	if f.maxLen > 0 {
		what := "elements"
		if f.kind == kTableArray {
			what = "tables"
		}
		out = append(out, fmt.Sprintf("at most %d %s", f.maxLen, what))
	}
	return out
}
