package param

import (
	"encoding"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
)

// kind classifies a Go type by how a scenario file writes it.
type kind int

const (
	kInvalid    kind = iota
	kString          // string
	kBool            // bool
	kInt             // int, int8 ... int64
	kUint            // uint, uint8 ... uint64
	kFloat           // float32, float64
	kDuration        // param.Duration
	kTime            // time.Time
	kText            // another type read from a string by encoding.TextUnmarshaler
	kList            // a slice of a scalar type ([]string, []int, ...)
	kTable           // a struct: a TOML table
	kTableArray      // a slice of structs: a TOML array of tables
)

var (
	durationType  = reflect.TypeFor[Duration]()
	timeType      = reflect.TypeFor[time.Time]()
	unmarshalerTy = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// kindOf classifies t.
func kindOf(t reflect.Type) kind {
	switch t {
	case durationType:
		return kDuration
	case timeType:
		return kTime
	}
	if t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(unmarshalerTy) {
		return kText
	}
	switch t.Kind() {
	case reflect.String:
		return kString
	case reflect.Bool:
		return kBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return kInt
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return kUint
	case reflect.Float32, reflect.Float64:
		return kFloat
	case reflect.Struct:
		return kTable
	case reflect.Slice:
		switch ek := kindOf(t.Elem()); ek {
		case kTable:
			return kTableArray
		case kList, kTableArray, kInvalid:
			return kInvalid
		default:
			return kList
		}
	}
	return kInvalid
}

// typeName is how the documentation and messages call a kind.
func typeName(t reflect.Type) string {
	switch kindOf(t) {
	case kString, kText:
		return "string"
	case kBool:
		return "boolean"
	case kInt, kUint:
		return "integer"
	case kFloat:
		return "number"
	case kDuration:
		return "duration"
	case kTime:
		return "date-time"
	case kList:
		return "list of " + typeName(t.Elem()) + "s"
	case kTable:
		return "table"
	case kTableArray:
		return "array of tables"
	}
	return t.String()
}

// field is one parameter of a struct, with its tags parsed.
type field struct {
	index    int
	name     string // TOML key
	typ      reflect.Type
	kind     kind
	def      string // default tag
	hasDef   bool
	defVal   any   // the default tag read as a TOML value (parsed once: see setDefaults)
	defErr   error // why the default tag does not read, if it does not
	min, max string
	zero     string     // what 0 means, when 0 is allowed outside min and max (zero tag)
	maxLen   int        // most elements of a list or an array of tables (maxlen tag); 0: no limit
	valid    string     // a named rule the value must follow (valid tag): "name"
	enum     []string   // enum tag
	enumer   Enumerated // the type's own list of allowed values (Enumerated), instead of an enum tag
	docer    paramDoc   // the type's documentation, for a field without a doc tag
	whenKey  string     // TOML key of the sibling that selects this field
	whenVals []string   // values of the sibling for which this field applies
	doc      string
}

// fields returns the parameters of struct type t in declaration order.
// Fields without a toml tag, with toml:"-" and unexported fields are not
// parameters. A type that cannot be written in TOML panics: it is a
// programming error in a parameter declaration, caught by the tests.
func fields(t reflect.Type) []field {
	if c, ok := fieldCache.Load(t); ok {
		return c.([]field)
	}
	out := parseFields(t)
	fieldCache.Store(t, out)
	return out
}

// fieldCache holds the parsed tags of each struct type; it is a cache of
// pure functions of the types, not state.
var fieldCache sync.Map

func parseFields(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("toml"), ",")
		if !sf.IsExported() || name == "" || name == "-" {
			continue
		}
		f := field{index: i, name: name, typ: sf.Type, kind: kindOf(sf.Type), doc: sf.Tag.Get("doc")}
		if f.kind == kInvalid {
			panic(fmt.Sprintf("param: %s.%s: type %s cannot be a scenario parameter", t, sf.Name, sf.Type))
		}
		f.def, f.hasDef = sf.Tag.Lookup("default")
		if f.hasDef && f.kind != kTable && f.kind != kTableArray {
			f.defVal, f.defErr = parseText(f.typ, f.def)
		}
		f.min, f.max, f.zero = sf.Tag.Get("min"), sf.Tag.Get("max"), sf.Tag.Get("zero")
		if m := sf.Tag.Get("maxlen"); m != "" {
			n, err := strconv.Atoi(m)
			if err != nil || n < 1 || (f.kind != kList && f.kind != kTableArray) {
				panic(fmt.Sprintf("param: %s.%s: maxlen tag %q: want a positive count on a list or an array of tables", t, sf.Name, m))
			}
			f.maxLen = n
		}
		if v := sf.Tag.Get("valid"); v != "" {
			if _, ok := rules[v]; !ok || f.kind != kString {
				panic(fmt.Sprintf("param: %s.%s: valid tag %q: want one of the rules of package param on a string", t, sf.Name, v))
			}
			f.valid = v
		}
		if f.kind == kTime {
			// The bounds of a date-time must read, or every check would panic later.
			for _, b := range []string{f.min, f.max} {
				if b != "" {
					mustTime(b)
				}
			}
		}
		if e := sf.Tag.Get("enum"); e != "" {
			f.enum = splitList(e)
		}
		typeEnum(t, sf, &f)
		if w := sf.Tag.Get("when"); w != "" {
			k, v, ok := strings.Cut(w, "=")
			if !ok {
				panic(fmt.Sprintf("param: %s.%s: when tag %q is not key=value", t, sf.Name, w))
			}
			f.whenKey, f.whenVals = strings.TrimSpace(k), splitList(v)
		}
		out = append(out, f)
	}
	return out
}

