package param

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// rule is a named check of a string value, chosen by a field's valid tag.
type rule struct {
	check func(string) error // nil error: the value follows the rule
	text  string             // the rule in words, for the documentation
}

// rules are the values a valid tag may take, registered by RegisterRule.
// Package internal/names registers "name" (a name that becomes part of a
// file path), so every package with a valid:"name" field imports it.
var rules = map[string]rule{}

// RegisterRule makes a valid tag of this name check a string field with
// check; text is the rule in words, for error messages and documentation.
// Call it from an init function: a schema whose tag names no registered
// rule is refused when it is built. A name registered twice panics.
func RegisterRule(name string, check func(string) error, text string) {
	if _, dup := rules[name]; dup {
		panic("param: rule " + name + " registered twice")
	}
	rules[name] = rule{check: check, text: text}
}

// Checker is implemented (with a value or pointer receiver) by parameter
// types that have rules between their own fields; Validate reports the
// error Check returns at the path of the value.
type Checker interface {
	Check() error
}

// Validate checks every applicable parameter of the struct v points to
// against its tags: min and max bounds, enum values (for a list, each
// element), finite numbers, and the Check method of Checker types. Fields
// whose when condition does not hold are skipped. Paths are canonical
// (arrays of tables by index). Without a Loader nothing is known about which
// keys were given, so the when rule is not checked; see Loader.Validate.
func Validate(v any) []FieldError {
	c := &checker{}
	c.table(structOf(v), "")
	return c.errs
}

// Validate checks the struct as the package function Validate does, with
// paths displayed and origins located, and also checks the when rule: a
// key that was given (in the document or by Set) although its when
// condition does not hold is an error, since it would be silently ignored.
// One exception: when an assignment changed the selecting key, tables the
// document gave for the old choice are not an error (they no longer apply
// and are ignored).
func (l *Loader) Validate() []FieldError {
	c := &checker{l: l}
	c.table(l.root, "")
	for i := range c.errs {
		e := &c.errs[i]
		if e.Origin == (Origin{}) {
			e.Origin = l.blame(e.Path)
		}
		e.Path = l.Display(e.Path)
	}
	return c.errs
}

type checker struct {
	l    *Loader
	errs []FieldError
}

func (c *checker) fail(path, msg string) {
	c.errs = append(c.errs, FieldError{Path: path, Msg: msg})
}

func (c *checker) table(sv reflect.Value, prefix string) {
	for _, f := range fields(sv.Type()) {
		fv, path := sv.Field(f.index), join(prefix, f.name)
		if ok, got := f.applies(sv); !ok {
			c.when(f, prefix, path, got)
			continue
		}
		switch f.kind {
		case kTable:
			c.table(fv, path)
		case kTableArray:
			if f.maxLen > 0 && fv.Len() > f.maxLen {
				c.fail(path, tooMany(fv.Len(), f))
				continue
			}
			for i := range fv.Len() {
				c.table(fv.Index(i), join(path, strconv.Itoa(i)))
			}
		case kList:
			if f.maxLen > 0 && fv.Len() > f.maxLen {
				c.fail(path, tooMany(fv.Len(), f))
				continue
			}
			for i := range fv.Len() {
				if msg := c.scalar(f, fv.Index(i)); msg != "" {
					c.fail(path, fmt.Sprintf("element %d: %s", i+1, msg))
				}
			}
		default:
			if msg := c.scalar(f, fv); msg != "" {
				c.fail(path, msg)
			}
		}
	}
	var ch Checker
	if x, ok := sv.Interface().(Checker); ok {
		ch = x
	} else if x, ok := sv.Addr().Interface().(Checker); ok {
		ch = x
	}
	if ch != nil {
		if err := ch.Check(); err != nil {
			c.fail(prefix, err.Error())
		}
	}
}

// when reports a key given under a field whose condition does not hold.
func (c *checker) when(f field, prefix, path, got string) {
	if c.l == nil {
		return
	}
	p, o, ok := c.l.firstExplicit(path)
	if !ok {
		return
	}
	if sel := c.l.Locate(join(prefix, f.whenKey)); sel.Set != "" && o.Set == "" {
		return
	}
	c.errs = append(c.errs, FieldError{
		Path:   p,
		Msg:    fmt.Sprintf("applies only when %s (it is %q); remove it or change %s", f.whenText(c.l.Display(prefix)), got, f.whenKey),
		Origin: o,
	})
}

