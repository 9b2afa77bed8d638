package detect

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// LoadTable returns the built-in signature table with the families of the
// files merged in, in order, and the matcher compiled from it. Every key
// is checked once, as its file is read (errors name the file, line and
// key), before any log is; the matcher is the one to give the analyzer
// (Options.Matcher).
func LoadTable(files []string) ([]Family, *Matcher, error) {
	fams := Builtin()
	for _, path := range files {
		extra, err := LoadSignatures(path)
		if err != nil {
			return nil, nil, err
		}
		fams = Merge(fams, extra)
	}
	m, err := NewMatcher(fams)
	if err != nil {
		return nil, nil, fmt.Errorf("signatures: %w", err)
	}
	return fams, m, nil
}

// WriteTableList lists signature families for people: a table of each
// family's name (marked when disabled), kind, event gap and references,
// then each family's description.
func WriteTableList(w io.Writer, fams []Family) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "family\tkind\tevent gap\treferences")
	for _, f := range fams {
		var refs []string
		for _, r := range f.References {
			refs = append(refs, r.Source+" "+r.ID)
		}
		name := f.Name
		if f.Disabled {
			name += " (disabled)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", name, f.Kind, f.EventGap, strings.Join(refs, ", "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, f := range fams {
		if _, err := fmt.Fprintf(w, "\n%s: %s\n", f.Name, oneLine(f.Description)); err != nil {
			return err
		}
	}
	return nil
}
