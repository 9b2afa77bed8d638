// Package tomlfile holds what the project's strict TOML input files (sweep
// files, calibration files) share: an error of one line naming the file,
// the line and the field (Error), the line of every key (Positions, from
// go-toml's unstable parser, since decoded structs carry no positions),
// and go-toml's decode errors turned into such errors (DecodeError).
package tomlfile

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"

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
