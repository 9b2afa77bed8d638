package param

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// A schema of its own, so these tests do not depend on the scenario's.

type tSub struct {
	Mode  string `toml:"mode" default:"a" enum:"a,b" doc:"which sub-table applies"`
	A     tA     `toml:"a" when:"mode=a"`
	B     tB     `toml:"b" when:"mode=b"`
	Level int    `toml:"level" default:"3" min:"1" max:"10" doc:"a level"`
}

type tA struct {
	X float64 `toml:"x" default:"0.5" min:"0" max:"1" doc:"a share"`
}

type tB struct {
	Y string `toml:"y" default:"yy" doc:"a word"`
}

type tElem struct {
	Name  string    `toml:"name" doc:"label"`
	Count int       `toml:"count" default:"7" min:"0" doc:"a count"`
	Sub   tSub      `toml:"sub"`
	Tags  []string  `toml:"tags" default:"p,q" enum:"p,q,r" doc:"tags"`
	Wait  Duration  `toml:"wait" default:"21s" min:"1s" doc:"a wait"`
	At    time.Time `toml:"at" doc:"a time"`
	Small int8      `toml:"small" doc:"a small number"`
}

type tZone struct {
	Label string  `toml:"label"`
	Share float64 `toml:"share" min:"0" max:"1"`
}

type tRoot struct {
	Title  string    `toml:"title" default:"t" doc:"the title"`
	On     bool      `toml:"on" default:"true"`
	Seed   uint64    `toml:"seed"`
	Ratio  float64   `toml:"ratio" default:"0.25" min:"0" max:"1"`
	Items  []tElem   `toml:"item" doc:"items"`
	Zones  []tZone   `toml:"zone" doc:"zones"`
	Err    Dist      `toml:"err"`
	Hidden string    `toml:"-"`
	Ints   []int     `toml:"ints" min:"0" max:"9"`
	Nums   []float64 `toml:"nums"`
}

func (r *tRoot) SetDefaults() {
	r.Zones = []tZone{{Label: "z1", Share: 0.75}, {Label: "z2", Share: 0.25}}
	r.Err = Dist{Kind: "uniform", Min: Duration(-time.Hour), Max: Duration(time.Hour)}
}

// defaultElem is a tElem with the defaults its tags declare, written out.
func defaultElem() tElem {
	return tElem{Count: 7, Sub: tSub{Mode: "a", A: tA{X: 0.5}, B: tB{Y: "yy"}, Level: 3},
		Tags: []string{"p", "q"}, Wait: Duration(21 * time.Second)}
}

// defaultRoot is a tRoot with the defaults its tags and SetDefaults declare.
func defaultRoot() tRoot {
	return tRoot{Title: "t", On: true, Ratio: 0.25,
		Zones: []tZone{{Label: "z1", Share: 0.75}, {Label: "z2", Share: 0.25}},
		Err:   Dist{Kind: "uniform", Min: Duration(-time.Hour), Max: Duration(time.Hour)}}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	got := tRoot{Title: "old", Seed: 9, Hidden: "x", Items: []tElem{{}}}
	Defaults(&got)
	if want := defaultRoot(); !reflect.DeepEqual(got, want) {
		t.Errorf("Defaults:\n got %+v\nwant %+v", got, want)
	}
	var e tElem
	Defaults(&e)
	if want := defaultElem(); !reflect.DeepEqual(e, want) {
		t.Errorf("Defaults of an element:\n got %+v\nwant %+v", e, want)
	}
}

// lineOf returns the line (from 1) of the first line of doc containing s.
func lineOf(t *testing.T, doc, s string) int {
	t.Helper()
	i := strings.Index(doc, s)
	if i < 0 {
		t.Fatalf("%q not in the document", s)
	}
	return strings.Count(doc[:i], "\n") + 1
}