// paramDoc is implemented by types that document themselves.
type paramDoc interface{ ParamDoc() string }

// typeEnum takes the allowed values and the documentation of a string
// field (or a list of strings) from its type, when the type supplies them
// (Enumerated, ParamDoc). A field whose type enumerates its values and
// that has an enum tag as well panics: the values would be declared twice.
func typeEnum(t reflect.Type, sf reflect.StructField, f *field) {
	et := sf.Type
	if f.kind == kList {
		et = et.Elem()
	}
	if k := kindOf(et); k != kString && k != kText {
		return
	}
	z := reflect.Zero(et).Interface()
	if en, ok := z.(Enumerated); ok {
		if f.enum != nil {
			panic(fmt.Sprintf("param: %s.%s: enum tag on a field whose type %s lists its own values", t, sf.Name, et))
		}
		f.enumer = en
	}
	if d, ok := z.(paramDoc); ok && f.doc == "" {
		f.docer = d
	}
}

// allowed returns the values f may take: its enum tag, or the values its
// type enumerates (asked each time: they are registered in code); nil when
// any value is allowed.
func (f field) allowed() []string {
	if f.enumer != nil {
		return f.enumer.Enum()
	}
	return f.enum
}

// docText returns the documentation of f: its doc tag, or its type's.
func (f field) docText() string {
	if f.docer != nil {
		return f.docer.ParamDoc()
	}
	return f.doc
}

// fieldByName returns the parameter of struct type t with TOML key name.
func fieldByName(t reflect.Type, name string) (field, bool) {
	for _, f := range fields(t) {
		if f.name == name {
			return f, true
		}
	}
	return field{}, false
}

// splitList splits a comma-separated tag or --set list, trimming spaces and
// dropping empty items.
func splitList(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// applies reports whether field f of struct value sv applies, given the
// value of the sibling its when tag names; it also returns that value as
// text.
func (f field) applies(sv reflect.Value) (bool, string) {
	if f.whenKey == "" {
		return true, ""
	}
	sel, ok := fieldByName(sv.Type(), f.whenKey)
	if !ok {
		panic(fmt.Sprintf("param: %s.%s: when tag names unknown sibling %q", sv.Type(), f.name, f.whenKey))
	}
	got := scalarText(sv.Field(sel.index))
	for _, w := range f.whenVals {
		if got == w {
			return true, got
		}
	}
	return false, got
}

// whenText describes the condition of a when tag for messages and docs.
func (f field) whenText(prefix string) string {
	key := join(prefix, f.whenKey)
	if len(f.whenVals) == 1 {
		return fmt.Sprintf("%s is %q", key, f.whenVals[0])
	}
	q := make([]string, len(f.whenVals))
	for i, v := range f.whenVals {
		q[i] = strconv.Quote(v)
	}
	return fmt.Sprintf("%s is one of %s", key, strings.Join(q, ", "))
}

// scalarText formats a scalar value the way a when tag or enum spells it.
func scalarText(v reflect.Value) string {
	switch kindOf(v.Type()) {
	case kDuration:
		return v.Interface().(Duration).String()
	case kTime:
		return v.Interface().(time.Time).UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v.Interface())
}

// join appends dotted key parts, skipping empty ones.
func join(prefix string, parts ...string) string {
	for _, p := range parts {
		if p == "" {
			continue
		}
		if prefix == "" {
			prefix = p
		} else {
			prefix += "." + p
		}
	}
	return prefix
}

// structOf returns the struct a pointer argument points to, or panics: the
// exported functions take a pointer to a parameter struct.
func structOf(v any) reflect.Value {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("param: want a non-nil pointer to a struct, got %T", v))
	}
	return rv.Elem()
}
