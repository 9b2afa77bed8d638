// Package paramcli gives a parameter struct declared for package param
// (its toml, default, min, max and doc tags) a command line and a JSON
// form, so that a command's flags, a file's keys, the JSON output and the
// documentation (param.Doc) all come from the one declaration.
//
// Every parameter becomes a flag named by its key with dashes for
// underscores (unpatched_share: --unpatched-share), described by its doc
// tag. A value given on the command line is read by package param, as a
// file's value is (param.Set, Loader.Set): the same syntax, the same
// messages. The flags of a struct are applied over a Loader after the
// other layers (defaults, a file), so that the command line wins.
//
// Only flat structs of scalars are supported (strings, booleans, integers,
// floats, param.Duration, time.Time): a table or a list panics, a mistake
// in a declaration that the tests catch.
package paramcli

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"wormwatch/internal/param"
)

// field is one parameter of a struct: its key, Go field and doc text.
type field struct {
	key   string
	index int
	typ   reflect.Type
	doc   string
}

var (
	durationType = reflect.TypeFor[param.Duration]()
	timeType     = reflect.TypeFor[time.Time]()
)

// fieldsOf returns the parameters of struct type t in declaration order:
// its exported fields with a toml key.
func fieldsOf(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		sf := t.Field(i)
		key, _, _ := strings.Cut(sf.Tag.Get("toml"), ",")
		if !sf.IsExported() || key == "" || key == "-" {
			continue
		}
		switch sf.Type {
		case durationType, timeType:
		default:
			switch sf.Type.Kind() {
			case reflect.String, reflect.Bool, reflect.Float32, reflect.Float64,
				reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
				reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			default:
				panic(fmt.Sprintf("paramcli: %s.%s: type %s is not a scalar parameter", t, sf.Name, sf.Type))
			}
		}
		out = append(out, field{key: key, index: i, typ: sf.Type, doc: sf.Tag.Get("doc")})
	}
	return out
}

// structOf returns the struct a pointer points to, or panics.
func structOf(v any) reflect.Value {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("paramcli: want a non-nil pointer to a struct, got %T", v))
	}
	return rv.Elem()
}

// FlagName returns the flag of a key, with its dashes: "--unpatched-share"
// for unpatched_share.
func FlagName(key string) string { return "--" + strings.ReplaceAll(key, "_", "-") }

// Flags are the command-line flags of one parameter struct.
type Flags struct {
	values []*value
}

// value is one flag: a pflag.Value that checks its text with package param
// and keeps it for Apply.
type value struct {
	st   reflect.Type // the parameter struct
	f    field
	text string // the default's text, then the text given
	set  bool
}

// Register adds to fs a flag for every parameter of the struct v points to
// (see the package documentation), showing the value v holds (normally its
// defaults: param.Defaults) as the default. It does not change v: the
// flags the user gives are applied by Apply.
func Register(fs *pflag.FlagSet, v any) *Flags {
	sv := structOf(v)
	fl := &Flags{}
	for _, f := range fieldsOf(sv.Type()) {
		val := &value{st: sv.Type(), f: f, text: format(sv.Field(f.index))}
		flag := fs.VarPF(val, strings.TrimPrefix(FlagName(f.key), "--"), "", f.doc)
		if f.typ.Kind() == reflect.Bool {
			flag.NoOptDefVal = "true" // --on alone sets it
		}
		fl.values = append(fl.values, val)
	}
	return fl
}

// format writes a value the way its flag shows it and param reads it back.
func format(v reflect.Value) string {
	switch v.Type() {
	case durationType:
		return v.Interface().(param.Duration).String()
	case timeType:
		t := v.Interface().(time.Time)
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	}
	return fmt.Sprint(v.Interface())
}

// String returns the flag's text: its default, or the text given.
func (v *value) String() string { return v.text }

// Type names the kind of value in the help text.
func (v *value) Type() string {
	switch v.f.typ {
	case durationType:
		return "duration"
	case timeType:
		return "time"
	}
	return v.f.typ.Kind().String() // float64 shows as "float", int64 as "int"
}

// Set checks text as param reads the key (a number, a duration like "90m"
// or "3d", an RFC 3339 date-time, ...) and keeps it. A number is read as
// strconv.ParseFloat reads it (".5" and "0x1p-2" too, as flags always
// took them), then given to param in its shortest form.
func (v *value) Set(text string) error {
	switch v.f.typ.Kind() {
	case reflect.Float32, reflect.Float64:
		x, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
		if err != nil {
			return err
		}
		text = strings.ToLower(strconv.FormatFloat(x, 'g', -1, 64)) // TOML spells "+inf" and "nan" in lower case
	}
	if err := param.Set(reflect.New(v.st).Interface(), v.f.key, text); err != nil {
		var fe *param.FieldError
		if errors.As(err, &fe) {
			return errors.New(fe.Msg)
		}
		return err
	}
	v.text, v.set = text, true
	return nil
}

// Assignments returns "key=value" for every flag given on the command
// line, in the order of the struct's fields, as Loader.Set takes them.
func (f *Flags) Assignments() []string {
	var out []string
	for _, v := range f.values {
		if v.set {
			out = append(out, v.f.key+"="+v.text)
		}
	}
	return out
}

// Apply gives the flags given on the command line to l (Loader.Set), over
// what l holds: the command line wins over the defaults and a file.
func (f *Flags) Apply(l *param.Loader) error {
	for _, a := range f.Assignments() {
		if err := l.Set(a); err != nil {
			return err
		}
	}
	return nil
}

// Keys returns the keys of the parameter struct v points to, in order.
func Keys(v any) []string {
	var out []string
	for _, f := range fieldsOf(structOf(v).Type()) {
		out = append(out, f.key)
	}
	return out
}

// MarshalJSON writes the struct v points to as one JSON object with a
// member per parameter, in declaration order: under its key a number,
// string or boolean as encoding/json writes it; a date-time as an RFC 3339
// string, or null when not set; a duration as seconds under the key with
// "_seconds" appended (wake_median becomes wake_median_seconds).
func MarshalJSON(v any) ([]byte, error) {
	sv := structOf(v)
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range fieldsOf(sv.Type()) {
		fv := sv.Field(f.index)
		key := f.key
		var x any = fv.Interface()
		switch f.typ {
		case durationType:
			key, x = key+"_seconds", fv.Interface().(param.Duration).Seconds()
		case timeType:
			if fv.Interface().(time.Time).IsZero() {
				x = nil
			}
		}
		k, err := json.Marshal(key)
		if err != nil {
			return nil, err
		}
		val, err := json.Marshal(x)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.key, err)
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(val)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

// DurationVar defines a flag for a duration stored in p, read by
// param.ParseDuration (time.ParseDuration's syntax, plus days: "3d",
// "2d12h"), so that every duration of the command line reads as a file's
// does. Its default shows as param writes it ("12h", "1d").
func DurationVar(fs *pflag.FlagSet, p *time.Duration, name string, value time.Duration, usage string) {
	*p = value
	fs.Var((*durationValue)(p), name, usage)
}

// durationValue is a pflag.Value for DurationVar.
type durationValue time.Duration

// String writes the duration as param does.
func (d *durationValue) String() string { return param.Duration(*d).String() }

// Type names the kind of value in the help text.
func (d *durationValue) Type() string { return "duration" }

// Set reads text with param.ParseDuration.
func (d *durationValue) Set(text string) error {
	v, err := param.ParseDuration(text)
	if err != nil {
		return err
	}
	*d = durationValue(v)
	return nil
}