func TestDecodeValues(t *testing.T) {
	t.Parallel()
	doc := `title = "T"
ratio = 1
ints = [1, 2]

[[item]]
name = "first"
tags = ["r"]
wait = "1d12h"
at = 2001-07-19T12:00:00+02:00
[item.sub]
mode = "b"
b.y = "bee"

[[item]]
name = "second"
count = 0

[[zone]]
label = "only"
share = 1.0

[err]
kind = "fixed"
mean = "2h"
`
	var got tRoot
	l := NewLoader(&got)
	if err := l.Decode([]byte(doc)); err != nil {
		t.Fatal(err)
	}
	want := defaultRoot()
	want.Title, want.Ratio, want.Ints = "T", 1, []int{1, 2}
	first := defaultElem()
	first.Name, first.Tags, first.Wait = "first", []string{"r"}, Duration(36*time.Hour)
	first.At = time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC)
	first.Sub.Mode, first.Sub.B.Y = "b", "bee"
	second := defaultElem()
	second.Name, second.Count = "second", 0
	want.Items = []tElem{first, second}
	want.Zones = []tZone{{Label: "only", Share: 1}} // replaces the two default zones
	want.Err.Kind, want.Err.Mean = "fixed", Duration(2*time.Hour)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Decode:\n got %+v\nwant %+v", got, want)
	}
	// Origins: keys given are located on their lines, defaults are not.
	for path, sub := range map[string]string{
		"title": "title =", "item.1.count": "count = 0", "item.0.sub.b.y": "b.y", "item.1": "[[item]]\nname = \"second\"",
		"item.0.sub": "[item.sub]",
	} {
		want := lineOf(t, doc, sub)
		if path == "item.1" {
			want = lineOf(t, doc, sub) // the second [[item]] header
		}
		if o := l.Locate(path); o.Line != want {
			t.Errorf("Locate(%s) = line %d, want %d", path, o.Line, want)
		}
	}
	if l.Explicit("item.1.sub") || l.Explicit("seed") {
		t.Error("keys not in the document reported explicit")
	}
	if !l.Explicit("item.0.sub") || !l.Explicit("item") {
		t.Error("tables in the document not reported explicit")
	}
	if d := l.Display("item.1.count"); d != "item.second.count" {
		t.Errorf("Display = %q, want item.second.count", d)
	}
}

