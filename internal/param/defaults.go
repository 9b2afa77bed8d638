package param

import (
	"fmt"
	"reflect"
)

// Defaulter is implemented (with a pointer receiver) by parameter types
// that supply defaults a tag cannot express, such as a list of tables or a
// distribution. Defaults calls SetDefaults after the tag defaults of the
// value and of everything inside it are set.
type Defaulter interface {
	SetDefaults()
}

// Defaults sets every parameter of the struct v points to from its default
// tag, recursively through nested tables; fields without a default tag are
// zeroed, lists of tables are emptied. Then it calls SetDefaults on each
// value that implements Defaulter, innermost first. A default tag that does
// not parse as its field's type panics: that is a bug in a declaration.
func Defaults(v any) {
	setDefaults(structOf(v))
}

func setDefaults(sv reflect.Value) {
	sv.Set(reflect.Zero(sv.Type()))
	for _, f := range fields(sv.Type()) {
		fv := sv.Field(f.index)
		switch {
		case f.kind == kTable:
			setDefaults(fv)
		case f.hasDef && f.kind != kTableArray:
			err := f.defErr
			if err == nil {
				err = assignScalar(fv, f.defVal)
			}
			if err != nil {
				panic(fmt.Sprintf("param: %s.%s: default %q: %v", sv.Type(), f.name, f.def, err))
			}
		}
	}
	if d, ok := sv.Addr().Interface().(Defaulter); ok {
		d.SetDefaults()
	}
}

// newDefault returns a pointer to a new value of struct type t with its
// defaults set.
func newDefault(t reflect.Type) reflect.Value {
	p := reflect.New(t)
	setDefaults(p.Elem())
	return p
}
