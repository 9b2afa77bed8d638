package compare

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"wormwatch/results"
)

// Kind says what a result folder is.
type Kind string

// The kinds of folder compare reads.
const (
	// Run is a folder written by `wormwatch run` for one seed: it holds
	// timeseries.csv (and sensors/<name>.csv for each sensor).
	Run Kind = "run"
	// Replay is a folder written by `wormwatch replay`: bands.csv, and one
	// run folder per seed (seed-0001, ...).
	Replay Kind = "replay"
)

// Files compare reads (docs/output.md).
const (
	bandsFile      = "bands.csv"
	timeseriesFile = "timeseries.csv"
	summaryFile    = "summary.json"
	scenarioFile   = "scenario.toml"
	sensorsDir     = "sensors"
)

// Band is a series over seeds: its 5th, 50th and 95th percentile per bin.
// For a run folder the three are the run's own series.
type Band struct {
	P05, P50, P95 []float64
}

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
	Kind     Kind
	Scenario string // the scenario's name, "" if the folder does not say
	// Times are the starts of the bins, Bin their width.
	Times []time.Time
	Bin   time.Duration
	// Levels are the plotted series that are states at the end of a bin:
	// "infected", "patched" and "<sensor>_cumulative_sources".
	Levels map[string]Band
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
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, inputf("%s: no such folder (want a run or replay folder)", path)
		}
		return nil, inputf("%s: %v", path, err)
	}
	if !st.IsDir() {
		return nil, inputf("%s: not a folder (want a run folder, with %s, or a replay folder, with %s)", path, timeseriesFile, bandsFile)
	}
	switch {
	case exists(filepath.Join(path, bandsFile)):
		return readReplay(path)
	case exists(filepath.Join(path, timeseriesFile)):
		return readRun(path)
	}
	if seeds, _ := seedDirs(path); len(seeds) > 0 {
		return nil, inputf("%s: holds seed folders but no %s: it looks like the output of `wormwatch run --seeds`, not a replay (give one of its seed folders, or use `wormwatch replay`)", path, bandsFile)
	}
	return nil, inputf("%s: neither a run folder (no %s) nor a replay folder (no %s)", path, timeseriesFile, bandsFile)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// seedDirs lists the complete seed folders of a replay, in seed order
// (results.Seeds: temporary folders of seeds being written are not seeds).
func seedDirs(path string) ([]string, error) {
	seeds, err := results.Seeds(path)
	if err != nil {
		return nil, inputf("%s: %v", path, err)
	}
	var out []string
	for _, s := range seeds {
		out = append(out, s.Path)
	}
	return out, nil
}

// summary holds the keys of summary.json compare uses.
type summary struct {
	Scenario   string   `json:"scenario"`
	Seed       *uint64  `json:"seed"`
	BinSeconds *float64 `json:"bin_seconds"`
}

// readSummary reads a run folder's summary.json, if it has one.
func readSummary(dir string) (summary, bool, error) {
	path := filepath.Join(dir, summaryFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return summary{}, false, nil
	}
	if err != nil {
		return summary{}, false, openError(path, err)
	}
	var s summary
	if err := json.Unmarshal(b, &s); err != nil {
		return summary{}, false, inputf("%s: %v (want the JSON object of docs/output.md)", path, err)
	}
	return s, true, nil
}

// readRunSeries reads one run folder's timeseries.csv and summary.json:
// its times, bin width, outcome and new infections.
func readRunSeries(dir string) (*table, Outcome, summary, error) {
	path := filepath.Join(dir, timeseriesFile)
	t, err := readCSVFile(path, fixed(timeseriesCols...))
	if err != nil {
		return nil, Outcome{}, summary{}, err
	}
	s, ok, err := readSummary(dir)
	if err != nil {
		return nil, Outcome{}, summary{}, err
	}
	if t.Bin == 0 { // a single row: the bin width is in summary.json
		if !ok || s.BinSeconds == nil || !(*s.BinSeconds > 0) || *s.BinSeconds > 1e9 {
			return nil, Outcome{}, summary{}, inputf("%s has a single row, so its bin width must come from %s (key bin_seconds, a positive number), which is missing",
				path, filepath.Join(dir, summaryFile))
		}
		t.Bin = time.Duration(*s.BinSeconds * float64(time.Second))
	}
	o := outcome(t)
	if ok && s.Seed != nil {
		o.Seed = *s.Seed
	} else if n, ok := results.ParseSeedDirName(filepath.Base(dir)); ok {
		o.Seed = n
	}
	return t, o, s, nil
}

