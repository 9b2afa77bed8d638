package results

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Kind says what a results folder is.
type Kind string

// The kinds of results folder.
const (
	// KindRun is a run folder (one seed, written by `run`): summary.json
	// and timeseries.csv, and sensors/<name>.csv for each sensor.
	KindRun Kind = "run"
	// KindReplay is a replay folder (written by `replay`): bands.csv and
	// validation.json, and one run folder per seed.
	KindReplay Kind = "replay"
	// KindSeeds is a folder of seed folders without bands (written by `run
	// --seeds`).
	KindSeeds Kind = "seeds"
	// KindNone is a folder that is none of these.
	KindNone Kind = ""
)

// Detect says what kind of results folder dir is: a replay folder if it
// holds bands.csv or validation.json, else a run folder if it holds
// summary.json or timeseries.csv, else KindSeeds if it holds seed folders
// (Seeds), else KindNone. A dir that does not exist or is not a folder is
// an *Error.
func Detect(dir string) (Kind, error) {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return KindNone, errorf(dir, "no such folder (want a run or replay folder)")
	case err != nil:
		return KindNone, errorf(dir, "%s", pathless(err))
	case !st.IsDir():
		return KindNone, errorf(dir, "is a file, not a folder (want a run folder, with %s and %s, or a replay folder, with %s and %s)",
			SummaryFile, TimeseriesFile, BandsFile, ValidationFile)
	}
	has := func(name string) bool { _, err := os.Stat(filepath.Join(dir, name)); return err == nil }
	switch {
	case has(BandsFile) || has(ValidationFile):
		return KindReplay, nil
	case has(SummaryFile) || has(TimeseriesFile):
		return KindRun, nil
	}
	if seeds, _ := Seeds(dir); len(seeds) > 0 {
		return KindSeeds, nil
	}
	return KindNone, nil
}

// folder reads the files of one results folder.
type folder struct {
	dir     string
	kind    Kind
	observe func(name string, data []byte)
}

// exists reports whether the folder holds name (slash-separated).
func (f folder) exists(name string) bool {
	_, err := os.Stat(filepath.Join(f.dir, filepath.FromSlash(name)))
	return err == nil
}

// read returns the contents of the file name (slash-separated) and shows
// them to observe; a missing file is an *Error saying the folder needs it.
func (f folder) read(name string) ([]byte, error) {
	p := filepath.Join(f.dir, filepath.FromSlash(name))
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, readError(p, string(f.kind), err)
	}
	if f.observe != nil {
		f.observe(name, b)
	}
	return b, nil
}

// path is the path of the file name (slash-separated), for messages.
func (f folder) path(name string) string { return filepath.Join(f.dir, filepath.FromSlash(name)) }

// table reads a per-bin CSV file of the folder.
func (f folder) table(name string, opt TableOptions) (*Table, error) {
	b, err := f.read(name)
	if err != nil {
		return nil, err
	}
	return ReadTable(context.Background(), bytes.NewReader(b), f.path(name), opt)
}

// summary reads summary.json, or returns nil if the folder has none.
func (f folder) summary(name string) (*Summary, error) {
	if !f.exists(name) {
		return nil, nil
	}
	b, err := f.read(name)
	if err != nil {
		return nil, err
	}
	return ParseSummary(b, f.path(name))
}

// optional reads a file if the folder has it, or returns nil.
func (f folder) optional(name string) ([]byte, error) {
	if !f.exists(name) {
		return nil, nil
	}
	return f.read(name)
}

// RunOptions say what ReadRun reads of a run folder besides its
// summary.json and timeseries.csv.
type RunOptions struct {
	// Columns are the columns of timeseries.csv to keep; all must be
	// there.
	Columns []string
	// EvenBins requires the same step between every two rows of each CSV
	// file.
	EvenBins bool
	// Scenario reads scenario.toml, when the folder has it.
	Scenario bool
	// SensorColumns are the columns of each sensors/<name>.csv to keep
	// (all must be there); nil leaves the sensors unread.
	SensorColumns []string
	// Observe, when set, is shown each file read: its name relative to the
	// folder (slash-separated) and its contents, in the order read
	// (summary.json, timeseries.csv, scenario.toml, then the sensors by
	// name). Package share makes the advisory's identity of them.
	Observe func(name string, data []byte)
}

// RunFolder is a run folder as ReadRun read it.
type RunFolder struct {
	Dir string
	// Summary is summary.json, nil when the folder has none.
	Summary *Summary
	// Series is timeseries.csv.
	Series *Table
	// ScenarioTOML is scenario.toml, nil when not asked for or missing.
	ScenarioTOML []byte
	// Sensors are the sensor series, in name order.
	Sensors []SensorTable
}

// SensorTable is one sensor series of a run folder: the sensor's name
// (its file's, without SensorExt) and the columns read.
type SensorTable struct {
	Name string
	*Table
}

