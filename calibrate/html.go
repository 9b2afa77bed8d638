package calibrate

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"math"
	"path/filepath"
	"strings"

	"wormwatch/chart"
	"wormwatch/page"
)

//go:embed report.html.tmpl
var reportTemplate string

var reportTmpl = template.Must(template.New("report.html").Parse(reportTemplate))

// html renders report.html: one self-contained page in the style of the
// replay's report (package page's stylesheet and Content-Security-Policy,
// figures embedded as data: URIs).
func (r *Result) html(figs []chart.Figure, bands []Band) ([]byte, error) {
	s := r.Plan.Spec
	type paramRow struct{ Key, Unit, Prior, Bounds, Mean, P50, CI string }
	type bandRow struct{ Name, Role, Stat, At, Observed, P05, P50, P95, Source string }
	type valRow struct{ Name, At, Observed, P50, Interval, Tail, Source string }
	type genRow struct{ Index, Tolerance, Simulations, Acceptance, ESS string }
	g4 := func(x float64) string {
		if math.IsNaN(x) {
			return "no value"
		}
		return fmt.Sprintf("%.4g", x)
	}
	var params []paramRow
	for _, p := range r.Parameters() {
		params = append(params, paramRow{p.Key, unitName(p.Unit), p.Prior, fmt.Sprintf("[%s, %s]", g4(p.Min), g4(p.Max)), g4(p.Mean), g4(p.P50), fmt.Sprintf("[%s, %s]", g4(p.P05), g4(p.P95))})
	}
	byName := map[string]*Target{}
	for i := range s.Targets {
		byName[s.Targets[i].Name] = &s.Targets[i]
	}
	var rows []bandRow
	var vals []valRow
	for _, b := range bands {
		t := byName[b.Target]
		at := r.atText(b)
		if at == "" {
			at = "—"
		}
		rows = append(rows, bandRow{b.Target, b.Role, t.Stat, at, g4(b.Observed) + " ± " + g4(b.SD), g4(b.P05), g4(b.P50), g4(b.P95), t.Source})
		if b.Role == RoleValidate {
			vals = append(vals, valRow{b.Target, at, g4(b.Observed), g4(b.NoisyP50), fmt.Sprintf("[%s, %s]", g4(b.NoisyP05), g4(b.NoisyP95)), fmt.Sprintf("%.3f", b.Tail), t.Source})
		}
	}
	var gens []genRow
	for _, g := range r.Generations {
		tol := "∞ (the prior)"
		if !math.IsInf(g.Tolerance, 1) {
			tol = g4(g.Tolerance)
		}
		gens = append(gens, genRow{fmt.Sprint(g.Index), tol, fmt.Sprint(g.Attempts), fmt.Sprintf("%.3f", g.Acceptance), fmt.Sprintf("%.1f", g.ESS())})
	}
	var embedded []page.Embedded
	for _, f := range figs {
		e, err := page.Embed(f)
		if err != nil {
			return nil, err
		}
		embedded = append(embedded, e)
	}
	css := page.Stylesheet(page.CompareSheet)
	v := map[string]any{
		"Title": "Calibration: " + filepath.Base(s.File), "CSP": page.CSP(css, ""), "CSS": template.CSS(css),
		"Version": r.version, "Scenario": s.Scenario, "Set": strings.Join(s.Set, " "), "Particles": s.Particles,
		"Seed": s.Seed, "Stop": "Stopped: " + r.StopDetail + ".", "Last": r.Posterior().Index, "Params": params,
		"Validation": vals, "Bands": rows, "Generations": gens, "Figures": embedded, "Predictive": s.Predictive,
		"Quantile": s.Quantile, "File": filepath.Base(s.File),
	}
	var b bytes.Buffer
	if err := reportTmpl.Execute(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// unitName names a parameter's unit in the report ("—": a plain number).
func unitName(u string) string {
	switch u {
	case "s":
		return "seconds (s)"
	case "m":
		return "minutes (m)"
	case "h":
		return "hours (h)"
	case "d":
		return "days (d)"
	}
	return "—"
}
