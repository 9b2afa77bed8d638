package serve

import (
	"bytes"
	"fmt"

	"wormwatch/internal/param"
)

//go:generate go run ./gendoc -o ../docs/serve.md

// DocBegin is the line that starts the generated table of the
// configuration's keys in docs/serve.md.
const DocBegin = "<!-- generated from the tags of serve.Config by go run ./serve/gendoc: do not edit -->\n"

// DocEnd is the line that ends it.
const DocEnd = "<!-- end of the generated part -->\n"

// UpdateDoc returns doc, the text of docs/serve.md, with the tables of
// the configuration's keys (param.Doc of Config, its headings made level
// 4) written anew between DocBegin and DocEnd.
func UpdateDoc(doc []byte) ([]byte, error) {
	before, rest, ok := bytes.Cut(doc, []byte(DocBegin))
	if !ok {
		return nil, fmt.Errorf("no line %s", DocBegin[:len(DocBegin)-1])
	}
	_, after, ok := bytes.Cut(rest, []byte(DocEnd))
	if !ok {
		return nil, fmt.Errorf("no line %s after the start of the generated part", DocEnd[:len(DocEnd)-1])
	}
	var keys bytes.Buffer
	if err := param.Doc(&keys, new(Config)); err != nil {
		return nil, err
	}
	tables := bytes.ReplaceAll(keys.Bytes(), []byte("\n## "), []byte("\n#### "))
	if bytes.HasPrefix(tables, []byte("## ")) {
		tables = append([]byte("#### "), tables[3:]...)
	}
	var b bytes.Buffer
	b.Write(before)
	b.WriteString(DocBegin)
	b.Write(tables)
	b.WriteString(DocEnd)
	b.Write(after)
	return b.Bytes(), nil
}
