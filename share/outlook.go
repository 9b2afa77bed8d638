package share

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"path/filepath"
	"slices"
	"time"

	"github.com/pelletier/go-toml/v2"

	"wormwatch/results"
)

// Outlook is what an advisory says about an outbreak: where it stands at the
// end of the data and what comes next, read from a run folder (one
// simulation) or a replay folder (many seeds, with 5%-95% bands) by
// ReadFolder.
type Outlook struct {
	Kind        string   // "run" or "replay"
	Dir         string   // the folder read
	Files       []string // the files read, relative to Dir, in the order hashed
	Digest      string   // SHA-256 (hex) of the files read: the input's identity
	Scenario    string
	Description string
	Seeds       []uint64
	Version     string // wormwatch version that wrote the folder
	Variants    []string
	Start, End  time.Time // the data cover [Start, End)
	BinSeconds  float64

	Population     Estimate // hosts in the model at the start (vulnerable, infected, patched or removed); no band
	EverInfected   Estimate // distinct hosts infected by End: the total infected
	PeakInfected   Estimate // most hosts infected at once, and when (At)
	PeakNewPerMin  Estimate // most new infections per minute, and when (At)
	EndInfected    Estimate // infected at End
	EndDormant     Estimate // of which dormant
	EndSusceptible Estimate // vulnerable and neither infected nor patched at End
	EndPatched     Estimate // patched at End

	// LastRestart is the last re-emergence seen in the data (a dormant
	// period followed by scanning), if any.
	LastRestart *Restart
	// NextRestart is the restart to expect after End, if the worm sleeps and
	// wakes by the calendar; nil otherwise (see RestartNote).
	NextRestart *Restart
	// RestartNote says why there is no NextRestart, or how it was derived.
	RestartNote string

	Sensors  []SensorView
	Checks   []results.Check // a replay's comparison with the 2001 measurements
	Logistic *results.Logistic
}

// Estimate is a figure read from the folder: a run's value, or for a replay
// the median over seeds with the 5% and 95% quantiles.
type Estimate struct {
	Value     float64
	Low, High float64   // equal to Value for a run
	Spread    bool      // Low and High are quantiles over seeds
	At        time.Time // when, for a peak or an event; zero otherwise
}

// Restart is a re-emergence after a dormant period: seen in the data, or
// expected.
type Restart struct {
	// Time is, for a seen restart, the start of the first bin in which
	// scanning hosts again outnumber dormant ones; for an expected one, the
	// midnight UTC at which the worm's calendar wakes hosts whose clocks are
	// right.
	Time time.Time
	// Waking are the hosts infected and dormant just before (for an expected
	// restart after data that end while the worm still spreads or floods:
	// the hosts infected at the end, an upper bound since owners keep
	// patching and rebooting).
	Waking Estimate
	// Susceptible are the unpatched, uninfected hosts they can infect.
	Susceptible Estimate
	// FirstDay are the infections in the 24 hours from Time (seen restarts
	// only; for a replay, the sum of the per-bin medians).
	FirstDay *Estimate
	// WakeMedian is the scenario's median delay between midnight and a
	// host's waking (zero if unknown).
	WakeMedian time.Duration
}

// SensorView is what one simulated telescope saw.
type SensorView struct {
	Name      string
	Size      float64  // addresses watched; 0 if unknown
	Sources   Estimate // distinct sources seen by End
	PeakNewPM Estimate // most new sources per minute, and when
}

// FolderError is a problem with the folder given to ReadFolder: missing,
// unreadable, of neither kind, or with a file that does not parse. Its
// message names the file and, where it can, the line and the key or column.
type FolderError struct{ Err error }

// Error returns the message, which names the file (and the line and key
// or column where there is one).
func (e *FolderError) Error() string { return e.Err.Error() }

// Unwrap returns the cause (a *results.Error for a file that does not
// parse).
func (e *FolderError) Unwrap() error { return e.Err }