// scalar checks one value against the bounds and enum of its field and
// returns a message, or "" when it is fine.
func (c *checker) scalar(f field, v reflect.Value) string {
	switch kindOf(v.Type()) {
	case kInt, kUint, kFloat:
		var x float64
		var text string
		switch kindOf(v.Type()) {
		case kInt:
			x, text = float64(v.Int()), strconv.FormatInt(v.Int(), 10)
		case kUint:
			x, text = float64(v.Uint()), strconv.FormatUint(v.Uint(), 10)
		default:
			x, text = v.Float(), formatFloat(v.Float())
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return "want a finite number, got " + text
			}
		}
		if x == 0 && f.zero != "" {
			return ""
		}
		lo, hi := boundFloat(f.min), boundFloat(f.max)
		return rangeMsg(text, x < lo, x > hi, f)
	case kDuration:
		d := v.Interface().(Duration)
		if d == 0 && f.zero != "" {
			return ""
		}
		below := f.min != "" && d < mustDuration(f.min)
		above := f.max != "" && d > mustDuration(f.max)
		return rangeMsg(d.String(), below, above, f)
	case kTime:
		t := v.Interface().(time.Time)
		if t.IsZero() {
			return "" // not set
		}
		below := f.min != "" && t.Before(mustTime(f.min))
		above := f.max != "" && t.After(mustTime(f.max))
		return rangeMsg(t.UTC().Format(time.RFC3339Nano), below, above, f)
	case kString, kText:
		s := scalarText(v)
		if allowed := f.allowed(); len(allowed) > 0 && !slices.Contains(allowed, s) {
			return fmt.Sprintf("%q is not allowed (allowed %s)", s, strings.Join(allowed, ", "))
		}
		if f.valid != "" {
			if err := rules[f.valid].check(s); err != nil {
				return err.Error()
			}
		}
	}
	return ""
}

// tooMany words a list or an array of tables longer than its maxlen tag.
func tooMany(n int, f field) string {
	what := "elements"
	if f.kind == kTableArray {
		what = "tables"
	}
	return fmt.Sprintf("%d %s; at most %d are allowed", n, what, f.maxLen)
}

// rangeMsg words a bounds violation, or returns "".
func rangeMsg(text string, below, above bool, f field) string {
	switch {
	case below:
		return fmt.Sprintf("%s is below the minimum %s (allowed %s)", text, f.min, boundsText(f))
	case above:
		return fmt.Sprintf("%s is above the maximum %s (allowed %s)", text, f.max, boundsText(f))
	}
	return ""
}

// boundsText describes the allowed range of a field.
func boundsText(f field) string {
	var s string
	switch {
	case f.min != "" && f.max != "":
		s = f.min + " to " + f.max
	case f.min != "":
		s = "at least " + f.min
	case f.max != "":
		s = "at most " + f.max
	}
	if f.zero != "" && s != "" {
		s = "0 (" + f.zero + ") or " + s
	}
	return s
}

// boundFloat reads a numeric bound; a missing one is unbounded. A bound
// that does not parse panics: it is a bug in a declaration.
func boundFloat(s string) float64 {
	if s == "" {
		return math.NaN() // comparisons with NaN are false: no bound
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		panic(fmt.Sprintf("param: bound %q is not a number", s))
	}
	return x
}

// mustTime reads a date-time bound (RFC 3339); one that does not parse
// panics: it is a bug in a declaration.
func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(fmt.Sprintf("param: bound %q is not an RFC 3339 date-time", s))
	}
	return t
}

func mustDuration(s string) Duration {
	d, err := ParseDuration(s)
	if err != nil {
		panic(fmt.Sprintf("param: bound %q: %v", s, err))
	}
	return d
}

// Prune resets every field whose when condition does not hold to its
// default (as Defaults sets it), so that values which do not apply never
// differ from the defaults: the struct then encodes without them and
// decodes back equal.
func Prune(v any) {
	sv := structOf(v)
	prune(sv, newDefault(sv.Type()).Elem())
}

// Prune is the package function Prune on the Loader's struct.
func (l *Loader) Prune() { prune(l.root, newDefault(l.root.Type()).Elem()) }

func prune(sv, dv reflect.Value) {
	for _, f := range fields(sv.Type()) {
		fv := sv.Field(f.index)
		if ok, _ := f.applies(sv); !ok {
			fv.Set(dv.Field(f.index))
			continue
		}
		switch f.kind {
		case kTable:
			prune(fv, dv.Field(f.index))
		case kTableArray:
			for i := range fv.Len() {
				prune(fv.Index(i), newDefault(fv.Type().Elem()).Elem())
			}
		}
	}
}
