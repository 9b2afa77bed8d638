package param

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// A schema for the rules added against hostile input: names that become
// file names, bounded dates, durations where 0 means "off", capped arrays.
//
// The "name" rule is registered by package internal/names, which imports
// param and so cannot be imported here; these tests register a stand-in
// (lowercase letters only), and internal/names tests the real rule through
// param.

const testNameRule = "lowercase letters a-z only (the test's stand-in rule)"

func init() {
	RegisterRule("name", func(s string) error {
		if s == "" || strings.Trim(s, "abcdefghijklmnopqrstuvwxyz") != "" {
			return fmt.Errorf("name %q: want %s", s, testNameRule)
		}
		return nil
	}, testNameRule)
}

type tNamed struct {
	Name string `toml:"name" valid:"name" doc:"file stem"`
	Note string `toml:"note" doc:"free text"`
}

type tHard struct {
	Name  string    `toml:"name" valid:"name" doc:"the name"`
	Start time.Time `toml:"start" min:"1970-01-01T00:00:00Z" max:"2100-01-01T00:00:00Z" doc:"a date"`
	Free  time.Time `toml:"free" doc:"an unbounded date"`
	Lease Duration  `toml:"lease" min:"1m" max:"10d" zero:"never" doc:"a lease"`
	Rate  float64   `toml:"rate" min:"1" max:"5" zero:"off" doc:"a rate"`
	Parts []tNamed  `toml:"part" maxlen:"3" doc:"parts"`
	Tags  []string  `toml:"tags" maxlen:"2" doc:"tags"`
}

func validateDoc(t *testing.T, doc string, sets ...string) []string {
	t.Helper()
	var v tHard
	l := NewLoader(&v)
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

func TestDateBounds(t *testing.T) {
	t.Parallel()
	const allowed = "(allowed 1970-01-01T00:00:00Z to 2100-01-01T00:00:00Z)"
	tests := []struct{ doc, want string }{
		{"name = \"a\"\nstart = 2001-07-19T10:00:00Z\n", ""},
		{"name = \"a\"\nstart = \"\"\n", ""}, // not set
		{"name = \"a\"\nstart = 1969-12-31T23:59:59Z\n", "line 2: start: 1969-12-31T23:59:59Z is below the minimum 1970-01-01T00:00:00Z " + allowed},
		{"name = \"a\"\nstart = 2100-01-01T00:00:01Z\n", "line 2: start: 2100-01-01T00:00:01Z is above the maximum 2100-01-01T00:00:00Z " + allowed},
		// Go's zero time is "not set": written as a date, it is out of
		// range, not missing.
		{"name = \"a\"\nstart = 0001-01-01T00:00:00Z\n", "line 2: start: 0001-01-01T00:00:00Z is below the minimum 1970-01-01T00:00:00Z " + allowed},
		{"name = \"a\"\nstart = 0001-01-01\n", "line 2: start: 0001-01-01T00:00:00Z is below the minimum"},
		{"name = \"a\"\nfree = 0001-01-01T00:00:00Z\n", "line 2: free: 0001-01-01T00:00:00Z cannot be told from a date-time not set"},
		{"name = \"a\"\nfree = 0001-01-01T00:00:01Z\n", ""},
	}
	for _, tt := range tests {
		got := validateDoc(t, tt.doc)
		switch {
		case tt.want == "" && len(got) > 0:
			t.Errorf("%q: unexpected errors %q", tt.doc, got)
		case tt.want != "" && (len(got) != 1 || !strings.Contains(got[0], tt.want)):
			t.Errorf("%q:\n got %q\nwant one error with %q", tt.doc, got, tt.want)
		}
	}
	if got := validateDoc(t, "name = \"a\"\n", "start=0001-01-01T00:00:00Z"); len(got) != 1 || !strings.Contains(got[0], "--set start=0001-01-01T00:00:00Z: start: 0001-01-01T00:00:00Z is below the minimum") {
		t.Errorf("--set year 1: %q", got)
	}
}

func TestZeroTag(t *testing.T) {
	t.Parallel()
	tests := []struct{ doc, want string }{
		{"name = \"a\"\nlease = 0\n", ""},
		{"name = \"a\"\nlease = \"0s\"\nrate = 0.0\n", ""},
		{"name = \"a\"\nlease = \"1m\"\nrate = 1.0\n", ""},
		{"name = \"a\"\nlease = \"1ns\"\n", "line 2: lease: 1ns is below the minimum 1m (allowed 0 (never) or 1m to 10d)"},
		{"name = \"a\"\nlease = \"-1h\"\n", "line 2: lease: -1h is below the minimum 1m"},
		{"name = \"a\"\nlease = \"11d\"\n", "line 2: lease: 11d is above the maximum 10d"},
		{"name = \"a\"\nrate = 0.5\n", "line 2: rate: 0.5 is below the minimum 1 (allowed 0 (off) or 1 to 5)"},
	}
	for _, tt := range tests {
		got := validateDoc(t, tt.doc)
		switch {
		case tt.want == "" && len(got) > 0:
			t.Errorf("%q: unexpected errors %q", tt.doc, got)
		case tt.want != "" && (len(got) != 1 || !strings.Contains(got[0], tt.want)):
			t.Errorf("%q:\n got %q\nwant one error with %q", tt.doc, got, tt.want)
		}
	}
}

func TestMaxLen(t *testing.T) {
	t.Parallel()
	four := "name = \"a\"\n[[part]]\nname = \"p0\"\n[[part]]\nname = \"p1\"\n[[part]]\nname = \"p2\"\n[[part]]\nname = \"p3\"\n"
	// Decode refuses the fourth table at its own line, before decoding any.
	var v tHard
	err := NewLoader(&v).Decode([]byte(four))
	if err == nil || err.Error() != "line 8: part: 4 tables; at most 3 are allowed" {
		t.Errorf("Decode: %v", err)
	}
	if v.Parts != nil {
		t.Errorf("Decode filled the tables it refused: %+v", v.Parts)
	}
	if got := validateDoc(t, "name = \"a\"\ntags = [\"x\", \"y\", \"z\"]\n"); len(got) != 1 || got[0] != "line 2: tags: 3 elements; at most 2 are allowed" {
		t.Errorf("list: %q", got)
	}
	if got := validateDoc(t, "name = \"a\"\n", `part=[{name="a"},{name="b"},{name="c"},{name="d"}]`); len(got) != 1 || !strings.HasPrefix(got[0], `--set part=`) || !strings.HasSuffix(got[0], "part: 4 tables; at most 3 are allowed") {
		t.Errorf("--set: %q", got)
	}
	// Validate without a Loader checks the count of a struct built in code.
	errs := Validate(&tHard{Name: "a", Parts: make([]tNamed, 4)})
	if len(errs) != 1 || errs[0].Msg != "4 tables; at most 3 are allowed" {
		t.Errorf("Validate: %+v", errs)
	}
}

// TestDocStatesRules checks that every rule a tag states reaches the
// reference: the name rule, date bounds, zero and maxlen.
func TestDocStatesRules(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := Doc(&b, new(tHard)); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	for _, want := range []string{
		"| `name` | string | empty | " + testNameRule + " | the name |",
		"| `start` | date-time | not set | 1970-01-01T00:00:00Z to 2100-01-01T00:00:00Z | a date |",
		"| `lease` | duration | `\"0s\"` | 0 (never) or 1m to 10d | a lease |",
		"| `part` | array of tables (`[[part]]`, see below) | none | at most 3 tables | parts |",
		"| `tags` | list of strings | `[]` | at most 2 elements | tags |",
		"| `part.name` | string | empty | " + testNameRule,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("doc lacks %q\n%s", want, s)
		}
	}
}

