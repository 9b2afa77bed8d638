// Package tomlfile holds what the project's strict TOML input files (sweep
// files, calibration files) share: an error of one line naming the file,
// the line and the field (Error), the line of every key (Positions, from
// go-toml's unstable parser, since decoded structs carry no positions),
// go-toml's decode errors turned into such errors (DecodeError), and the
// reading and strict decoding of a file around them (Read, Decode, ErrorIn).
package tomlfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"

	"wormwatch/internal/infile"
	"wormwatch/internal/param"
)

// Error is a problem with an input file: one line naming the file, the line
// and the field, like
//
//	sweep.toml:12: factor[2].max: 0.5 is below min 2
type Error struct {
	File  string
	Line  int    // from 1; 0 when unknown (a key left out)
	Field string // "design", "factor[2].min" (tables counted from 1); may be empty
	Msg   string
}

// Error formats the error as one line.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	b.WriteString(": " + e.Msg)
	return param.OneLine(b.String())
}

// Positions maps each top-level key of a TOML document to its line (from
// 1), and each key of the I-th table (from 0) of an array of tables whose
// name is in arrays to "NAME.I.key"; "NAME.I" is the line of the table's
// header. Keys of other tables are "TABLE.key". It walks the document with
// go-toml's unstable parser and stops at the first syntax error (the
// decoder reports it).
func Positions(data []byte, arrays ...string) map[string]int {
	pos := map[string]int{}
	var p unstable.Parser
	p.Reset(data)
	line := func(n *unstable.Node) int {
		if n == nil || n.Raw.Length == 0 {
			return 0
		}
		off := min(int(n.Raw.Offset), len(data))
		return 1 + bytes.Count(data[:off], []byte("\n"))
	}
	keyOf := func(it unstable.Iterator) (string, *unstable.Node) {
		var parts []string
		var first *unstable.Node
		for it.Next() {
			if first == nil {
				first = it.Node()
			}
			parts = append(parts, string(it.Node().Data))
		}
		return strings.Join(parts, "."), first
	}
	table := ""
	counts := map[string]int{}
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.KeyValue:
			k, first := keyOf(e.Key())
			if table != "" {
				k = table + "." + k
			}
			if _, ok := pos[k]; !ok {
				pos[k] = line(first)
			}
		case unstable.Table, unstable.ArrayTable:
			k, first := keyOf(e.Key())
			table = k
			if e.Kind == unstable.ArrayTable && slices.Contains(arrays, k) {
				table = k + "." + strconv.Itoa(counts[k])
				counts[k]++
			}
			pos[table] = line(first)
		}
	}
	return pos
}

// DecodeError turns an error of go-toml's strict decoder into an *Error
// with line and key. tags maps Go field names ("Spec.Seeds") to their TOML
// keys, for errors of a value of the wrong type, which go-toml reports
// without line or key; allowed lists the keys allowed next to an unknown
// key (given the unknown key's path).
func DecodeError(name string, data []byte, err error, tags map[string]string, allowed func(key []string) string) error {
	var se *toml.StrictMissingError
	if errors.As(err, &se) && len(se.Errors) > 0 {
		e := se.Errors[0]
		row, _ := e.Position()
		return &Error{File: name, Line: row, Field: strings.Join(e.Key(), "."), Msg: "unknown key (allowed: " + allowed(e.Key()) + ")"}
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, _ := de.Position()
		return &Error{File: name, Line: row, Field: strings.Join(de.Key(), "."), Msg: de.Error()}
	}
	// A value of the wrong type: go-toml names neither line nor key, so
	// find the key in its message ("... into struct field Spec.Seeds of
	// type int") and its line in the document.
	msg := strings.TrimPrefix(err.Error(), "toml: ")
	e := &Error{File: name, Msg: msg}
	if _, rest, ok := strings.Cut(msg, "struct field "); ok {
		goName, _, _ := strings.Cut(rest, " ")
		if tag, ok := tags[strings.TrimRight(goName, ".,:;")]; ok {
			pos := Positions(data)
			e.Field = tag
			for k, line := range pos { // the first line holding the key
				if (k == tag || strings.HasSuffix(k, "."+tag)) && (e.Line == 0 || line < e.Line) {
					e.Line = line
				}
			}
		}
	}
	return e
}

// Read reads the input file at path, of at most max bytes; what names the
// kind of file in messages ("sweep file"). A missing, unreadable or too
// large file is an *Error naming it.
func Read(path, what string, max int64) ([]byte, error) {
	data, err := infile.ReadAll(path, what, max)
	switch {
	case errors.Is(err, infile.ErrTooLarge):
		return nil, &Error{File: path, Msg: fmt.Sprintf("larger than %d bytes, the most a %s may be", max, what)}
	case errors.Is(err, fs.ErrNotExist):
		return nil, &Error{File: path, Msg: "no such file"}
	case err != nil:
		return nil, &Error{File: path, Msg: strings.TrimPrefix(err.Error(), path+" ")}
	}
	return data, nil
}

// Decode decodes data, a file named name, into v strictly (an unknown key
// is an error), after a UTF-8 byte order mark if there is one, and returns
// the line of every key (Positions, with the arrays of tables named). Its
// error is DecodeError's, with tags and allowed.
func Decode(name string, data []byte, v any, tags map[string]string, allowed func(key []string) string, arrays ...string) (map[string]int, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return nil, DecodeError(name, data, err, tags, allowed)
	}
	return Positions(data, arrays...), nil
}

// ErrorIn returns an *Error of file at the line of key in the i-th (from
// 0) table of the array of tables named table (lines from Positions), or
// at the table's header when the key is not written; the field counts the
// tables from 1: "factor[2].max".
func ErrorIn(file string, lines map[string]int, table string, i int, key, format string, a ...any) *Error {
	line, ok := lines[fmt.Sprintf("%s.%d.%s", table, i, key)]
	if !ok {
		line = lines[fmt.Sprintf("%s.%d", table, i)]
	}
	return &Error{File: file, Line: line, Field: fmt.Sprintf("%s[%d].%s", table, i+1, key), Msg: fmt.Sprintf(format, a...)}
}
