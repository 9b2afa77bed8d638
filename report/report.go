// Package report writes what a run produced to its results folder: the
// summary (summary.json), the time series (timeseries.csv and
// timeseries.parquet), every infection (infections.parquet) and the
// resolved scenario (scenario.toml). docs/output.md documents every file.
//
// The package reads a sim.Result and nothing else of the engine. A folder is
// written atomically: an interrupted or failed write never leaves a folder
// under the requested name that looks complete.
package report

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"wormwatch/ipv4"
	"wormwatch/sensor"
	"wormwatch/sim"
)

// File names inside a results folder.
const (
	SummaryFile           = "summary.json"
	TimeseriesCSVFile     = "timeseries.csv"
	TimeseriesParquetFile = "timeseries.parquet"
	InfectionsFile        = "infections.parquet"
	ScenarioFile          = "scenario.toml"
	// SensorsDir holds one CSV per sensor of the scenario (<name>.csv).
	SensorsDir = "sensors"
)

// partialInfix joins a results folder's name and a random suffix to name the
// temporary sibling folder it is written to.
const partialInfix = ".partial-"

// writeOptions are test hooks; the zero value is what WriteRun uses.
type writeOptions struct {
	// wrap, when set, wraps the writer of each file (for failure injection).
	wrap func(name string, w io.Writer) io.Writer
	// tempName, when set, receives the temporary folder's path once created.
	tempName func(path string)
}

// WriteRun writes a run's results folder dir atomically: every file goes to
// a temporary sibling folder "<dir>.partial-<random>", which is renamed to
// dir only when every file is complete and synced to disk. It refuses to
// overwrite an existing dir. On error the temporary folder is removed and
// dir does not exist. The parent of dir is created if needed.
//
// resolvedTOML is written verbatim as scenario.toml; version is the program
// version recorded in summary.json and in the Parquet files' metadata.
func WriteRun(dir string, res *sim.Result, resolvedTOML []byte, version string) error {
	return writeRun(dir, res, resolvedTOML, version, writeOptions{})
}

func writeRun(dir string, res *sim.Result, resolvedTOML []byte, version string, opt writeOptions) (err error) {
	if res == nil {
		return fmt.Errorf("results folder %s: no result to write (nil)", dir)
	}
	if dir == "" {
		return errors.New("results folder: empty path")
	}
	dir = filepath.Clean(dir)
	if err := refuseExisting(dir); err != nil {
		return err
	}
	if err := checkResult(res); err != nil {
		return fmt.Errorf("results folder %s: %w", dir, err)
	}
	parent, base := filepath.Split(dir)
	if parent == "" {
		parent = "."
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("results folder %s: creating its parent: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(parent, base+partialInfix+"*")
	if err != nil {
		return fmt.Errorf("results folder %s: creating temporary folder: %w", dir, err)
	}
	if opt.tempName != nil {
		opt.tempName(tmp)
	}
	defer func() {
		// Also runs while a panic unwinds, so no half folder stays behind.
		if err != nil {
			if rmErr := os.RemoveAll(tmp); rmErr != nil {
				err = fmt.Errorf("%w (and removing temporary folder %s: %v)", err, tmp, rmErr)
			}
		}
	}()

	files := []struct {
		name  string
		write func(io.Writer) error
	}{
		{ScenarioFile, func(w io.Writer) error { _, err := w.Write(resolvedTOML); return err }},
		{SummaryFile, func(w io.Writer) error { return writeSummary(w, res, version) }},
		{TimeseriesCSVFile, func(w io.Writer) error { return writeTimeseriesCSV(w, res) }},
		{TimeseriesParquetFile, func(w io.Writer) error { return writeTimeseriesParquet(w, res, version) }},
		{InfectionsFile, func(w io.Writer) error { return writeInfectionsParquet(w, res, version) }},
	}
	if len(res.Sensors) > 0 {
		if err := os.Mkdir(filepath.Join(tmp, SensorsDir), 0o755); err != nil {
			return fmt.Errorf("results folder %s: %w", dir, err)
		}
	}
	sp := ipv4.Space{Bits: res.SpaceBits}
	for i := range res.Sensors {
		s := &res.Sensors[i]
		type file = struct {
			name  string
			write func(io.Writer) error
		}
		files = append(files, file{filepath.Join(SensorsDir, s.Name+".csv"), func(w io.Writer) error { return WriteSensorCSV(w, s) }})
		switch {
		case s.Records && s.Kind == "webserver":
			files = append(files, file{filepath.Join(SensorsDir, s.Name+".log"), func(w io.Writer) error {
				return sensor.WriteAccessLog(w, s.Probes, sp, res.Start, res.Requests)
			}})
		case s.Records:
			files = append(files, file{filepath.Join(SensorsDir, s.Name+".pcap"), func(w io.Writer) error {
				return sensor.WritePcap(w, s.Probes, sp, res.Start, 3)
			}})
		}
	}
	for _, f := range files {
		if err := writeFile(tmp, f.name, opt.wrap, f.write); err != nil {
			return fmt.Errorf("results folder %s: %s: %w", dir, f.name, err)
		}
	}
	// MkdirTemp made the folder private (0700); a results folder is not.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("results folder %s: %w", dir, err)
	}
	if err := syncDir(tmp); err != nil {
		return fmt.Errorf("results folder %s: syncing temporary folder: %w", dir, err)
	}
	// Check again just before the rename: rename(2) refuses to replace a
	// non-empty directory but would silently replace an empty one that
	// appeared meanwhile (a window of microseconds, and nothing is lost).
	if err := refuseExisting(dir); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("results folder %s: renaming %s into place: %w", dir, tmp, err)
	}
	if err := syncDir(parent); err != nil {
		// The folder is complete and in place; only the rename's durability
		// across a power cut is in doubt. Report it without undoing anything.
		return fmt.Errorf("results folder %s: written, but syncing %s failed: %w", dir, parent, err)
	}
	return nil
}

// refuseExisting returns an error when dir exists (as anything).
func refuseExisting(dir string) error {
	_, err := os.Lstat(dir)
	switch {
	case err == nil:
		return fmt.Errorf("results folder %s already exists; refusing to overwrite it (choose another output folder or remove it)", dir)
	case errors.Is(err, fs.ErrNotExist):
		return nil
	default:
		return fmt.Errorf("results folder %s: %w", dir, err)
	}
}

// writeFile creates dir/name, lets write fill it through a buffer, then
// flushes, syncs and closes it, reporting the first error.
func writeFile(dir, name string, wrap func(string, io.Writer) io.Writer, write func(io.Writer) error) error {
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	var w io.Writer = f
	if wrap != nil {
		w = wrap(name, w)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir flushes a directory's entries to disk. Windows cannot sync a
// directory handle and needs no such step for renames to be durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
