package param

import (
	"bytes"
	"strings"
	"testing"
)

// tShape is a kind whose values are registered in code, as the
// strategies of a worm are.
type tShape string

var tShapes = NewRegistry[tShape, int]("shape")

func init() {
	// Registered out of order: the order argument decides.
	tShapes.Register("square", 2, "four equal sides", 4)
	tShapes.Register("circle", 1, "no corners", 0)
	tShapes.Register("triangle", 3, "three sides", 3)
}

func (tShape) Enum() []string   { return tShapes.Names() }
func (tShape) ParamDoc() string { return tShapes.Doc() }

type tShapeTable struct {
	Shape  tShape   `toml:"shape" default:"circle"`
	Shapes []tShape `toml:"shapes" default:"square" doc:"more shapes"`
	Size   float64  `toml:"size" when:"shape=square,triangle" default:"1" doc:"side"`
}

func TestRegistry(t *testing.T) {
	t.Parallel()
	if got := strings.Join(tShapes.Names(), ","); got != "circle,square,triangle" {
		t.Errorf("Names: %s", got)
	}
	if got := tShapes.Doc(); got != "circle: no corners; square: four equal sides; triangle: three sides" {
		t.Errorf("Doc: %s", got)
	}
	if v, ok := tShapes.Lookup("square"); !ok || v != 4 {
		t.Errorf("Lookup(square) = %v, %v", v, ok)
	}
	if _, err := tShapes.Get("hexagon"); err == nil || err.Error() != `unknown shape "hexagon" (want circle, square or triangle)` {
		t.Errorf("Get(hexagon): %v", err)
	}
	for _, bad := range []tShape{"", "a,b", "a=b", "a b", "circle"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%q) did not panic", bad)
				}
			}()
			tShapes.Register(bad, 9, "", 0)
		}()
	}
}

// TestEnumerated checks that a field whose type enumerates its values is
// checked, written and documented as if it had the enum tag.
func TestEnumerated(t *testing.T) {
	t.Parallel()
	var v tShapeTable
	l := NewLoader(&v)
	if err := l.Decode([]byte("shape = \"square\"\nshapes = [\"circle\", \"triangle\"]\nsize = 2.0\n")); err != nil {
		t.Fatal(err)
	}
	if errs := l.Validate(); len(errs) > 0 {
		t.Fatalf("valid document: %v", errs)
	}
	if v.Shape != "square" || len(v.Shapes) != 2 || v.Shapes[1] != "triangle" {
		t.Errorf("decoded %+v", v)
	}
	for doc, want := range map[string]string{
		"shape = \"hexagon\"\n":            `line 1: shape: "hexagon" is not allowed (allowed circle, square, triangle)`,
		"shapes = [\"hexagon\"]\n":         `line 1: shapes: element 1: "hexagon" is not allowed (allowed circle, square, triangle)`,
		"shape = \"circle\"\nsize = 3.0\n": `line 2: size: applies only when shape is one of "square", "triangle" (it is "circle"); remove it or change shape`,
	} {
		var w tShapeTable
		l := NewLoader(&w)
		if err := l.Decode([]byte(doc)); err != nil {
			t.Fatal(err)
		}
		errs := l.Validate()
		if len(errs) == 0 || errs[0].Error() != want {
			t.Errorf("%q: %v, want %s", doc, errs, want)
		}
	}
	text, err := Marshal(&v)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# circle: no corners; square: four equal sides; triangle: three sides (allowed: circle, square,\n# triangle)\nshape = \"square\"\n",
		"# more shapes (allowed: circle, square, triangle)\nshapes = [\"circle\", \"triangle\"]\n",
	} {
		if !strings.Contains(string(text), want) {
			t.Errorf("Marshal lacks %q:\n%s", want, text)
		}
	}
	var doc bytes.Buffer
	if err := Doc(&doc, new(tShapeTable)); err != nil {
		t.Fatal(err)
	}
	if want := "| `shapes` | list of strings | `[\"square\"]` | each one of `circle`, `square`, `triangle` | more shapes |"; !strings.Contains(doc.String(), want) {
		t.Errorf("Doc lacks %q:\n%s", want, doc.String())
	}
}

// TestEnumeratedTwice checks that values declared both by the type and by
// an enum tag are refused.
func TestEnumeratedTwice(t *testing.T) {
	t.Parallel()
	type twice struct {
		Shape tShape `toml:"shape" enum:"circle"`
	}
	defer func() {
		if recover() == nil {
			t.Error("an enum tag on an Enumerated type did not panic")
		}
	}()
	Defaults(new(twice))
}
