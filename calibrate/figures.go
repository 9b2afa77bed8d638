package calibrate

import (
	"fmt"
	"image/color"
	"math"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"wormwatch/chart"
)

var (
	blue   = color.NRGBA{R: 31, G: 119, B: 180, A: 255}
	orange = color.NRGBA{R: 230, G: 85, B: 13, A: 255}
	grey   = color.NRGBA{R: 90, G: 90, B: 90, A: 255}
)

// Figures draws the calibration's figures with the report's helpers
// (package chart): the marginal posterior of each parameter, the pairs of
// parameters, and the posterior predictive of each target against its
// observation.
func (r *Result) Figures() ([]chart.Figure, error) {
	var figs []chart.Figure
	f, err := r.marginals()
	if err != nil {
		return nil, err
	}
	figs = append(figs, f)
	if len(r.Plan.Spec.Params) > 1 {
		f, err := r.pairs()
		if err != nil {
			return nil, err
		}
		figs = append(figs, f)
	}
	for i := range r.Plan.Spec.Targets {
		f, err := r.targetFigure(i)
		if err != nil {
			return nil, err
		}
		figs = append(figs, f)
	}
	return figs, nil
}

// axis is a parameter's label on a figure's axis: with its unit, if any
// ("wake delay (h)").
func (p *Param) axis() string {
	if p.Unit != "" {
		return p.Label + " (" + p.Unit + ")"
	}
	return p.Label
}

func (r *Result) logScale(m int) bool { return r.Plan.Spec.Params[m].Prior == PriorLogUniform }

// marginals draws a weighted histogram of each parameter's posterior, with
// its bounds as the X range and the 5, 50 and 95% quantiles as lines.
func (r *Result) marginals() (chart.Figure, error) {
	post := r.Posterior()
	var plots []*plot.Plot
	for m, prm := range r.Plan.Spec.Params {
		p := plot.New()
		p.Title.Text = prm.Label + " (" + prm.Key + ")"
		p.X.Label.Text = prm.axis()
		p.Y.Label.Text = "posterior weight"
		xys := make(plotter.XYs, len(post.Particles))
		lo, hi := *prm.Min, *prm.Max
		tr := func(x float64) float64 { return x }
		if r.logScale(m) {
			tr = math.Log10
			p.X.Label.Text = "log10 " + prm.axis()
		}
		for i, pt := range post.Particles {
			xys[i] = plotter.XY{X: tr(pt.Theta[m]), Y: pt.Weight}
		}
		h, err := plotter.NewHistogram(xys, 30)
		if err != nil {
			return chart.Figure{}, fmt.Errorf("calibrate: histogram of %s: %w", prm.Key, err)
		}
		h.FillColor = color.NRGBA{R: blue.R, G: blue.G, B: blue.B, A: 120}
		h.LineStyle.Color = blue
		p.Add(h)
		for k, q := range post.Quantiles(m, 0.05, 0.5, 0.95) {
			l, _ := plotter.NewLine(plotter.XYs{{X: tr(q), Y: 0}, {X: tr(q), Y: maxBin(h)}})
			l.Color = orange
			if k != 1 {
				l.Dashes = []vg.Length{vg.Points(3), vg.Points(2)}
			}
			p.Add(l)
		}
		p.X.Min, p.X.Max = tr(lo), tr(hi)
		plots = append(plots, p)
	}
	return chart.Render("marginals", "Posterior of each parameter",
		fmt.Sprintf("Weighted histogram of the %d particles of generation %d (the posterior) over each parameter's bounds; orange lines at the 5, 50 and 95%% quantiles.", len(post.Particles), post.Index), plots...)
}

func maxBin(h *plotter.Histogram) float64 {
	var m float64
	for _, b := range h.Bins {
		m = max(m, b.Weight)
	}
	return m
}

// pairs draws each pair of parameters as a scatter of the posterior
// particles.
func (r *Result) pairs() (chart.Figure, error) {
	s := r.Plan.Spec
	post := r.Posterior()
	var plots []*plot.Plot
	for a := range s.Params {
		for b := a + 1; b < len(s.Params); b++ {
			p := plot.New()
			p.Title.Text = s.Params[b].Label + " against " + s.Params[a].Label
			p.X.Label.Text, p.Y.Label.Text = s.Params[a].axis(), s.Params[b].axis()
			xys := make(plotter.XYs, len(post.Particles))
			for i, pt := range post.Particles {
				xys[i] = plotter.XY{X: pt.Theta[a], Y: pt.Theta[b]}
			}
			sc, err := plotter.NewScatter(xys)
			if err != nil {
				return chart.Figure{}, err
			}
			sc.GlyphStyle.Color = blue
			sc.GlyphStyle.Radius = vg.Points(1.6)
			p.Add(sc)
			if r.logScale(a) {
				p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
			}
			if r.logScale(b) {
				p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
			}
			p.X.Min, p.X.Max = *s.Params[a].Min, *s.Params[a].Max
			p.Y.Min, p.Y.Max = *s.Params[b].Min, *s.Params[b].Max
			plots = append(plots, p)
		}
	}
	return chart.Render("pairs", "Pairs of parameters",
		fmt.Sprintf("Each dot is a particle of the posterior (generation %d), over the parameters' bounds.", post.Index), plots...)
}

