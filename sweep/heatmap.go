package sweep

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg/draw"

	"wormwatch/chart"
)

// grid2 is the mean of one output over seeds on a grid of two factors:
// column c is the c-th value of the first factor, row r of the second.
type grid2 struct {
	z          [][]float64 // [c][r]
	cols, rows int
}

// Dims implements plotter.GridXYZ: columns and rows.
func (g grid2) Dims() (int, int) { return g.cols, g.rows }

// Z implements plotter.GridXYZ: the mean at column c and row r.
func (g grid2) Z(c, r int) float64 { return g.z[c][r] }

// X implements plotter.GridXYZ: column c is drawn at x = c.
func (g grid2) X(c int) float64 { return float64(c) }

// Y implements plotter.GridXYZ: row r is drawn at y = r.
func (g grid2) Y(r int) float64 { return float64(r) }

func minMax(z [][]float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, col := range z {
		for _, v := range col {
			if !math.IsNaN(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	return lo, hi
}

// HeatMaps draws, for a grid of exactly two factors, one heat map per
// output: the mean over seeds of the output at each point, the first
// factor across and the second up, each cell labelled with its value. The
// figures are drawn in the replay report's style (package chart); their
// names are heatmap-OUTPUT (final.infected: heatmap-final-infected). Other
// designs have none.
func (r *Result) HeatMaps() ([]chart.Figure, error) {
	s := r.Plan.Spec
	if s.Design != DesignGrid || len(s.Factors) != 2 {
		return nil, nil
	}
	fx, fy := s.Factors[0], s.Factors[1]
	nx, ny := len(fx.Values), len(fy.Values)
	var figs []chart.Figure
	for o, name := range s.Outputs {
		g := grid2{cols: nx, rows: ny, z: make([][]float64, nx)}
		for c := range nx {
			g.z[c] = make([]float64, ny)
			for rr := range ny {
				g.z[c][rr] = r.mean(c*ny+rr, o) // the first factor varies slowest
			}
		}
		p := chart.NewTimePlot("", fy.Key)
		p.Legend.Top = false
		p.X.Label.Text = fx.Key
		p.X.Tick.Marker = labelTicks(r.texts(0, nx, ny, true))
		p.Y.Tick.Marker = labelTicks(r.texts(1, nx, ny, false))
		p.X.Min, p.X.Max = -0.5, float64(nx)-0.5
		p.Y.Min, p.Y.Max = -0.5, float64(ny)-0.5
		lo, hi := minMax(g.z)
		if math.IsInf(lo, 1) { // no value at all
			lo, hi = 0, 1
		}
		if hi == lo {
			hi = lo + 1
		}
		cm := moreland.Kindlmann()
		cm.SetMin(lo)
		cm.SetMax(hi)
		hm := plotter.NewHeatMap(g, cm.Palette(255))
		hm.Min, hm.Max = lo, hi
		hm.NaN = color.Transparent
		p.Add(hm)
		var xys plotter.XYs
		var labels []string
		var styles []text.Style
		for c := range nx {
			for rr := range ny {
				v := g.z[c][rr]
				xys = append(xys, plotter.XY{X: float64(c), Y: float64(rr)})
				lab := "-"
				if !math.IsNaN(v) {
					lab = strconv.FormatFloat(v, 'g', 4, 64)
				}
				labels = append(labels, lab)
			}
		}
		lb, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
		if err != nil {
			return nil, err
		}
		for i := range lb.TextStyle {
			st := lb.TextStyle[i]
			st.XAlign, st.YAlign = draw.XCenter, draw.YCenter
			st.Font = p.X.Tick.Label.Font
			v := g.z[i/ny][i%ny]
			st.Color = color.White
			if !math.IsNaN(v) && (v-lo)/(hi-lo) > 0.6 { // Kindlmann is light at the top
				st.Color = color.Black
			}
			styles = append(styles, st)
		}
		lb.TextStyle = styles
		p.Add(lb)
		caption := fmt.Sprintf("Mean over seeds %s of %s at each point of the grid; dark is low (%.4g), light is high (%.4g).", seedText(r.Plan.Seeds), name, lo, hi)
		title := fmt.Sprintf("%s by %s and %s, mean of %d seed(s)", name, fx.Key, fy.Key, len(r.Plan.Seeds))
		fig, err := chart.Render(HeatMapPrefix+fileStem(name), title, caption, p)
		if err != nil {
			return nil, err
		}
		figs = append(figs, fig)
	}
	return figs, nil
}

// texts returns the labels of factor i's grid values.
func (r *Result) texts(i, nx, ny int, across bool) []string {
	var out []string
	n := ny
	if across {
		n = nx
	}
	for k := range n {
		pt := k * ny // the first factor's k-th value
		if !across {
			pt = k
		}
		out = append(out, r.Plan.Points[pt].Text[i])
	}
	return out
}

// labelTicks puts a label at each integer 0, 1, ... of an axis.
type labelTicks []string

// Ticks implements plot.Ticker.
func (l labelTicks) Ticks(_, _ float64) []plot.Tick {
	t := make([]plot.Tick, len(l))
	for i, s := range l {
		t[i] = plot.Tick{Value: float64(i), Label: s}
	}
	return t
}

func seedText(seeds []uint64) string {
	if len(seeds) == 1 {
		return fmt.Sprintf("(seed %d)", seeds[0])
	}
	return fmt.Sprintf("(seeds %d to %d)", seeds[0], seeds[len(seeds)-1])
}
