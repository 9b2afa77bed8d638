package tomlfile

import (
	"errors"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
)

// TestPositions: top-level keys, keys of the I-th table of an array of
// tables (and its header), and keys of a plain table have their lines.
func TestPositions(t *testing.T) {
	t.Parallel()
	doc := "a = 1\n\n[[item]]\nk = 2\n\n[[item]]\nk = 3\nj = 4\n\n[plain]\nx = 5\n"
	pos := Positions([]byte(doc), "item")
	want := map[string]int{"a": 1, "item.0": 3, "item.0.k": 4, "item.1": 6, "item.1.k": 7, "item.1.j": 8, "plain": 10, "plain.x": 11}
	for k, line := range want {
		if pos[k] != line {
			t.Errorf("%s: line %d, want %d", k, pos[k], line)
		}
	}
}

// TestDecodeError: an unknown key and a value of the wrong type become one
// line naming the file, the line and the field.
func TestDecodeError(t *testing.T) {
	t.Parallel()
	type spec struct {
		N int `toml:"n"`
	}
	tags := map[string]string{"spec.N": "n"}
	allowed := func([]string) string { return "n" }
	for _, c := range []struct{ doc, want string }{
		{"\nm = 1\n", "f.toml:2: m: unknown key (allowed: n)"},
		{"\n\nn = \"x\"\n", "f.toml:3: n: "},
	} {
		var s spec
		dec := toml.NewDecoder(strings.NewReader(c.doc))
		dec.DisallowUnknownFields()
		err := DecodeError("f.toml", []byte(c.doc), dec.Decode(&s), tags, allowed)
		var e *Error
		if !errors.As(err, &e) || !strings.HasPrefix(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error %q, want one line starting with %q", c.doc, err, c.want)
		}
	}
}
