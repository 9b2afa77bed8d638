package param

import (
	"bytes"
	"encoding"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Marshal renders the struct v points to as a TOML document: every key with
// its value, a comment with the key's doc text above it, sub-tables and
// arrays of tables after the plain keys. Keys and tables whose when
// condition does not hold are left out. After Prune, decoding the result
// over the defaults gives back an equal struct.
//
// Hand-written rather than go-toml's Marshal because the output needs the
// doc comments from the tags and must leave out what does not apply.
func Marshal(v any) ([]byte, error) {
	e := &encoder{}
	e.table(structOf(v), "")
	return e.b.Bytes(), e.err
}

type encoder struct {
	b   bytes.Buffer
	err error
}

func (e *encoder) table(sv reflect.Value, header string) {
	fs := fields(sv.Type())
	applies := make([]bool, len(fs))
	for i, f := range fs {
		applies[i], _ = f.applies(sv)
	}
	for i, f := range fs {
		fv := sv.Field(f.index)
		if !applies[i] || f.kind == kTable || (f.kind == kTableArray && fv.Len() > 0) {
			continue
		}
		e.comment(docLine(f))
		s, err := formatValue(fv)
		if err != nil && e.err == nil {
			e.err = fmt.Errorf("%s: %w", join(header, f.name), err)
		}
		fmt.Fprintf(&e.b, "%s = %s\n", f.name, s)
	}
	for i, f := range fs {
		if !applies[i] || f.kind != kTable {
			continue
		}
		h := join(header, f.name)
		e.b.WriteString("\n")
		e.comment(f.doc)
		fmt.Fprintf(&e.b, "[%s]\n", h)
		e.table(sv.Field(f.index), h)
	}
	for i, f := range fs {
		fv := sv.Field(f.index)
		if !applies[i] || f.kind != kTableArray {
			continue
		}
		h := join(header, f.name)
		for j := range fv.Len() {
			e.b.WriteString("\n")
			if j == 0 {
				e.comment(f.doc)
			}
			fmt.Fprintf(&e.b, "[[%s]]\n", h)
			e.table(fv.Index(j), h)
		}
	}
}

// docLine is the comment above a key: its doc text and allowed values.
func docLine(f field) string {
	s := f.docText()
	if allowed := f.allowed(); len(allowed) > 0 {
		s = strings.TrimSpace(s + " (allowed: " + strings.Join(allowed, ", ") + ")")
	}
	return s
}

// comment writes text as # lines wrapped at 100 columns.
func (e *encoder) comment(text string) {
	for _, line := range wrap(OneLine(text), 98) {
		e.b.WriteString("# " + line + "\n")
	}
}

// wrap splits text into lines of at most width bytes at spaces (a longer
// word gets a line of its own).
func wrap(text string, width int) []string {
	var lines []string
	var cur strings.Builder
	for _, w := range strings.Fields(text) {
		if cur.Len() > 0 && cur.Len()+1+len(w) > width {
			lines = append(lines, cur.String())
			cur.Reset()
		}
		if cur.Len() > 0 {
			cur.WriteByte(' ')
		}
		cur.WriteString(w)
	}
	if cur.Len() > 0 {
		lines = append(lines, cur.String())
	}
	return lines
}

// formatValue writes one value in TOML syntax; tables and arrays of tables
// are written inline.
func formatValue(v reflect.Value) (string, error) {
	switch kindOf(v.Type()) {
	case kString:
		return quote(v.String()), nil
	case kText:
		if m, ok := v.Interface().(encoding.TextMarshaler); ok {
			b, err := m.MarshalText()
			return quote(string(b)), err
		}
		return quote(fmt.Sprint(v.Interface())), nil
	case kBool:
		return strconv.FormatBool(v.Bool()), nil
	case kInt:
		return strconv.FormatInt(v.Int(), 10), nil
	case kUint:
		if v.Uint() > math.MaxInt64 {
			return "", fmt.Errorf("%d does not fit a TOML integer", v.Uint())
		}
		return strconv.FormatUint(v.Uint(), 10), nil
	case kFloat:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return "", fmt.Errorf("%v is not a finite number", f)
		}
		return formatFloat(f), nil
	case kDuration:
		return quote(v.Interface().(Duration).String()), nil
	case kTime:
		t := v.Interface().(time.Time)
		if t.IsZero() {
			return `""`, nil
		}
		return t.UTC().Format(time.RFC3339Nano), nil
	case kList, kTableArray:
		parts := make([]string, v.Len())
		for i := range v.Len() {
			s, err := formatValue(v.Index(i))
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return "[" + strings.Join(parts, ", ") + "]", nil
	case kTable:
		var parts []string
		for _, f := range fields(v.Type()) {
			if ok, _ := f.applies(v); !ok {
				continue
			}
			s, err := formatValue(v.Field(f.index))
			if err != nil {
				return "", err
			}
			parts = append(parts, f.name+" = "+s)
		}
		return "{ " + strings.Join(parts, ", ") + " }", nil
	}
	return "", fmt.Errorf("cannot write %s", v.Type())
}

// formatFloat writes a float so that TOML reads it back as the same float:
// the shortest exact form, with ".0" when it would otherwise look like an
// integer.
func formatFloat(f float64) string {
	var s string
	if a := math.Abs(f); a == 0 || (a >= 1e-4 && a < 1e15) {
		s = strconv.FormatFloat(f, 'f', -1, 64)
	} else {
		s = strconv.FormatFloat(f, 'e', -1, 64)
	}
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0"
	}
	return s
}

// quote writes s as a TOML basic string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
