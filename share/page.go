package share

import (
	"bytes"
	_ "embed"
	"fmt"
	htmltemplate "html/template"
	"io"
	"os"
	"path/filepath"
	"strings"
	texttemplate "text/template"
	"time"

	"wormwatch/internal/atomicfile"
	"wormwatch/internal/outpath"
)

//go:embed templates/advisory.html.tmpl
var htmlTemplate string

//go:embed templates/advisory.md.tmpl
var mdTemplate string

// pageData is what the page for people shows: the advisory's content, in
// the order a reader needs it (what, who, what to do, the numbers, how they
// were made).
type pageData struct {
	Title      string
	TLP        string // TLP:WHITE, ...
	Label      string // WHITE, ...
	Date       string
	TrackingID string
	CSAFFile   string
	Summary    string
	What       []string
	Who        []string
	Do         []action
	Numbers    []string
	Method     []string
	References []Reference
}

type action struct {
	Title, Text, URL string
}

func newPageData(c *CSAF) pageData {
	v := c.Vulnerabilities[0]
	p := pageData{
		Title:      c.Document.Title,
		TLP:        "TLP:" + c.Document.Distribution.TLP.Label,
		Label:      c.Document.Distribution.TLP.Label,
		TrackingID: c.Document.Tracking.ID,
		CSAFFile:   CSAFFileName(c.Document.Tracking.ID),
		References: c.Document.References,
	}
	if t, err := time.Parse(time.RFC3339, c.Document.Tracking.CurrentReleaseDate); err == nil {
		p.Date = when(t)
	}
	for _, n := range c.Document.Notes {
		switch n.Category {
		case "summary":
			p.Summary = n.Text
		case "details":
			p.Numbers = strings.Split(n.Text, "\n")
		case "general":
			p.Method = strings.Split(n.Text, "\n")
		}
	}
	for _, n := range v.Notes {
		if n.Category == "description" {
			p.What = append(p.What, n.Text)
		}
	}
	for _, t := range v.Threats {
		p.What = append(p.What, t.Details)
	}
	var walk func([]Branch)
	walk = func(bs []Branch) {
		for _, b := range bs {
			if b.Product != nil {
				p.Who = append(p.Who, b.Product.Name)
			}
			walk(b.Branches)
		}
	}
	walk(c.ProductTree.Branches)
	titles := map[string]string{"vendor_fix": "Patch", "workaround": "If you cannot patch at once", "mitigation": "At the network's edge"}
	for _, r := range v.Remediations {
		p.Do = append(p.Do, action{Title: titles[r.Category], Text: r.Details, URL: r.URL})
	}
	return p
}

// WriteHTML writes the advisory as a short self-contained HTML page for
// people: what happens, who is affected, what to do, the numbers.
func WriteHTML(w io.Writer, c *CSAF) error {
	t, err := htmltemplate.New("advisory").Parse(htmlTemplate)
	if err != nil {
		return err
	}
	return t.Execute(w, newPageData(c))
}

// mdEscape escapes the characters Markdown gives a meaning to, so that text
// such as ucsd-8_cumulative_sources or "5% (a to b)" shows as written.
// (Hand-written: the standard library has no Markdown writer, and the set of
// characters is small and fixed by CommonMark's backslash escapes.)
func mdEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*_{}[]<>#|!~", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// WriteMarkdown writes the same page as WriteHTML in Markdown.
func WriteMarkdown(w io.Writer, c *CSAF) error {
	t, err := texttemplate.New("advisory").Funcs(texttemplate.FuncMap{"md": mdEscape, "inc": func(i int) int { return i + 1 }}).Parse(mdTemplate)
	if err != nil {
		return err
	}
	return t.Execute(w, newPageData(c))
}

// WriteAdvisoryFiles builds the advisory for an outlook and writes it into
// dir (created if needed) as three files named after its tracking id: the
// CSAF document (.json, named as CSAF 2.0 section 5.1 requires), the HTML
// page and the Markdown page. All three are built first; each is then
// written whole or not at all through the output guard (outpath): a file
// that exists is replaced only when force is set, and never one of the
// inputs in. It returns the paths written.
func WriteAdvisoryFiles(dir string, o *Outlook, opt AdvisoryOptions, force bool, in *outpath.Inputs) ([]string, error) {
	c, err := Advisory(o, opt)
	if err != nil {
		return nil, err
	}
	base := strings.TrimSuffix(CSAFFileName(c.Document.Tracking.ID), ".json")
	parts := []struct {
		ext   string
		write func(io.Writer, *CSAF) error
	}{
		{".json", func(w io.Writer, c *CSAF) error { return c.Encode(w) }},
		{".html", WriteHTML},
		{".md", WriteMarkdown},
	}
	var bufs [][]byte
	var outs []outpath.Output
	for _, p := range parts {
		var buf bytes.Buffer
		if err := p.write(&buf, c); err != nil {
			return nil, fmt.Errorf("writing the %s file: %w", p.ext, err)
		}
		bufs = append(bufs, buf.Bytes())
		outs = append(outs, outpath.Output{Path: filepath.Join(dir, base+p.ext)})
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, &atomicfile.CreateError{Err: err}
	}
	if err := outpath.Check(outs, in, false, force); err != nil {
		return nil, err
	}
	var paths []string
	for i, o := range outs {
		data := bufs[i]
		if err := outpath.Write(o, in, force, nil, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
			return paths, err
		}
		paths = append(paths, o.Path)
	}
	return paths, nil
}
