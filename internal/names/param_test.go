package names_test

// The rule as parameter structs see it: importing names registers it with
// internal/param as the valid:"name" tag.

import (
	"strings"
	"testing"

	_ "wormwatch/internal/names"
	"wormwatch/internal/param"
)

type tPart struct {
	Name string `toml:"name" valid:"name" doc:"file stem"`
	Note string `toml:"note" doc:"free text"`
}

type tDoc struct {
	Name  string  `toml:"name" valid:"name" doc:"the name"`
	Parts []tPart `toml:"part" maxlen:"3" doc:"parts"`
}

func validateDoc(t *testing.T, doc string, sets ...string) []string {
	t.Helper()
	var v tDoc
	l := param.NewLoader(&v)
	if err := l.Decode([]byte(doc)); err != nil {
		return []string{err.Error()}
	}
	for _, s := range sets {
		if err := l.Set(s); err != nil {
			return []string{err.Error()}
		}
	}
	var got []string
	for _, e := range l.Validate() {
		got = append(got, e.Error())
	}
	return got
}

func TestValidateNameRule(t *testing.T) {
	t.Parallel()
	rule := "1 to 64 characters: lowercase letters a-z, digits, '.', '_' and '-', starting with a letter or a digit"
	tests := []struct {
		doc  string
		sets []string
		want string // substring of the one error; "" for none
	}{
		{doc: "name = \"ok-1.2_3\"\n[[part]]\nname = \"p\"\n"},
		{doc: "name = \"../../escape\"\n", want: `line 1: name: name "../../escape" has '.' first at position 1 (want ` + rule + ")"},
		{doc: "name = \"a/b\"\n", want: "line 1: name: name \"a/b\" has a path separator at position 2"},
		{doc: "name = \"x\"\n[[part]]\nname = \"UP\"\n", want: "line 3: part.0.name: name \"UP\" has the uppercase letter 'U' at position 1"},
		{doc: "name = \"x\"\n[[part]]\nnote = \"no name\"\n", want: "line 2: part.0.name: empty name (want " + rule + ")"},
		{doc: "name = \"x\"\n", sets: []string{"name=../../escaped"}, want: `--set name=../../escaped: name: name "../../escaped" has '.' first`},
		{doc: "name = \"" + strings.Repeat("a", 65) + "\"\n", want: "name of 65 characters is too long"},
	}
	for _, tt := range tests {
		got := validateDoc(t, tt.doc, tt.sets...)
		switch {
		case tt.want == "" && len(got) > 0:
			t.Errorf("%q: unexpected errors %q", tt.doc, got)
		case tt.want != "" && (len(got) != 1 || !strings.Contains(got[0], tt.want)):
			t.Errorf("%q %q:\n got %q\nwant one error with %q", tt.doc, tt.sets, got, tt.want)
		}
	}
	// Without a Loader too: a struct built in code is checked the same.
	errs := param.Validate(&tDoc{Name: "a b"})
	if len(errs) != 1 || errs[0].Path != "name" || !strings.Contains(errs[0].Msg, "the character ' '") {
		t.Errorf("Validate: %+v", errs)
	}
}
