package page

import (
	"strings"
	"testing"
)

// TestStylesheet checks that the shared stylesheet gives each page its own
// rules and both the common ones, with no template text left over.
func TestStylesheet(t *testing.T) {
	t.Parallel()
	report, compare := Stylesheet(ReportSheet), Stylesheet(CompareSheet)
	for _, c := range []struct {
		sheet, name string
		has, lacks  []string
	}{
		{report, "report", []string{".map-controls button {", "--yes: #0a6b45;", "\ncaption {", "dl.meta dt"}, []string{".swatch", "--up:", ".c6 {"}},
		{compare, "compare", []string{".swatch {", "--up: #a4161a;", ".c6 { background: #000; }", "ul.changes"}, []string{".map-controls", "--yes:", "\ncaption {"}},
	} {
		for _, s := range append(c.has, "body {", "figcaption {", "@media print {", "--accent: #0072b2;") {
			if !strings.Contains(c.sheet, s) {
				t.Errorf("the %s stylesheet lacks %q", c.name, s)
			}
		}
		for _, s := range append(c.lacks, "{{", "}}", "\n\n") {
			if strings.Contains(c.sheet, s) {
				t.Errorf("the %s stylesheet holds %q", c.name, s)
			}
		}
		if !strings.HasPrefix(c.sheet, ":root {\n") || !strings.HasSuffix(c.sheet, "}\n") {
			t.Errorf("the %s stylesheet does not start with :root and end with a rule: %q...%q", c.name, c.sheet[:20], c.sheet[len(c.sheet)-20:])
		}
	}
}

func TestCSP(t *testing.T) {
	t.Parallel()
	with, without := CSP("a", "b"), CSP("a", "")
	// sha256("a") = ypeBEsobvcr6wjGzmiPcTaeG7/gUfE5yuYB3ha/uSLs=
	const styleHash = "style-src 'sha256-ypeBEsobvcr6wjGzmiPcTaeG7/gUfE5yuYB3ha/uSLs='"
	if !strings.HasPrefix(with, "default-src 'none'; img-src data:; "+styleHash+"; script-src 'sha256-") || !strings.HasSuffix(with, "; base-uri 'none'; form-action 'none'") {
		t.Errorf("CSP with a script: %s", with)
	}
	if without != "default-src 'none'; img-src data:; "+styleHash+"; base-uri 'none'; form-action 'none'" {
		t.Errorf("CSP without a script: %s", without)
	}
}
