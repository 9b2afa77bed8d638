package chart_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"image/png"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"wormwatch/chart"
	"wormwatch/chart/charttest"
	"wormwatch/results"
)

// allFigures renders the synthetic result's figures once for the tests.
var allFigures = sync.OnceValues(func() ([]chart.Figure, error) {
	return chart.All(charttest.Result(charttest.Options{}))
})

func figures(t *testing.T) map[string]chart.Figure {
	t.Helper()
	figs, err := allFigures()
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]chart.Figure{}
	for _, f := range figs {
		m[f.Name] = f
	}
	return m
}

// checkFigure asserts that a figure's PNG decodes and its SVG is well-formed
// XML with an <svg> root.
func checkFigure(t *testing.T, f chart.Figure) {
	t.Helper()
	if f.Title == "" || f.Caption == "" {
		t.Errorf("%s: empty title or caption", f.Name)
	}
	img, err := png.Decode(bytes.NewReader(f.PNG))
	if err != nil {
		t.Errorf("%s: PNG: %v", f.Name, err)
	} else if b := img.Bounds(); b.Dx() < 600 || b.Dy() < 300 {
		t.Errorf("%s: PNG is %d x %d, want at least 600 x 300", f.Name, b.Dx(), b.Dy())
	}
	d := xml.NewDecoder(bytes.NewReader(f.SVG))
	root := ""
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Errorf("%s: SVG is not well-formed XML: %v", f.Name, err)
			break
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		t.Errorf("%s: SVG root element %q, want svg", f.Name, root)
	}
}

func TestAll(t *testing.T) {
	t.Parallel()
	figs, err := allFigures()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range figs {
		names = append(names, f.Name)
	}
	want := []string{"infected", "july19", "restart", "traffic", "telescope", "map-0719-1400", "map-0719-2000", "map-0720-0000"}
	if !slices.Equal(names, want) {
		t.Fatalf("figures %q, want %q", names, want)
	}
	for _, f := range figs {
		t.Run(f.Name, func(t *testing.T) {
			t.Parallel()
			checkFigure(t, f)
			if len(f.PNG) > 1<<20 || len(f.SVG) > 1<<20 {
				t.Errorf("PNG %d bytes, SVG %d bytes: want each under 1 MB", len(f.PNG), len(f.SVG))
			}
			if strings.HasPrefix(f.Name, chart.MapPrefix) {
				if !strings.Contains(f.Caption, "seed 1") {
					t.Errorf("map caption does not name its seed: %q", f.Caption)
				}
			} else if !strings.Contains(f.Caption, "22 seeds") || !strings.Contains(f.Caption, "5-95%") {
				t.Errorf("caption does not say it shows the 5-95%% band over 22 seeds: %q", f.Caption)
			}
		})
	}
}

// TestMeasuredPoints checks that each published point is labelled in the
// figures whose window holds it, and only there.
func TestMeasuredPoints(t *testing.T) {
	t.Parallel()
	figs := figures(t)
	tests := []struct {
		fig     string
		want    []string
		notWant []string
	}{
		{"infected", []string{"CAIDA: 359,104 sources", "CAIDA 25 July: 375,000"}, nil},
		{"telescope", []string{"CAIDA: 359,104 sources"}, []string{"CAIDA 25 July"}},
		{"july19", []string{"CAIDA: over 2,000 per minute"}, []string{"359,104"}},
		{"restart", nil, []string{"CAIDA"}},
	}
	for _, tc := range tests {
		f := figs[tc.fig]
		for _, s := range tc.want {
			if !bytes.Contains(f.SVG, []byte(s)) {
				t.Errorf("%s: the SVG does not show %q", tc.fig, s)
			}
			if !strings.Contains(f.Caption, s) {
				t.Errorf("%s: the caption does not list %q", tc.fig, s)
			}
		}
		for _, s := range tc.notWant {
			if bytes.Contains(f.SVG, []byte(s)) {
				t.Errorf("%s: the SVG shows %q, outside its window", tc.fig, s)
			}
		}
	}
}

