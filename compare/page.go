package compare

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"wormwatch/chart"
	"wormwatch/internal/atomicfile"
	"wormwatch/internal/names"
	"wormwatch/page"
)

//go:embed compare.html.tmpl
var pageTemplate string

var tmpl = template.Must(template.New("compare.html").Parse(pageTemplate))

// pageCSS is compare.html's style, the report's stylesheet for a
// comparison; the page has no script.
var pageCSS = page.Stylesheet(page.CompareSheet)

type pageView struct {
	Title, Lede, Version, Reference string
	SpanNote                        string
	CSP                             string
	CSS                             template.CSS
	Folders                         []folderView
	Rows                            []rowView
	Charts                          []page.Embedded
}

type folderView struct {
	Label, Path, Kind, Scenario, Seeds, Span, Colour string
	Changes                                          []string
	More                                             int
}

type rowView struct {
	Key, Title, Unit string
	Values           []valueView
}

type valueView struct {
	Label, Colour, Median, Spread, Diff string
}

// WriteHTML writes compare.html: the folders, what their scenarios change,
// the table of differences and the figures (Figures' output), as one
// self-contained page.
func (c *Comparison) WriteHTML(w io.Writer, figs []chart.Figure, version string) error {
	if version == "" {
		version = "unknown"
	}
	ref := c.Folders[0].Label
	labels := make([]string, len(c.Folders))
	for i, f := range c.Folders {
		labels[i] = f.Label
	}
	v := pageView{
		Title:     "Comparison: " + strings.Join(labels, ", "),
		Version:   version,
		Reference: ref,
		CSP:       page.CSP(pageCSS, ""),
		CSS:       template.CSS(pageCSS),
	}
	v.Lede = fmt.Sprintf("%d result folders on the same time axes, %s to %s UTC in bins of %s; differences are to %s.",
		len(c.Folders), c.From.Format("2 January 2006 15:04"), c.To.Format("2 January 2006 15:04"), binText(c.Bin), ref)
	if !c.SameSpan() {
		v.SpanNote = spanNote
	}
	for i, f := range c.Folders {
		fv := folderView{Label: f.Label, Path: f.Path, Kind: string(f.Kind), Scenario: f.Scenario,
			Seeds: page.SeedList(f.Seeds()), Colour: "c" + strconv.Itoa(i%len(palette)),
			Span: f.Times[0].Format("2 Jan 2006 15:04") + " to " + f.End().Format("2 Jan 2006 15:04")}
		if fv.Scenario == "" {
			fv.Scenario = "–"
		}
		for k, ch := range c.Changes(i) {
			if k == maxChanges {
				fv.More = len(c.Changes(i)) - k
				break
			}
			fv.Changes = append(fv.Changes, ch.String())
		}
		v.Folders = append(v.Folders, fv)
	}
	for _, r := range c.Rows {
		m := r.Metric
		rv := rowView{Key: m.Key, Title: m.Title, Unit: m.Unit}
		for i, val := range r.Values {
			vv := valueView{Label: c.Folders[i].Label, Colour: "c" + strconv.Itoa(i%len(palette)),
				Median: dash(textValue(m, val.P50)), Spread: "–", Diff: "–"}
			if n := len(c.Folders[i].Outcomes); n > 1 && val.N > 0 {
				vv.Spread = textValue(m, val.P05) + " – " + textValue(m, val.P95)
				if val.N < n {
					vv.Spread += fmt.Sprintf(" (%d of %d seeds)", val.N, n)
				}
			} else if n == 1 {
				vv.Spread = "one run"
			}
			if i > 0 {
				vv.Diff = dash(textDiff(m, val))
			}
			rv.Values = append(rv.Values, vv)
		}
		v.Rows = append(v.Rows, rv)
	}
	for _, f := range figs {
		fv, err := page.Embed(f)
		if err != nil {
			return err
		}
		v.Charts = append(v.Charts, fv)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, v); err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// spanNote warns that folders of different spans are measured on
// different windows.
const spanNote = "The folders cover different spans: each figure is measured over its own folder's span, so a difference may come from the span as well as from the scenario."

// dash shows an undefined value as an en dash.
func dash(s string) string {
	if s == "-" {
		return "–"
	}
	return s
}

// binText writes a bin width: "1 minute", "10 minutes", "30 seconds".
func binText(d time.Duration) string {
	t := chart.DurationText(d)
	if t == "minute" || t == "hour" || t == "day" || t == "second" {
		return "1 " + t
	}
	return t
}

// Files of a comparison folder.
const (
	HTMLFile = "compare.html"
	CSVFile  = "compare.csv"
	JSONFile = "compare.json"
	PlotsDir = "plots"
)

// Write writes the comparison folder dir: compare.html, compare.csv,
// compare.json and plots/<name>.png and .svg for each figure. The folder
// appears whole or not at all (atomicfile.WriteDir: a temporary sibling
// folder renamed to dir at the end). dir must not exist, or be an empty
// folder the caller claimed with atomicfile.Claim; its parent is created if
// needed.
func Write(dir string, c *Comparison, figs []chart.Figure, version string) error {
	files := []struct {
		name  string
		write func(io.Writer) error
	}{
		{HTMLFile, func(w io.Writer) error { return c.WriteHTML(w, figs, version) }},
		{CSVFile, c.WriteCSV},
		{JSONFile, c.WriteJSON},
	}
	for _, f := range figs {
		if err := names.Check(f.Name); err != nil {
			return fmt.Errorf("compare: figure: %w", err)
		}
		for _, out := range []struct {
			ext  string
			data []byte
		}{{".png", f.PNG}, {".svg", f.SVG}} {
			if len(out.data) > 0 {
				files = append(files, struct {
					name  string
					write func(io.Writer) error
				}{path.Join(PlotsDir, f.Name+out.ext), func(w io.Writer) error { _, err := w.Write(out.data); return err }})
			}
		}
	}
	err := atomicfile.WriteDir(dir, func(root *os.Root) error {
		if err := atomicfile.MkdirAll(root, PlotsDir); err != nil {
			return err
		}
		for _, f := range files {
			if err := atomicfile.Create(root, f.name, f.write); err != nil {
				return err
			}
		}
		return nil
	})
	var ee *atomicfile.ExistsError
	if errors.As(err, &ee) {
		return inputf("--out %s already exists; choose a new folder (results are never overwritten)", dir)
	}
	if err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	return nil
}
