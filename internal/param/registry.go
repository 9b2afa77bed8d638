package param

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Registry holds the values one kind of parameter may take (the targeting
// strategies of a worm, the kinds of a distribution, ...): for each, its
// name as a scenario file writes it, one line of documentation, and its
// behaviour V. Code that needs a value's behaviour looks it up here instead
// of comparing strings, so a new value is one Register call (usually in
// the init function of the file that implements it).
//
// A string type K becomes a parameter type checked against the registry by
// declaring
//
//	func (K) Enum() []string      { return reg.Names() }   // see Enumerated
//	func (K) ParamDoc() string    { return reg.Doc() }     // optional
//
// A field of type K (or a list of K) then takes its allowed values from
// the registry, as if they were its enum tag: Validate rejects any other
// value with the key's place in the file, and Doc and Marshal list them.
//
// Registration happens while the program starts (package initialization),
// before any parameter is read; a Registry is not safe for registration
// concurrently with use.
type Registry[K ~string, V any] struct {
	what    string // what one value is, for messages: "targeting strategy"
	entries []entry[K, V]
}

// entry is one registered value.
type entry[K ~string, V any] struct {
	name  K
	order int
	doc   string
	v     V
}

// NewRegistry returns an empty registry; what names one value in messages
// ("targeting strategy").
func NewRegistry[K ~string, V any](what string) *Registry[K, V] {
	return &Registry[K, V]{what: what}
}

// Register adds the value name with its documentation and behaviour.
// order places it among the values wherever they are listed (allowed
// values, documentation): ascending, then by name. A name that is empty,
// holds a character that cannot appear in a when tag or a list (comma,
// equals sign, space) or is already registered panics: registering is
// part of the program, not of its input.
func (r *Registry[K, V]) Register(name K, order int, doc string, v V) {
	if name == "" || strings.ContainsAny(string(name), ",= \t\n") {
		panic(fmt.Sprintf("param: %s %q: not a valid name", r.what, name))
	}
	if _, ok := r.Lookup(name); ok {
		panic(fmt.Sprintf("param: %s %q registered twice", r.what, name))
	}
	r.entries = append(r.entries, entry[K, V]{name: name, order: order, doc: doc, v: v})
	slices.SortStableFunc(r.entries, func(a, b entry[K, V]) int {
		return cmp.Or(cmp.Compare(a.order, b.order), strings.Compare(string(a.name), string(b.name)))
	})
}

// Lookup returns the behaviour of name, and whether it is registered.
func (r *Registry[K, V]) Lookup(name K) (V, bool) {
	for _, e := range r.entries {
		if e.name == name {
			return e.v, true
		}
	}
	var zero V
	return zero, false
}

// Get returns the behaviour of name, or an error naming the registered
// values when there is none.
func (r *Registry[K, V]) Get(name K) (V, error) {
	v, ok := r.Lookup(name)
	if !ok {
		return v, fmt.Errorf("unknown %s %q (want %s)", r.what, name, orList(r.Names()))
	}
	return v, nil
}

// Names lists the registered names in order.
func (r *Registry[K, V]) Names() []string {
	out := make([]string, len(r.entries))
	for i, e := range r.entries {
		out[i] = string(e.name)
	}
	return out
}

// Doc documents the values in order, as "name: doc; name: doc".
func (r *Registry[K, V]) Doc() string {
	parts := make([]string, len(r.entries))
	for i, e := range r.entries {
		parts[i] = string(e.name) + ": " + e.doc
	}
	return strings.Join(parts, "; ")
}

// Each calls fn for every value in order.
func (r *Registry[K, V]) Each(fn func(name K, doc string, v V)) {
	for _, e := range r.entries {
		fn(e.name, e.doc, e.v)
	}
}

// Enumerated is implemented (with a value receiver) by a string type whose
// allowed values are registered in code, usually in a Registry: a field of
// that type, or a list of it, takes its allowed values from Enum as if
// they were its enum tag. Such a field must not have an enum tag as well.
//
// A string type that also has a ParamDoc method documents the fields of its
// type that have no doc tag.
type Enumerated interface {
	Enum() []string
}