func TestDecodeEmptyListReplaces(t *testing.T) {
	t.Parallel()
	var got tRoot
	if err := NewLoader(&got).Decode([]byte("zone = []\n[[item]]\ntags = []\n")); err != nil {
		t.Fatal(err)
	}
	if len(got.Zones) != 0 || len(got.Items) != 1 || len(got.Items[0].Tags) != 0 {
		t.Errorf("empty lists did not replace the defaults: %+v", got)
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, doc string
		at        string // text on the line of the error
		col       int    // column for syntax errors, else 0
		want      string // FieldError.Error() after "line N: "
	}{
		{"unknown key with suggestion", "[[item]]\nname = \"a\"\nlevel = 2\n", "level", 0,
			"item.a.level: unknown key; did you mean item.a.sub.level?"},
		{"typo", "titel = \"x\"\n", "titel", 0, "titel: unknown key; did you mean title?"},
		{"unknown key without suggestion", "zzzzzz = 1\n", "zzzzzz", 0,
			"zzzzzz: unknown key (valid keys here: title, on, seed, ratio, item, zone, err, ints, nums)"},
		{"wrong type", "title = \"x\"\n[[item]]\ncount = \"many\"\n", "count", 0,
			`item.0.count: want an integer, got the string "many" (allowed at least 0)`},
		{"wrong type bool", "on = 1\n", "on", 0, "on: want true or false, got the integer 1"},
		{"fraction for integer", "[[item]]\ncount = 1.5\n", "count", 0, "item.0.count: want an integer, got 1.5 (allowed at least 0)"},
		{"overflow", "[[item]]\nsmall = 300\n", "small", 0, "item.0.small: 300 is out of range for this key"},
		{"negative unsigned", "seed = -1\n", "seed", 0, "seed: want a non-negative integer, got -1"},
		{"nan", "ratio = nan\n", "ratio", 0, "ratio: want a finite number, got NaN (allowed 0 to 1)"},
		{"duration without unit", "[[item]]\nwait = 21\n", "wait", 0,
			`item.0.wait: want a duration with a unit like "21s" or "21m", got the bare number 21 (allowed at least 1s)`},
		{"bad duration", "[[item]]\nwait = \"soon\"\n", "wait", 0,
			`item.0.wait: duration "soon": want a number with a unit (ns, us, ms, s, m, h, d), like "21s" or "3d" (allowed at least 1s)`},
		{"bad time", "[[item]]\nat = \"yesterday\"\n", "at", 0,
			`item.0.at: want a date-time like 2001-07-19T10:00:00Z, got "yesterday"`},
		{"table for scalar", "[title]\n", "[title]", 0, "title: want a string, got a table"},
		{"scalar for table", "err = 3\n", "err", 0, "err: want a table ([err] or err = {...}), got the integer 3"},
		{"table for array of tables", "[item]\nname = \"x\"\n", "[item]", 0,
			"item: want an array of tables ([[item]] or item = [{...}, ...]), got a table"},
		{"list element", "[[item]]\ntags = [\"p\", 3]\n", "tags", 0, "item.0.tags: element 2: want a string, got the integer 3"},
		{"first error in the document wins", "zzz = 1\n[[item]]\ncount = \"x\"\n", "zzz", 0, "zzz: unknown key"},
		{"syntax", "title = \"x\"\nratio = \n", "ratio", 9, "unexpected character U+000A at start of value"},
		{"duplicate key", "title = \"x\"\ntitle = \"y\"\n", "title = \"y\"", 1, "title: key title is already defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var v tRoot
			err := NewLoader(&v).Decode([]byte(tt.doc))
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T), want a *FieldError", err, err)
			}
			line := lineOf(t, tt.doc, tt.at)
			if fe.Line != line || (tt.col > 0 && fe.Col != tt.col) {
				t.Errorf("position %d:%d, want %d:%d", fe.Line, fe.Col, line, tt.col)
			}
			got := err.Error()
			if tt.col > 0 {
				got = strings.TrimPrefix(got, fmt.Sprintf("line %d:%d: ", line, tt.col))
			} else {
				got = strings.TrimPrefix(got, fmt.Sprintf("line %d: ", line))
			}
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("message\n got %q\nwant %q", got, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("message has more than one line: %q", err.Error())
			}
		})
	}
}

func twoItems(t *testing.T) (*tRoot, *Loader) {
	t.Helper()
	v := new(tRoot)
	l := NewLoader(v)
	if err := l.Decode([]byte("[[item]]\nname = \"a\"\n[[item]]\nname = \"b\"\n")); err != nil {
		t.Fatal(err)
	}
	return v, l
}