// outcome measures one run from its time series.
func outcome(t *table) Outcome {
	var o Outcome
	ever, newInf, inf, probes := t.Cols["ever_infected"], t.Cols["new_infections"], t.Cols["infected"], t.Cols["probes"]
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
	t, o, s, err := readRunSeries(dir)
	if err != nil {
		return nil, err
	}
	f := &Folder{
		Path: dir, Kind: Run, Scenario: s.Scenario, Times: t.Times, Bin: t.Bin,
		Levels:        map[string]Band{},
		NewInfections: [][]float64{t.Cols["new_infections"]},
		Outcomes:      []Outcome{o},
	}
	for _, l := range bandLevels {
		v := t.Cols[l]
		f.Levels[l] = Band{P05: v, P50: v, P95: v}
	}
	// Sensors: sensors/<name>.csv, each on the time series' bins.
	sensorFiles, err := results.Files(filepath.Join(dir, sensorsDir), ".csv")
	if err != nil {
		return nil, inputf("%s: %v", filepath.Join(dir, sensorsDir), err)
	}
	for _, name := range sensorFiles {
		path := filepath.Join(dir, sensorsDir, name)
		st, err := readCSVFile(path, fixed("cumulative_sources"))
		if err != nil {
			return nil, err
		}
		if err := sameBins(path, st, filepath.Join(dir, timeseriesFile), t); err != nil {
			return nil, err
		}
		name := strings.TrimSuffix(filepath.Base(path), ".csv")
		v := st.Cols["cumulative_sources"]
		f.Sensors = append(f.Sensors, name)
		f.Levels[name+"_cumulative_sources"] = Band{P05: v, P50: v, P95: v}
	}
	f.ScenarioTOML = readOptional(filepath.Join(dir, scenarioFile))
	return f, nil
}

// readReplay reads a replay folder: bands.csv for the plotted levels, and
// every seed folder's timeseries.csv for the outcomes and new infections.
func readReplay(dir string) (*Folder, error) {
	bpath := filepath.Join(dir, bandsFile)
	fh, err := os.Open(bpath)
	if err != nil {
		return nil, openError(bpath, err)
	}
	t, sensors, err := readBands(fh, bpath)
	fh.Close()
	if err != nil {
		return nil, err
	}
	if t.Bin == 0 {
		return nil, inputf("%s: a single row; compare needs at least two bins to know their width", bpath)
	}
	f := &Folder{Path: dir, Kind: Replay, Times: t.Times, Bin: t.Bin, Sensors: sensors, Levels: map[string]Band{}}
	for _, l := range append(slices.Clone(bandLevels), sensorCols(sensors)...) {
		f.Levels[l] = Band{P05: t.Cols[l+"_p05"], P50: t.Cols[l+"_p50"], P95: t.Cols[l+"_p95"]}
	}
	seeds, err := seedDirs(dir)
	if err != nil {
		return nil, err
	}
	if len(seeds) == 0 {
		return nil, inputf("%s: has %s but no seed folders (seed-0001, ...): compare measures each seed's run, so the replay's seed folders are needed", dir, bandsFile)
	}
	for _, sd := range seeds {
		st, o, s, err := readRunSeries(sd)
		if err != nil {
			return nil, err
		}
		if err := sameBins(filepath.Join(sd, timeseriesFile), st, bpath, t); err != nil {
			return nil, err
		}
		if f.Scenario == "" {
			f.Scenario = s.Scenario
		}
		f.NewInfections = append(f.NewInfections, st.Cols["new_infections"])
		f.Outcomes = append(f.Outcomes, o)
	}
	f.ScenarioTOML = readOptional(filepath.Join(seeds[0], scenarioFile))
	return f, nil
}

// sameBins checks that a file has exactly the bins of another.
func sameBins(path string, t *table, refPath string, ref *table) error {
	// A single-row file has no bin width of its own (0).
	if len(t.Times) != len(ref.Times) || !t.Times[0].Equal(ref.Times[0]) || (t.Bin != ref.Bin && t.Bin != 0 && ref.Bin != 0) {
		return inputf("%s: %s, but %s has %s: the files of one folder must cover the same bins",
			path, binsText(t), refPath, binsText(ref))
	}
	return nil
}

func binsText(t *table) string {
	return fmt.Sprintf("%d bins of %s from %s", len(t.Times), t.Bin, t.Times[0].Format(time.RFC3339))
}

// readOptional returns a file's contents, or nil if it cannot be read.
func readOptional(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return b
}
