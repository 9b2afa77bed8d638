package forecast

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// plotPoints caps the points drawn per series: longer series are thinned
// to every n-th step (a year of minutes would make a figure of megabytes).
const plotPoints = 2000

var (
	colObserved = color.NRGBA{R: 150, G: 150, B: 150, A: 255}
	colFilter   = color.NRGBA{R: 31, G: 119, B: 180, A: 255}
	colBand     = color.NRGBA{R: 31, G: 119, B: 180, A: 60}
	colForecast = color.NRGBA{R: 214, G: 39, B: 40, A: 255}
	colFBand    = color.NRGBA{R: 214, G: 39, B: 40, A: 50}
	colFit      = color.NRGBA{R: 44, G: 160, B: 44, A: 255}
	colAlarm    = color.NRGBA{R: 0, G: 0, B: 0, A: 255}
)

// Plot draws the analysis: on top, the bias-corrected counts, the
// filtered infected hosts with their band, the logistic fit and the
// forecast with its band, on a logarithmic scale; below, the growth rate K
// with its band. The alarm is a vertical line on both. format is "png" or
// "svg".
func Plot(a *Analysis, format string) ([]byte, error) {
	if format != "png" && format != "svg" {
		return nil, fmt.Errorf("plot format %q (allowed: png, svg)", format)
	}
	top, bottom := plotPanels(a)
	sr := plotSteps(a)
	if len(sr.obs) > 0 {
		sc, err := plotter.NewScatter(sr.obs)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle.Color = colObserved
		sc.GlyphStyle.Radius = vg.Points(1)
		top.Add(sc)
		top.Legend.Add("bias-corrected count", sc)
	}
	if err := addLine(top, sr.xs, sr.inf, sr.infLo, sr.infHi, colFilter, colBand, "filter (infected hosts)", nil); err != nil {
		return nil, err
	}
	if err := plotFit(top, a); err != nil {
		return nil, err
	}
	if err := plotForecast(top, a); err != nil {
		return nil, err
	}
	if err := addLine(bottom, sr.kx, sr.k, sr.kLo, sr.kHi, colFilter, colBand, "K", nil); err != nil {
		return nil, err
	}
	if a.Alarm != nil {
		for _, p := range []*plot.Plot{top, bottom} {
			l := &alarmLine{x: plotX(a.Alarm.Time)}
			p.Add(l)
		}
		top.Legend.Add("alarm "+a.Alarm.Time.Format("2006-01-02 15:04"), &alarmLine{})
	}
	// The same time axis on both panels.
	xmin, xmax := math.Min(top.X.Min, bottom.X.Min), math.Max(top.X.Max, bottom.X.Max)
	if len(sr.k) == 0 {
		xmin, xmax = top.X.Min, top.X.Max
	}
	top.X.Min, top.X.Max, bottom.X.Min, bottom.X.Max = xmin, xmax, xmin, xmax
	if len(sr.inf) == 0 && len(sr.obs) == 0 {
		top.Y.Scale = plot.LinearScale{}
		top.Y.Tick.Marker = plot.DefaultTicks{}
	}
	return render([]*plot.Plot{top, bottom}, format)
}

// plotX is a time on the plots' x axis: Unix seconds.
func plotX(t time.Time) float64 { return float64(t.Unix()) }

// plotPanels returns the two panels, titled and with their axes: infected
// hosts on a logarithmic scale on top, K below.
func plotPanels(a *Analysis) (top, bottom *plot.Plot) {
	top = plot.New()
	top.Title.Text = fmt.Sprintf("%s: infected hosts (bias-corrected counts, filter, forecast)", a.Series)
	top.Y.Label.Text = "infected hosts"
	top.Y.Scale = plot.LogScale{}
	top.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	bottom = plot.New()
	bottom.Y.Label.Text = "growth rate K (per hour)"
	bottom.X.Label.Text = "time (UTC)"
	for _, p := range []*plot.Plot{top, bottom} {
		p.X.Tick.Marker = plot.TimeTicks{Format: "01-02\n15:04", Time: plot.UnixTimeIn(time.UTC)}
		p.Add(plotter.NewGrid())
	}
	top.Legend.Top, top.Legend.Left = false, false // bottom right: below a growth curve
	bottom.Legend.Top = true
	return top, bottom
}

// stepSeries are the filter's steps as the plots draw them (at most
// plotPoints of them): the bias-corrected counts, the infected hosts with
// their band at xs, and K with its band at kx.
type stepSeries struct {
	obs, inf, k      plotter.XYs
	xs, infLo, infHi []float64
	kx, kLo, kHi     []float64
}

// plotSteps gathers the steps to draw.
func plotSteps(a *Analysis) stepSeries {
	z := math.Sqrt2 * math.Erfinv(a.Options.Level)
	step := max(1, len(a.Steps)/plotPoints)
	var sr stepSeries
	for i := 0; i < len(a.Steps); i += step {
		st := a.Steps[i]
		if st.Observed > 0 {
			sr.obs = append(sr.obs, plotter.XY{X: plotX(st.Time.Add(-a.Interval)), Y: st.Observed})
		}
		if st.Infected > 0 {
			sr.inf = append(sr.inf, plotter.XY{X: plotX(st.Time), Y: st.Infected})
			sr.xs = append(sr.xs, plotX(st.Time))
			sr.infLo = append(sr.infLo, math.Max(st.Infected-z*st.InfectedSD, st.Infected/100))
			sr.infHi = append(sr.infHi, st.Infected+z*st.InfectedSD)
		}
		if !math.IsNaN(st.K) {
			sr.k = append(sr.k, plotter.XY{X: plotX(st.Time), Y: st.K})
			sr.kx = append(sr.kx, plotX(st.Time))
			sr.kLo = append(sr.kLo, st.K-z*st.KSE)
			sr.kHi = append(sr.kHi, st.K+z*st.KSE)
		}
	}
	return sr
}