func TestDecodeBOM(t *testing.T) {
	t.Parallel()
	var v tHard
	l := NewLoader(&v)
	if err := l.Decode([]byte("\uFEFFname = \"a\"\nlease = \"1ns\"\n")); err != nil {
		t.Fatalf("a document starting with a byte order mark: %v", err)
	}
	if v.Name != "a" {
		t.Errorf("name = %q", v.Name)
	}
	// Line numbers are those of the file.
	if errs := l.Validate(); len(errs) != 1 || errs[0].Line != 2 {
		t.Errorf("errors %+v, want one on line 2", errs)
	}
	// A BOM anywhere else is still an error.
	if err := NewLoader(&v).Decode([]byte("name = \"a\"\n\uFEFFlease = 0\n")); err == nil {
		t.Error("a byte order mark inside the document was accepted")
	}
}

// manyTables is a document with n items, each with a table whose when
// condition holds and a key given where it does not (so that Validate asks
// about every item's keys), and an error in the last item.
func manyTables(n int) []byte {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "[[item]]\nname = \"i%d\"\ncount = 3\n[item.sub]\nmode = \"a\"\na.x = 0.5\n", i)
	}
	b.WriteString("[item.sub.b]\ny = \"x\"\n")
	return []byte(b.String())
}

// TestDecodeManyTablesLinear loads 50,000 tables of an array. Decoding and
// validating took time quadratic in the number of keys (every question
// about a key scanned all the keys of the document, and every position
// counted the lines from the start), about 40 minutes for this document:
// the test would not end within go test's default timeout. Now it takes
// about a second; BenchmarkDecodeManyTables measures it.
func TestDecodeManyTablesLinear(t *testing.T) {
	t.Parallel()
	const n = 50_000
	data := manyTables(n)
	var v tRoot
	l := NewLoader(&v)
	if err := l.Decode(data); err != nil {
		t.Fatal(err)
	}
	if len(v.Items) != n {
		t.Fatalf("%d items, want %d", len(v.Items), n)
	}
	errs := l.Validate()
	want := fmt.Sprintf(`line %d: item.i%d.sub.b: applies only when item.i%d.sub.mode is "b" (it is "a"); remove it or change mode`, 6*n+1, n-1, n-1)
	if len(errs) != 1 || errs[0].Error() != want {
		t.Errorf("got %v\nwant %s", errs, want)
	}
	if o := l.Locate(fmt.Sprintf("item.%d.count", n-1)); o.Line != 6*(n-1)+3 {
		t.Errorf("count of the last item located at %+v, want line %d", o, 6*(n-1)+3)
	}
	if !reflect.DeepEqual(v.Items[n-1].Sub.A, tA{X: 0.5}) {
		t.Errorf("last item %+v", v.Items[n-1])
	}
}

func BenchmarkDecodeManyTables(b *testing.B) {
	for _, n := range []int{1000, 10_000} {
		data := manyTables(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				var v tRoot
				l := NewLoader(&v)
				if err := l.Decode(data); err != nil {
					b.Fatal(err)
				}
				l.Validate()
			}
		})
	}
}
