package share

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file checks the syntax of STIX 2.1 patterns. No Go library parses
// them (the reference validator, stix2-patterns, is Python and ANTLR), so the
// grammar of the OASIS validator (STIXPattern.g4, STIX 2.1) is transcribed
// here as a small recursive-descent parser. WriteSTIX runs every pattern it
// writes through it, so a quoting mistake can never reach a consumer.

// comparison is one comparison expression of a pattern: an object path, an
// operator and, for string literals, the unquoted value.
type comparison struct {
	Path  string // objectType:path as written, e.g. url:value
	Op    string // =, !=, MATCHES, LIKE, IN, ...
	Value string // the unquoted string, for string literals
}

type tokKind int

const (
	tEOF tokKind = iota
	tPunct
	tOp
	tKeyword
	tBool
	tIdent
	tString
	tInt
	tFloat
	tHex
	tBinary
	tTimestamp
)

type token struct {
	kind   tokKind
	text   string // the token as written (keywords and punctuation: the word itself)
	value  string // unquoted string literal
	hyphen bool   // an identifier that contains a hyphen
	pos    int
}

var patternKeywords = map[string]bool{
	"AND": true, "OR": true, "NOT": true, "FOLLOWEDBY": true, "LIKE": true, "MATCHES": true,
	"ISSUPERSET": true, "ISSUBSET": true, "EXISTS": true, "LAST": true, "IN": true, "START": true,
	"STOP": true, "SECONDS": true, "WITHIN": true, "REPEATS": true, "TIMES": true,
}

