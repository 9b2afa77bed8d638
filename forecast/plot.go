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
	z := math.Sqrt2 * math.Erfinv(a.Options.Level)
	top := plot.New()
	top.Title.Text = fmt.Sprintf("%s: infected hosts (bias-corrected counts, filter, forecast)", a.Series)
	top.Y.Label.Text = "infected hosts"
	top.Y.Scale = plot.LogScale{}
	top.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	bottom := plot.New()
	bottom.Y.Label.Text = "growth rate K (per hour)"
	bottom.X.Label.Text = "time (UTC)"
	for _, p := range []*plot.Plot{top, bottom} {
		p.X.Tick.Marker = plot.TimeTicks{Format: "01-02\n15:04", Time: plot.UnixTimeIn(time.UTC)}
		p.Add(plotter.NewGrid())
	}
	top.Legend.Top, top.Legend.Left = false, false // bottom right: below a growth curve
	bottom.Legend.Top = true
	step := max(1, len(a.Steps)/plotPoints)
	x := func(t time.Time) float64 { return float64(t.Unix()) }
	var obs, inf, kline plotter.XYs
	var infLo, infHi, kLo, kHi []float64
	var xs, kx []float64
	for i := 0; i < len(a.Steps); i += step {
		st := a.Steps[i]
		if st.Observed > 0 {
			obs = append(obs, plotter.XY{X: x(st.Time.Add(-a.Interval)), Y: st.Observed})
		}
		if st.Infected > 0 {
			inf = append(inf, plotter.XY{X: x(st.Time), Y: st.Infected})
			xs = append(xs, x(st.Time))
			infLo = append(infLo, math.Max(st.Infected-z*st.InfectedSD, st.Infected/100))
			infHi = append(infHi, st.Infected+z*st.InfectedSD)
		}
		if !math.IsNaN(st.K) {
			kline = append(kline, plotter.XY{X: x(st.Time), Y: st.K})
			kx = append(kx, x(st.Time))
			kLo = append(kLo, st.K-z*st.KSE)
			kHi = append(kHi, st.K+z*st.KSE)
		}
	}
	if len(obs) > 0 {
		sc, err := plotter.NewScatter(obs)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle.Color = colObserved
		sc.GlyphStyle.Radius = vg.Points(1)
		top.Add(sc)
		top.Legend.Add("bias-corrected count", sc)
	}
	if err := addLine(top, xs, inf, infLo, infHi, colFilter, colBand, "filter (infected hosts)", nil); err != nil {
		return nil, err
	}
	if fit := a.Logistic; fit != nil && fit.N.Value > 0 {
		var pts plotter.XYs
		end := a.End
		if len(a.Forecast) > 0 {
			end = a.Forecast[len(a.Forecast)-1].Time
		}
		span := end.Sub(fit.From)
		for j := 0; j <= 400; j++ {
			t := fit.From.Add(span * time.Duration(j) / 400)
			if y := logistic(fit.N.Value, fit.K.Value, fit.T.Value, t.Sub(fit.From).Hours()); y > 0 {
				pts = append(pts, plotter.XY{X: x(t), Y: y})
			}
		}
		if err := addLine(top, nil, pts, nil, nil, colFit, colFit, "logistic fit", []vg.Length{vg.Points(4), vg.Points(3)}); err != nil {
			return nil, err
		}
	}
	if len(a.Forecast) > 0 {
		var pts plotter.XYs
		var fx, lo, hi []float64
		for _, f := range a.Forecast {
			if f.Infected.Value > 0 {
				pts = append(pts, plotter.XY{X: x(f.Time), Y: f.Infected.Value})
				fx = append(fx, x(f.Time))
				lo = append(lo, math.Max(f.Infected.Low, f.Infected.Value/100))
				hi = append(hi, f.Infected.High)
			}
		}
		if err := addLine(top, fx, pts, lo, hi, colForecast, colFBand, fmt.Sprintf("forecast (%g%% band)", 100*a.Options.Level), nil); err != nil {
			return nil, err
		}
	}
	if err := addLine(bottom, kx, kline, kLo, kHi, colFilter, colBand, "K", nil); err != nil {
		return nil, err
	}
	if a.Alarm != nil {
		for _, p := range []*plot.Plot{top, bottom} {
			l := &alarmLine{x: x(a.Alarm.Time)}
			p.Add(l)
		}
		top.Legend.Add("alarm "+a.Alarm.Time.Format("2006-01-02 15:04"), &alarmLine{})
	}
	// The same time axis on both panels.
	xmin, xmax := math.Min(top.X.Min, bottom.X.Min), math.Max(top.X.Max, bottom.X.Max)
	if len(kline) == 0 {
		xmin, xmax = top.X.Min, top.X.Max
	}
	top.X.Min, top.X.Max, bottom.X.Min, bottom.X.Max = xmin, xmax, xmin, xmax
	if len(inf) == 0 && len(obs) == 0 {
		top.Y.Scale = plot.LinearScale{}
		top.Y.Tick.Marker = plot.DefaultTicks{}
	}
	return render([]*plot.Plot{top, bottom}, format)
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
