// Package results is the contract of the results folders that every
// reader and writer shares (docs/output.md documents it): the names of the
// files and folders of a run folder and of a replay folder, the columns of
// timeseries.csv, of a sensor series and of bands.csv, how seed folders are
// named and ordered, which entries of a folder are results at all, the
// validation table, and the in-memory replay the figures, pages and
// comparisons are drawn from. It holds one reader each for a run folder
// (ReadRun), a replay folder (ReadReplay) and a sensor series
// (ReadSensorSeries), built on one CSV reader of per-bin tables
// (ReadTable). It uses the standard library only, so any package may
// import it.
//
// A name that starts with '.' (a temporary folder or file being written,
// ".seed-0001.partial-<random>") is never a result.
package results

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// The files and folders of a run folder (one seed, written by `run`).
const (
	// SummaryFile is the file every complete run folder holds (written
	// last of all, inside the temporary folder renamed into place).
	SummaryFile = "summary.json"
	// TimeseriesFile holds one row per bin (TimeseriesColumns).
	TimeseriesFile = "timeseries.csv"
	// TimeseriesParquetFile holds the same rows, typed.
	TimeseriesParquetFile = "timeseries.parquet"
	// InfectionsFile holds one row per infection.
	InfectionsFile = "infections.parquet"
	// ScenarioFile is the scenario as the run resolved it.
	ScenarioFile = "scenario.toml"
	// SensorsDir holds one series per sensor, <name>.csv
	// (SensorColumns), and its capture (<name>.pcap) or access log
	// (<name>.log).
	SensorsDir = "sensors"
	// SensorExt ends the name of a sensor series in SensorsDir.
	SensorExt = ".csv"
)

// The files and folders of a replay folder (many seeds, written by
// `replay`), besides one run folder per seed (SeedDirName).
const (
	// BandsFile holds the 5%, 50% and 95% over seeds of every series, per
	// bin (BandColumn).
	BandsFile = "bands.csv"
	// ValidationFile holds the published figures beside the simulation
	// (ValidationReport).
	ValidationFile = "validation.json"
	// PlotsDir holds every figure of the report as <name>.png and
	// <name>.svg.
	PlotsDir = "plots"
	// ReportFile is the self-contained page of the replay.
	ReportFile = "report.html"
)

// SeedPrefix starts the name of a seed's run folder in a folder of many
// seeds (run --seeds, replay).
const SeedPrefix = "seed-"

// SeedDirName is the name of seed's run folder: seed-0001, ..., seed-9999,
// seed-10000, ...
func SeedDirName(seed uint64) string { return fmt.Sprintf("%s%04d", SeedPrefix, seed) }

// ParseSeedDirName returns the seed of a seed folder's name. Only the
// canonical form SeedDirName writes is one (not seed-1, seed-00001,
// seed-0001.partial-5 or .seed-0001).
func ParseSeedDirName(name string) (uint64, bool) {
	digits, ok := strings.CutPrefix(name, SeedPrefix)
	if !ok || digits == "" {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || SeedDirName(n) != name {
		return 0, false
	}
	return n, true
}

// SeedDir is a complete seed folder.
type SeedDir struct {
	Seed uint64
	Path string
}

// Seeds lists the seed folders of dir in increasing seed order (seed-10000
// after seed-9999): the folders named as SeedDirName names them. They are
// complete: a seed folder appears only by the rename of its finished
// temporary folder, whose hidden name (".seed-0001.partial-...") is passed
// over, like anything else. A dir that cannot be read is an error.
func Seeds(dir string) ([]SeedDir, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []SeedDir
	for _, e := range ents {
		seed, ok := ParseSeedDirName(e.Name())
		if !ok || !e.IsDir() {
			continue
		}
		out = append(out, SeedDir{seed, filepath.Join(dir, e.Name())})
	}
	slices.SortFunc(out, func(a, b SeedDir) int { return cmp.Compare(a.Seed, b.Seed) })
	return out, nil
}

// IsRun reports whether dir is a run folder wormwatch wrote: it holds a
// regular summary.json.
func IsRun(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, SummaryFile))
	return err == nil && fi.Mode().IsRegular()
}

// Hidden reports whether a name is not a result: it starts with '.'
// (temporary names do).
func Hidden(name string) bool { return strings.HasPrefix(name, ".") }

// Files lists the regular files of dir whose names end in ext (like
// ".csv"), hidden names passed over, sorted by name. A missing dir gives
// no files and no error.
func Files(dir, ext string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if Hidden(e.Name()) || !strings.HasSuffix(e.Name(), ext) || !e.Type().IsRegular() {
			continue
		}
		out = append(out, e.Name())
	}
	return out, nil
}