// TestFullScale renders the figures of a replay at one-minute bins over
// 50 days (72,000 bins, as the real replay) and checks they stay small.
func TestFullScale(t *testing.T) {
	t.Parallel()
	r := charttest.Result(charttest.Options{BinSeconds: 60, Snapshots: 1})
	if len(r.Times) != 72000 {
		t.Fatalf("%d bins, want 72,000", len(r.Times))
	}
	for _, f := range []func(*results.Replay) (chart.Figure, error){chart.Infected, chart.July19, chart.Telescope} {
		fig, err := f(r)
		if err != nil {
			t.Fatal(err)
		}
		checkFigure(t, fig)
		if len(fig.SVG) > 600<<10 {
			t.Errorf("%s: SVG of %d bytes, want under 600 kB", fig.Name, len(fig.SVG))
		}
		if fig.Name == "july19" && !strings.Contains(fig.Caption, "1-minute bins") {
			t.Errorf("july19 at 1-minute bins: caption %q does not say so", fig.Caption)
		}
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	without := func(names ...string) func(*results.Replay) {
		return func(r *results.Replay) {
			r.Bands = slices.DeleteFunc(r.Bands, func(b results.Band) bool { return slices.Contains(names, b.Name) })
		}
	}
	tests := []struct {
		name   string
		opts   charttest.Options
		change func(*results.Replay)
		fig    func(*results.Replay) (chart.Figure, error)
		noData bool   // the error wraps ErrNoData
		want   string // in the error
	}{
		{name: "nil result", fig: func(*results.Replay) (chart.Figure, error) { return chart.Infected(nil) }, want: "no replay result"},
		{name: "no bins", change: func(r *results.Replay) { r.Times = nil }, fig: chart.Infected, want: "no time bins"},
		{name: "bad bin width", change: func(r *results.Replay) { r.BinSeconds = 0 }, fig: chart.Traffic, want: "bin_seconds"},
		{name: "missing band", change: without("infected"), fig: chart.Infected, want: `no band "infected"`},
		{name: "short band", change: func(r *results.Replay) { r.Bands[1].P50 = r.Bands[1].P50[:10] }, fig: chart.Infected, want: "values for"},
		{name: "before the outbreak", opts: charttest.Options{Days: 5}, fig: chart.July19, noData: true, want: "does not cover"},
		{name: "before the restart", opts: charttest.Options{Days: 5}, fig: chart.Restart, noData: true, want: "does not cover"},
		{name: "no telescope", change: func(r *results.Replay) {
			r.Sensors = nil
			without("ucsd-8_probes", "ucsd-8_sources", "ucsd-8_new_sources", "ucsd-8_cumulative_sources")(r)
		}, fig: chart.Telescope, noData: true, want: "no sensor"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := charttest.Result(tc.opts)
			if tc.change != nil {
				tc.change(r)
			}
			_, err := tc.fig(r)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if errors.Is(err, chart.ErrNoData) != tc.noData {
				t.Errorf("errors.Is(err, ErrNoData) = %v, want %v", !tc.noData, tc.noData)
			}
		})
	}
}

// TestAllLeavesOutMissingWindows: a replay of 12-17 July has no outbreak,
// restart or telescope days, and All gives the rest.
func TestAllLeavesOutMissingWindows(t *testing.T) {
	t.Parallel()
	figs, err := chart.All(charttest.Result(charttest.Options{Days: 5, Snapshots: 1}))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range figs {
		names = append(names, f.Name)
	}
	if want := []string{"infected", "traffic", "map-0719-1400"}; !slices.Equal(names, want) {
		t.Errorf("figures %q, want %q", names, want)
	}
	r := charttest.Result(charttest.Options{Days: 5})
	r.Bands = slices.DeleteFunc(r.Bands, func(b results.Band) bool { return b.Name == "syn_packets" })
	if _, err := chart.All(r); err == nil || !strings.Contains(err.Error(), "syn_packets") {
		t.Errorf("All without syn_packets: error %v, want one naming it", err)
	}
}

func TestMapsReject(t *testing.T) {
	t.Parallel()
	r := charttest.Result(charttest.Options{Days: 1})
	r.Maps[1].Infected = r.Maps[1].Infected[:100]
	if _, err := chart.Maps(r); err == nil || !strings.Contains(err.Error(), "65536") {
		t.Errorf("a snapshot of 100 /16s: error %v, want one saying 65536", err)
	}
	r.Maps = nil
	if figs, err := chart.Maps(r); err != nil || len(figs) != 0 {
		t.Errorf("no snapshots: %d figures, error %v; want none and no error", len(figs), err)
	}
}

func TestMapNamesAreUnique(t *testing.T) {
	t.Parallel()
	r := charttest.Result(charttest.Options{Days: 1, Snapshots: 1})
	r.Maps = append(r.Maps, r.Maps[0])
	figs, err := chart.Maps(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(figs) != 2 || figs[0].Name == figs[1].Name {
		t.Errorf("two snapshots at one time are named %q and %q", figs[0].Name, figs[1].Name)
	}
}