var (
	reTimestamp = regexp.MustCompile(`^t'[0-9]{4}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?Z'`)
	reHex       = regexp.MustCompile(`^h'([A-Fa-f0-9]{2})*'`)
	reBinary    = regexp.MustCompile(`^b'([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)'`)
	reFloat     = regexp.MustCompile(`^[+-]?[0-9]*\.[0-9]+`)
	reInt       = regexp.MustCompile(`^[+-]?(0|[1-9][0-9]*)`)
	reIdent     = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_-]*`)
)

// lexPattern splits a pattern into tokens, longest match first as ANTLR does.
func lexPattern(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		next, err := skipBlank(s, i)
		if err != nil {
			return nil, err
		}
		if next > i {
			i = next
			continue
		}
		tok, n, err := lexToken(s, i)
		if err != nil {
			return nil, err
		}
		toks = append(toks, tok)
		i = n
	}
	return append(toks, token{kind: tEOF, pos: len(s)}), nil
}

// skipBlank returns the offset past the white space or comment (/* */ or
// // to the end of the line) at offset i of s, or i when there is none.
func skipBlank(s string, i int) (int, error) {
	r, size := utf8.DecodeRuneInString(s[i:])
	switch {
	case unicode.IsSpace(r):
		return i + size, nil
	case strings.HasPrefix(s[i:], "/*"):
		end := strings.Index(s[i+2:], "*/")
		if end < 0 {
			return 0, fmt.Errorf("unterminated comment at offset %d", i)
		}
		return i + end + 4, nil
	case strings.HasPrefix(s[i:], "//"):
		end := strings.IndexAny(s[i:], "\r\n")
		if end < 0 {
			end = len(s) - i
		}
		return i + end, nil
	}
	return i, nil
}

// lexToken reads the token at offset i of s and returns it with the offset
// past it.
func lexToken(s string, i int) (token, int, error) {
	rest := s[i:]
	for _, lit := range []struct {
		re   *regexp.Regexp
		kind tokKind
	}{{reTimestamp, tTimestamp}, {reHex, tHex}, {reBinary, tBinary}} {
		if m := lit.re.FindString(rest); m != "" {
			return token{kind: lit.kind, text: m, pos: i}, i + len(m), nil
		}
	}
	switch c := s[i]; {
	case c == '\'':
		return lexString(s, i)
	case strings.ContainsRune("[]():,*.", rune(c)) && !(c == '.' && reFloat.MatchString(rest)):
		return token{kind: tPunct, text: string(c), pos: i}, i + 1, nil
	case strings.HasPrefix(rest, "==") || strings.HasPrefix(rest, "!=") || strings.HasPrefix(rest, "<>") ||
		strings.HasPrefix(rest, "<=") || strings.HasPrefix(rest, ">="):
		return token{kind: tOp, text: rest[:2], pos: i}, i + 2, nil
	case c == '=' || c == '<' || c == '>':
		return token{kind: tOp, text: string(c), pos: i}, i + 1, nil
	case reFloat.MatchString(rest) && len(reFloat.FindString(rest)) >= len(reInt.FindString(rest)):
		m := reFloat.FindString(rest)
		return token{kind: tFloat, text: m, pos: i}, i + len(m), nil
	case reInt.MatchString(rest):
		m := reInt.FindString(rest)
		return token{kind: tInt, text: m, pos: i}, i + len(m), nil
	case reIdent.MatchString(rest):
		m := reIdent.FindString(rest)
		switch {
		case patternKeywords[m]:
			return token{kind: tKeyword, text: m, pos: i}, i + len(m), nil
		case m == "true" || m == "false":
			return token{kind: tBool, text: m, pos: i}, i + len(m), nil
		}
		return token{kind: tIdent, text: m, hyphen: strings.Contains(m, "-"), pos: i}, i + len(m), nil
	}
	r, _ := utf8.DecodeRuneInString(rest)
	return token{}, 0, fmt.Errorf("unexpected character %q at offset %d", r, i)
}

// lexString reads the string literal that starts at offset i of s:
// QUOTE ( ~['\\] | '\\\” | '\\\\' )* QUOTE.
func lexString(s string, i int) (token, int, error) {
	var b strings.Builder
	j := i + 1
	for {
		if j >= len(s) {
			return token{}, 0, fmt.Errorf("unterminated string literal at offset %d", i)
		}
		if s[j] == '\'' {
			break
		}
		if s[j] == '\\' {
			if j+1 < len(s) && (s[j+1] == '\'' || s[j+1] == '\\') {
				b.WriteByte(s[j+1])
				j += 2
				continue
			}
			return token{}, 0, fmt.Errorf("invalid escape in string literal at offset %d: only \\' and \\\\ are allowed", j)
		}
		b.WriteByte(s[j])
		j++
	}
	return token{kind: tString, text: s[i : j+1], value: b.String(), pos: i}, j + 1, nil
}

type patternParser struct {
	toks []token
	i    int
	out  []comparison
}

func (p *patternParser) peek() token { return p.toks[p.i] }
func (p *patternParser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *patternParser) is(kind tokKind, text string) bool {
	t := p.peek()
	return t.kind == kind && t.text == text
}

func (p *patternParser) expect(kind tokKind, text string) error {
	if !p.is(kind, text) {
		return p.errorf("expected %q", text)
	}
	p.next()
	return nil
}

func (p *patternParser) errorf(format string, a ...any) error {
	t := p.peek()
	at := "end of pattern"
	if t.kind != tEOF {
		at = fmt.Sprintf("%q", t.text)
	}
	return fmt.Errorf("at offset %d (%s): %s", t.pos, at, fmt.Sprintf(format, a...))
}

// CheckPattern checks the syntax of a STIX 2.1 pattern (the grammar of STIX
// 2.1 section 9) and returns an error saying where it is wrong, or nil. It
// is the check every pattern WriteSTIX writes goes through.
func CheckPattern(s string) error {
	_, err := checkPattern(s)
	return err
}

// checkPattern parses a STIX 2.1 pattern and returns its comparisons, or an
// error saying where the syntax is wrong.
func checkPattern(s string) ([]comparison, error) {
	toks, err := lexPattern(s)
	if err != nil {
		return nil, err
	}
	p := &patternParser{toks: toks}
	if err := p.observations(); err != nil {
		return nil, err
	}
	if p.peek().kind != tEOF {
		return nil, p.errorf("unexpected text after the pattern")
	}
	return p.out, nil
}

// observations: obsOr (FOLLOWEDBY obsOr)*; obsOr: obsAnd (OR obsAnd)*;
// obsAnd: observation (AND observation)*.
func (p *patternParser) observations() error { return p.obsLevel(0) }

// obsJoin are the operators joining observation expressions, loosest first.
var obsJoin = []string{"FOLLOWEDBY", "OR", "AND"}

func (p *patternParser) obsLevel(level int) error {
	sub := func() error {
		if level+1 < len(obsJoin) {
			return p.obsLevel(level + 1)
		}
		return p.observation()
	}
	if err := sub(); err != nil {
		return err
	}
	for p.is(tKeyword, obsJoin[level]) {
		p.next()
		if err := sub(); err != nil {
			return err
		}
	}
	return nil
}

func (p *patternParser) observation() error {
	switch {
	case p.is(tPunct, "["):
		p.next()
		if err := p.compOr(); err != nil {
			return err
		}
		if err := p.expect(tPunct, "]"); err != nil {
			return err
		}
	case p.is(tPunct, "("):
		p.next()
		if err := p.observations(); err != nil {
			return err
		}
		if err := p.expect(tPunct, ")"); err != nil {
			return err
		}
	default:
		return p.errorf("expected an observation expression: [ ... ] or ( ... )")
	}
	for {
		switch {
		case p.is(tKeyword, "START"):
			p.next()
			if p.next().kind != tTimestamp {
				return p.errorf("START needs a timestamp t'...Z'")
			}
			if err := p.expect(tKeyword, "STOP"); err != nil {
				return err
			}
			if p.next().kind != tTimestamp {
				return p.errorf("STOP needs a timestamp t'...Z'")
			}
		case p.is(tKeyword, "WITHIN"):
			p.next()
			t := p.next()
			if (t.kind != tInt && t.kind != tFloat) || strings.HasPrefix(t.text, "-") {
				return p.errorf("WITHIN needs a positive number")
			}
			if err := p.expect(tKeyword, "SECONDS"); err != nil {
				return err
			}
		case p.is(tKeyword, "REPEATS"):
			p.next()
			if t := p.next(); t.kind != tInt || strings.HasPrefix(t.text, "-") {
				return p.errorf("REPEATS needs a positive integer")
			}
			if err := p.expect(tKeyword, "TIMES"); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

func (p *patternParser) compOr() error {
	if err := p.compAnd(); err != nil {
		return err
	}
	for p.is(tKeyword, "OR") {
		p.next()
		if err := p.compAnd(); err != nil {
			return err
		}
	}
	return nil
}

func (p *patternParser) compAnd() error {
	if err := p.propTest(); err != nil {
		return err
	}
	for p.is(tKeyword, "AND") {
		p.next()
		if err := p.propTest(); err != nil {
			return err
		}
	}
	return nil
}

func isLiteral(k tokKind) bool {
	switch k {
	case tString, tInt, tFloat, tHex, tBinary, tTimestamp, tBool:
		return true
	}
	return false
}

func (p *patternParser) propTest() error {
	if p.is(tPunct, "(") {
		p.next()
		if err := p.compOr(); err != nil {
			return err
		}
		return p.expect(tPunct, ")")
	}
	if p.is(tKeyword, "EXISTS") {
		p.next()
		path, err := p.objectPath()
		if err != nil {
			return err
		}
		p.out = append(p.out, comparison{Path: path, Op: "EXISTS"})
		return nil
	}
	path, err := p.objectPath()
	if err != nil {
		return err
	}
	not := ""
	if p.is(tKeyword, "NOT") {
		p.next()
		not = "NOT "
	}
	t := p.next()
	switch {
	case t.kind == tOp:
		lit := p.next()
		if !isLiteral(lit.kind) || (lit.kind == tBool && t.text != "=" && t.text != "==" && t.text != "!=" && t.text != "<>") {
			return p.errorf("operator %s needs a literal", t.text)
		}
		p.out = append(p.out, comparison{Path: path, Op: not + t.text, Value: lit.value})
	case t.kind == tKeyword && t.text == "IN":
		if err := p.expect(tPunct, "("); err != nil {
			return err
		}
		for !p.is(tPunct, ")") {
			if !isLiteral(p.next().kind) {
				return p.errorf("IN needs a list of literals")
			}
			if !p.is(tPunct, ",") {
				break
			}
			p.next()
		}
		if err := p.expect(tPunct, ")"); err != nil {
			return err
		}
		p.out = append(p.out, comparison{Path: path, Op: not + "IN"})
	case t.kind == tKeyword && (t.text == "LIKE" || t.text == "MATCHES" || t.text == "ISSUBSET" || t.text == "ISSUPERSET"):
		lit := p.next()
		if lit.kind != tString {
			return p.errorf("%s needs a string literal in single quotes", t.text)
		}
		p.out = append(p.out, comparison{Path: path, Op: not + t.text, Value: lit.value})
	default:
		return p.errorf("expected a comparison operator after %s", path)
	}
	return nil
}

// objectPath: objectType ':' firstPathComponent objectPathComponent*.
func (p *patternParser) objectPath() (string, error) {
	typ := p.next()
	if typ.kind != tIdent {
		return "", p.errorf("expected an object type such as url or network-traffic")
	}
	if err := p.expect(tPunct, ":"); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(typ.text + ":")
	first := p.next()
	if !(first.kind == tIdent && !first.hyphen) && first.kind != tString {
		return "", p.errorf("expected a property name (no hyphen; quote it otherwise)")
	}
	b.WriteString(first.text)
	for {
		switch {
		case p.is(tPunct, "."):
			p.next()
			step := p.next()
			if !(step.kind == tIdent && !step.hyphen) && step.kind != tString {
				return "", p.errorf("expected a property name after '.' (no hyphen; quote it otherwise)")
			}
			b.WriteString("." + step.text)
		case p.is(tPunct, "["):
			p.next()
			idx := p.next()
			if idx.kind != tInt && !(idx.kind == tPunct && idx.text == "*") {
				return "", p.errorf("expected an index or * in [ ]")
			}
			if err := p.expect(tPunct, "]"); err != nil {
				return "", err
			}
			b.WriteString("[" + idx.text + "]")
		default:
			return b.String(), nil
		}
	}
}

// QuotePattern writes s as a STIX pattern string literal: in single quotes,
// with backslashes and quotes escaped (the only two escapes the grammar has).
func QuotePattern(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
