package chart

import (
	"fmt"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

// Helpers for other packages that draw figures in the report's style
// (package compare overlays several result folders). They wrap the
// functions the report's own figures use, unchanged.

// NewTimePlot returns an empty plot in the report's style: its fonts, a
// UTC time X axis (Unix seconds) with ticks at round hours or days, a Y
// axis from 0 with compact labels ("1.5M", "200k"), and the legend at the
// top left.
func NewTimePlot(title, ylabel string) *plot.Plot { return newPlot(title, ylabel) }

// Render stacks plots top to bottom (X axes aligned) under a figure title,
// at the report's width and panel height, and returns them as a Figure
// with PNG and SVG. As in the report, only the bottom plot keeps its X
// axis label.
func Render(name, title, caption string, plots ...*plot.Plot) (Figure, error) {
	if len(plots) == 0 {
		return Figure{}, fmt.Errorf("chart: figure %s: no plots", name)
	}
	for _, p := range plots[:len(plots)-1] {
		p.X.Label.Text = ""
	}
	h := titleH + panelH*vg.Length(len(plots))
	if len(plots) > 1 {
		h -= 0.5 * vg.Inch * vg.Length(len(plots)-1)
	}
	png, svg, err := render(title, plots, figWidth, h)
	if err != nil {
		return Figure{}, fmt.Errorf("chart: figure %s: %w", name, err)
	}
	return Figure{Name: name, Title: title, Caption: caption, PNG: png, SVG: svg}, nil
}

// StepFor is the shortest round window (1, 2, 5, 10, 15 or 30 minutes, 1,
// 2, 3, 6 or 12 hours, or a day) that cuts a span d into at most maxPoints
// windows: the aggregation the report's figures use.
func StepFor(d time.Duration, maxPoints int) time.Duration { return stepFor(d, maxPoints) }

// BandAlpha is the opacity (0-255) of the report's shaded 5-95% bands.
const BandAlpha = bandAlpha

// DurationText writes a duration the way a caption says it: "minute",
// "10 minutes", "hour", "6 hours", "day".
func DurationText(d time.Duration) string { return human(d) }
