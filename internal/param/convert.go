package param

import (
	"encoding"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2"
)

// The values handled here are what go-toml decodes a document into when the
// target is a map[string]any: string, int64, float64, bool, time.Time,
// toml.LocalDateTime, toml.LocalDate, toml.LocalTime, []any and
// map[string]any. Decoding into that generic form first (instead of straight
// into the parameter struct) lets this package give every element of an
// array of tables its own defaults, replace default lists instead of
// appending to them, record which keys the user gave, and word its own
// messages with the field's bounds.

// assignScalar sets rv, whose kind is a scalar or a list, from the TOML
// value val. The message of the error does not name the key.
func assignScalar(rv reflect.Value, val any) error {
	switch kindOf(rv.Type()) {
	case kString:
		return assignString(rv, val)
	case kBool:
		b, ok := val.(bool)
		if !ok {
			return fmt.Errorf("want true or false, got %s", describe(val))
		}
		rv.SetBool(b)
	case kInt:
		return assignInt(rv, val)
	case kUint:
		return assignUint(rv, val)
	case kFloat:
		return assignFloat(rv, val)
	case kDuration:
		return assignDuration(rv, val)
	case kTime:
		tm, err := toTime(val)
		if err != nil {
			return err
		}
		rv.Set(reflect.ValueOf(tm))
	case kText:
		s, ok := val.(string)
		if !ok {
			return fmt.Errorf("want a string, got %s", describe(val))
		}
		return rv.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s))
	case kList:
		return assignList(rv, val)
	default:
		return fmt.Errorf("internal error: %s is not a scalar", rv.Type())
	}
	return nil
}

// assignString sets a string (or a string type, such as a kind) from a
// TOML string of valid UTF-8.
func assignString(rv reflect.Value, val any) error {
	s, ok := val.(string)
	if !ok {
		return fmt.Errorf("want a string, got %s", describe(val))
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%q is not valid UTF-8", s)
	}
	rv.SetString(s)
	return nil
}

// assignInt sets a signed integer that holds the value.
func assignInt(rv reflect.Value, val any) error {
	i, err := toInt(val)
	if err != nil {
		return err
	}
	if rv.OverflowInt(i) {
		return fmt.Errorf("%d is out of range for this key", i)
	}
	rv.SetInt(i)
	return nil
}

// assignUint sets an unsigned integer that holds the value.
func assignUint(rv reflect.Value, val any) error {
	i, err := toInt(val)
	if err != nil {
		return err
	}
	if i < 0 {
		return fmt.Errorf("want a non-negative integer, got %d", i)
	}
	if rv.OverflowUint(uint64(i)) {
		return fmt.Errorf("%d is out of range for this key", i)
	}
	rv.SetUint(uint64(i))
	return nil
}

