// Package names holds the one rule for names that become part of a file
// path: scenario, variant, sensor, signature family and advisory names, and
// the stems of the files written for them.
//
// A name is 1 to 64 characters: lowercase ASCII letters, digits, '.', '_'
// and '-', starting with a letter or a digit. So a name is always a single
// path component (never "", "." or "..", no separator), it is the same file
// on case-insensitive file systems as on others, and it needs no quoting
// in a shell, a URL or a CSV field. docs/output.md states the rule.
//
// Importing the package registers the rule with internal/param as the
// valid:"name" tag of parameter structs.
package names

import (
	"fmt"
	"strings"

	"wormwatch/internal/param"
)

// The valid:"name" tag of parameter structs checks a field with Check.
func init() { param.RegisterRule("name", Check, Rule) }

// MaxLen is the longest name allowed, in bytes.
const MaxLen = 64

// Rule says in words what a name may be, for error messages and docs.
const Rule = "1 to 64 characters: lowercase letters a-z, digits, '.', '_' and '-', starting with a letter or a digit"

// Check returns nil when s is a valid name, else an error saying why.
func Check(s string) error {
	if s == "" {
		return fmt.Errorf("empty name (want %s)", Rule)
	}
	if len(s) > MaxLen {
		return fmt.Errorf("name of %d characters is too long (want %s)", len(s), Rule)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '-'):
		default:
			return fmt.Errorf("name %q has %s at position %d (want %s)", s, describe(s, i), i+1, Rule)
		}
	}
	return nil
}

// describe names the offending character of s at byte i.
func describe(s string, i int) string {
	c := s[i]
	switch {
	case c == '/' || c == '\\':
		return "a path separator"
	case c >= 'A' && c <= 'Z':
		return fmt.Sprintf("the uppercase letter %q", c)
	case c == '.' || c == '_' || c == '-':
		return fmt.Sprintf("%q first", c)
	case c < 0x20 || c == 0x7f:
		return "a control character"
	case c >= 0x80:
		return "a non-ASCII character"
	}
	return fmt.Sprintf("the character %q", c)
}

// Sanitize turns s into a valid name: lowercase, every run of characters
// not allowed replaced by one '-', leading '.', '_' and '-' dropped, cut to
// MaxLen. It returns "" when nothing usable is left. It is for names the
// program derives (a scenario's name from its file name), never for names
// a user wrote down, which are checked and refused instead.
func Sanitize(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
		switch {
		case ok:
			if b.Len() == 0 && (r == '.' || r == '_' || r == '-') {
				continue
			}
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= MaxLen {
			break
		}
	}
	out := b.String()
	if len(out) > MaxLen {
		out = out[:MaxLen]
	}
	return strings.TrimRight(out, "-")
}
