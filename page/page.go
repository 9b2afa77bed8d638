// Package page writes the replay report: one self-contained HTML file
// (report.html) with the summary, the validation against what was
// measured in 2001, every figure of package chart (embedded as data:
// URIs), the IPv4 maps behind a keyboard-accessible time slider, and the
// scenario, seeds and version. It loads nothing from the network: styles
// and script are inline, and a Content-Security-Policy forbids any other
// source. WriteFigures writes the same figures as PNG and SVG files.
package page

import (
	"bytes"
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
	"slices"
	"strconv"
	"strings"
	"time"

	"wormwatch/chart"
	"wormwatch/internal/atomicfile"
	"wormwatch/internal/names"
	"wormwatch/internal/thousands"
	"wormwatch/results"
)

var (
	//go:embed report.html.tmpl
	reportTemplate string
	//go:embed report.js
	reportJS string
)

var tmpl = template.Must(template.New("report.html").Parse(reportTemplate))

// view is what the template shows.
type view struct {
	Title, Description, Scenario, Version string
	Summary                               []string
	CSP                                   string
	CSS                                   template.CSS
	JS                                    template.JS
	Span, Seeds                           string
	NSeeds                                string
	Posterior, PosteriorKeys              string // replay --posterior
	Checks                                []checkView
	InsideCount                           int
	Logistic                              *logisticView
	Traffic                               []quantityView
	Restart                               []quantityView
	Charts, Maps                          []Embedded
	MapMax                                int
	ScenarioTOML                          string
}

type checkView struct {
	Name, Source, Unit, Note string
	Measured, P05, P50, P95  template.HTML
	Inside                   bool
}

type logisticView struct {
	Series, Source       string
	K05, K50, K95        template.HTML
	PubLow, PubHigh      template.HTML
	HasPublished, Inside bool
	T05, T50, T95        string
}

type quantityView struct {
	Name, Unit, Note string
	P05, P50, P95    template.HTML
}

// Embedded is a figure ready to embed in a self-contained page: its texts,
// its image as a data: URI, and its size in CSS pixels.
type Embedded struct {
	Name, Title, Short, Caption, Label string
	// Src is the img element's src attribute with the figure as a data:
	// URI. It is a whole attribute because html/template would otherwise
	// escape each '+' of the base64 text as "&#43;"; base64 holds no
	// character that needs escaping in a quoted attribute.
	Src           template.HTMLAttr
	Width, Height int
}

