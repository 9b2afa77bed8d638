package forecast

import (
	"bytes"
	"fmt"
	"io"

	"wormwatch/internal/param"
)

//go:generate go run ./gendoc -o ../docs/forecast.md

// docTables are the parts of docs/forecast.md generated from tags: the
// table of a struct's keys each, between the line DocBegin gives and
// DocEnd.
var docTables = []struct {
	name string // as DocBegin names it
	v    any    // a pointer to the struct
}{
	{"forecast.Settings", new(Settings)},
	{"forecast.Reemergence", new(Reemergence)},
}

// DocBegin is the line that starts the generated table of the struct name
// ("forecast.Reemergence") in docs/forecast.md.
func DocBegin(name string) string {
	return "<!-- generated from the tags of " + name + " by go run ./forecast/gendoc: do not edit -->\n"
}

// DocEnd is the line that ends a generated table.
const DocEnd = "<!-- end of the generated part -->\n"

// WriteKeysDoc writes the table of the keys of the parameter struct v
// points to in Markdown (param.Doc without its heading): each key's type,
// default, allowed values and description, as its tags declare them.
func WriteKeysDoc(w io.Writer, v any) error {
	var b bytes.Buffer
	if err := param.Doc(&b, v); err != nil {
		return err
	}
	out := b.Bytes()
	if bytes.HasPrefix(out, []byte("## ")) { // the heading and the blank line after it
		if i := bytes.Index(out, []byte("\n\n")); i >= 0 {
			out = out[i+2:]
		}
	}
	_, err := w.Write(out)
	return err
}

// UpdateDoc returns doc, the text of docs/forecast.md, with its generated
// tables (of Settings and of Reemergence) written anew.
func UpdateDoc(doc []byte) ([]byte, error) {
	for _, t := range docTables {
		begin := DocBegin(t.name)
		before, rest, ok := bytes.Cut(doc, []byte(begin))
		if !ok {
			return nil, fmt.Errorf("no line %s", begin[:len(begin)-1])
		}
		_, after, ok := bytes.Cut(rest, []byte(DocEnd))
		if !ok {
			return nil, fmt.Errorf("no line %s after the start of the table of %s", DocEnd[:len(DocEnd)-1], t.name)
		}
		var b bytes.Buffer
		b.Write(before)
		b.WriteString(begin)
		if err := WriteKeysDoc(&b, t.v); err != nil {
			return nil, err
		}
		b.WriteString(DocEnd)
		b.Write(after)
		doc = b.Bytes()
	}
	return doc, nil
}
