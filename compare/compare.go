// Package compare puts result folders side by side: replays (bands.csv and
// one run folder per seed) and single runs (timeseries.csv), typically one
// baseline and what-if variants made with --set. It overlays their series
// on the same time axes (infected hosts, new infections, patched hosts,
// the telescopes' cumulative sources) and tabulates the differences of
// what matters (hosts ever infected, peak infection rate and its time,
// time to half the final count, total probes), each measured seed by seed
// and summarised as the median and 5-95% over seeds, beside its difference
// to the first folder.
//
// It reads only the folders' CSV and JSON files (docs/output.md) and
// writes compare.html (self-contained), plots/*.png and *.svg,
// compare.csv and compare.json.
package compare

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"wormwatch/results"
)

// Comparison is what compare computed from the folders.
type Comparison struct {
	// Folders in the order given; the first is the reference of the
	// differences.
	Folders []*Folder
	// Bin is the folders' common bin width; From and To bound the union of
	// their spans.
	Bin      time.Duration
	From, To time.Time
	// Sensors are the sensors every folder has, in the first folder's order.
	Sensors []string
	// Rows are the table: one per metric, with one value per folder.
	Rows []Row
}

// Metric is one line of the table.
type Metric struct {
	Key   string // column-safe name: "final_ever_infected"
	Title string // what a reader sees: "hosts ever infected, at the end"
	Unit  string // "hosts", "infections/min", "UTC", "probes"
	// Time marks instants: values are Unix seconds, shown as UTC times,
	// and differences are durations.
	Time bool
	// of measures the metric on one seed's outcome (NaN: undefined).
	of func(Outcome) float64
}

// Metrics are the rows of the table, in order.
var Metrics = []Metric{
	{Key: "final_ever_infected", Title: "hosts ever infected, at the end", Unit: "hosts",
		of: func(o Outcome) float64 { return o.FinalEverInfected }},
	{Key: "peak_infected", Title: "most hosts infected at once", Unit: "hosts",
		of: func(o Outcome) float64 { return o.PeakInfected }},
	{Key: "peak_new_infections_per_minute", Title: "peak new infections per minute", Unit: "infections/min",
		of: func(o Outcome) float64 { return o.PeakPerMinute }},
	{Key: "peak_time", Title: "time of that peak (start of its bin)", Unit: "UTC", Time: true,
		of: func(o Outcome) float64 { return unixOrNaN(o.PeakTime) }},
	{Key: "half_infected_time", Title: "time by which half of the hosts ever infected were infected", Unit: "UTC", Time: true,
		of: func(o Outcome) float64 { return unixOrNaN(o.HalfTime) }},
	{Key: "infections", Title: "infections, re-infections included", Unit: "infections",
		of: func(o Outcome) float64 { return o.Infections }},
	{Key: "total_probes", Title: "total probes", Unit: "probes",
		of: func(o Outcome) float64 { return o.TotalProbes }},
}

// Row is one metric over the folders.
type Row struct {
	Metric Metric
	Values []Value // one per folder, in order
}

// Value is one metric of one folder.
type Value struct {
	// N is the number of seeds on which the metric is defined (a peak time
	// needs an infection); the quantiles are over those.
	N             int
	P05, P50, P95 float64
	// Diff is P50 minus the first folder's P50 (seconds for times), and
	// Rel that difference over the first folder's P50; NaN for the first
	// folder and where undefined.
	Diff, Rel float64
}

func unixOrNaN(t time.Time) float64 {
	if t.IsZero() {
		return math.NaN()
	}
	return float64(t.UnixNano()) / 1e9
}

// Load reads the folders (each a run or a replay folder) and computes the
// comparison. labels name the folders in the legends and tables; empty, it
// defaults to the folders' base names (their paths where two share a base
// name). Problems with the input are *Error.
func Load(paths []string, labels []string) (*Comparison, error) {
	if len(paths) < 1 {
		return nil, inputf("compare needs at least one folder")
	}
	if len(labels) > 0 && len(labels) != len(paths) {
		return nil, inputf("--labels has %d labels for %d folders (want one label per folder, in order, separated by commas)", len(labels), len(paths))
	}
	seen := map[string]bool{}
	for i, l := range labels {
		switch {
		case strings.TrimSpace(l) == "":
			return nil, inputf("--labels: label %d is empty (want one non-empty label per folder)", i+1)
		case seen[l]:
			return nil, inputf("--labels: %q is given twice (want a different label per folder)", l)
		}
		seen[l] = true
	}
	c := &Comparison{}
	for _, p := range paths {
		f, err := readFolder(p)
		if err != nil {
			return nil, err
		}
		c.Folders = append(c.Folders, f)
	}
	setLabels(c.Folders, labels)
	if err := c.align(); err != nil {
		return nil, err
	}
	c.Sensors = commonSensors(c.Folders)
	c.Rows = measure(c.Folders)
	return c, nil
}