func folderErrorf(format string, a ...any) error {
	return &FolderError{fmt.Errorf(format, a...)}
}

// hostColumns are the series columns an outlook needs.
var hostColumns = []string{results.Susceptible, results.Infected, results.InfectedScanning, results.InfectedFlooding, results.InfectedDormant,
	results.Patched, results.Removed, results.NewInfections, results.EverInfected}

// series is a table of per-bin values: for a run lo, mid and hi are the same
// slices; for a replay they are the 5%, 50% and 95% bands.
type series struct {
	times       []time.Time
	lo, mid, hi map[string][]float64
	spread      bool
	binSeconds  float64
}

// runSeries is a run's table as a series: the three quantiles are the
// run's own values.
func runSeries(t *results.Table, binSeconds float64) *series {
	return &series{times: t.Times, lo: t.Cols, mid: t.Cols, hi: t.Cols, binSeconds: binSeconds}
}

func (s *series) est(col string, i int) Estimate {
	return Estimate{Value: s.mid[col][i], Low: s.lo[col][i], High: s.hi[col][i], Spread: s.spread}
}

// ReadFolder reads a run folder (summary.json, timeseries.csv, and if
// present scenario.toml and sensors/*.csv) or a replay folder
// (validation.json, bands.csv, and if present the first seed's
// scenario.toml and summary.json) with the readers of package results,
// and works out the outlook. Every error is a *FolderError naming the
// file.
func ReadFolder(dir string) (*Outlook, error) {
	kind, err := results.Detect(dir)
	if err != nil {
		return nil, &FolderError{err}
	}
	r := &reader{dir: dir, hash: sha256.New()}
	var o *Outlook
	switch kind {
	case results.KindRun:
		o, err = r.run()
	case results.KindReplay:
		o, err = r.replay()
	default:
		return nil, folderErrorf("%s is neither a run folder (it has no %s) nor a replay folder (it has no %s)", dir, results.SummaryFile, results.ValidationFile)
	}
	if err != nil {
		var fe *FolderError
		if !errors.As(err, &fe) {
			err = &FolderError{err}
		}
		return nil, err
	}
	o.Dir = dir
	o.Files = r.files
	o.Digest = hex.EncodeToString(r.hash.Sum(nil))
	return o, nil
}

// reader makes the digest of the files read: their names (relative to
// dir, slash-separated), lengths and contents, in the order read.
type reader struct {
	dir   string
	files []string
	hash  interface {
		io.Writer
		Sum([]byte) []byte
	}
}

// observe adds a file read to the digest (results.RunOptions.Observe).
func (r *reader) observe(name string, b []byte) {
	h := b
	if path.Base(name) == results.SummaryFile {
		h = withoutWallClock(b)
	}
	fmt.Fprintf(r.hash, "%s\x00%d\x00", name, len(h))
	r.hash.Write(h)
	r.files = append(r.files, name)
}

// withoutWallClock returns a summary.json without the two keys that hold
// wall-clock time (wall_seconds, probes_per_wall_second), re-encoded with
// sorted keys, so that the digest, and the advisory's tracking id, are the
// same for the same scenario and seeds however fast the machine was. A
// summary that does not decode is hashed as it is (its reader reports it).
func withoutWallClock(b []byte) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return b
	}
	delete(m, "wall_seconds")
	delete(m, "probes_per_wall_second")
	out, err := json.Marshal(m)
	if err != nil {
		return b
	}
	return out
}

