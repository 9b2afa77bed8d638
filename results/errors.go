package results

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// Error is a problem with a results file or folder: the file (or folder),
// the line (1 is a CSV file's header; 0 when the problem is not on one
// line), the column or key when there is one, and what is wrong, with what
// is allowed. Every reader of this package returns its problems with the
// input as an *Error; it prints on one line as
// "<file>: line <n>: column <c>: <what>".
type Error struct {
	File   string
	Line   int
	Column string
	Msg    string
}

// Error returns the message: the file, the line and the column where they
// are known, and what is wrong.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ": line %d", e.Line)
	}
	if e.Column != "" {
		fmt.Fprintf(&b, ": column %s", e.Column)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// errorf is an *Error on a file, not on one of its lines.
func errorf(file, format string, a ...any) error {
	return &Error{File: file, Msg: fmt.Sprintf(format, a...)}
}

// readError says why a file of a folder could not be read: missing (and
// what kind of folder needs it), permission denied, or the system's
// reason without the path, which the error names first.
func readError(path, kind string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return errorf(path, "missing (a %s folder needs it)", kind)
	case errors.Is(err, fs.ErrPermission):
		return errorf(path, "permission denied")
	}
	return errorf(path, "cannot read: %s", pathless(err))
}

// pathless is an error's message without the path an *os.PathError puts
// first.
func pathless(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// Clip shortens a field quoted in a message to 40 characters, with
// invalid UTF-8 replaced, so that a message stays on one short line
// whatever the input holds.
func Clip(s string) string {
	const max = 40
	s = strings.ToValidUTF8(s, "?")
	if r := []rune(s); len(r) > max {
		return string(r[:max]) + "..."
	}
	return s
}
