package compare

import (
	"fmt"
	"image/color"
	"sort"
	"strings"
	"time"

	"gonum.org/v1/plot/vg"

	"wormwatch/chart"
	"wormwatch/results"
)

// maxPoints is the most windows a series is cut into over the comparison's
// span (a summer of one-minute bins is drawn hour by hour), so that a
// figure with several folders stays a few hundred kilobytes.
const maxPoints = 1500

// palette gives each folder its colour, in order (Okabe-Ito, readable by
// colour-blind readers; the report uses the same colours). After the
// seventh folder the colours repeat, dashed.
var palette = []color.NRGBA{
	{R: 0x00, G: 0x72, B: 0xB2, A: 0xFF}, // blue
	{R: 0xD5, G: 0x5E, B: 0x00, A: 0xFF}, // vermillion
	{R: 0x00, G: 0x9E, B: 0x73, A: 0xFF}, // bluish green
	{R: 0xCC, G: 0x79, B: 0xA7, A: 0xFF}, // reddish purple
	{R: 0xE6, G: 0x9F, B: 0x00, A: 0xFF}, // orange
	{R: 0x56, G: 0xB4, B: 0xE9, A: 0xFF}, // sky blue
	{R: 0x00, G: 0x00, B: 0x00, A: 0xFF}, // black
}

// The shaded bands are lighter than the report's, as several overlap.
const overlayAlpha = chart.BandAlpha * 3 / 4

// curve is one folder's series on a figure: X in Unix seconds, and the
// 5%, 50% and 95% points of each window.
type curve struct {
	x, lo, mid, hi []float64
}

// levelCurve cuts a level band (a state at the end of each bin) into
// windows of step from origin: each window shows its last bin, at that
// bin's end.
func levelCurve(f *Folder, b results.Band, origin time.Time, step time.Duration) curve {
	var c curve
	last := -1
	flush := func() {
		if last < 0 {
			return
		}
		c.x = append(c.x, unix(f.Times[last].Add(f.Bin)))
		c.lo = append(c.lo, b.P05[last])
		c.mid = append(c.mid, b.P50[last])
		c.hi = append(c.hi, b.P95[last])
	}
	for i, t := range f.Times {
		if last >= 0 && window(t, origin, step) != window(f.Times[last], origin, step) {
			flush()
		}
		last = i
	}
	flush()
	return c
}

// countCurve turns the seeds' new infections into a rate per `per`
// seconds over windows of step from origin: each seed's total over the
// window, then the 5%, 50% and 95% points over seeds, at the middle of
// the seconds the window covers. Unlike the report's bands (which add up
// the bins' own percentiles), these are the percentiles of the window
// totals.
func countCurve(f *Folder, origin time.Time, step time.Duration, per float64) curve {
	var c curve
	tot := make([]float64, len(f.NewInfections))
	first, n := 0, 0
	flush := func() {
		if n == 0 {
			return
		}
		covered := float64(n) * f.Bin.Seconds()
		v := make([]float64, len(tot))
		for s := range tot {
			v[s] = tot[s] * per / covered
		}
		sort.Float64s(v)
		c.x = append(c.x, unix(f.Times[first])+covered/2)
		c.lo = append(c.lo, results.Quantile(v, 0.05))
		c.mid = append(c.mid, results.Quantile(v, 0.5))
		c.hi = append(c.hi, results.Quantile(v, 0.95))
		clear(tot)
		n = 0
	}
	for i, t := range f.Times {
		if n > 0 && window(t, origin, step) != window(f.Times[first], origin, step) {
			flush()
		}
		if n == 0 {
			first = i
		}
		for s, col := range f.NewInfections {
			tot[s] += col[i]
		}
		n++
	}
	flush()
	return c
}

func window(t, origin time.Time, step time.Duration) int64 { return int64(t.Sub(origin) / step) }

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// overlay is one panel being filled: the report's chart.Panel on the
// comparison's time axis.
type overlay struct{ *chart.Panel }

func newOverlay(c *Comparison, ylabel string) overlay {
	p := chart.NewTimePlot("", ylabel)
	p.X.Min, p.X.Max = unix(c.From), unix(c.To)
	return overlay{chart.NewPanel(p)}
}

