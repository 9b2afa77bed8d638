package page

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"strings"
	"sync"
	"text/template"
)

//go:embed style.css.tmpl
var styleTemplate string

// Sheet names one of the self-contained pages that share the stylesheet.
type Sheet int

// The pages of the stylesheet.
const (
	// ReportSheet styles report.html, the replay's report.
	ReportSheet Sheet = iota
	// CompareSheet styles compare.html, a comparison of result folders
	// (package compare).
	CompareSheet
)

// sheets are the stylesheet rendered for each page.
var sheets = sync.OnceValue(func() [2]string {
	t := template.Must(template.New("style.css").Parse(styleTemplate))
	var out [2]string
	for i, report := range []bool{true, false} {
		var b strings.Builder
		if err := t.Execute(&b, struct{ Report bool }{report}); err != nil {
			panic(err) // the embedded template is fixed: a test renders it
		}
		out[i] = b.String()
	}
	return out
})

// Stylesheet returns the CSS of a page: one embedded stylesheet
// (style.css.tmpl) holds the rules of both pages, the few that only one
// of them uses marked in it.
func Stylesheet(s Sheet) string { return sheets()[s] }

// CSP is the Content-Security-Policy of a self-contained page: it allows
// only the page's own inline style and script (by their hashes; no
// script-src when script is empty) and images from data: URIs, so a page
// that tried to load anything from the network would fail visibly in the
// browser instead of leaking.
func CSP(style, script string) string {
	h := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	p := "default-src 'none'; img-src data:; style-src " + h(style)
	if script != "" {
		p += "; script-src " + h(script)
	}
	return p + "; base-uri 'none'; form-action 'none'"
}
