package chart

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"wormwatch/internal/thousands"
	"wormwatch/results"
	"wormwatch/scenario/builtin/reference"
)

// codeRedWindows returns the windows of the Code Red figures, with their
// titles and captions' openings: the reference data of codered-2001
// (package reference, codered-2001.toml next to the scenario).
func codeRedWindows() (july19, restart, telescope reference.Window, err error) {
	ref, err := reference.CodeRed2001()
	if err != nil {
		return july19, restart, telescope, fmt.Errorf("chart: %w", err)
	}
	f := ref.Figures
	return f.July19, f.Restart, f.Telescope, nil
}

// Dash patterns.
var (
	dashed = []vg.Length{vg.Points(5), vg.Points(3)}
	dotted = []vg.Length{vg.Points(1.5), vg.Points(2)}
)

// panel is one of the report's plots being filled: a Panel that also
// knows its time window and which published points it marked.
type panel struct {
	*Panel
	marked []results.Point
	from   time.Time
	to     time.Time
}

func newPanel(ylabel string, from, to time.Time) *panel {
	p := newPlot("", ylabel)
	p.X.Min, p.X.Max = unix(from), unix(to)
	return &panel{Panel: NewPanel(p), from: from, to: to}
}

// add draws a series: its median as a line and, with band, its 5-95% band
// shaded behind it.
func (pn *panel) add(s series, col color.NRGBA, label string, withBand bool, dashes []vg.Length) error {
	return pn.AddBand(s.X, s.Lo, s.Mid, s.Hi, BandStyle{Color: col, Alpha: bandAlpha, Dashes: dashes}, label, withBand)
}

// mark draws the Replay's measured points that belong to one of the named
// series and fall inside the panel's window, scaled as the series are, and
// labels each with its Label and value.
func (pn *panel) mark(r *results.Replay, names []string, scale float64) error {
	var xys plotter.XYs
	var labels []string
	var styles []text.Style
	byTime := slices.SortedStableFunc(slices.Values(r.Measured), func(a, b results.Point) int { return a.Time.Compare(b.Time) })
	for _, m := range byTime {
		if !slices.Contains(names, m.Series) || m.Time.Before(pn.from) || m.Time.After(pn.to) || !finite(m.Value) {
			continue
		}
		x, y := unix(m.Time), m.Value*scale
		xys = append(xys, plotter.XY{X: x, Y: y})
		pn.ymax = max(pn.ymax, y)
		label := m.Label
		if label == "" {
			label = thousands.Round(m.Value)
		}
		labels = append(labels, label)
		sty := text.Style{
			Color:   colMark,
			Font:    font.From(sans, 9),
			XAlign:  draw.XLeft,
			YAlign:  draw.YBottom,
			Handler: plot.DefaultTextHandler,
		}
		// Labels of points in the right part go to the left of the mark,
		// so they stay inside the plot.
		if (x-unix(pn.from))/(unix(pn.to)-unix(pn.from)) > 0.55 {
			sty.XAlign = draw.XRight
		}
		styles = append(styles, sty)
		pn.marked = append(pn.marked, m)
	}
	if len(xys) == 0 {
		return nil
	}
	sc, err := plotter.NewScatter(xys)
	if err != nil {
		return fmt.Errorf("chart: measured points: %w", err)
	}
	sc.GlyphStyle = draw.GlyphStyle{Shape: draw.CrossGlyph{}, Radius: vg.Points(4), Color: colMark}
	ring, _ := plotter.NewScatter(xys)
	ring.GlyphStyle = draw.GlyphStyle{Shape: draw.RingGlyph{}, Radius: vg.Points(5), Color: colMark}
	// Each label gets its own plotters, as the offset (away from the mark,
	// on the side chosen above) is shared by all labels of one; a label
	// close in time to the one before goes a line higher, and a white
	// halo (the text drawn in white slightly shifted, under it) keeps it
	// readable over the lines.
	width := unix(pn.to) - unix(pn.from)
	lift := 0
	for i := range labels {
		if i > 0 && math.Abs(xys[i].X-xys[i-1].X) < 0.2*width && math.Abs(xys[i].Y-xys[i-1].Y) < 0.15*pn.ymax {
			lift++
		} else {
			lift = 0
		}
		off := vg.Point{X: vg.Points(6), Y: vg.Points(5 + 12*float64(lift))}
		if styles[i].XAlign == draw.XRight {
			off.X = -off.X
		}
		halo := styles[i]
		halo.Color = color.White
		for _, d := range []vg.Point{{X: -0.8, Y: -0.8}, {X: 0.8, Y: -0.8}, {X: -0.8, Y: 0.8}, {X: 0.8, Y: 0.8}, {}} {
			lb, err := plotter.NewLabels(plotter.XYLabels{XYs: xys[i : i+1], Labels: labels[i : i+1]})
			if err != nil {
				return fmt.Errorf("chart: measured labels: %w", err)
			}
			lb.TextStyle = []text.Style{halo}
			if d == (vg.Point{}) {
				lb.TextStyle = styles[i : i+1]
			}
			lb.Offset = vg.Point{X: off.X + d.X, Y: off.Y + d.Y}
			pn.Plot.Add(lb)
		}
	}
	pn.Plot.Add(sc, ring) // over the labels' halos
	pn.Plot.Legend.Add("published measurement", sc, ring)
	pn.entries++
	return nil
}

