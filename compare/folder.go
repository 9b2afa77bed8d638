package compare

import (
	"fmt"
	"math"
	"path/filepath"
	"time"

	"wormwatch/results"
)

// Outcome is what compare measures on one run (one seed).
type Outcome struct {
	Seed uint64
	// FinalEverInfected is ever_infected in the last bin: distinct hosts
	// infected at least once during the run.
	FinalEverInfected float64
	// PeakInfected is the largest number of hosts infected at once (at the
	// end of a bin).
	PeakInfected float64
	// PeakPerMinute is the largest new_infections of a bin, times 60 / the
	// bin's seconds (as peak_new_infections_per_minute in summary.json).
	PeakPerMinute float64
	// PeakTime is the start of the first bin holding that peak; zero when
	// no bin has an infection.
	PeakTime time.Time
	// HalfTime is the end of the first bin whose ever_infected is at least
	// half of FinalEverInfected (summary.json's
	// time_to_50_percent_infected_seconds after start); zero when no host
	// was infected.
	HalfTime time.Time
	// Infections is the sum of the new_infections column: infections,
	// re-infections of cleaned hosts included.
	Infections float64
	// TotalProbes is the sum of the probes column.
	TotalProbes float64
}

// Folder is one result folder as compare read it.
type Folder struct {
	Path     string
	Label    string
	Kind     results.Kind // results.KindRun or results.KindReplay
	Scenario string       // the scenario's name, "" if the folder does not say
	// Times are the starts of the bins, Bin their width.
	Times []time.Time
	Bin   time.Duration
	// Levels are the plotted series that are states at the end of a bin:
	// "infected", "patched" and "<sensor>_cumulative_sources".
	Levels map[string]results.Band
	// Sensors are the names of the sensors whose cumulative sources the
	// folder has, in order.
	Sensors []string
	// NewInfections holds each seed's new_infections per bin (one row for a
	// run folder).
	NewInfections [][]float64
	// Outcomes are each seed's measures (one for a run folder).
	Outcomes []Outcome
	// ScenarioTOML is the resolved scenario (of the first seed for a
	// replay), or nil if the folder has none.
	ScenarioTOML []byte
}

// End is the end of the folder's last bin.
func (f *Folder) End() time.Time { return f.Times[len(f.Times)-1].Add(f.Bin) }

// Seeds lists the folder's seeds.
func (f *Folder) Seeds() []uint64 {
	out := make([]uint64, len(f.Outcomes))
	for i, o := range f.Outcomes {
		out[i] = o.Seed
	}
	return out
}

// readFolder reads a run or replay folder.
func readFolder(path string) (*Folder, error) {
	kind, err := results.Detect(path)
	if err != nil {
		return nil, inputErr(err)
	}
	switch kind {
	case results.KindReplay:
		return readReplay(path)
	case results.KindRun:
		return readRun(path)
	case results.KindSeeds:
		return nil, inputf("%s: holds seed folders but no %s: it looks like the output of `wormwatch run --seeds`, not a replay (give one of its seed folders, or use `wormwatch replay`)", path, results.BandsFile)
	}
	return nil, inputf("%s: neither a run folder (no %s) nor a replay folder (no %s)", path, results.TimeseriesFile, results.BandsFile)
}

// readRunSeries reads one run folder (results.ReadRun): its
// timeseries.csv, summary.json, and as asked its scenario.toml and
// sensors' cumulative sources. It sets the bin width of a single-row
// series from summary.json and measures the run's outcome.
func readRunSeries(dir string, scenario, sensors bool) (*results.RunFolder, Outcome, error) {
	opt := results.RunOptions{Columns: timeseriesCols, EvenBins: true, Scenario: scenario}
	if sensors {
		opt.SensorColumns = []string{results.SensorCumulativeSources}
	}
	run, err := results.ReadRun(dir, opt)
	if err != nil {
		return nil, Outcome{}, inputErr(err)
	}
	t, s := run.Series, run.Summary
	if t.Bin == 0 { // a single row: the bin width is in summary.json
		if s == nil || s.BinSeconds == nil || !(*s.BinSeconds > 0) || *s.BinSeconds > 1e9 {
			return nil, Outcome{}, inputf("%s has a single row, so its bin width must come from %s (key bin_seconds, a positive number), which is missing",
				t.Name, filepath.Join(dir, results.SummaryFile))
		}
		t.Bin = time.Duration(*s.BinSeconds * float64(time.Second))
	}
	o := outcome(t)
	if s != nil && s.Seed != nil {
		o.Seed = *s.Seed
	} else if n, ok := results.ParseSeedDirName(filepath.Base(dir)); ok {
		o.Seed = n
	}
	return run, o, nil
}

// scenarioName is the scenario a run folder's summary.json names, "" if
// it does not.
func scenarioName(run *results.RunFolder) string {
	if run.Summary == nil || run.Summary.Scenario == nil {
		return ""
	}
	return *run.Summary.Scenario
}