// targetFigure draws target i: a series as the predictive median and 5-95%
// band over time with the observations and their ±1 sd bars; a point as
// the histogram of its predictive draws with the observation marked.
func (r *Result) targetFigure(i int) (chart.Figure, error) {
	t := r.Plan.Spec.Targets[i]
	var vals [][]float64 // per point, the draws with a value
	for j := range t.obs {
		var v []float64
		for k := range r.Predictive {
			if x := r.Predictive[k][i][j]; !math.IsNaN(x) {
				v = append(v, x)
			}
		}
		vals = append(vals, v)
	}
	role := "calibration target"
	if t.Role == RoleValidate {
		role = "validation target (not used to fit)"
	}
	title := fmt.Sprintf("%s: %s (%s)", t.Name, t.Stat, role)
	src := ""
	if t.Source != "" {
		src = " Source: " + t.Source + "."
	}
	// A series of two points or more: bands over time (a band needs two
	// points; a series of one is drawn as a point).
	if stats[t.Stat].series && len(t.obs) > 1 {
		p := chart.NewTimePlot("", t.Stat)
		pn := chart.NewPanel(p)
		n := len(t.obs)
		x, lo, mid, hi := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
		for j := range n {
			x[j] = float64(r.Plan.Start.Unix()) + t.offsets[j]
			q := quantiles(vals[j], 0.05, 0.5, 0.95)
			lo[j], mid[j], hi[j] = q[0], q[1], q[2]
		}
		if err := pn.AddBand(x, lo, mid, hi, chart.BandStyle{Color: blue, Alpha: chart.BandAlpha}, "posterior predictive", true); err != nil {
			return chart.Figure{}, err
		}
		obs := make(plotter.XYs, n)
		errs := make(plotter.YErrors, n)
		for j := range n {
			obs[j] = plotter.XY{X: x[j], Y: t.obs[j]}
			errs[j].Low, errs[j].High = t.sds[j], t.sds[j]
		}
		sc, _ := plotter.NewScatter(obs)
		sc.GlyphStyle.Color = orange
		sc.GlyphStyle.Radius = vg.Points(2.5)
		eb, err := plotter.NewYErrorBars(struct {
			plotter.XYs
			plotter.YErrors
		}{obs, errs})
		if err == nil {
			eb.LineStyle.Color = orange
			p.Add(eb)
		}
		p.Add(sc)
		p.Legend.Add("observed ± 1 sd", sc)
		return chart.Render("target-"+t.Name, title, fmt.Sprintf("Median and 5-95%% band of %d posterior predictive runs; orange: the observations with their error model's sd.%s", len(r.Predictive), src), pn.Finish())
	}
	p := plot.New()
	p.X.Label.Text = t.Stat
	if len(t.offsets) == 1 {
		p.X.Label.Text += " at " + r.Plan.Start.Add(time.Duration(t.offsets[0]*float64(time.Second))).UTC().Format("2006-01-02 15:04 UTC")
	}
	p.Y.Label.Text = "runs"
	if len(vals[0]) > 0 {
		h, err := plotter.NewHist(plotter.Values(vals[0]), 20)
		if err != nil {
			return chart.Figure{}, err
		}
		h.FillColor = color.NRGBA{R: blue.R, G: blue.G, B: blue.B, A: 120}
		h.LineStyle.Color = blue
		p.Add(h)
		top := maxBin(h)
		for k, q := range quantiles(vals[0], 0.05, 0.5, 0.95) {
			l, _ := plotter.NewLine(plotter.XYs{{X: q, Y: 0}, {X: q, Y: top}})
			l.Color = grey
			if k != 1 {
				l.Dashes = []vg.Length{vg.Points(3), vg.Points(2)}
			}
			p.Add(l)
		}
		o := t.obs[0]
		l, _ := plotter.NewLine(plotter.XYs{{X: o, Y: 0}, {X: o, Y: top}})
		l.Color, l.Width = orange, vg.Points(2)
		p.Add(l)
		p.Legend.Add("observed", l)
		p.Legend.Top = true
		p.X.Min = min(p.X.Min, o-t.sds[0])
		p.X.Max = max(p.X.Max, o+t.sds[0])
	}
	return chart.Render("target-"+t.Name, title, fmt.Sprintf("Histogram of the statistic in %d posterior predictive runs (grey: 5, 50, 95%%); orange: the observed value (%.4g, sd %.3g).%s", len(vals[0]), t.obs[0], t.sds[0], src), p)
}