// plotFit draws the logistic fit, if any, from its window's start to the
// end of the forecast (or of the series).
func plotFit(top *plot.Plot, a *Analysis) error {
	fit := a.Logistic
	if fit == nil || !(fit.N.Value > 0) {
		return nil
	}
	var pts plotter.XYs
	end := a.End
	if len(a.Forecast) > 0 {
		end = a.Forecast[len(a.Forecast)-1].Time
	}
	span := end.Sub(fit.From)
	for j := 0; j <= 400; j++ {
		t := fit.From.Add(span * time.Duration(j) / 400)
		if y := logistic(fit.N.Value, fit.K.Value, fit.T.Value, t.Sub(fit.From).Hours()); y > 0 {
			pts = append(pts, plotter.XY{X: plotX(t), Y: y})
		}
	}
	return addLine(top, nil, pts, nil, nil, colFit, colFit, "logistic fit", []vg.Length{vg.Points(4), vg.Points(3)})
}

// plotForecast draws the forecast's median with its band, if any.
func plotForecast(top *plot.Plot, a *Analysis) error {
	if len(a.Forecast) == 0 {
		return nil
	}
	var pts plotter.XYs
	var fx, lo, hi []float64
	for _, f := range a.Forecast {
		if f.Infected.Value > 0 {
			pts = append(pts, plotter.XY{X: plotX(f.Time), Y: f.Infected.Value})
			fx = append(fx, plotX(f.Time))
			lo = append(lo, math.Max(f.Infected.Low, f.Infected.Value/100))
			hi = append(hi, f.Infected.High)
		}
	}
	return addLine(top, fx, pts, lo, hi, colForecast, colFBand, fmt.Sprintf("forecast (%g%% band)", 100*a.Options.Level), nil)
}

// addLine adds a line with an optional band (lo, hi at xs) behind it.
func addLine(p *plot.Plot, xs []float64, pts plotter.XYs, lo, hi []float64, col, band color.Color, label string, dashes []vg.Length) error {
	if len(pts) == 0 {
		return nil
	}
	if len(lo) > 1 {
		poly := make(plotter.XYs, 0, 2*len(xs))
		for i := range xs {
			poly = append(poly, plotter.XY{X: xs[i], Y: hi[i]})
		}
		for i := len(xs) - 1; i >= 0; i-- {
			poly = append(poly, plotter.XY{X: xs[i], Y: lo[i]})
		}
		pg, err := plotter.NewPolygon(poly)
		if err != nil {
			return err
		}
		pg.Color = band
		pg.LineStyle.Width = 0
		p.Add(pg)
	}
	l, err := plotter.NewLine(pts)
	if err != nil {
		return err
	}
	l.Color = col
	l.Width = vg.Points(1.4)
	l.Dashes = dashes
	p.Add(l)
	p.Legend.Add(label, l)
	return nil
}

// alarmLine is a vertical line across a plot at x.
type alarmLine struct{ x float64 }

// Plot draws the line.
func (a *alarmLine) Plot(c draw.Canvas, p *plot.Plot) {
	tx, _ := p.Transforms(&c)
	xc := tx(a.x)
	c.StrokeLine2(draw.LineStyle{Color: colAlarm, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(2), vg.Points(2)}}, xc, c.Min.Y, xc, c.Max.Y)
}

// Thumbnail draws the legend's sample of the line.
func (a *alarmLine) Thumbnail(c *draw.Canvas) {
	y := (c.Min.Y + c.Max.Y) / 2
	c.StrokeLine2(draw.LineStyle{Color: colAlarm, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(2), vg.Points(2)}}, c.Min.X, y, c.Max.X, y)
}

// render draws the two panels stacked, X axes aligned.
func render(panels []*plot.Plot, format string) (out []byte, err error) {
	defer func() {
		// gonum/plot reports some drawing problems by panicking.
		if v := recover(); v != nil {
			err = fmt.Errorf("drawing the plot failed: %v", v)
		}
	}()
	w, h := 10*vg.Inch, 7*vg.Inch
	var c vg.CanvasWriterTo
	if format == "png" {
		c = vgimg.PngCanvas{Canvas: vgimg.New(w, h)}
	} else {
		c = vgsvg.New(w, h)
	}
	dc := draw.New(c)
	dc.FillPolygon(color.White, []vg.Point{dc.Min, {X: dc.Max.X, Y: dc.Min.Y}, dc.Max, {X: dc.Min.X, Y: dc.Max.Y}})
	rows := [][]*plot.Plot{{panels[0]}, {panels[1]}}
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadY: 0.15 * vg.Inch, PadTop: 0.1 * vg.Inch, PadBottom: 0.1 * vg.Inch, PadLeft: 0.1 * vg.Inch, PadRight: 0.25 * vg.Inch}
	canvases := plot.Align(rows, tiles, dc)
	panels[0].Draw(canvases[0][0])
	panels[1].Draw(canvases[1][0])
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