func TestSet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		assign string
		check  func(v *tRoot) bool
	}{
		{"item.b.count=5", func(v *tRoot) bool { return v.Items[1].Count == 5 && v.Items[0].Count == 7 }},
		{"item.0.count=6", func(v *tRoot) bool { return v.Items[0].Count == 6 && v.Items[1].Count == 7 }},
		{"item.1.sub.mode=b", func(v *tRoot) bool { return v.Items[1].Sub.Mode == "b" }},
		{"item.a.wait=3d", func(v *tRoot) bool { return v.Items[0].Wait == Duration(72*time.Hour) }},
		{"item.a.wait=0", func(v *tRoot) bool { return v.Items[0].Wait == 0 }},
		{"item.a.at=2001-07-19T10:00:00Z", func(v *tRoot) bool {
			return v.Items[0].At.Equal(time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC))
		}},
		{"item.a.tags=r, p", func(v *tRoot) bool { return reflect.DeepEqual(v.Items[0].Tags, []string{"r", "p"}) }},
		{`item.a.tags=["q"]`, func(v *tRoot) bool { return reflect.DeepEqual(v.Items[0].Tags, []string{"q"}) }},
		{"item.a.tags=", func(v *tRoot) bool { return len(v.Items[0].Tags) == 0 }},
		{"ints=3,4", func(v *tRoot) bool { return reflect.DeepEqual(v.Ints, []int{3, 4}) }},
		{"title=hello world", func(v *tRoot) bool { return v.Title == "hello world" }},
		{`title="quoted"`, func(v *tRoot) bool { return v.Title == "quoted" }},
		{"title=42", func(v *tRoot) bool { return v.Title == "42" }},
		{"on=false", func(v *tRoot) bool { return !v.On }},
		{"ratio=0.5", func(v *tRoot) bool { return v.Ratio == 0.5 }},
		{"seed=12", func(v *tRoot) bool { return v.Seed == 12 }},
		{`err={kind = "fixed", mean = "1h"}`, func(v *tRoot) bool {
			return v.Err.Kind == "fixed" && v.Err.Mean == Duration(time.Hour) && v.Err.Min == Duration(-time.Hour)
		}},
		{`zone=[{label = "x", share = 1}]`, func(v *tRoot) bool { return reflect.DeepEqual(v.Zones, []tZone{{"x", 1}}) }},
		{`item=[{name = "c"}]`, func(v *tRoot) bool { return len(v.Items) == 1 && v.Items[0].Name == "c" && v.Items[0].Count == 7 }},
	}
	for _, tt := range tests {
		t.Run(tt.assign, func(t *testing.T) {
			t.Parallel()
			v, l := twoItems(t)
			if err := l.Set(tt.assign); err != nil {
				t.Fatal(err)
			}
			if !tt.check(v) {
				t.Errorf("after %s: %+v", tt.assign, v)
			}
		})
	}
}

func TestSetShorthand(t *testing.T) {
	t.Parallel()
	v := new(tRoot)
	l := NewLoader(v)
	if err := l.Decode([]byte("[[item]]\nname = \"only\"\n")); err != nil {
		t.Fatal(err)
	}
	if err := l.Set("item.sub.level=9"); err != nil {
		t.Fatal(err)
	}
	if v.Items[0].Sub.Level != 9 {
		t.Errorf("level = %d, want 9", v.Items[0].Sub.Level)
	}
	if o := l.Locate("item.0.sub.level"); o.Set != "item.sub.level=9" {
		t.Errorf("origin %+v, want the assignment", o)
	}
	// The package function sets without defaults or origins.
	var bare tRoot
	if err := Set(&bare, "ratio", "0.75"); err != nil || bare.Ratio != 0.75 || bare.Title != "" {
		t.Errorf("Set: err %v, %+v", err, bare)
	}
}

func TestSetErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ assign, want string }{
		{"item.level=1", "--set item.level=1: item.level: item has no element named \"level\" (address one by index or name: 0 a, 1 b)"},
		{"item.a.level=1", "--set item.a.level=1: item.a.level: unknown key; did you mean item.a.sub.level?"},
		{"item.a.sub.levle=1", "--set item.a.sub.levle=1: item.a.sub.levle: unknown key; did you mean item.a.sub.level?"},
		{"item.c.count=1", `--set item.c.count=1: item.c.count: item has no element named "c" (address one by index or name: 0 a, 1 b)`},
		{"item.2.count=1", "--set item.2.count=1: item.2.count: item has 2 element(s): index 2 is out of range (0 to 1)"},
		{"item.a.count=x", `--set item.a.count=x: item.a.count: want an integer, got "x" (allowed at least 0)`},
		{"item.a.count=1.5", "--set item.a.count=1.5: item.a.count: want an integer, got 1.5 (allowed at least 0)"},
		{"item.a.wait=5", `--set item.a.wait=5: item.a.wait: want a duration with a unit like "5s" or "5m", got the bare number 5 (allowed at least 1s)`},
		{"on=yes", `--set on=yes: on: want true or false, got "yes"`},
		{"title.x=1", `--set title.x=1: title.x: title is a string, not a table, so it has no key "x"`},
		{"ratio", "--set ratio: ratio: want key=value, like worm.rate.threads=300"},
		{"=1", "--set =1: want key=value, like worm.rate.threads=300"},
		{"err=3", "--set err=3: err: want a table ([err] or err = {...}), got the integer 3"},
		{"err=x", `--set err=x: err: want a table like {key = value, ...}, got "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.assign, func(t *testing.T) {
			t.Parallel()
			_, l := twoItems(t)
			err := l.Set(tt.assign)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Set != tt.assign {
				t.Fatalf("error %v, want a *FieldError from the assignment", err)
			}
			if err.Error() != tt.want {
				t.Errorf("\n got %q\nwant %q", err.Error(), tt.want)
			}
		})
	}
}

func TestSetNoElements(t *testing.T) {
	t.Parallel()
	var v tRoot
	err := NewLoader(&v).Set("item.count=1")
	if err == nil || !strings.Contains(err.Error(), "item has no elements to set") {
		t.Errorf("got %v", err)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, doc string
		sets      []string
		want      []string // FieldError.Error() of each error, in order
	}{
		{"defaults are valid", "", nil, nil},
		{"min", "[[item]]\nname = \"a\"\ncount = -2\n", nil,
			[]string{"line 3: item.a.count: -2 is below the minimum 0 (allowed at least 0)"}},
		{"max", "ratio = 1.5\n", nil, []string{"line 1: ratio: 1.5 is above the maximum 1 (allowed 0 to 1)"}},
		{"duration min", "[[item]]\nwait = \"10ms\"\n", nil,
			[]string{"line 2: item.0.wait: 10ms is below the minimum 1s (allowed at least 1s)"}},
		{"enum", "[[item]]\n[item.sub]\nmode = \"c\"\n", nil,
			[]string{`line 3: item.0.sub.mode: "c" is not allowed (allowed a, b)`}},
		{"list enum", "[[item]]\ntags = [\"p\", \"s\"]\n", nil,
			[]string{`line 2: item.0.tags: element 2: "s" is not allowed (allowed p, q, r)`}},
		{"list bounds", "ints = [1, 10]\n", nil,
			[]string{"line 1: ints: element 2: 10 is above the maximum 9 (allowed 0 to 9)"}},
		{"when", "[[item]]\n[item.sub]\nmode = \"a\"\nb.y = \"x\"\n", nil,
			[]string{`line 4: item.0.sub.b.y: applies only when item.0.sub.mode is "b" (it is "a"); remove it or change mode`}},
		{"when on an empty table", "[[item]]\n[item.sub.b]\n", nil,
			[]string{`line 2: item.0.sub.b: applies only when item.0.sub.mode is "b" (it is "a"); remove it or change mode`}},
		{"when by --set", "[[item]]\nname = \"a\"\n", []string{"item.sub.b.y=x"},
			[]string{`--set item.sub.b.y=x: item.a.sub.b.y: applies only when item.a.sub.mode is "b" (it is "a"); remove it or change mode`}},
		{"selector changed by --set ignores the file's table", "[[item]]\n[item.sub]\nmode = \"b\"\nb.y = \"x\"\n", []string{"item.sub.mode=a"}, nil},
		{"checker", "[err]\nmin = \"2h\"\n", nil,
			[]string{"line 1: err: uniform distribution with max 1h below min 2h"}},
		{"dist when", "[err]\nkind = \"fixed\"\nmean = \"1h\"\nmin = \"1h\"\n", nil,
			[]string{`line 4: err.min: applies only when err.kind is "uniform" (it is "fixed"); remove it or change kind`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var v tRoot
			l := NewLoader(&v)
			if err := l.Decode([]byte(tt.doc)); err != nil {
				t.Fatal(err)
			}
			for _, s := range tt.sets {
				if err := l.Set(s); err != nil {
					t.Fatal(err)
				}
			}
			errs := l.Validate()
			var got []string
			for _, e := range errs {
				got = append(got, e.Error())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestValidateWithoutLoader(t *testing.T) {
	t.Parallel()
	v := defaultRoot()
	v.Items = []tElem{defaultElem()}
	v.Items[0].Sub.Level = 11
	v.Items[0].Sub.B.Y = "ignored: mode is a"
	errs := Validate(&v)
	if len(errs) != 1 || errs[0].Path != "item.0.sub.level" || !strings.Contains(errs[0].Msg, "above the maximum 10") {
		t.Errorf("got %+v", errs)
	}
}

func TestPrune(t *testing.T) {
	t.Parallel()
	v := defaultRoot()
	e := defaultElem()
	e.Sub.Mode = "b"
	e.Sub.A.X = 0.9 // does not apply: reset
	e.Sub.B.Y = "kept"
	v.Items = []tElem{e}
	v.Err = Dist{Kind: "fixed", Mean: Duration(time.Hour), Min: Duration(time.Minute), Sigma: 2}
	Prune(&v)
	if v.Items[0].Sub.A.X != 0.5 || v.Items[0].Sub.B.Y != "kept" {
		t.Errorf("Prune of the item: %+v", v.Items[0].Sub)
	}
	// err's default (from SetDefaults) has min -1h; sigma's tag default is 0.
	if want := (Dist{Kind: "fixed", Mean: Duration(time.Hour), Min: Duration(-time.Hour), Max: Duration(time.Hour)}); v.Err != want {
		t.Errorf("Prune of err: %+v, want %+v", v.Err, want)
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	t.Parallel()
	v := defaultRoot()
	v.Title = "quote \" backslash \\ tab \t newline \n unicode é \x01"
	v.Seed = 1 << 62
	v.Ratio = 1e-7
	v.Ints = []int{0, 9}
	v.Nums = []float64{1e300, -0.125, 3}
	v.Zones = nil
	v.Err = Dist{Kind: "lognormal", Mean: Duration(90 * time.Minute), Sigma: 0.5}
	a, b := defaultElem(), defaultElem()
	a.Name, a.At, a.Tags = "a", time.Date(2001, 7, 19, 10, 0, 0, 5, time.UTC), nil
	a.Sub.Mode, a.Sub.B.Y = "b", "bee"
	b.Name, b.Wait = "b", Duration(36*time.Hour+time.Millisecond)
	v.Items = []tElem{a, b}
	Prune(&v)
	text, err := Marshal(&v)
	if err != nil {
		t.Fatal(err)
	}
	var back tRoot
	if err := NewLoader(&back).Decode(text); err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if !reflect.DeepEqual(back, v) {
		t.Errorf("round trip:\n got %+v\nwant %+v\n%s", back, v, text)
	}
	s := string(text)
	for _, want := range []string{"# the title\ntitle = ", "zone = []\n", "[[item]]\n", "[item.sub.b]\n", "# items\n[[item]]"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Count(s, "[item.sub.a]") != 1 { // item b only
		t.Errorf("output has a table that does not apply:\n%s", s)
	}
}

func TestMarshalRejects(t *testing.T) {
	t.Parallel()
	v := defaultRoot()
	v.Seed = 1 << 63
	if _, err := Marshal(&v); err == nil {
		t.Error("a uint64 beyond TOML's integers was written")
	}
}

func TestDoc(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := Doc(&b, new(tRoot)); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	for _, want := range []string{
		"## Top-level keys",
		"| `ratio` | number | `0.25` | 0 to 1 |",
		"## `[[item]]`\n\nitems",
		"| `item.tags` | list of strings | `[\"p\", \"q\"]` | each one of `p`, `q`, `r` | tags |",
		"## `[item.sub.b]`\n\nApplies only when `item.sub.mode` is `b`.",
		"| `item.wait` | duration | `\"21s\"` | at least 1s | a wait |",
		"| `item.at` | date-time | not set |",
		"Default of `zone`:\n\n```toml\nzone = [\n  { label = \"z1\", share = 0.75 },",
		"| `err.min` | duration | `\"-1h\"` | -3660d to 3660d | uniform: lower end. Applies only when `err.kind` is `uniform`. |",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("doc lacks %q", want)
		}
	}
	if strings.Contains(s, "hidden") || strings.Contains(s, "Hidden") {
		t.Error("doc shows a field tagged toml:\"-\"")
	}
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"21s", 21 * time.Second, true},
		{"500ms", 500 * time.Millisecond, true},
		{"3d", 72 * time.Hour, true},
		{"1.5d", 36 * time.Hour, true},
		{"2d12h", 60 * time.Hour, true},
		{"-3d", -72 * time.Hour, true},
		{"-1h30m", -90 * time.Minute, true},
		{" 90m ", 90 * time.Minute, true},
		{"0", 0, true},
		{"", 0, false},
		{"d", 0, false},
		{"3xd", 0, false},
		{"1e3d", 0, false},
		{"NaNd", 0, false},
		{"Infd", 0, false},
		{"3d-1h", 0, false},
		{"3", 0, false},
		{"200000000d", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err == nil) != tt.ok || (tt.ok && got.D() != tt.want) {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, ok %v", tt.in, got.D(), err, tt.want, tt.ok)
		}
	}
}