// summaryKeys checks that a run's summary.json has the keys the outlook
// needs, with sensible values.
func summaryKeys(path string, s *results.Summary) error {
	if s == nil {
		return folderErrorf("%s: missing (a run folder needs it)", path)
	}
	for _, k := range []struct {
		key     string
		missing bool
	}{
		{"scenario", s.Scenario == nil}, {"seed", s.Seed == nil}, {"start", s.Start == nil}, {"end", s.End == nil},
		{"bin_seconds", s.BinSeconds == nil}, {"ever_infected", s.EverInfected == nil},
	} {
		if k.missing {
			return folderErrorf("%s: key %s is missing", path, k.key)
		}
	}
	if !(*s.BinSeconds > 0) {
		return folderErrorf("%s: key bin_seconds: %v is not a positive number of seconds", path, *s.BinSeconds)
	}
	if !s.End.After(*s.Start) {
		return folderErrorf("%s: key end: %s is not after start %s", path, s.End.Format(time.RFC3339), s.Start.Format(time.RFC3339))
	}
	if *s.EverInfected < 0 {
		return folderErrorf("%s: key ever_infected: %d is negative", path, *s.EverInfected)
	}
	return nil
}

// run reads a run folder (results.ReadRun) and works out its outlook.
func (r *reader) run() (*Outlook, error) {
	run, err := results.ReadRun(r.dir, results.RunOptions{
		Columns: hostColumns, Scenario: true, Observe: r.observe,
		SensorColumns: []string{results.SensorCumulativeSources, results.SensorNewSources, results.SensorSize},
	})
	if err != nil {
		return nil, err
	}
	s := run.Summary
	if err := summaryKeys(filepath.Join(r.dir, results.SummaryFile), s); err != nil {
		return nil, err
	}
	ts := runSeries(run.Series, *s.BinSeconds)
	o := &Outlook{
		Kind: string(results.KindRun), Scenario: *s.Scenario, Seeds: []uint64{*s.Seed}, Version: s.Version, Variants: s.Variants,
		Start: s.Start.UTC(), End: s.End.UTC(), BinSeconds: *s.BinSeconds,
	}
	sc, err := parseScenario(filepath.Join(r.dir, results.ScenarioFile), run.ScenarioTOML)
	if err != nil {
		return nil, err
	}
	last := len(ts.times) - 1
	if got := int64(ts.mid[results.EverInfected][last]); got != *s.EverInfected {
		return nil, folderErrorf("%s: the last row's ever_infected (%d) differs from %s's ever_infected (%d): the files are not from the same run",
			run.Series.Name, got, results.SummaryFile, *s.EverInfected)
	}
	o.fill(ts, sc)
	for _, st := range run.Sensors {
		ss := runSeries(st.Table, o.BinSeconds)
		last := len(ss.times) - 1
		o.Sensors = append(o.Sensors, SensorView{
			Name:      st.Name,
			Size:      ss.mid[results.SensorSize][last],
			Sources:   ss.est(results.SensorCumulativeSources, last),
			PeakNewPM: ss.peak(results.SensorNewSources, 60/o.BinSeconds),
		})
	}
	return o, nil
}

// replayBands chooses the bands of bands.csv an outlook reads: the host
// columns, and each sensor's cumulative and new sources (a band
// <sensor>_cumulative_sources names a sensor).
func replayBands(header []string) []string {
	bands := slices.Clone(hostColumns)
	for _, s := range results.SensorsOfBands(header, results.SensorCumulativeSources) {
		bands = append(bands, results.SensorBand(s, results.SensorCumulativeSources), results.SensorBand(s, results.SensorNewSources))
	}
	return bands
}

