package notify

import (
	"fmt"
	"strings"
)

// InputError is a problem with an input file: an owner table, a
// delegation file, an opt-out list, a detect report or a STIX bundle. Its
// Error method gives one line, "file:line: field name: what is wrong".
type InputError struct {
	File  string // the file as named by the caller
	Line  int    // from 1; 0 when the problem is with the whole file
	Field string // the field (column, key) at fault; may be empty
	Msg   string // what is wrong and what is allowed
}

// Error formats the error as one line.
func (e *InputError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Field != "" {
		b.WriteString(": field " + e.Field)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// inputErr returns an *InputError with a formatted message.
func inputErr(file string, line int, field, format string, a ...any) *InputError {
	return &InputError{File: file, Line: line, Field: field, Msg: fmt.Sprintf(format, a...)}
}