func TestDurationString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want string
	}{
		{21 * time.Second, "21s"}, {72 * time.Hour, "3d"}, {-72 * time.Hour, "-3d"}, {36 * time.Hour, "36h"},
		{90 * time.Minute, "1h30m"}, {time.Hour, "1h"}, {0, "0s"}, {500 * time.Millisecond, "500ms"},
	}
	for _, tt := range tests {
		if got := Duration(tt.d).String(); got != tt.want {
			t.Errorf("%v: String() = %q, want %q", tt.d, got, tt.want)
		}
		back, err := ParseDuration(Duration(tt.d).String())
		if err != nil || back.D() != tt.d {
			t.Errorf("%v does not read back: %v, %v", tt.d, back, err)
		}
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"21s", "3d", "1.5d", "2d12h", "-3d", "1h30m", "", "d", "9999999999d", "1e3d", "+2d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			if err.Error() == "" {
				t.Error("empty message")
			}
			return
		}
		back, err := ParseDuration(d.String())
		if err != nil || back != d {
			t.Errorf("%q = %d reads back from %q as %d, %v", s, d, d.String(), back, err)
		}
	})
}

func TestDist(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	u := Dist{Kind: "uniform", Min: Duration(-time.Hour), Max: Duration(time.Hour)}
	ud := mustDist(t, u)
	if ud != (Uniform{Min: Duration(-time.Hour), Max: Duration(time.Hour)}) {
		t.Errorf("uniform table gives %#v", ud)
	}
	for range 1000 {
		if x := ud.Sample(r); x < -3600 || x > 3600 {
			t.Fatalf("uniform sample %v outside [-3600, 3600]", x)
		}
	}
	if got := mustDist(t, Dist{Kind: "fixed", Mean: Duration(time.Minute)}).Sample(r); got != 60 {
		t.Errorf("fixed sample %v, want 60", got)
	}
	if !mustDist(t, Dist{Kind: "none", Mean: Duration(time.Hour)}).AlwaysZero() || ud.AlwaysZero() ||
		!mustDist(t, Dist{Kind: "fixed"}).AlwaysZero() || !mustDist(t, Dist{}).AlwaysZero() {
		t.Error("AlwaysZero")
	}
	if ln := mustDist(t, Dist{Kind: "lognormal", Mean: Duration(2 * time.Hour), Sigma: 0.8}); ln != (LogNormal{Median: Duration(2 * time.Hour), Sigma: 0.8}) {
		t.Errorf("lognormal table gives %#v: mean is the median", ln)
	}
	if _, err := (Dist{Kind: "gamma"}).Distribution(); err == nil || !strings.Contains(err.Error(), "none, fixed, exponential, uniform or lognormal") {
		t.Errorf("unknown kind: %v", err)
	}
	checks := []struct {
		d  Dist
		ok bool
	}{
		{u, true},
		{Dist{Kind: "uniform", Min: Duration(time.Hour)}, false},
		{Dist{Kind: "exponential"}, false},
		{Dist{Kind: "exponential", Mean: 1}, true},
		{Dist{Kind: "lognormal", Mean: 0, Sigma: 1}, false},
		{Dist{Kind: "none"}, true},
		{Dist{Kind: "gamma"}, true}, // left to the kind key's check
	}
	for _, c := range checks {
		if err := c.d.Check(); (err == nil) != c.ok {
			t.Errorf("Check(%+v) = %v, want ok %v", c.d, err, c.ok)
		}
	}
	lower := map[Distribution]Duration{
		Zero{}: 0, Fixed{Value: -5}: -5, Exponential{Mean: 9}: 0, Uniform{Min: -3, Max: 4}: -3, LogNormal{Median: 7, Sigma: 1}: 0,
	}
	for d, want := range lower {
		if got := d.Lower(); got != want {
			t.Errorf("%#v.Lower() = %v, want %v", d, got, want)
		}
	}
}