// assignFloat sets a float from a TOML integer or float, finite and in
// the range of the float's size.
func assignFloat(rv reflect.Value, val any) error {
	var f float64
	switch x := val.(type) {
	case int64:
		f = float64(x)
	case float64:
		f = x
	default:
		return fmt.Errorf("want a number, got %s", describe(val))
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || rv.OverflowFloat(f) {
		return fmt.Errorf("want a finite number, got %v", f)
	}
	rv.SetFloat(f)
	return nil
}

// assignDuration sets a Duration from text ("21s", "3d") or a bare 0.
func assignDuration(rv reflect.Value, val any) error {
	var d Duration
	switch x := val.(type) {
	case string:
		var err error
		if d, err = ParseDuration(x); err != nil {
			return err
		}
	case int64:
		// A bare 0 is unambiguous; any other bare number lacks its unit.
		if x != 0 {
			return fmt.Errorf("want a duration with a unit like \"%ds\" or \"%dm\", got the bare number %d", x, x, x)
		}
	default:
		return fmt.Errorf("want a duration like \"21s\", \"90m\" or \"3d\", got %s", describe(val))
	}
	rv.SetInt(int64(d))
	return nil
}

// assignList replaces a list with the elements of a TOML array, each
// assigned as a scalar.
func assignList(rv reflect.Value, val any) error {
	t := rv.Type()
	arr, ok := val.([]any)
	if !ok {
		return fmt.Errorf("want a list of %ss like [%s], got %s", typeName(t.Elem()), exampleOf(t.Elem()), describe(val))
	}
	out := reflect.Zero(t) // an empty list is nil, as a list without a default is
	if len(arr) > 0 {
		out = reflect.MakeSlice(t, len(arr), len(arr))
	}
	for i, x := range arr {
		if err := assignScalar(out.Index(i), x); err != nil {
			return fmt.Errorf("element %d: %w", i+1, err)
		}
	}
	rv.Set(out)
	return nil
}

// toInt reads an integer, accepting a float with an integral value.
func toInt(val any) (int64, error) {
	switch x := val.(type) {
	case int64:
		return x, nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<63 {
			return int64(x), nil
		}
		return 0, fmt.Errorf("want an integer, got %v", x)
	}
	return 0, fmt.Errorf("want an integer, got %s", describe(val))
}

// toTime reads a date-time. Times without an offset are taken as UTC, a
// bare date as its midnight UTC, and the empty string as "not set".
func toTime(val any) (time.Time, error) {
	const want = "want a date-time like 2001-07-19T10:00:00Z"
	switch x := val.(type) {
	case time.Time:
		return x.UTC(), nil
	case toml.LocalDateTime:
		return x.AsTime(time.UTC), nil
	case toml.LocalDate:
		return x.AsTime(time.UTC), nil
	case string:
		if strings.TrimSpace(x) == "" {
			return time.Time{}, nil
		}
		tm, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(x))
		if err != nil {
			return time.Time{}, fmt.Errorf("%s, got %q", want, x)
		}
		return tm.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%s, got %s", want, describe(val))
}

// describe names a TOML value's type and shows it, for messages.
func describe(val any) string {
	switch x := val.(type) {
	case string:
		return fmt.Sprintf("the string %q", x)
	case int64:
		return fmt.Sprintf("the integer %d", x)
	case float64:
		return fmt.Sprintf("the number %v", x)
	case bool:
		return fmt.Sprintf("the boolean %v", x)
	case time.Time, toml.LocalDateTime, toml.LocalDate:
		return fmt.Sprintf("the date-time %v", x)
	case toml.LocalTime:
		return fmt.Sprintf("the time of day %v", x)
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	}
	return fmt.Sprintf("%T", val)
}

// exampleOf is a sample value of a scalar type, for messages.
func exampleOf(t reflect.Type) string {
	switch kindOf(t) {
	case kString, kText:
		return `"a", "b"`
	case kInt, kUint:
		return "1, 2"
	case kFloat:
		return "0.5, 1.5"
	case kBool:
		return "true, false"
	case kDuration:
		return `"21s", "3d"`
	case kTime:
		return "2001-07-19T10:00:00Z"
	}
	return ""
}

// parseText turns the text of a --set value or a default tag into a TOML
// value for a target of type t. The text is read as a TOML value when it is
// one (so `[1, 2]`, `"quoted"`, `2001-07-19T10:00:00Z` and inline tables
// work); text that is not TOML, or not the right TOML for a textual target,
// is taken literally, so `--set worm.name=crv3` and `--set rate.timeout=21s`
// need no quotes. Lists also read as comma-separated text.
func parseText(t reflect.Type, text string) (any, error) {
	val, isTOML := tomlValue(text)
	k := kindOf(t)
	switch k {
	case kString, kText, kDuration:
		if s, ok := val.(string); isTOML && ok {
			return s, nil
		}
		if k == kDuration && isTOML {
			if _, ok := val.(int64); ok {
				return val, nil
			}
		}
		return text, nil
	case kTime:
		if isTOML {
			return val, nil
		}
		return text, nil
	case kList:
		if a, ok := val.([]any); isTOML && ok {
			return a, nil
		}
		items := splitList(text)
		out := make([]any, len(items))
		for i, it := range items {
			v, err := parseText(t.Elem(), it)
			if err != nil {
				return nil, fmt.Errorf("element %d: %w", i+1, err)
			}
			out[i] = v
		}
		return out, nil
	}
	if !isTOML {
		switch k {
		case kTable:
			return nil, fmt.Errorf("want a table like {key = value, ...}, got %q", text)
		case kTableArray:
			return nil, fmt.Errorf("want an array of tables like [{key = value}, ...], got %q", text)
		case kBool:
			return nil, fmt.Errorf("want true or false, got %q", text)
		case kFloat:
			return nil, fmt.Errorf("want a number, got %q", text)
		}
		return nil, fmt.Errorf("want an integer, got %q", text)
	}
	return val, nil
}

// tomlValue parses text as one TOML value.
func tomlValue(text string) (any, bool) {
	if strings.ContainsAny(text, "\r\n") || strings.TrimSpace(text) == "" {
		return nil, false
	}
	var m map[string]any
	if err := toml.Unmarshal([]byte("v = "+text), &m); err != nil || len(m) != 1 {
		return nil, false
	}
	v, ok := m["v"]
	return v, ok
}
