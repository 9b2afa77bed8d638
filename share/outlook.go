package share

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
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
	Checks   []Check // a replay's comparison with the 2001 measurements
	Logistic *LogisticFit
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

// Check is a published 2001 figure beside the simulation (from a replay's
// validation.json).
type Check struct {
	Name     string  `json:"name"`
	Source   string  `json:"source"`
	Measured float64 `json:"measured"`
	Unit     string  `json:"unit"`
	P05      float64 `json:"sim_p05"`
	P50      float64 `json:"sim_p50"`
	P95      float64 `json:"sim_p95"`
	Inside   bool    `json:"inside"`
	Note     string  `json:"note"`
}

// LogisticFit is a replay's random-constant-spread fit to the telescope.
type LogisticFit struct {
	Series         string       `json:"series"`
	KPerHour       [3]float64   `json:"k_per_hour"`
	T              [3]time.Time `json:"t"`
	PublishedKLow  float64      `json:"published_k_low"`
	PublishedKHigh float64      `json:"published_k_high"`
	Source         string       `json:"source"`
}

// FolderError is a problem with the folder given to ReadFolder: missing,
// unreadable, of neither kind, or with a file that does not parse. Its
// message names the file and, where it can, the line and the key or column.
type FolderError struct{ Err error }

func (e *FolderError) Error() string { return e.Err.Error() }
func (e *FolderError) Unwrap() error { return e.Err }

func folderErrorf(format string, a ...any) error {
	return &FolderError{fmt.Errorf(format, a...)}
}

// Names of the files ReadFolder reads.
const (
	SummaryFile    = "summary.json"
	TimeseriesFile = "timeseries.csv"
	ScenarioFile   = "scenario.toml"
	SensorsDir     = "sensors"
	ValidationFile = "validation.json"
	BandsFile      = "bands.csv"
)

// hostColumns are the series columns an outlook needs.
var hostColumns = []string{"susceptible", "infected", "infected_scanning", "infected_flooding", "infected_dormant", "patched", "removed", "new_infections", "ever_infected"}

// series is a table of per-bin values: for a run lo, mid and hi are the same
// slices; for a replay they are the 5%, 50% and 95% bands.
type series struct {
	file          string
	times         []time.Time
	lo, mid, hi   map[string][]float64
	spread        bool
	binSeconds    float64
	columnsHeader []string
	rawRows       [][]string
}

func (s *series) est(col string, i int) Estimate {
	return Estimate{Value: s.mid[col][i], Low: s.lo[col][i], High: s.hi[col][i], Spread: s.spread}
}

// ReadFolder reads a run folder (summary.json, timeseries.csv, and if
// present scenario.toml and sensors/*.csv) or a replay folder
// (validation.json, bands.csv, and if present the first seed's
// scenario.toml and sensors) and works out the outlook. Every error is a
// *FolderError naming the file.
func ReadFolder(dir string) (*Outlook, error) {
	st, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, folderErrorf("%s: no such folder", dir)
		}
		return nil, folderErrorf("%s: %v", dir, err)
	}
	if !st.IsDir() {
		return nil, folderErrorf("%s is a file, not a folder: give a run folder (with %s and %s) or a replay folder (with %s and %s)",
			dir, SummaryFile, TimeseriesFile, ValidationFile, BandsFile)
	}
	r := &reader{dir: dir, hash: sha256.New()}
	var o *Outlook
	switch {
	case r.exists(SummaryFile):
		o, err = r.run()
	case r.exists(ValidationFile):
		o, err = r.replay()
	default:
		return nil, folderErrorf("%s is neither a run folder (it has no %s) nor a replay folder (it has no %s)", dir, SummaryFile, ValidationFile)
	}
	if err != nil {
		return nil, err
	}
	o.Dir = dir
	o.Files = r.files
	o.Digest = hex.EncodeToString(r.hash.Sum(nil))
	return o, nil
}

type reader struct {
	dir   string
	files []string
	hash  interface {
		io.Writer
		Sum([]byte) []byte
	}
}

func (r *reader) exists(name string) bool {
	_, err := os.Stat(filepath.Join(r.dir, name))
	return err == nil
}

// read reads a file of the folder, adds it to the digest and returns its
// contents; a missing file is an error naming it.
func (r *reader) read(name string) ([]byte, error) {
	p := filepath.Join(r.dir, name)
	b, err := os.ReadFile(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, folderErrorf("%s: missing (a %s folder needs it)", p, r.kindFor(name))
		}
		return nil, folderErrorf("%s: %v", p, err)
	}
	h := b
	if filepath.Base(name) == SummaryFile {
		h = withoutWallClock(b)
	}
	fmt.Fprintf(r.hash, "%s\x00%d\x00", filepath.ToSlash(name), len(h))
	r.hash.Write(h)
	r.files = append(r.files, filepath.ToSlash(name))
	return b, nil
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

