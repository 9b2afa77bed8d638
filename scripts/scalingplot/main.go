// Command scalingplot draws the scaling curve of issue 11 (target 7) from
// the CSV that scripts/scaling.sh writes: wall time and peak resident
// memory of `wormwatch run codered2-july19` against the number of hosts,
// one series per placement, on log-log axes (PNG, in the report's style
// through package chart). It prints, per placement, the least-squares
// slope of log(wall) and log(RSS) against log(hosts) over the hosts in
// [-from, -to], fitted to the median of each size's runs.
//
//	go run ./scripts/scalingplot -in scaling.csv -out docs/img/scaling.png
package main

import (
	"cmp"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg/draw"

	"wormwatch/chart"
)

// point is one size's median over its runs.
type point struct{ hosts, wall, rssMB float64 }

func main() {
	in := flag.String("in", "scaling.csv", "CSV written by scripts/scaling.sh")
	out := flag.String("out", "scaling.png", "PNG to write")
	from := flag.Float64("from", 1e5, "smallest number of hosts in the fit")
	to := flag.Float64("to", 1e8, "largest number of hosts in the fit")
	flag.Parse()
	series, order, err := read(*in)
	if err != nil {
		fmt.Fprintln(os.Stderr, "scalingplot:", err)
		os.Exit(2)
	}
	fmt.Println("| placement | sizes fitted | wall exponent | RSS exponent |")
	fmt.Println("|---|---|---|---|")
	for _, name := range order {
		n, w, m := fit(series[name], *from, *to)
		fmt.Printf("| %s | %d (%.0e-%.0e hosts) | %.3f | %.3f |\n", name, n, *from, *to, w, m)
	}
	fig, err := figure(series, order)
	if err == nil {
		err = os.WriteFile(*out, fig.PNG, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "scalingplot:", err)
		os.Exit(1)
	}
}

// read returns each placement's points (by hosts, ascending) and the
// placements in the order the CSV first names them.
func read(path string) (map[string][]point, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	if _, err := r.Read(); err != nil { // the header
		return nil, nil, fmt.Errorf("%s: header: %w", path, err)
	}
	runs := map[string]map[float64][][2]float64{}
	var order []string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		line, _ := r.FieldPos(0)
		v, err := numbers(rec, 0, 4, 6)
		if err != nil {
			return nil, nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		name := rec[1]
		if runs[name] == nil {
			runs[name] = map[float64][][2]float64{}
			order = append(order, name)
		}
		runs[name][v[0]] = append(runs[name][v[0]], [2]float64{v[1], v[2] / 1024})
	}
	series := map[string][]point{}
	for name, bySize := range runs {
		for hosts, rs := range bySize {
			series[name] = append(series[name], point{hosts, median(rs, 0), median(rs, 1)})
		}
		slices.SortFunc(series[name], func(a, b point) int { return cmp.Compare(a.hosts, b.hosts) })
	}
	return series, order, nil
}

// numbers parses the fields at the given columns (hosts, wall_s, max_rss_kb).
func numbers(rec []string, cols ...int) ([]float64, error) {
	names := []string{0: "hosts", 4: "wall_s", 6: "max_rss_kb"}
	v := make([]float64, len(cols))
	for i, c := range cols {
		if c >= len(rec) {
			return nil, fmt.Errorf("field %s: missing", names[c])
		}
		x, err := strconv.ParseFloat(rec[c], 64)
		if err != nil || x <= 0 {
			return nil, fmt.Errorf("field %s: %q is not a positive number", names[c], rec[c])
		}
		v[i] = x
	}
	return v, nil
}

// median returns the median of column k of rs.
func median(rs [][2]float64, k int) float64 {
	xs := make([]float64, len(rs))
	for i, r := range rs {
		xs[i] = r[k]
	}
	slices.Sort(xs)
	n := len(xs)
	return (xs[(n-1)/2] + xs[n/2]) / 2
}

// fit returns how many sizes lie in [from, to] and the least-squares
// slopes of log(wall) and log(RSS) against log(hosts) over them.
func fit(ps []point, from, to float64) (n int, wall, rss float64) {
	var x, yw, ym []float64
	for _, p := range ps {
		if p.hosts >= from && p.hosts <= to {
			x = append(x, math.Log(p.hosts))
			yw = append(yw, math.Log(p.wall))
			ym = append(ym, math.Log(p.rssMB))
		}
	}
	if len(x) < 2 {
		return len(x), math.NaN(), math.NaN()
	}
	_, wall = stat.LinearRegression(x, yw, nil, false)
	_, rss = stat.LinearRegression(x, ym, nil, false)
	return len(x), wall, rss
}

// figure draws the two log-log panels, wall time above and memory below.
func figure(series map[string][]point, order []string) (chart.Figure, error) {
	wall := logLog("wall time", "wall time (s)")
	mem := logLog("peak memory", "peak resident memory (MB)")
	for i, name := range order {
		var pw, pm plotter.XYs
		for _, p := range series[name] {
			pw = append(pw, plotter.XY{X: p.hosts, Y: p.wall})
			pm = append(pm, plotter.XY{X: p.hosts, Y: p.rssMB})
		}
		for _, panel := range []struct {
			p   *plot.Plot
			xys plotter.XYs
		}{{wall, pw}, {mem, pm}} {
			l, s, err := plotter.NewLinePoints(panel.xys)
			if err != nil {
				return chart.Figure{}, err
			}
			l.Color, s.Color = plotutil.Color(i), plotutil.Color(i)
			l.Dashes = plotutil.Dashes(i)
			s.Shape = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.BoxGlyph{}}[i%2]
			panel.p.Add(l, s)
			panel.p.Legend.Add(name, l, s)
		}
	}
	return chart.Render("scaling", "wormwatch run codered2-july19 against the number of hosts",
		"median of each size's runs; log-log axes", wall, mem)
}

// logLog returns a plot in the report's style with logarithmic axes.
func logLog(title, ylabel string) *plot.Plot {
	p := chart.NewTimePlot(title, ylabel)
	p.X.Label.Text = "hosts"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
	p.Y.Min = math.Inf(1) // NewTimePlot starts Y at 0, which a log axis cannot show
	return p
}