// replay reads a replay folder (results.ReadReplay) and works out its
// outlook.
func (r *reader) replay() (*Outlook, error) {
	rp, err := results.ReadReplay(r.dir, results.ReplayOptions{Validation: true, Bands: replayBands, FirstSeed: true, Observe: r.observe})
	if err != nil {
		return nil, err
	}
	bt := rp.BandTable
	if len(bt.Times) < 2 {
		return nil, folderErrorf("%s: one row only: a replay's bands need at least two bins", bt.Name)
	}
	bs := &series{times: bt.Times, lo: map[string][]float64{}, mid: map[string][]float64{}, hi: map[string][]float64{},
		spread: true, binSeconds: bt.Bin.Seconds()}
	for _, name := range rp.BandNames {
		b := rp.Band(name)
		bs.lo[name], bs.mid[name], bs.hi[name] = b.P05, b.P50, b.P95
	}
	v := rp.Validation
	o := &Outlook{Kind: string(results.KindReplay), Scenario: v.Scenario, Seeds: v.Seeds, Version: v.Version, Checks: v.Checks, BinSeconds: bs.binSeconds}
	if v.Logistic.KPerHour[1] > 0 {
		l := v.Logistic
		o.Logistic = &l
	}
	o.Start = bs.times[0]
	o.End = bs.times[len(bs.times)-1].Add(time.Duration(bs.binSeconds * float64(time.Second)))
	// The scenario as run is in each seed's folder; the first one is read if
	// it is there (it is not required: a replay folder copied without its
	// seed folders still gives an advisory).
	var sc *scenarioInfo
	if len(rp.Seeds) > 0 {
		if sc, err = parseScenario(filepath.Join(rp.Seeds[0].Path, results.ScenarioFile), rp.FirstScenarioTOML); err != nil {
			return nil, err
		}
	}
	if rp.FirstSummary != nil {
		o.Variants = rp.FirstSummary.Variants
	}
	o.fill(bs, sc)
	// Sensors: every band named <sensor>_cumulative_sources.
	last := len(bs.times) - 1
	for _, name := range results.SensorsOfBands(bt.Header, results.SensorCumulativeSources) {
		o.Sensors = append(o.Sensors, SensorView{
			Name:      name,
			Sources:   bs.est(results.SensorBand(name, results.SensorCumulativeSources), last),
			PeakNewPM: bs.peak(results.SensorBand(name, results.SensorNewSources), 60/bs.binSeconds),
		})
	}
	return o, nil
}

// peak finds the bin where the median of col is highest (the first such
// bin) and returns the value there times scale, with its band.
func (s *series) peak(col string, scale float64) Estimate {
	best := 0
	for i, x := range s.mid[col] {
		if x > s.mid[col][best] {
			best = i
		}
	}
	e := s.est(col, best)
	e.Value *= scale
	e.Low *= scale
	e.High *= scale
	e.At = s.times[best]
	return e
}

// scenarioInfo is what the outlook takes from scenario.toml.
type scenarioInfo struct {
	Name        string
	Description string
	Monthly     []string      // variants that sleep and wake by Code Red's calendar
	WakeMedian  time.Duration // the first monthly variant's median wake delay
}

// parseScenario reads a resolved scenario.toml, the file at path holding
// b; nil (a missing file: it is optional) gives nil and no error, a
// broken one an error naming the line.
func parseScenario(path string, b []byte) (*scenarioInfo, error) {
	if b == nil {
		return nil, nil
	}
	var doc map[string]any
	if err := toml.Unmarshal(b, &doc); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, _ := de.Position()
			return nil, folderErrorf("%s: line %d: %v", path, row, de)
		}
		return nil, folderErrorf("%s: %v", path, err)
	}
	sc := &scenarioInfo{}
	sc.Name, _ = doc["name"].(string)
	sc.Description, _ = doc["description"].(string)
	worms, _ := doc["worm"].([]any)
	for _, w := range worms {
		wm, _ := w.(map[string]any)
		cal, _ := wm["calendar"].(map[string]any)
		if kind, _ := cal["kind"].(string); kind != "monthly" {
			continue
		}
		name, _ := wm["name"].(string)
		sc.Monthly = append(sc.Monthly, name)
		if wd, _ := cal["wake_delay"].(map[string]any); wd != nil && sc.WakeMedian == 0 {
			kind, _ := wd["kind"].(string)
			mean, _ := wd["mean"].(string)
			// The median of a lognormal is its "mean" key (docs/scenario.md);
			// for a fixed delay the value; for an exponential, mean x ln 2.
			if d, err := time.ParseDuration(mean); err == nil {
				switch kind {
				case "lognormal", "fixed":
					sc.WakeMedian = d
				case "exponential":
					sc.WakeMedian = time.Duration(float64(d) * math.Ln2)
				}
			}
		}
	}
	return sc, nil
}

