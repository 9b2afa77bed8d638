package chart

import (
	"image/color"
	"math"
	"testing"
)

// TestPanel checks what AddBand adds (a line, or a band and a line) and
// that Finish leaves the legend room above the highest value drawn.
func TestPanel(t *testing.T) {
	t.Parallel()
	pn := NewPanel(NewTimePlot("", "hosts"))
	x := []float64{0, 60, 120}
	if err := pn.AddBand(x, []float64{1, 2, 3}, []float64{2, 3, 4}, []float64{3, 9, 5}, BandStyle{Color: color.NRGBA{A: 255}, Alpha: 0x40}, "a", true); err != nil {
		t.Fatal(err)
	}
	if err := pn.AddBand(x, nil, []float64{5, 6, 7}, nil, BandStyle{}, "b", false); err != nil {
		t.Fatal(err)
	}
	if err := pn.AddBand(nil, nil, nil, nil, BandStyle{}, "none", true); err != nil {
		t.Fatal(err)
	}
	// Adding a plotter stretches the Y axis over its data: the band up to
	// its 95% (9); a line alone to its medians.
	if ymax := pn.Plot.Y.Max; ymax != 9 {
		t.Errorf("Y axis up to %v, want 9 (the band's)", ymax)
	}
	alone := NewPanel(NewTimePlot("", ""))
	if err := alone.AddBand(x, []float64{0, 0, 0}, []float64{5, 6, 7}, []float64{99, 99, 99}, BandStyle{}, "b", false); err != nil {
		t.Fatal(err)
	}
	if ymax := alone.Plot.Y.Max; ymax != 7 {
		t.Errorf("line alone: Y axis up to %v, want 7", ymax)
	}
	// The highest value drawn is the band's 9; two legend entries.
	if got := pn.Finish().Y.Max; math.Abs(got-9*(1.08+0.18)) > 1e-12 {
		t.Errorf("Y max %v, want %v", got, 9*(1.08+0.18))
	}
	if got := NewPanel(NewTimePlot("", "")).Finish().Y.Max; got != 1 {
		t.Errorf("an empty panel's Y max is %v, want 1", got)
	}
}