// window clips [from, to) to the Replay's span, or returns ErrNoData.
func window(r *results.Replay, what string, from, to time.Time) (time.Time, time.Time, error) {
	f, t := span(r)
	if from.Before(f) {
		from = f
	}
	if to.After(t) {
		to = t
	}
	if !from.Before(to) {
		return from, to, fmt.Errorf("chart: %s: the replay (%s to %s) does not cover %s to %s: %w",
			what, f.Format(time.RFC3339), t.Format(time.RFC3339), from.Format(time.RFC3339), to.Format(time.RFC3339), ErrNoData)
	}
	return from, to, nil
}

// stepFor is the shortest round aggregation window that keeps a span to
// at most maxPoints points.
func stepFor(d time.Duration, maxPoints int) time.Duration {
	for _, s := range []time.Duration{time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute,
		15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour} {
		if d/s <= time.Duration(maxPoints) {
			return s
		}
	}
	return 24 * time.Hour
}

// human writes a duration the way a caption says it: "minute",
// "10 minutes", "hour", "6 hours", "day".
func human(d time.Duration) string {
	switch {
	case d == time.Minute:
		return "minute"
	case d == time.Hour:
		return "hour"
	case d == 24*time.Hour:
		return "day"
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%d minutes", d/time.Minute)
	case d == time.Second:
		return "second"
	default:
		return fmt.Sprintf("%g seconds", d.Seconds())
	}
}

// adjective writes a duration before a noun: "1-minute", "10-minute",
// "1-hour".
func adjective(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%d-day", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%d-hour", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%d-minute", d/time.Minute)
	default:
		return fmt.Sprintf("%g-second", d.Seconds())
	}
}

// clock writes a time of day, 00:00 at the end of a window as 24:00.
func clock(t time.Time, end bool) string {
	if end && t.Hour() == 0 && t.Minute() == 0 {
		return "24:00"
	}
	return t.Format("15:04")
}

// seedsText is "N seeds" for captions.
func seedsText(r *results.Replay) string {
	if len(r.Seeds) == 1 {
		return "1 seed"
	}
	return fmt.Sprintf("%d seeds", len(r.Seeds))
}

// levelText says how a level series was sampled.
func levelText(s series) string {
	if s.Window <= s.Bins {
		return fmt.Sprintf("at the end of each %s bin", adjective(s.Bins))
	}
	return fmt.Sprintf("at the end of each %s", human(s.Window))
}

// countText says how a count series was aggregated.
func countText(s series) string {
	if s.Window <= s.Bins {
		return fmt.Sprintf("in %s bins", adjective(s.Bins))
	}
	return fmt.Sprintf("averaged over each %s (the band adds up the %s bins' own 5%% and 95%% points, so it is wider than the band of the %s totals would be)",
		human(s.Window), adjective(s.Bins), adjective(s.Window))
}