// fill works out the outlook's figures from the series.
func (o *Outlook) fill(s *series, sc *scenarioInfo) {
	if sc != nil {
		if o.Description == "" {
			o.Description = sc.Description
		}
	}
	n := len(s.times)
	last := n - 1
	pop := func(i int) Estimate {
		var e Estimate
		for _, c := range []string{results.Susceptible, results.Infected, results.Patched, results.Removed} {
			x := s.est(c, i)
			e.Value += x.Value
		}
		// A sum of medians is not a median: the population is given without
		// a band (it varies little between seeds anyway).
		e.Low, e.High = e.Value, e.Value
		return e
	}
	o.Population = pop(0)
	o.EverInfected = s.est(results.EverInfected, last)
	o.PeakInfected = s.peak(results.Infected, 1)
	o.PeakNewPerMin = s.peak(results.NewInfections, 60/s.binSeconds)
	o.EndInfected = s.est(results.Infected, last)
	o.EndDormant = s.est(results.InfectedDormant, last)
	o.EndSusceptible = s.est(results.Susceptible, last)
	o.EndPatched = s.est(results.Patched, last)

	// Dormant periods: bins where most infected hosts are dormant.
	mid := s.mid
	dormant := func(i int) bool {
		d := mid[results.InfectedDormant][i]
		return d > 0 && d > mid[results.InfectedScanning][i]+mid[results.InfectedFlooding][i]
	}
	perDay := int(math.Round(86400 / s.binSeconds))
	var wake time.Duration
	if sc != nil {
		wake = sc.WakeMedian
	}
	for i := 0; i < n; {
		if !dormant(i) {
			i++
			continue
		}
		j := i
		for j+1 < n && dormant(j+1) {
			j++
		}
		if j+1 < n {
			sum := 0.0
			for k := j + 1; k < min(n, j+1+perDay); k++ {
				sum += mid[results.NewInfections][k]
			}
			o.LastRestart = &Restart{
				Time: s.times[j+1], Waking: s.est(results.InfectedDormant, j), Susceptible: s.est(results.Susceptible, j),
				FirstDay: &Estimate{Value: sum, Low: sum, High: sum}, WakeMedian: wake,
			}
		} else {
			o.NextRestart = &Restart{
				Time: nextMonth(s.times[last]), Waking: s.est(results.InfectedDormant, last), Susceptible: s.est(results.Susceptible, last), WakeMedian: wake,
			}
			o.RestartNote = "The data end while most infected hosts are dormant: they wake at the start of the next month."
		}
		i = j + 1
	}
	if o.NextRestart != nil {
		return
	}
	monthly := sc != nil && len(sc.Monthly) > 0
	if sc == nil {
		// Without the scenario, Code Red I and II by their usual names.
		for _, v := range o.Variants {
			if v == "crv1" || v == "crv2" {
				monthly = true
			}
		}
	}
	switch {
	case monthly && o.EndInfected.Value > 0:
		o.NextRestart = &Restart{Time: nextMonth(s.times[last]), Waking: o.EndInfected, Susceptible: o.EndSusceptible, WakeMedian: wake}
		o.RestartNote = "The data end before the worm's dormant days: by its calendar (spread on days 1-19, flood on 20-27, dormant from the 28th) " +
			"the hosts still infected and unpatched then wake at the start of the next month; the hosts infected at the end of the data are an upper bound, " +
			"since owners go on patching and rebooting."
	case monthly:
		o.RestartNote = "No host is infected at the end of the data, so no restart is expected."
	default:
		o.RestartNote = "The worm variants in this folder do not sleep and wake by a monthly calendar, so no restart is expected from them."
	}
}

// nextMonth is the first midnight UTC on the 1st of a month after t.
func nextMonth(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)
}