// setLabels names the folders.
func setLabels(folders []*Folder, labels []string) {
	if len(labels) > 0 {
		for i, f := range folders {
			f.Label = strings.TrimSpace(labels[i])
		}
		return
	}
	count := map[string]int{}
	for _, f := range folders {
		count[baseName(f.Path)]++
	}
	used := map[string]int{}
	for _, f := range folders {
		l := baseName(f.Path)
		if count[l] > 1 {
			l = filepath.Clean(f.Path)
		}
		// The same folder given twice.
		if used[l]++; used[l] > 1 {
			l = fmt.Sprintf("%s (%d)", l, used[l])
		}
		f.Label = l
	}
}

func baseName(p string) string {
	b := filepath.Base(filepath.Clean(p))
	if b == "." || b == string(filepath.Separator) {
		if abs, err := filepath.Abs(p); err == nil {
			b = filepath.Base(abs)
		}
	}
	return b
}

// align checks that the folders share their bins: the same width, and
// starts on the same grid (different starts and lengths are allowed).
func (c *Comparison) align() error {
	first := c.Folders[0]
	c.Bin = first.Bin
	c.From, c.To = first.Times[0], first.End()
	for _, f := range c.Folders[1:] {
		if f.Bin != first.Bin {
			return inputf("%s has bins of %s but %s has bins of %s: compare needs the same bin width in every folder (the scenario's bin)",
				f.Path, f.Bin, first.Path, first.Bin)
		}
		if d := f.Times[0].Sub(first.Times[0]); d%first.Bin != 0 {
			return inputf("%s starts at %s, not on the bins of %s (which start at %s, every %s): compare needs bins that line up",
				f.Path, f.Times[0].Format(time.RFC3339Nano), first.Path, first.Times[0].Format(time.RFC3339Nano), first.Bin)
		}
		if f.Times[0].Before(c.From) {
			c.From = f.Times[0]
		}
		if f.End().After(c.To) {
			c.To = f.End()
		}
	}
	return nil
}

// SameSpan reports whether every folder covers the same bins. When they
// do not, each folder's figures are measured over its own span.
func (c *Comparison) SameSpan() bool {
	f0 := c.Folders[0]
	for _, f := range c.Folders[1:] {
		if !f.Times[0].Equal(f0.Times[0]) || len(f.Times) != len(f0.Times) {
			return false
		}
	}
	return true
}

// commonSensors are the sensors every folder has.
func commonSensors(folders []*Folder) []string {
	var out []string
	for _, s := range folders[0].Sensors {
		all := true
		for _, f := range folders[1:] {
			all = all && slices.Contains(f.Sensors, s)
		}
		if all {
			out = append(out, s)
		}
	}
	return out
}

// measure measures every metric on every folder's seeds.
func measure(folders []*Folder) []Row {
	var rows []Row
	for _, m := range Metrics {
		r := Row{Metric: m}
		for _, f := range folders {
			var v []float64
			for _, o := range f.Outcomes {
				if x := m.of(o); !math.IsNaN(x) {
					v = append(v, x)
				}
			}
			val := Value{N: len(v), P05: math.NaN(), P50: math.NaN(), P95: math.NaN(), Diff: math.NaN(), Rel: math.NaN()}
			if len(v) > 0 {
				sort.Float64s(v)
				val.P05, val.P50, val.P95 = results.Quantile(v, 0.05), results.Quantile(v, 0.5), results.Quantile(v, 0.95)
			}
			r.Values = append(r.Values, val)
		}
		ref := r.Values[0].P50
		for i := 1; i < len(r.Values); i++ {
			d := r.Values[i].P50 - ref
			r.Values[i].Diff = d
			if !m.Time && ref != 0 {
				r.Values[i].Rel = d / ref
			}
		}
		rows = append(rows, r)
	}
	return rows
}