// ReadRun reads the run folder dir (docs/output.md): summary.json when it
// is there, timeseries.csv, and as opt asks scenario.toml and the sensor
// series. Its problems are *Error naming the file, and the line and column
// or key where there is one.
func ReadRun(dir string, opt RunOptions) (*RunFolder, error) {
	f := folder{dir: dir, kind: KindRun, observe: opt.Observe}
	run := &RunFolder{Dir: dir}
	var err error
	if run.Summary, err = f.summary(SummaryFile); err != nil {
		return nil, err
	}
	if run.Series, err = f.table(TimeseriesFile, TableOptions{Columns: Want(opt.Columns...), EvenBins: opt.EvenBins}); err != nil {
		return nil, err
	}
	if opt.Scenario {
		if run.ScenarioTOML, err = f.optional(ScenarioFile); err != nil {
			return nil, err
		}
	}
	if opt.SensorColumns == nil {
		return run, nil
	}
	names, err := Files(filepath.Join(dir, SensorsDir), SensorExt)
	if err != nil {
		return nil, errorf(filepath.Join(dir, SensorsDir), "%s", pathless(err))
	}
	for _, n := range names {
		t, err := f.table(path.Join(SensorsDir, n), TableOptions{Columns: Want(opt.SensorColumns...), EvenBins: opt.EvenBins})
		if err != nil {
			return nil, err
		}
		run.Sensors = append(run.Sensors, SensorTable{Name: strings.TrimSuffix(n, SensorExt), Table: t})
	}
	return run, nil
}

// ReplayOptions say what ReadReplay reads of a replay folder besides its
// bands.csv.
type ReplayOptions struct {
	// Validation reads validation.json, which must then be there.
	Validation bool
	// Bands chooses the bands of bands.csv to keep given its header; each
	// must have its three columns (BandColumns).
	Bands func(header []string) []string
	// EvenBins requires the same step between every two rows.
	EvenBins bool
	// FirstSeed reads the first seed folder's scenario.toml and
	// summary.json, each when it is there.
	FirstSeed bool
	// Observe is as in RunOptions; the files are read in the order
	// validation.json, bands.csv, then the first seed's scenario.toml and
	// summary.json.
	Observe func(name string, data []byte)
}

// ReplayFolder is a replay folder as ReadReplay read it.
type ReplayFolder struct {
	Dir string
	// Validation is validation.json, nil when not asked for.
	Validation *ValidationReport
	// BandTable is bands.csv with the columns of the bands kept, which
	// BandNames names in order.
	BandTable *Table
	BandNames []string
	// Seeds are the complete seed folders, in seed order.
	Seeds []SeedDir
	// FirstSummary and FirstScenarioTOML are the first seed folder's, nil
	// when not asked for or missing.
	FirstSummary      *Summary
	FirstScenarioTOML []byte
}

// Band returns a band kept of bands.csv.
func (r *ReplayFolder) Band(name string) Band {
	c := BandColumns(name)
	t := r.BandTable.Cols
	return Band{Name: name, P05: t[c[0]], P50: t[c[1]], P95: t[c[2]]}
}

// Times are the starts of the replay's bins.
func (r *ReplayFolder) Times() []time.Time { return r.BandTable.Times }

// ReadReplay reads the replay folder dir (docs/output.md): bands.csv, and
// as opt asks validation.json and the first seed folder's scenario.toml
// and summary.json; it lists the seed folders. Its problems are *Error
// naming the file, and the line and column or key where there is one.
func ReadReplay(dir string, opt ReplayOptions) (*ReplayFolder, error) {
	f := folder{dir: dir, kind: KindReplay, observe: opt.Observe}
	rp := &ReplayFolder{Dir: dir}
	if opt.Validation {
		b, err := f.read(ValidationFile)
		if err != nil {
			return nil, err
		}
		if rp.Validation, err = ParseValidation(b, f.path(ValidationFile)); err != nil {
			return nil, err
		}
	}
	cols := func(head []string) ([]string, []string) {
		rp.BandNames = opt.Bands(head)
		var want []string
		for _, b := range rp.BandNames {
			c := BandColumns(b)
			want = append(want, c[:]...)
		}
		return want, nil
	}
	var err error
	if rp.BandTable, err = f.table(BandsFile, TableOptions{Columns: cols, EvenBins: opt.EvenBins}); err != nil {
		return nil, err
	}
	if rp.Seeds, err = Seeds(dir); err != nil {
		return nil, errorf(dir, "%s", pathless(err))
	}
	if !opt.FirstSeed || len(rp.Seeds) == 0 {
		return rp, nil
	}
	first := filepath.Base(rp.Seeds[0].Path)
	if rp.FirstScenarioTOML, err = f.optional(path.Join(first, ScenarioFile)); err != nil {
		return nil, err
	}
	if rp.FirstSummary, err = f.summary(path.Join(first, SummaryFile)); err != nil {
		return nil, err
	}
	return rp, nil
}

// SensorsOfBands are the sensors a replay's bands name, in header order:
// each column <sensor>_<column>_p50 of bands.csv names one.
func SensorsOfBands(header []string, column string) []string {
	var out []string
	for _, h := range header {
		if band, ok := strings.CutSuffix(h, P50); ok {
			if s, ok := SensorOfBand(band, column); ok {
				out = append(out, s)
			}
		}
	}
	return out
}