// Write writes the report of r with its figures (chart.All's output, maps
// recognised by chart.MapPrefix) as one self-contained HTML page. Nothing
// is written if the report cannot be made.
func Write(w io.Writer, r *results.Replay, figs []chart.Figure) error {
	if r == nil {
		return errors.New("page: no replay result")
	}
	v := view{
		Scenario:    r.Scenario,
		Description: r.Description,
		Version:     r.Version,
		CSP:         CSP(Stylesheet(ReportSheet), reportJS),
		CSS:         template.CSS(Stylesheet(ReportSheet)),
		JS:          template.JS(reportJS),
		Seeds:       SeedList(r.Seeds),
		NSeeds:      plural(len(r.Seeds), "seed", "seeds"),
		Span:        spanText(r),
	}
	v.Title = "Replay of " + r.Scenario
	if r.Scenario == "" {
		v.Title = "wormwatch replay"
	}
	if r.Version == "" {
		v.Version = "unknown"
	}
	v.ScenarioTOML = string(r.ScenarioTOML)
	if r.Posterior != "" {
		v.Posterior, v.PosteriorKeys = r.Posterior, strings.Join(r.PosteriorKeys, ", ")
	}
	seen := map[string]bool{}
	for _, f := range figs {
		if names.Check(f.Name) != nil {
			return fmt.Errorf("page: figure: %w", names.Check(f.Name))
		}
		if seen[f.Name] {
			return fmt.Errorf("page: two figures are named %q", f.Name)
		}
		seen[f.Name] = true
		fv, err := Embed(f)
		if err != nil {
			return err
		}
		if strings.HasPrefix(f.Name, chart.MapPrefix) {
			v.Maps = append(v.Maps, fv)
		} else {
			v.Charts = append(v.Charts, fv)
		}
	}
	v.MapMax = max(0, len(v.Maps)-1)
	// The slider names each frame by its snapshot's time (and label), when
	// the map figures are the Replay's snapshots in order, as chart.Maps
	// makes them; otherwise by the figure's title.
	if len(v.Maps) == len(r.Maps) {
		for i, s := range r.Maps {
			l := s.Time.UTC().Format("2 January 2006 15:04") + " UTC"
			if s.Label != "" {
				l = s.Label + " (" + l + ")"
			}
			v.Maps[i].Label = l
		}
	}
	val := r.Validation
	for _, c := range val.Checks {
		v.Checks = append(v.Checks, checkView{
			Name: c.Name, Source: c.Source, Unit: c.Unit, Note: c.Note, Inside: c.Inside,
			Measured: number(c.Measured), P05: number(c.P05), P50: number(c.P50), P95: number(c.P95),
		})
		if c.Inside {
			v.InsideCount++
		}
	}
	if l := val.Logistic; l.Series != "" || l.KPerHour != [3]float64{} {
		lv := &logisticView{
			Series: l.Series, Source: l.Source,
			K05: number(l.KPerHour[0]), K50: number(l.KPerHour[1]), K95: number(l.KPerHour[2]),
			PubLow: number(l.PublishedKLow), PubHigh: number(l.PublishedKHigh),
			HasPublished: l.PublishedKHigh > 0,
			Inside:       l.KPerHour[1] >= l.PublishedKLow && l.KPerHour[1] <= l.PublishedKHigh,
			T05:          timeText(l.T[0]), T50: timeText(l.T[1]), T95: timeText(l.T[2]),
		}
		if lv.Series == "" {
			lv.Series = "the telescope's cumulative sources"
		}
		v.Logistic = lv
	}
	for _, q := range val.Traffic {
		v.Traffic = append(v.Traffic, quantityView{Name: q.Name, Unit: q.Unit, Note: q.Note,
			P05: number(q.P05), P50: number(q.P50), P95: number(q.P95)})
	}
	for _, q := range val.Restart {
		v.Restart = append(v.Restart, quantityView{Name: q.Name, Unit: q.Unit, Note: q.Note,
			P05: number(q.P05), P50: number(q.P50), P95: number(q.P95)})
	}
	v.Summary = summary(r, v.InsideCount)
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, v); err != nil {
		return fmt.Errorf("page: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// Embed makes a figure embeddable: SVG for charts (sharp at any zoom),
// PNG for maps (a raster anyway, and smaller), each falling back on the
// other format when it is missing.
func Embed(f chart.Figure) (Embedded, error) {
	fv := Embedded{Name: f.Name, Title: f.Title, Caption: f.Caption, Short: shortTitle(f)}
	isMap := strings.HasPrefix(f.Name, chart.MapPrefix)
	usePNG := len(f.SVG) == 0 || (isMap && len(f.PNG) > 0)
	switch {
	case len(f.PNG) == 0 && len(f.SVG) == 0:
		return fv, fmt.Errorf("page: figure %q has neither PNG nor SVG", f.Name)
	case usePNG:
		cfg, err := png.DecodeConfig(bytes.NewReader(f.PNG))
		if err != nil {
			return fv, fmt.Errorf("page: figure %q: PNG: %w", f.Name, err)
		}
		// The PNGs are drawn at 144 dpi: show them at 96 px per inch, so
		// they are sharp on high-density screens.
		fv.Width, fv.Height = cfg.Width*2/3, cfg.Height*2/3
		fv.Src = template.HTMLAttr(`src="data:image/png;base64,` + base64.StdEncoding.EncodeToString(f.PNG) + `"`)
	default:
		w, h, err := svgSize(f.SVG)
		if err != nil {
			return fv, fmt.Errorf("page: figure %q: SVG: %w", f.Name, err)
		}
		fv.Width, fv.Height = w, h
		fv.Src = template.HTMLAttr(`src="data:image/svg+xml;base64,` + base64.StdEncoding.EncodeToString(f.SVG) + `"`)
	}
	fv.Label = f.Title
	return fv, nil
}

// shortTitle is a figure's entry in the contents.
func shortTitle(f chart.Figure) string {
	t := f.Title
	if i := strings.Index(t, ":"); i > 0 {
		t = t[:i]
	}
	if len(t) > 48 {
		t = t[:45] + "..."
	}
	return t
}

// svgSize reads the width and height of an SVG's root element, in CSS
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
			return 0, 0, fmt.Errorf("<svg> has no positive width and height")
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

// number formats a value for the tables: 359,104; 2.6; 0.27; 3.40 × 10¹¹.
func number(v float64) template.HTML {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return template.HTML("–")
	case a >= 1e7:
		e := math.Floor(math.Log10(a))
		m := v / math.Pow(10, e)
		if math.Abs(m) >= 9.995 { // rounding to 2 decimals carries over
			m /= 10
			e++
		}
		return template.HTML(fmt.Sprintf("%.2f × 10<sup>%d</sup>", m, int(e)))
	case a >= 1000 || (a >= 100 && v == math.Round(v)):
		return template.HTML(thousands.Round(v))
	case v == 0:
		return "0"
	default:
		return template.HTML(strconv.FormatFloat(v, 'g', 3, 64))
	}
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2 Jan 2006 15:04")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// SeedList writes seeds compactly: 1-20, 40, 41 as "1-20, 40-41".
func SeedList(seeds []uint64) string {
	if len(seeds) == 0 {
		return "none"
	}
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

func spanText(r *results.Replay) string {
	if len(r.Times) == 0 {
		return "no time bins"
	}
	bin := time.Duration(r.BinSeconds * float64(time.Second))
	end := r.Times[len(r.Times)-1].Add(bin)
	return fmt.Sprintf("%s to %s UTC, in %s bins of %s",
		r.Times[0].UTC().Format("2 January 2006 15:04"), end.UTC().Format("2 January 2006 15:04"),
		thousands.Round(float64(len(r.Times))), durationText(bin))
}

// durationText writes a bin width: "1 minute", "10 minutes", "30 seconds".
func durationText(d time.Duration) string {
	switch {
	case d == time.Minute:
		return "1 minute"
	case d == time.Hour:
		return "1 hour"
	case d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%d minutes", d/time.Minute)
	default:
		return fmt.Sprintf("%g seconds", d.Seconds())
	}
}

// summary is the opening paragraph: what was replayed and how it compares.
func summary(r *results.Replay, inside int) []string {
	var b strings.Builder
	fmt.Fprintf(&b, "wormwatch replayed the scenario %s", r.Scenario)
	if r.Description != "" {
		fmt.Fprintf(&b, " (%s)", strings.TrimSuffix(r.Description, "."))
	}
	fmt.Fprintf(&b, " %s times, with seeds %s, from %s.", strconv.Itoa(len(r.Seeds)), SeedList(r.Seeds), spanText(r))
	out := []string{b.String()}
	var s strings.Builder
	if bd := r.Band(results.Infected); bd != nil && len(bd.P50) == len(r.Times) && len(bd.P50) > 0 {
		i := argmax(bd.P50)
		bin := time.Duration(r.BinSeconds * float64(time.Second))
		fmt.Fprintf(&s, "In the median run the number of infected hosts peaked at %s on %s UTC (5-95%% over seeds at that time: %s to %s).",
			thousands.Round(bd.P50[i]), r.Times[i].Add(bin).UTC().Format("2 January 15:04"), thousands.Round(bd.P05[i]), thousands.Round(bd.P95[i]))
	}
	if bd := r.Band(results.EverInfected); bd != nil && len(bd.P50) == len(r.Times) && len(bd.P50) > 0 {
		n := len(bd.P50) - 1
		fmt.Fprintf(&s, " By the end, %s distinct hosts had been infected (median; %s to %s).",
			thousands.Round(bd.P50[n]), thousands.Round(bd.P05[n]), thousands.Round(bd.P95[n]))
	}
	if n := len(r.Validation.Checks); n > 0 {
		fmt.Fprintf(&s, " Of the %s published figures checked below, %d lie within the simulated 90%% band.", strconv.Itoa(n), inside)
	}
	if l := r.Validation.Logistic; l.PublishedKHigh > 0 {
		fmt.Fprintf(&s, " The logistic growth rate K fitted to the telescope's view is %s per hour (median; %s to %s), against %s to %s per hour derived from the literature.",
			plainNumber(l.KPerHour[1]), plainNumber(l.KPerHour[0]), plainNumber(l.KPerHour[2]), plainNumber(l.PublishedKLow), plainNumber(l.PublishedKHigh))
	}
	if s.Len() > 0 {
		out = append(out, strings.TrimSpace(s.String()))
	}
	return out
}

func plainNumber(v float64) string { return strconv.FormatFloat(v, 'g', 3, 64) }

func argmax(v []float64) int {
	return slices.Index(v, slices.Max(v))
}

// WriteFigures writes the folder dir holding each figure as <name>.png and
// <name>.svg (a format the figure lacks is not written). The folder appears
// whole or not at all (atomicfile.WriteDir); dir must not exist.
func WriteFigures(dir string, figs []chart.Figure) error {
	seen := map[string]bool{}
	for _, f := range figs {
		if err := names.Check(f.Name); err != nil {
			return fmt.Errorf("page: figure: %w", err)
		}
		if seen[f.Name] {
			return fmt.Errorf("page: two figures are named %q", f.Name)
		}
		seen[f.Name] = true
		if len(f.PNG) == 0 && len(f.SVG) == 0 {
			return fmt.Errorf("page: figure %q has neither PNG nor SVG", f.Name)
		}
	}
	err := atomicfile.WriteDir(dir, func(root *os.Root) error {
		for _, f := range figs {
			for _, out := range []struct {
				ext  string
				data []byte
			}{{".png", f.PNG}, {".svg", f.SVG}} {
				if len(out.data) == 0 {
					continue
				}
				data := out.data
				if err := atomicfile.Create(root, f.Name+out.ext, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("page: %w", err)
	}
	return nil
}