// outcome measures one run from its time series.
func outcome(t *results.Table) Outcome {
	var o Outcome
	ever, newInf, inf, probes := t.Cols[results.EverInfected], t.Cols[results.NewInfections], t.Cols[results.Infected], t.Cols[results.Probes]
	n := len(t.Times)
	o.FinalEverInfected = ever[n-1]
	peak := 0
	for i := range n {
		if newInf[i] > newInf[peak] {
			peak = i
		}
		o.PeakInfected = math.Max(o.PeakInfected, inf[i])
		o.TotalProbes += probes[i]
		o.Infections += newInf[i]
	}
	o.PeakPerMinute = newInf[peak] * 60 / t.Bin.Seconds()
	if newInf[peak] > 0 {
		o.PeakTime = t.Times[peak]
	}
	if o.FinalEverInfected > 0 {
		for i := range n {
			if 2*ever[i] >= o.FinalEverInfected {
				o.HalfTime = t.Times[i].Add(t.Bin)
				break
			}
		}
	}
	return o
}

// readRun reads a run folder.
func readRun(dir string) (*Folder, error) {
	run, o, err := readRunSeries(dir, true, true)
	if err != nil {
		return nil, err
	}
	t := run.Series
	f := &Folder{
		Path: dir, Kind: results.KindRun, Scenario: scenarioName(run), Times: t.Times, Bin: t.Bin,
		Levels:        map[string]results.Band{},
		NewInfections: [][]float64{t.Cols[results.NewInfections]},
		Outcomes:      []Outcome{o},
		ScenarioTOML:  run.ScenarioTOML,
	}
	for _, l := range bandLevels {
		v := t.Cols[l]
		f.Levels[l] = results.Band{Name: l, P05: v, P50: v, P95: v}
	}
	// Sensors: sensors/<name>.csv, each on the time series' bins.
	for _, st := range run.Sensors {
		if err := sameBins(st.Table, t); err != nil {
			return nil, err
		}
		name := results.SensorBand(st.Name, results.SensorCumulativeSources)
		v := st.Cols[results.SensorCumulativeSources]
		f.Sensors = append(f.Sensors, st.Name)
		f.Levels[name] = results.Band{Name: name, P05: v, P50: v, P95: v}
	}
	return f, nil
}

// readReplay reads a replay folder: bands.csv for the plotted levels, and
// every seed folder's timeseries.csv for the outcomes and new infections.
func readReplay(dir string) (*Folder, error) {
	rp, err := results.ReadReplay(dir, results.ReplayOptions{Bands: bandsOf, EvenBins: true})
	if err != nil {
		return nil, inputErr(err)
	}
	t := rp.BandTable
	if t.Bin == 0 {
		return nil, inputf("%s: a single row; compare needs at least two bins to know their width", t.Name)
	}
	f := &Folder{Path: dir, Kind: results.KindReplay, Times: t.Times, Bin: t.Bin, Levels: map[string]results.Band{}}
	for _, b := range rp.BandNames {
		f.Levels[b] = rp.Band(b)
	}
	for _, b := range rp.BandNames[len(bandLevels):] {
		s, _ := results.SensorOfBand(b, results.SensorCumulativeSources)
		f.Sensors = append(f.Sensors, s)
	}
	if len(rp.Seeds) == 0 {
		return nil, inputf("%s: has %s but no seed folders (seed-0001, ...): compare measures each seed's run, so the replay's seed folders are needed", dir, results.BandsFile)
	}
	for i, sd := range rp.Seeds {
		run, o, err := readRunSeries(sd.Path, i == 0, false)
		if err != nil {
			return nil, err
		}
		if err := sameBins(run.Series, t); err != nil {
			return nil, err
		}
		if f.Scenario == "" {
			f.Scenario = scenarioName(run)
		}
		if i == 0 {
			f.ScenarioTOML = run.ScenarioTOML
		}
		f.NewInfections = append(f.NewInfections, run.Series.Cols[results.NewInfections])
		f.Outcomes = append(f.Outcomes, o)
	}
	return f, nil
}

// sameBins checks that a file has exactly the bins of another.
func sameBins(t, ref *results.Table) error {
	// A single-row file has no bin width of its own (0).
	if len(t.Times) != len(ref.Times) || !t.Times[0].Equal(ref.Times[0]) || (t.Bin != ref.Bin && t.Bin != 0 && ref.Bin != 0) {
		return inputf("%s: %s, but %s has %s: the files of one folder must cover the same bins",
			t.Name, binsText(t), ref.Name, binsText(ref))
	}
	return nil
}

func binsText(t *results.Table) string {
	return fmt.Sprintf("%d bins of %s from %s", len(t.Times), t.Bin, t.Times[0].Format(time.RFC3339))
}
