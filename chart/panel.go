package chart

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Panel is a plot being filled with series drawn as bands (the report's
// figures, and package compare's overlays): it remembers how high the data
// go and how many legend entries it holds, so that Finish gives the legend
// room above the data.
type Panel struct {
	Plot    *plot.Plot
	ymax    float64
	entries int
}

// NewPanel starts a panel on a plot (NewTimePlot's, typically).
func NewPanel(p *plot.Plot) *Panel { return &Panel{Plot: p} }

// BandStyle is how AddBand draws a series: its colour, the opacity
// (0-255) of its shaded band, and the dashes of its median line (nil:
// solid).
type BandStyle struct {
	Color  color.NRGBA
	Alpha  uint8
	Dashes []vg.Length
}

// AddBand draws a series of points x (Unix seconds) with their 5%, 50%
// and 95% values: the median as a line and, with withBand and two points
// or more, the 5-95% band shaded behind it, under one legend entry (label,
// or label + ": median, 5-95%" with the band). No points draw nothing.
func (pn *Panel) AddBand(x, lo, mid, hi []float64, st BandStyle, label string, withBand bool) error {
	n := len(x)
	if n == 0 {
		return nil
	}
	xys := make(plotter.XYs, n)
	for i := range x {
		xys[i] = plotter.XY{X: x[i], Y: mid[i]}
		pn.ymax = max(pn.ymax, mid[i])
	}
	line, err := plotter.NewLine(xys)
	if err != nil {
		return fmt.Errorf("chart: %s: %w", label, err)
	}
	line.Color = st.Color
	line.Width = vg.Points(1.4)
	line.Dashes = st.Dashes
	pn.entries++
	if !withBand || n < 2 {
		pn.Plot.Add(line)
		pn.Plot.Legend.Add(label, line)
		return nil
	}
	ring := make(plotter.XYs, 0, 2*n)
	for i := range x {
		ring = append(ring, plotter.XY{X: x[i], Y: hi[i]})
		pn.ymax = max(pn.ymax, hi[i])
	}
	for i := n - 1; i >= 0; i-- {
		ring = append(ring, plotter.XY{X: x[i], Y: lo[i]})
	}
	poly, err := plotter.NewPolygon(ring)
	if err != nil {
		return fmt.Errorf("chart: %s band: %w", label, err)
	}
	fill := st.Color
	fill.A = st.Alpha
	poly.Color = fill
	poly.LineStyle.Width = 0
	pn.Plot.Add(poly, line)
	pn.Plot.Legend.Add(label+": median, 5-95%", poly, line)
	return nil
}

// Finish gives the legend room above the data (the Y axis runs to the
// highest value drawn, raised by a share per legend entry) and returns the
// plot.
func (pn *Panel) Finish() *plot.Plot {
	if pn.ymax > 0 {
		pn.Plot.Y.Max = pn.ymax * (1.08 + 0.09*float64(pn.entries))
	} else {
		pn.Plot.Y.Max = 1
	}
	return pn.Plot
}