// TestDistSamples checks that each distribution draws what the single
// Dist type drew before it was split into one type per shape: the same
// values from the same draws of the stream, so that runs keep their
// results bit for bit.
func TestDistSamples(t *testing.T) {
	t.Parallel()
	const mean, lo, hi, sigma = 7200.0, -259200.0, 259200.0, 0.8
	cases := []struct {
		d    Dist
		want func(r *rand.Rand) float64
	}{
		{Dist{Kind: "none"}, func(*rand.Rand) float64 { return 0 }},
		{Dist{Kind: "fixed", Mean: Duration(2 * time.Hour)}, func(*rand.Rand) float64 { return mean }},
		{Dist{Kind: "exponential", Mean: Duration(2 * time.Hour)}, func(r *rand.Rand) float64 { return r.ExpFloat64() * mean }},
		{Dist{Kind: "uniform", Min: Duration(-72 * time.Hour), Max: Duration(72 * time.Hour)}, func(r *rand.Rand) float64 { return lo + r.Float64()*(hi-lo) }},
		{Dist{Kind: "lognormal", Mean: Duration(2 * time.Hour), Sigma: sigma}, func(r *rand.Rand) float64 { return mean * math.Exp(sigma*r.NormFloat64()) }},
	}
	for _, c := range cases {
		d := mustDist(t, c.d)
		a, b := rand.New(rand.NewPCG(3, 4)), rand.New(rand.NewPCG(3, 4))
		for i := range 100 {
			if got, want := d.Sample(a), c.want(b); got != want {
				t.Fatalf("%s sample %d: %v, want %v", c.d.Kind, i, got, want)
			}
		}
		if a.Uint64() != b.Uint64() {
			t.Errorf("%s: the stream is not where it was", c.d.Kind)
		}
	}
}

func mustDist(t *testing.T, d Dist) Distribution {
	t.Helper()
	dist, err := d.Distribution()
	if err != nil {
		t.Fatal(err)
	}
	return dist
}

func TestDistance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"", "abc", 3}, {"threads", "threads", 0}, {"wrom", "worm", 1},
		{"thread", "threads", 1}, {"kitten", "sitting", 3}, {"ca", "abc", 3},
	}
	for _, tt := range tests {
		if got := distance(tt.a, tt.b); got != tt.want {
			t.Errorf("distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := distance(tt.b, tt.a); got != tt.want {
			t.Errorf("distance(%q, %q) = %d, want %d (symmetry)", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestBadDeclarationsPanic(t *testing.T) {
	t.Parallel()
	type badDefault struct {
		N int `toml:"n" default:"many"`
	}
	type badType struct {
		M map[string]int `toml:"m"`
	}
	type badWhen struct {
		A string `toml:"a" when:"nosuch=1"`
	}
	for name, f := range map[string]func(){
		"default": func() { Defaults(&badDefault{}) },
		"type":    func() { Defaults(&badType{}) },
		"when":    func() { Defaults(&badWhen{}); Validate(&badWhen{}) },
		"not ptr": func() { Defaults(tRoot{}) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