func (r *reader) kindFor(name string) string {
	if name == BandsFile || name == ValidationFile {
		return "replay"
	}
	return "run"
}

// jsonError turns a decoding error into one naming the file, line and key.
func jsonError(path string, b []byte, err error) error {
	line := func(off int64) int { return 1 + bytes.Count(b[:min(int(off), len(b))], []byte("\n")) }
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return folderErrorf("%s: line %d: not valid JSON: %v", path, line(se.Offset), err)
	case errors.As(err, &te):
		return folderErrorf("%s: line %d: key %s: a JSON %s cannot be a %s", path, line(te.Offset), te.Field, te.Value, te.Type)
	}
	return folderErrorf("%s: %v", path, err)
}

// summaryJSON is the part of summary.json the outlook uses (docs/output.md).
type summaryJSON struct {
	Scenario     *string    `json:"scenario"`
	Seed         *uint64    `json:"seed"`
	Version      string     `json:"version"`
	Start        *time.Time `json:"start"`
	End          *time.Time `json:"end"`
	BinSeconds   *float64   `json:"bin_seconds"`
	Variants     []string   `json:"variants"`
	EverInfected *int64     `json:"ever_infected"`
}

func (r *reader) run() (*Outlook, error) {
	path := filepath.Join(r.dir, SummaryFile)
	b, err := r.read(SummaryFile)
	if err != nil {
		return nil, err
	}
	var s summaryJSON
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, jsonError(path, b, err)
	}
	for key, missing := range map[string]bool{
		"scenario": s.Scenario == nil, "seed": s.Seed == nil, "start": s.Start == nil, "end": s.End == nil,
		"bin_seconds": s.BinSeconds == nil, "ever_infected": s.EverInfected == nil,
	} {
		if missing {
			return nil, folderErrorf("%s: key %s is missing", path, key)
		}
	}
	if !(*s.BinSeconds > 0) {
		return nil, folderErrorf("%s: key bin_seconds: %v is not a positive number of seconds", path, *s.BinSeconds)
	}
	if !s.End.After(*s.Start) {
		return nil, folderErrorf("%s: key end: %s is not after start %s", path, s.End.Format(time.RFC3339), s.Start.Format(time.RFC3339))
	}
	if *s.EverInfected < 0 {
		return nil, folderErrorf("%s: key ever_infected: %d is negative", path, *s.EverInfected)
	}
	ts, err := r.readSeries(TimeseriesFile, false)
	if err != nil {
		return nil, err
	}
	ts.binSeconds = *s.BinSeconds
	o := &Outlook{
		Kind: "run", Scenario: *s.Scenario, Seeds: []uint64{*s.Seed}, Version: s.Version, Variants: s.Variants,
		Start: s.Start.UTC(), End: s.End.UTC(), BinSeconds: *s.BinSeconds,
	}
	sc, err := r.scenario(ScenarioFile)
	if err != nil {
		return nil, err
	}
	last := len(ts.times) - 1
	if got := int64(ts.mid["ever_infected"][last]); got != *s.EverInfected {
		return nil, folderErrorf("%s: the last row's ever_infected (%d) differs from %s's ever_infected (%d): the files are not from the same run",
			filepath.Join(r.dir, TimeseriesFile), got, SummaryFile, *s.EverInfected)
	}
	o.fill(ts, sc)
	if err := r.runSensors(o); err != nil {
		return nil, err
	}
	return o, nil
}

// validationJSON is the part of validation.json the outlook uses.
type validationJSON struct {
	Scenario *string      `json:"scenario"`
	Seeds    []uint64     `json:"seeds"`
	Version  string       `json:"version"`
	Checks   []Check      `json:"checks"`
	Logistic *LogisticFit `json:"logistic"`
}