// markedText lists the points a figure marks, for its caption.
func markedText(pns ...*panel) string {
	var parts []string
	for _, pn := range pns {
		for _, m := range pn.marked {
			s := m.Label
			if s == "" {
				s = thousands.Round(m.Value)
			}
			if m.Source != "" {
				s += " (" + m.Source + ")"
			}
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " Crosses in circles mark published measurements: " + strings.Join(parts, "; ") + "."
}

// sensors returns the Replay's sensor names: those it lists, or failing
// that those its band names imply.
func sensors(r *results.Replay) []results.SensorInfo {
	if len(r.Sensors) > 0 {
		return r.Sensors
	}
	var out []results.SensorInfo
	for _, b := range r.Bands {
		if name, ok := results.SensorOfBand(b.Name, results.SensorCumulativeSources); ok {
			out = append(out, results.SensorInfo{Name: name})
		}
	}
	return out
}

func sensorLabel(s results.SensorInfo) string {
	if s.Prefix != "" {
		return fmt.Sprintf("telescope %s (%s)", s.Name, s.Prefix)
	}
	return "telescope " + s.Name
}

// addOptional adds a band if the Replay has it (aggregated as given) and
// reports whether it did.
func addOptional(pn *panel, r *results.Replay, name string, k kind, step time.Duration, per, scale float64,
	col color.NRGBA, label string, withBand bool, dashes []vg.Length) (series, bool, error) {
	if r.Band(name) == nil {
		return series{}, false, nil
	}
	b, err := band(r, name)
	if err != nil {
		return series{}, false, err
	}
	s := aggregate(r.Times, r.BinSeconds, b, pn.from, pn.to, step, k, per, scale)
	return s, true, pn.add(s, col, label, withBand, dashes)
}

// addRequired is addOptional for a band the figure cannot do without.
func addRequired(pn *panel, r *results.Replay, name string, k kind, step time.Duration, per, scale float64,
	col color.NRGBA, label string, withBand bool, dashes []vg.Length) (series, error) {
	if _, err := band(r, name); err != nil {
		return series{}, err
	}
	s, _, err := addOptional(pn, r, name, k, step, per, scale, col, label, withBand, dashes)
	return s, err
}

// figure renders panels into a Figure (Render), each finished first.
func figure(name, title, caption string, pns ...*panel) (Figure, error) {
	plots := make([]*plot.Plot, len(pns))
	for i, pn := range pns {
		plots[i] = pn.Finish()
	}
	return Render(name, title, caption, plots...)
}

// Infected draws infected hosts over the whole replay: median and 5-95%
// band, with the telescopes' cumulative distinct sources, the hosts ever
// infected, susceptible and patched, and the published points of those
// series.
func Infected(r *results.Replay) (Figure, error) {
	if err := checkResult(r); err != nil {
		return Figure{}, err
	}
	from, to := span(r)
	step := stepFor(to.Sub(from), 1500)
	pn := newPanel("hosts", from, to)
	if _, _, err := addOptional(pn, r, results.Susceptible, level, step, 1, 1, colSuscept, "susceptible", false, dashed); err != nil {
		return Figure{}, err
	}
	if _, _, err := addOptional(pn, r, results.Patched, level, step, 1, 1, colPatched, "patched", false, dashed); err != nil {
		return Figure{}, err
	}
	if _, _, err := addOptional(pn, r, results.EverInfected, level, step, 1, 1, colEver, "ever infected", false, dotted); err != nil {
		return Figure{}, err
	}
	names := []string{results.Infected, results.EverInfected, results.Susceptible, results.Patched}
	var sensorText string
	for _, sn := range sensors(r) {
		name := results.SensorBand(sn.Name, results.SensorCumulativeSources)
		_, ok, err := addOptional(pn, r, name, level, step, 1, 1, colTelescope, sensorLabel(sn)+": distinct sources seen", true, nil)
		if err != nil {
			return Figure{}, err
		}
		if ok {
			names = append(names, name)
			sensorText = " The blue band is the number of distinct infected sources the network telescope has seen so far, which is what CAIDA counted."
		}
	}
	s, err := addRequired(pn, r, results.Infected, level, step, 1, 1, colInfected, "infected", true, nil)
	if err != nil {
		return Figure{}, err
	}
	if err := pn.mark(r, names, 1); err != nil {
		return Figure{}, err
	}
	title := fmt.Sprintf("Hosts infected, %s to %s", from.Format("2 January"), to.Add(-time.Second).Format("2 January 2006"))
	caption := fmt.Sprintf("Hosts running the worm (infected), %s: the line is the median and the shaded area the 5-95%% band over %s. "+
		"The dashed lines are the median numbers of susceptible (vulnerable, not infected, not patched) and patched hosts, the dotted line the median number of hosts ever infected.%s%s",
		levelText(s), seedsText(r), sensorText, markedText(pn))
	return figure("infected", title, caption, pn)
}

// July19 draws new infections per minute during the outbreak of 19 July
// 2001 (10:00 to 24:00 UTC: the window figures.july19 of the reference
// data), with the telescope's new sources per minute.
func July19(r *results.Replay) (Figure, error) {
	if err := checkResult(r); err != nil {
		return Figure{}, err
	}
	w, _, _, err := codeRedWindows()
	if err != nil {
		return Figure{}, err
	}
	from, to, err := window(r, "july19", w.From, w.To)
	if err != nil {
		return Figure{}, err
	}
	step := stepFor(to.Sub(from), 1000)
	pn := newPanel("per minute", from, to)
	names := []string{results.NewInfections}
	var sensorText string
	for _, sn := range sensors(r) {
		name := results.SensorBand(sn.Name, results.SensorNewSources)
		_, ok, err := addOptional(pn, r, name, count, step, 60, 1, colTelescope, sensorLabel(sn)+": new sources per minute", true, nil)
		if err != nil {
			return Figure{}, err
		}
		if ok {
			names = append(names, name)
			sensorText = " The blue band is the sources the telescope saw for the first time, per minute: what CAIDA's \"new hosts infected each minute\" counted."
		}
	}
	s, err := addRequired(pn, r, results.NewInfections, count, step, 60, 1, colInfected, "new infections per minute", true, nil)
	if err != nil {
		return Figure{}, err
	}
	if err := pn.mark(r, names, 1); err != nil {
		return Figure{}, err
	}
	caption := fmt.Sprintf("%s, %s to %s UTC, %s: median (line) and 5-95%% band (shaded) over %s.%s%s",
		w.Caption, clock(from, false), clock(to, true), countText(s), seedsText(r), sensorText, markedText(pn))
	return figure("july19", w.Title, caption, pn)
}

// Restart draws new infections per hour around the restart of 1 August
// 2001 (31 July 18:00 to 3 August 00:00 UTC: the window figures.restart
// of the reference data), and the infected hosts scanning.
func Restart(r *results.Replay) (Figure, error) {
	if err := checkResult(r); err != nil {
		return Figure{}, err
	}
	_, w, _, err := codeRedWindows()
	if err != nil {
		return Figure{}, err
	}
	from, to, err := window(r, "restart", w.From, w.To)
	if err != nil {
		return Figure{}, err
	}
	top := newPanel("new infections per hour", from, to)
	s, err := addRequired(top, r, results.NewInfections, count, time.Hour, 3600, 1, colInfected, "new infections per hour", true, nil)
	if err != nil {
		return Figure{}, err
	}
	if err := top.mark(r, []string{results.NewInfections}, 1); err != nil {
		return Figure{}, err
	}
	bottom := newPanel("hosts", from, to)
	step := stepFor(to.Sub(from), 1000)
	if _, _, err := addOptional(bottom, r, results.Infected, level, step, 1, 1, colGrey, "infected", false, dashed); err != nil {
		return Figure{}, err
	}
	sc, ok, err := addOptional(bottom, r, results.InfectedScanning, level, step, 1, 1, colInfected, "infected and scanning", true, nil)
	if err != nil {
		return Figure{}, err
	}
	scanText := ""
	if ok {
		scanText = fmt.Sprintf(" Below: infected hosts scanning (band) and all infected hosts (dashed median), %s: dormant hosts wake up after midnight at scattered times.", levelText(sc))
	}
	if err := bottom.mark(r, []string{results.Infected, results.InfectedScanning}, 1); err != nil {
		return Figure{}, err
	}
	caption := fmt.Sprintf("%s, from %s to %s UTC. Above: new infections, %s; median (line) and 5-95%% band (shaded) over %s.%s%s",
		w.Caption, from.Format("2 Jan 15:04"), to.Format("2 Jan 15:04"), countText(s), seedsText(r), scanText, markedText(top, bottom))
	return figure("restart", w.Title, caption, top, bottom)
}

// Traffic draws the worm's traffic over the whole replay: SYN packets per
// second, and scan and flood traffic in Gbit/s.
func Traffic(r *results.Replay) (Figure, error) {
	if err := checkResult(r); err != nil {
		return Figure{}, err
	}
	from, to := span(r)
	step := stepFor(to.Sub(from), 1500)
	top := newPanel("SYN packets per second", from, to)
	s, err := addRequired(top, r, results.SynPackets, count, step, 1, 1, colTelescope, "scan: TCP SYN packets per second", true, nil)
	if err != nil {
		return Figure{}, err
	}
	bottom := newPanel("Gbit/s", from, to)
	const gbit = 8 / 1e9
	if _, err := addRequired(bottom, r, results.BytesOnWire, count, step, 1, gbit, colTelescope, "scan traffic (IP bytes of probes)", true, nil); err != nil {
		return Figure{}, err
	}
	if _, _, err := addOptional(bottom, r, results.FloodBytes, count, step, 1, gbit, colFlood, "flood traffic", true, nil); err != nil {
		return Figure{}, err
	}
	for _, pn := range []*panel{top, bottom} {
		if err := pn.mark(r, []string{results.SynPackets, results.BytesOnWire, results.FloodBytes}, 1); err != nil {
			return Figure{}, err
		}
	}
	caption := fmt.Sprintf("Traffic sent by infected hosts, %s, %s: median (line) and 5-95%% band (shaded) over %s. "+
		"Above: TCP SYN packets of scanning probes per second (retransmissions included). Below: the same probes in Gbit/s of IP bytes, and the flood traffic (days 20-27 of each month) in Gbit/s.%s",
		from.Format("2 January")+" to "+to.Add(-time.Second).Format("2 January 2006"), countText(s), seedsText(r), markedText(top, bottom))
	return figure("traffic", "Scan and flood traffic", caption, top, bottom)
}

// Telescope draws what the network telescope saw on 19 and 20 July 2001
// (the window figures.telescope of the reference data) beside the truth:
// cumulative distinct sources against hosts ever infected and infected,
// and sources seen per bin against hosts scanning.
func Telescope(r *results.Replay) (Figure, error) {
	if err := checkResult(r); err != nil {
		return Figure{}, err
	}
	sns := sensors(r)
	if len(sns) == 0 {
		return Figure{}, fmt.Errorf("chart: telescope: the replay has no sensor: %w", ErrNoData)
	}
	_, _, w, err := codeRedWindows()
	if err != nil {
		return Figure{}, err
	}
	from, to, err := window(r, "telescope", w.From, w.To)
	if err != nil {
		return Figure{}, err
	}
	step := stepFor(to.Sub(from), 600)
	top := newPanel("hosts", from, to)
	bottom := newPanel("", from, to)
	names := []string{results.EverInfected, results.Infected}
	if _, _, err := addOptional(top, r, results.Infected, level, step, 1, 1, colGrey, "infected (true)", false, dashed); err != nil {
		return Figure{}, err
	}
	ever, err := addRequired(top, r, results.EverInfected, level, step, 1, 1, colInfected, "ever infected (true)", true, nil)
	if err != nil {
		return Figure{}, err
	}
	bin := time.Duration(r.BinSeconds * float64(time.Second))
	perText := "per " + human(bin)
	bottom.Plot.Y.Label.Text = "sources " + perText
	if _, _, err := addOptional(bottom, r, results.InfectedScanning, level, step, 1, 1, colInfected, "infected and scanning (true)", false, dashed); err != nil {
		return Figure{}, err
	}
	var src series
	for _, sn := range sns {
		cum := results.SensorBand(sn.Name, results.SensorCumulativeSources)
		if _, _, err := addOptional(top, r, cum, level, step, 1, 1, colTelescope, sensorLabel(sn)+": distinct sources seen", true, nil); err != nil {
			return Figure{}, err
		}
		s, _, err := addOptional(bottom, r, results.SensorBand(sn.Name, results.SensorSources), perBin, step, 1, 1, colTelescope, sensorLabel(sn)+": sources seen "+perText, true, nil)
		if err != nil {
			return Figure{}, err
		}
		if s.len() > 0 {
			src = s
		}
		names = append(names, cum)
	}
	if err := top.mark(r, names, 1); err != nil {
		return Figure{}, err
	}
	meanText := ""
	if src.Window > src.Bins {
		meanText = fmt.Sprintf(", averaged over each %s", human(src.Window))
	}
	caption := fmt.Sprintf("%s, over %s (median line, 5-95%% band shaded). "+
		"Above: distinct infected sources seen so far, against the hosts ever infected and infected now, %s. "+
		"Below: distinct sources seen %s%s, against the infected hosts scanning. A host counts once the telescope has seen one of its probes, so the telescope's count lags the truth and misses hosts that scanned little.%s",
		w.Caption, seedsText(r), levelText(ever), perText, meanText, markedText(top, bottom))
	return figure("telescope", w.Title, caption, top, bottom)
}

// clamp01 limits v to [0, 1].
func clamp01(v float64) float64 { return math.Max(0, math.Min(1, v)) }
