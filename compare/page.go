package compare

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"html/template"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"wormwatch/chart"
)

var (
	//go:embed compare.html.tmpl
	pageTemplate string
	//go:embed compare.css
	pageCSS string
)

var tmpl = template.Must(template.New("compare.html").Parse(pageTemplate))

// csp allows only the page's own inline style (by hash) and images from
// data: URIs, as report.html does: a page that tried to load anything
// from the network would fail visibly instead of leaking. The page has no
// script.
func csp() string {
	sum := sha256.Sum256([]byte(pageCSS))
	return "default-src 'none'; img-src data:; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; base-uri 'none'; form-action 'none'"
}

type pageView struct {
	Title, Lede, Version, Reference string
	SpanNote                        string
	CSP                             string
	CSS                             template.CSS
	Folders                         []folderView
	Rows                            []rowView
	Charts                          []figView
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

type figView struct {
	Name, Title, Caption string
	// Src is the whole src attribute (see package page: html/template
	// would escape each '+' of the base64 text otherwise).
	Src           template.HTMLAttr
	Width, Height int
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
		CSP:       csp(),
		CSS:       template.CSS(pageCSS),
	}
	v.Lede = fmt.Sprintf("%d result folders on the same time axes, %s to %s UTC in bins of %s; differences are to %s.",
		len(c.Folders), c.From.Format("2 January 2006 15:04"), c.To.Format("2 January 2006 15:04"), binText(c.Bin), ref)
	if !c.SameSpan() {
		v.SpanNote = spanNote
	}
	for i, f := range c.Folders {
		fv := folderView{Label: f.Label, Path: f.Path, Kind: string(f.Kind), Scenario: f.Scenario,
			Seeds: seedList(f.Seeds()), Colour: "c" + strconv.Itoa(i%len(palette)),
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
		fv, err := figureView(f)
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
	t := durationText(d)
	if t == "minute" || t == "hour" || t == "day" || t == "second" {
		return "1 " + t
	}
	return t
}

// figureView embeds a figure as SVG (sharp at any zoom), or PNG when it
// has no SVG.
func figureView(f chart.Figure) (figView, error) {
	fv := figView{Name: f.Name, Title: f.Title, Caption: f.Caption}
	switch {
	case len(f.SVG) > 0:
		w, h, err := svgSize(f.SVG)
		if err != nil {
			return fv, fmt.Errorf("compare: figure %q: SVG: %w", f.Name, err)
		}
		fv.Width, fv.Height = w, h
		fv.Src = template.HTMLAttr(`src="data:image/svg+xml;base64,` + base64.StdEncoding.EncodeToString(f.SVG) + `"`)
	case len(f.PNG) > 0:
		cfg, err := png.DecodeConfig(bytes.NewReader(f.PNG))
		if err != nil {
			return fv, fmt.Errorf("compare: figure %q: PNG: %w", f.Name, err)
		}
		// Drawn at 144 dpi, shown at 96 px per inch.
		fv.Width, fv.Height = cfg.Width*2/3, cfg.Height*2/3
		fv.Src = template.HTMLAttr(`src="data:image/png;base64,` + base64.StdEncoding.EncodeToString(f.PNG) + `"`)
	default:
		return fv, fmt.Errorf("compare: figure %q has neither PNG nor SVG", f.Name)
	}
	return fv, nil
}

// svgSize reads the width and height of an SVG's root element in CSS
// pixels (pt are 4/3 px).
func svgSize(b []byte) (w, h int, err error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.Token()
		if err != nil {
			return 0, 0, fmt.Errorf("no <svg> element: %w", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if se.Name.Local != "svg" {
			return 0, 0, fmt.Errorf("root element is <%s>, want <svg>", se.Name.Local)
		}
		for _, a := range se.Attr {
			switch a.Name.Local {
			case "width":
				w, err = cssPixels(a.Value)
			case "height":
				h, err = cssPixels(a.Value)
			}
			if err != nil {
				return 0, 0, err
			}
		}
		if w <= 0 || h <= 0 {
			return 0, 0, errors.New("<svg> has no positive width and height")
		}
		return w, h, nil
	}
}

func cssPixels(s string) (int, error) {
	f := 1.0
	switch {
	case strings.HasSuffix(s, "pt"):
		s, f = strings.TrimSuffix(s, "pt"), 4.0/3
	case strings.HasSuffix(s, "px"):
		s = strings.TrimSuffix(s, "px")
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v > 0) {
		return 0, fmt.Errorf("size %q is not a positive length in pt or px", s)
	}
	return int(math.Round(v * f)), nil
}

// seedList writes seeds compactly: 1-20, 40, 41 as "1-20, 40-41".
func seedList(seeds []uint64) string {
	var parts []string
	for i := 0; i < len(seeds); {
		j := i
		for j+1 < len(seeds) && seeds[j+1] == seeds[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", seeds[i], seeds[j]))
		} else {
			parts = append(parts, strconv.FormatUint(seeds[i], 10))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
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
// appears whole or not at all: everything is written to a temporary
// sibling folder, which is renamed to dir at the end. dir must not exist
// (an *Error otherwise); its parent is created if needed.
func Write(dir string, c *Comparison, figs []chart.Figure, version string) (err error) {
	if _, err := os.Lstat(dir); err == nil {
		return inputf("--out %s already exists; choose a new folder (results are never overwritten)", dir)
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, filepath.Base(filepath.Clean(dir))+".partial-")
	if err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	if err := os.Mkdir(filepath.Join(tmp, PlotsDir), 0o755); err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	files := []struct {
		name  string
		write func(io.Writer) error
	}{
		{HTMLFile, func(w io.Writer) error { return c.WriteHTML(w, figs, version) }},
		{CSVFile, c.WriteCSV},
		{JSONFile, c.WriteJSON},
	}
	for _, f := range figs {
		for _, out := range []struct {
			ext  string
			data []byte
		}{{".png", f.PNG}, {".svg", f.SVG}} {
			if len(out.data) > 0 {
				files = append(files, struct {
					name  string
					write func(io.Writer) error
				}{filepath.Join(PlotsDir, f.Name+out.ext), func(w io.Writer) error { _, err := w.Write(out.data); return err }})
			}
		}
	}
	for _, f := range files {
		if err := writeFile(filepath.Join(tmp, f.name), f.write); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	return nil
}

// writeFile writes one file and flushes it to disk.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	err = write(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("compare: writing %s: %w", path, err)
	}
	return nil
}
