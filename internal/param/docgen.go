package param

import (
	"bytes"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"
)

// Doc writes a Markdown reference of every key of the parameter struct type
// v points to (its value is not used): one section per table, in the order
// of the declarations, and for each key its dotted path, type, default
// (tags and Defaulter), allowed values, the condition under which it
// applies and its doc text. Headings start at level 2.
func Doc(w io.Writer, v any) error {
	t := structOf(v).Type()
	var b bytes.Buffer
	docTable(&b, t, newDefault(t).Elem(), "", "Top-level keys", "", "")
	_, err := w.Write(b.Bytes())
	return err
}

// docTable writes the section of one table and then those of the tables in
// it. title is the heading, intro the text below it.
func docTable(b *bytes.Buffer, t reflect.Type, def reflect.Value, prefix, title, intro, when string) {
	fs := fields(t)
	fmt.Fprintf(b, "## %s\n\n", title)
	if intro != "" {
		b.WriteString(cell(intro, false) + "\n\n")
	}
	if when != "" {
		b.WriteString("Applies only when " + when + ".\n\n")
	}
	var later []string
	rows := 0
	for _, f := range fs {
		if f.kind == kTable {
			continue
		}
		if rows == 0 {
			b.WriteString("| Key | Type | Default | Allowed | Description |\n|---|---|---|---|---|\n")
		}
		rows++
		fv := def.Field(f.index)
		desc := f.docText()
		if f.whenKey != "" {
			desc = sentence(desc) + " Applies only when " + whenMD(f, prefix) + "."
		}
		typ := typeName(f.typ)
		dflt := defaultCell(fv)
		if f.kind == kTableArray {
			typ = fmt.Sprintf("array of tables (`[[%s]]`, see below)", join(prefix, f.name))
			if fv.Len() > 0 {
				var lines []string
				for i := range fv.Len() {
					s, _ := formatValue(fv.Index(i))
					lines = append(lines, "  "+s+",")
				}
				later = append(later, fmt.Sprintf("Default of `%s`:\n\n```toml\n%s = [\n%s\n]\n```\n", join(prefix, f.name), f.name, strings.Join(lines, "\n")))
				dflt = fmt.Sprintf("%d tables, below", fv.Len())
			}
		}
		fmt.Fprintf(b, "| `%s` | %s | %s | %s | %s |\n", join(prefix, f.name), typ, dflt, allowedCell(f), cell(desc, true))
	}
	if rows > 0 {
		b.WriteString("\n")
	}
	for _, s := range later {
		b.WriteString(s + "\n")
	}
	for _, f := range fs {
		path := join(prefix, f.name)
		w := ""
		if f.whenKey != "" {
			w = whenMD(f, prefix)
		}
		switch f.kind {
		case kTable:
			docTable(b, f.typ, def.Field(f.index), path, fmt.Sprintf("`[%s]`", path), joinDoc(f.doc, typeDoc(f.typ)), w)
		case kTableArray:
			et := f.typ.Elem()
			docTable(b, et, newDefault(et).Elem(), path, fmt.Sprintf("`[[%s]]`", path), joinDoc(f.doc, typeDoc(et)), w)
		}
	}
}

// typeDoc returns the doc text a type declares for itself, if any.
func typeDoc(t reflect.Type) string {
	if d, ok := reflect.New(t).Interface().(interface{ ParamDoc() string }); ok {
		return d.ParamDoc()
	}
	return ""
}

// whenMD words a when condition in Markdown.
func whenMD(f field, prefix string) string {
	q := make([]string, len(f.whenVals))
	for i, v := range f.whenVals {
		q[i] = "`" + v + "`"
	}
	if len(q) == 1 {
		return fmt.Sprintf("`%s` is %s", join(prefix, f.whenKey), q[0])
	}
	return fmt.Sprintf("`%s` is one of %s", join(prefix, f.whenKey), strings.Join(q, ", "))
}

// defaultCell shows a default value.
func defaultCell(v reflect.Value) string {
	switch kindOf(v.Type()) {
	case kTime:
		if v.Interface().(time.Time).IsZero() {
			return "not set"
		}
	case kString:
		if v.String() == "" {
			return "empty"
		}
	case kTableArray:
		if v.Len() == 0 {
			return "none"
		}
	}
	s, err := formatValue(v)
	if err != nil {
		return "?"
	}
	return "`" + s + "`"
}

// allowedCell shows the bounds or the allowed values of a field, the rule
// its value follows (valid tag) and its most elements (maxlen tag).
func allowedCell(f field) string {
	var parts []string
	if allowed := f.allowed(); len(allowed) > 0 {
		q := make([]string, len(allowed))
		for i, e := range allowed {
			q[i] = "`" + e + "`"
		}
		if f.kind == kList {
			parts = append(parts, "each one of "+strings.Join(q, ", "))
		} else {
			parts = append(parts, strings.Join(q, ", "))
		}
	} else if b := boundsText(f); b != "" {
		parts = append(parts, b)
	}
	return strings.Join(append(parts, extraRules(f)...), "; ")
}

// cell escapes text for a Markdown table cell (inTable) or paragraph.
func cell(s string, inTable bool) string {
	s = OneLine(s)
	if inTable {
		s = strings.ReplaceAll(s, "|", `\|`)
	}
	return s
}

// sentence ends text with a period, for text that more text follows.
func sentence(text string) string {
	text = strings.TrimSpace(text)
	if text == "" || strings.HasSuffix(text, ".") {
		return text
	}
	return text + "."
}

// joinDoc joins the doc text of a field and of its type.
func joinDoc(field, typ string) string {
	if field == "" || typ == "" {
		return field + typ
	}
	return sentence(field) + " " + typ
}
