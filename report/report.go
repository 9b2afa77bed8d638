// Package report writes what a run produced to its results folder: the
// summary (summary.json), the time series (timeseries.csv and
// timeseries.parquet), every infection (infections.parquet) and the
// resolved scenario (scenario.toml). docs/output.md documents every file.
//
// The package reads a outcome.Result and nothing else of the engine. A folder is
// written atomically: an interrupted or failed write never leaves a folder
// under the requested name that looks complete.
package report

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	"wormwatch/internal/atomicfile"
	"wormwatch/internal/names"
	"wormwatch/ipv4"
	"wormwatch/results"
	"wormwatch/sensor"
	"wormwatch/sensor/capture"
	"wormwatch/sim/outcome"
)

// File names inside a results folder: the contract's (package results).
const (
	SummaryFile           = results.SummaryFile
	TimeseriesCSVFile     = results.TimeseriesFile
	TimeseriesParquetFile = results.TimeseriesParquetFile
	InfectionsFile        = results.InfectionsFile
	ScenarioFile          = results.ScenarioFile
	// SensorsDir holds one CSV per sensor of the scenario (<name>.csv).
	SensorsDir = results.SensorsDir
)

// writeOptions are what WriteRunWith asks for (contents) and test hooks.
type writeOptions struct {
	// wrap, when set, wraps the writer of each file (for failure injection).
	wrap func(name string, w io.Writer) io.Writer
	// tempName, when set, receives the temporary folder's path once created.
	tempName func(path string)
	// contents are the optional files to write.
	contents Contents
}

// WriteRun writes a run's results folder dir atomically: every file goes to
// a hidden temporary sibling folder ".<dir>.partial-<random>" through an
// *os.Root (so no name can lead a file outside it), which is renamed to dir
// only when every file is complete and synced to disk. It refuses to
// overwrite an existing dir, unless dir is an empty folder the command
// claimed with atomicfile.Claim. On error the temporary folder is removed
// and dir is left as it was. The parent of dir is created if needed.
//
// resolvedTOML is written verbatim as scenario.toml; version is the program
// version recorded in summary.json and in the Parquet files' metadata.
//
// It writes every file, infections.parquet included: what a single run
// writes. WriteRunWith chooses.
func WriteRun(dir string, res *outcome.Result, resolvedTOML []byte, version string) error {
	return WriteRunWith(dir, res, resolvedTOML, version, Contents{Infections: true})
}

// Contents says which of a run folder's optional files are written
// (docs/output.md): a single run writes them all; a run of an ensemble
// (`run --seeds`, `replay`) only what its flags ask for.
type Contents struct {
	// Infections writes infections.parquet, one row per infection: tens of
	// bytes per infection, most of the folder's size.
	Infections bool
}

// WriteRunWith is WriteRun with the optional files of c only.
func WriteRunWith(dir string, res *outcome.Result, resolvedTOML []byte, version string, c Contents) error {
	return writeRun(dir, res, resolvedTOML, version, writeOptions{contents: c})
}

// file is one file of a results folder: its name inside the folder and
// what writes it.
type file struct {
	name  string
	write func(io.Writer) error
}

func writeRun(dir string, res *outcome.Result, resolvedTOML []byte, version string, opt writeOptions) error {
	if res == nil {
		return fmt.Errorf("results folder %s: no result to write (nil)", dir)
	}
	if dir == "" {
		return errors.New("results folder: empty path")
	}
	dir = filepath.Clean(dir)
	if err := checkResult(res); err != nil {
		return fmt.Errorf("results folder %s: %w", dir, err)
	}
	files := []file{
		{ScenarioFile, func(w io.Writer) error { _, err := w.Write(resolvedTOML); return err }},
		{SummaryFile, func(w io.Writer) error { return writeSummary(w, res, version) }},
		{TimeseriesCSVFile, func(w io.Writer) error { return writeTimeseriesCSV(w, res) }},
		{TimeseriesParquetFile, func(w io.Writer) error { return writeTimeseriesParquet(w, res, version) }},
	}
	if opt.contents.Infections {
		files = append(files, file{InfectionsFile, func(w io.Writer) error { return writeInfectionsParquet(w, res, version) }})
	}
	sp := ipv4.Space{Bits: res.SpaceBits}
	for i := range res.Sensors {
		s := &res.Sensors[i]
		if err := names.Check(s.Name); err != nil {
			return fmt.Errorf("results folder %s: sensor %d: %w", dir, i, err)
		}
		files = append(files, file{path.Join(SensorsDir, s.Name+results.SensorExt), func(w io.Writer) error { return WriteSensorCSV(w, s) }})
		switch {
		case s.Records && s.Kind == sensor.KindWebServer:
			files = append(files, file{path.Join(SensorsDir, s.Name+".log"), func(w io.Writer) error {
				return capture.WriteAccessLog(w, s.Probes, sp, res.Start, res.Requests)
			}})
		case s.Records:
			files = append(files, file{path.Join(SensorsDir, s.Name+".pcap"), func(w io.Writer) error {
				return capture.WritePcap(w, s.Probes, sp, res.Start, 3)
			}})
		}
	}
	err := atomicfile.WriteDir(dir, func(root *os.Root) error {
		if opt.tempName != nil {
			opt.tempName(root.Name())
		}
		if len(res.Sensors) > 0 {
			if err := atomicfile.MkdirAll(root, SensorsDir); err != nil {
				return err
			}
		}
		for _, f := range files {
			write := f.write
			if opt.wrap != nil {
				name := f.name
				write = func(w io.Writer) error { return f.write(opt.wrap(name, w)) }
			}
			if err := atomicfile.Create(root, f.name, write); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("results folder %s: %w", dir, err)
	}
	return nil
}