// add draws one folder's curve in the folder's colour: its median as a
// line, and its 5-95% band shaded behind it when the folder has several
// seeds.
func (o overlay) add(cv curve, i int, label string, withBand bool) error {
	st := chart.BandStyle{Color: palette[i%len(palette)], Alpha: overlayAlpha}
	if i >= len(palette) {
		st.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	}
	return o.AddBand(cv.x, cv.lo, cv.mid, cv.hi, st, label, withBand)
}

// Figures draws the overlays: infected hosts, new infections, patched
// hosts, and each sensor's cumulative sources if every folder has it.
func (c *Comparison) Figures() ([]chart.Figure, error) {
	step := chart.StepFor(c.To.Sub(c.From), maxPoints)
	if step < c.Bin {
		step = c.Bin
	}
	var figs []chart.Figure
	level := func(name, title, ylabel, band, what string) error {
		o := newOverlay(c, ylabel)
		for i, f := range c.Folders {
			if err := o.add(levelCurve(f, f.Levels[band], c.From, step), i, f.Label, len(f.Outcomes) > 1); err != nil {
				return err
			}
		}
		caption := fmt.Sprintf("%s, %s, one colour per folder: %s", what, levelWhen(step, c.Bin), c.bandText())
		fig, err := chart.Render(name, title, caption, o.Finish())
		if err != nil {
			return err
		}
		figs = append(figs, fig)
		return nil
	}
	if err := level("infected", "Hosts infected", "hosts", results.Infected,
		"Hosts running the worm (infected)"); err != nil {
		return nil, err
	}
	per, unit := 60.0, "minute"
	if step >= time.Hour {
		per, unit = 3600, "hour"
	}
	o := newOverlay(c, "new infections per "+unit)
	for i, f := range c.Folders {
		if err := o.add(countCurve(f, c.From, step, per), i, f.Label, len(f.Outcomes) > 1); err != nil {
			return nil, err
		}
	}
	caption := fmt.Sprintf("New infections (re-infections included) per %s, %s, one colour per folder: %s", unit, countWhen(step, c.Bin), c.bandText())
	if c.multiSeed() && step > c.Bin {
		caption += " The band is that of each seed's total over the window, not the sum of the bins' bands."
	}
	fig, err := chart.Render("new-infections", "New infections per "+unit, caption, o.Finish())
	if err != nil {
		return nil, err
	}
	figs = append(figs, fig)
	if err := level("patched", "Hosts patched", "hosts", results.Patched,
		"Patched hosts (immune for good)"); err != nil {
		return nil, err
	}
	for _, s := range c.Sensors {
		name := "telescope"
		if len(c.Sensors) > 1 {
			name += "-" + fileSafe(s)
		}
		if err := level(name, "What telescope "+s+" saw: distinct sources", "distinct sources seen", results.SensorBand(s, results.SensorCumulativeSources),
			"Distinct infected sources the telescope "+s+" has seen so far (a host counts once seen sending a probe into it)"); err != nil {
			return nil, err
		}
	}
	return figs, nil
}

func (c *Comparison) multiSeed() bool {
	for _, f := range c.Folders {
		if len(f.Outcomes) > 1 {
			return true
		}
	}
	return false
}

// bandText says what the lines and bands are.
func (c *Comparison) bandText() string {
	var parts []string
	for _, f := range c.Folders {
		if len(f.Outcomes) > 1 {
			parts = append(parts, fmt.Sprintf("%s (%d seeds: median line, 5-95%% band shaded)", f.Label, len(f.Outcomes)))
		} else {
			parts = append(parts, fmt.Sprintf("%s (one run)", f.Label))
		}
	}
	return strings.Join(parts, "; ") + "."
}

func levelWhen(step, bin time.Duration) string {
	if step <= bin {
		return "at the end of each " + chart.DurationText(bin) + " bin"
	}
	return "at the end of each " + chart.DurationText(step)
}

func countWhen(step, bin time.Duration) string {
	if step <= bin {
		return "in " + chart.DurationText(bin) + " bins"
	}
	return "averaged over each " + chart.DurationText(step)
}

// fileSafe turns a sensor name into a figure name part.
func fileSafe(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' || r == '_' || r == '.' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}
