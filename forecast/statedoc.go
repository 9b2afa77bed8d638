package forecast

import (
	"bytes"
	"errors"
	"io"

	"wormwatch/internal/param"
)

//go:generate go run ./gendoc -o ../docs/forecast.md

// The part of docs/forecast.md generated from the tags of Reemergence:
// the table of the re-emergence state's keys, between these two lines.
const (
	DocBegin = "<!-- generated from the tags of forecast.Reemergence by go run ./forecast/gendoc: do not edit -->\n"
	DocEnd   = "<!-- end of the generated part -->\n"
)

// WriteStateDoc writes the table of the re-emergence state's keys in
// Markdown (param.Doc without its heading): each key's type, default,
// allowed values and description, as the tags of Reemergence declare them.
func WriteStateDoc(w io.Writer) error {
	var b bytes.Buffer
	if err := param.Doc(&b, new(Reemergence)); err != nil {
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

// UpdateDoc returns doc, the text of docs/forecast.md, with the part
// between DocBegin and DocEnd written anew by WriteStateDoc.
func UpdateDoc(doc []byte) ([]byte, error) {
	before, rest, ok := bytes.Cut(doc, []byte(DocBegin))
	if !ok {
		return nil, errors.New("no line " + DocBegin[:len(DocBegin)-1])
	}
	_, after, ok := bytes.Cut(rest, []byte(DocEnd))
	if !ok {
		return nil, errors.New("no line " + DocEnd[:len(DocEnd)-1] + " after the generated part's start")
	}
	var b bytes.Buffer
	b.Write(before)
	b.WriteString(DocBegin)
	if err := WriteStateDoc(&b); err != nil {
		return nil, err
	}
	b.WriteString(DocEnd)
	b.Write(after)
	return b.Bytes(), nil
}