func (r *reader) replay() (*Outlook, error) {
	path := filepath.Join(r.dir, ValidationFile)
	b, err := r.read(ValidationFile)
	if err != nil {
		return nil, err
	}
	var v validationJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, jsonError(path, b, err)
	}
	if v.Scenario == nil {
		return nil, folderErrorf("%s: key scenario is missing", path)
	}
	if len(v.Seeds) == 0 {
		return nil, folderErrorf("%s: key seeds is missing or empty", path)
	}
	bs, err := r.readSeries(BandsFile, true)
	if err != nil {
		return nil, err
	}
	if len(bs.times) < 2 {
		return nil, folderErrorf("%s: one row only: a replay's bands need at least two bins", filepath.Join(r.dir, BandsFile))
	}
	o := &Outlook{Kind: "replay", Scenario: *v.Scenario, Seeds: v.Seeds, Version: v.Version, Checks: v.Checks, BinSeconds: bs.binSeconds}
	if v.Logistic != nil && v.Logistic.KPerHour[1] > 0 {
		o.Logistic = v.Logistic
	}
	o.Start = bs.times[0]
	o.End = bs.times[len(bs.times)-1].Add(time.Duration(bs.binSeconds * float64(time.Second)))
	// The scenario as run is in each seed's folder; the first one is read if
	// it is there (it is not required: a replay folder copied without its
	// seed folders still gives an advisory).
	var sc *scenarioInfo
	if seedDirs, _ := results.Seeds(r.dir); len(seedDirs) > 0 {
		name := filepath.Join(filepath.Base(seedDirs[0].Path), ScenarioFile)
		if r.exists(name) {
			if sc, err = r.scenario(name); err != nil {
				return nil, err
			}
		}
		if name := filepath.Join(filepath.Base(seedDirs[0].Path), SummaryFile); r.exists(name) {
			b, err := r.read(name)
			if err != nil {
				return nil, err
			}
			var s summaryJSON
			if err := json.Unmarshal(b, &s); err != nil {
				return nil, jsonError(filepath.Join(r.dir, name), b, err)
			}
			o.Variants = s.Variants
		}
	}
	o.fill(bs, sc)
	// Sensors: every band named <sensor>_cumulative_sources.
	for _, h := range bs.columnsHeader {
		name, ok := strings.CutSuffix(h, "_cumulative_sources_p50")
		if !ok {
			continue
		}
		sv := SensorView{Name: name}
		if err := bs.addColumns(name+"_cumulative_sources", name+"_new_sources"); err != nil {
			return nil, err
		}
		last := len(bs.times) - 1
		sv.Sources = bs.est(name+"_cumulative_sources", last)
		sv.PeakNewPM = bs.peak(name+"_new_sources", 60/bs.binSeconds)
		o.Sensors = append(o.Sensors, sv)
	}
	return o, nil
}

// readSeries reads timeseries.csv (bands false) or bands.csv (bands true):
// times in the first column, increasing by a constant bin, and the host
// columns (with _p05, _p50 and _p95 for bands).
func (r *reader) readSeries(name string, bands bool) (*series, error) {
	path := filepath.Join(r.dir, name)
	b, err := r.read(name)
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(bytes.NewReader(b))
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err == io.EOF {
		return nil, folderErrorf("%s: empty file (it needs a header line and one row per bin)", path)
	}
	if err != nil {
		return nil, folderErrorf("%s: %v", path, err)
	}
	head = slices.Clone(head)
	if len(head) == 0 || head[0] != "time" {
		return nil, folderErrorf("%s: line 1: the first column must be time, not %q", path, head[0])
	}
	s := &series{file: path, columnsHeader: head, spread: bands}
	var raw [][]string
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, folderErrorf("%s: %v", path, err)
		}
		line, _ := cr.FieldPos(0)
		t, err := time.Parse(time.RFC3339Nano, rec[0])
		if err != nil {
			return nil, folderErrorf("%s: line %d: column time: %q is not an RFC 3339 time such as 2001-07-19T10:00:00Z", path, line, rec[0])
		}
		if n := len(s.times); n > 0 && !t.After(s.times[n-1]) {
			return nil, folderErrorf("%s: line %d: column time: %s is not after the previous row's %s (times must increase)", path, line, rec[0], s.times[n-1].Format(time.RFC3339))
		}
		s.times = append(s.times, t.UTC())
		raw = append(raw, slices.Clone(rec))
	}
	if len(s.times) == 0 {
		return nil, folderErrorf("%s: no rows after the header", path)
	}
	if len(s.times) > 1 {
		s.binSeconds = s.times[1].Sub(s.times[0]).Seconds()
	}
	s.lo, s.mid, s.hi = map[string][]float64{}, map[string][]float64{}, map[string][]float64{}
	s.rawRows = raw
	if err := s.addColumns(hostColumns...); err != nil {
		return nil, err
	}
	return s, nil
}

