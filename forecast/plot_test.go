package forecast_test

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"io"
	"testing"
	"time"

	"wormwatch/forecast"
)

// TestPlot draws an analysis with an alarm, a fit and a forecast, and one
// of background noise without them, in both formats: the PNG must decode
// at the figure's size and the SVG must be well-formed XML.
func TestPlot(t *testing.T) {
	t.Parallel()
	worm, _ := outbreak{n: 360000, k: 1.47, mu: 68, size: 1 << 24, start: time.Hour, interval: time.Minute, hours: 8}.generate(1)
	quiet := noise{size: 1 << 16, days: 1, interval: time.Minute, persist: 50, arrivals: 10, life: time.Hour, rate: 1, spread: 1, amplitude: 0.5}.generate(1)
	for _, s := range []*forecast.Series{worm, quiet} {
		a, err := forecast.Analyze(t.Context(), s, forecast.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if (a.Alarm != nil) != (s == worm) {
			t.Fatalf("%s: alarm %v", s.Name, a.Alarm)
		}
		img, err := forecast.Plot(a, "png")
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(img))
		if err != nil || cfg.Width != 960 || cfg.Height != 672 {
			t.Errorf("%s: PNG %dx%d, %v; want 960x672 (10 by 7 inches at vgimg's 96 dpi)", s.Name, cfg.Width, cfg.Height, err)
		}
		svg, err := forecast.Plot(a, "svg")
		if err != nil {
			t.Fatal(err)
		}
		d := xml.NewDecoder(bytes.NewReader(svg))
		elems := 0
		for {
			tok, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: SVG: %v", s.Name, err)
			}
			if _, ok := tok.(xml.StartElement); ok {
				elems++
			}
		}
		if elems < 50 {
			t.Errorf("%s: SVG with %d elements", s.Name, elems)
		}
	}
	if _, err := forecast.Plot(&forecast.Analysis{}, "gif"); err == nil {
		t.Error("no error for gif")
	}
}