// addColumns parses the named columns (with band suffixes for a replay).
func (s *series) addColumns(cols ...string) error {
	index := map[string]int{}
	for i, h := range s.columnsHeader {
		index[h] = i
	}
	parse := func(h string) ([]float64, error) {
		i, ok := index[h]
		if !ok {
			return nil, folderErrorf("%s: line 1: column %s is missing", s.file, h)
		}
		v := make([]float64, len(s.rawRows))
		for j, rec := range s.rawRows {
			if i >= len(rec) {
				return nil, folderErrorf("%s: line %d: column %s is missing (the row is short)", s.file, j+2, h)
			}
			x, err := strconv.ParseFloat(rec[i], 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
				return nil, folderErrorf("%s: line %d: column %s: %q is not a count (a number at least 0)", s.file, j+2, h, rec[i])
			}
			v[j] = x
		}
		return v, nil
	}
	for _, c := range cols {
		if !s.spread {
			v, err := parse(c)
			if err != nil {
				return err
			}
			s.lo[c], s.mid[c], s.hi[c] = v, v, v
			continue
		}
		var err error
		if s.lo[c], err = parse(c + "_p05"); err != nil {
			return err
		}
		if s.mid[c], err = parse(c + "_p50"); err != nil {
			return err
		}
		if s.hi[c], err = parse(c + "_p95"); err != nil {
			return err
		}
	}
	return nil
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

// scenario reads a resolved scenario.toml if it is there; a missing file
// gives nil and no error (it is optional), a broken one an error naming the
// line.
func (r *reader) scenario(name string) (*scenarioInfo, error) {
	if !r.exists(name) {
		return nil, nil
	}
	path := filepath.Join(r.dir, name)
	b, err := r.read(name)
	if err != nil {
		return nil, err
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

// runSensors reads sensors/*.csv of a run folder.
func (r *reader) runSensors(o *Outlook) error {
	files, err := results.Files(filepath.Join(r.dir, SensorsDir), ".csv")
	if err != nil {
		return err
	}
	for _, f := range files {
		name := filepath.Join(SensorsDir, f)
		p := filepath.Join(r.dir, name)
		b, err := r.read(name)
		if err != nil {
			return err
		}
		cr := csv.NewReader(bytes.NewReader(b))
		recs, err := cr.ReadAll()
		if err != nil {
			return folderErrorf("%s: %v", p, err)
		}
		if len(recs) < 2 {
			return folderErrorf("%s: no rows after the header", p)
		}
		s := &series{file: p, columnsHeader: recs[0], rawRows: recs[1:], lo: map[string][]float64{}, mid: map[string][]float64{}, hi: map[string][]float64{}}
		if err := s.addColumns("cumulative_sources", "new_sources", "size"); err != nil {
			return err
		}
		for _, rec := range recs[1:] {
			t, err := time.Parse(time.RFC3339Nano, rec[0])
			if err != nil {
				return folderErrorf("%s: line %d: column time: %q is not an RFC 3339 time", p, len(s.times)+2, rec[0])
			}
			s.times = append(s.times, t.UTC())
		}
		last := len(s.times) - 1
		o.Sensors = append(o.Sensors, SensorView{
			Name:      strings.TrimSuffix(filepath.Base(p), ".csv"),
			Size:      s.mid["size"][last],
			Sources:   s.est("cumulative_sources", last),
			PeakNewPM: s.peak("new_sources", 60/o.BinSeconds),
		})
	}
	return nil
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
		for _, c := range []string{"susceptible", "infected", "patched", "removed"} {
			x := s.est(c, i)
			e.Value += x.Value
		}
		// A sum of medians is not a median: the population is given without
		// a band (it varies little between seeds anyway).
		e.Low, e.High = e.Value, e.Value
		return e
	}
	o.Population = pop(0)
	o.EverInfected = s.est("ever_infected", last)
	o.PeakInfected = s.peak("infected", 1)
	o.PeakNewPerMin = s.peak("new_infections", 60/s.binSeconds)
	o.EndInfected = s.est("infected", last)
	o.EndDormant = s.est("infected_dormant", last)
	o.EndSusceptible = s.est("susceptible", last)
	o.EndPatched = s.est("patched", last)

	// Dormant periods: bins where most infected hosts are dormant.
	mid := s.mid
	dormant := func(i int) bool {
		d := mid["infected_dormant"][i]
		return d > 0 && d > mid["infected_scanning"][i]+mid["infected_flooding"][i]
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
				sum += mid["new_infections"][k]
			}
			o.LastRestart = &Restart{
				Time: s.times[j+1], Waking: s.est("infected_dormant", j), Susceptible: s.est("susceptible", j),
				FirstDay: &Estimate{Value: sum, Low: sum, High: sum}, WakeMedian: wake,
			}
		} else {
			o.NextRestart = &Restart{
				Time: nextMonth(s.times[last]), Waking: s.est("infected_dormant", last), Susceptible: s.est("susceptible", last), WakeMedian: wake,
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
