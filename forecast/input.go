package forecast

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"wormwatch/internal/names"
	"wormwatch/results"
)

// FindSeries finds the sensor series a user names: arg itself when it is a
// file (then sensor must be empty), or in a results folder the series of
// sensor, <arg>/sensors/<sensor>.csv, or for a folder of seed folders (a
// replay, run --seeds) the lowest complete seed's. It returns the file and
// the space's bits from the folder's summary.json (0 when unknown or for a
// file). Its errors say what is wrong with arg or sensor, and what is
// allowed.
func FindSeries(arg, sensor string) (path string, spaceBits int, err error) {
	fi, err := os.Stat(arg)
	if err != nil {
		why := err.Error()
		if errors.Is(err, fs.ErrNotExist) {
			why = "no such file or folder"
		}
		return "", 0, fmt.Errorf("%s: cannot read: %s (want a series CSV, or a results folder with --sensor)", arg, why)
	}
	if !fi.IsDir() {
		if sensor != "" {
			return "", 0, fmt.Errorf("--sensor %s: %s is a file, not a results folder (give the folder, or the CSV alone)", sensor, arg)
		}
		return arg, 0, nil
	}
	dir := arg
	if _, err := os.Stat(filepath.Join(dir, results.SensorsDir)); err != nil {
		seeds, _ := results.Seeds(dir) // complete seed folders, in seed order
		if len(seeds) == 0 {
			return "", 0, fmt.Errorf("%s: neither a run folder (no %s/ folder) nor a replay folder (no seed-NNNN/ folders)", dir, results.SensorsDir)
		}
		dir = seeds[0].Path
	}
	sensors := filepath.Join(dir, results.SensorsDir)
	list := sensorNames(sensors)
	if sensor == "" {
		if len(list) == 0 {
			return "", 0, fmt.Errorf("%s: no sensor series in %s", arg, sensors)
		}
		return "", 0, fmt.Errorf("%s is a results folder: choose a sensor with --sensor (allowed: %s)", arg, strings.Join(list, ", "))
	}
	path = filepath.Join(sensors, sensor+".csv")
	if names.Check(sensor) != nil || !slices.Contains(list, sensor) {
		allowed := "none in this folder"
		if len(list) > 0 {
			allowed = strings.Join(list, ", ")
		}
		return "", 0, fmt.Errorf("--sensor %s: no %s (allowed: %s)", sensor, path, allowed)
	}
	return path, summaryBits(dir), nil
}

// sensorNames lists the series in a sensors folder (results.Files: no
// hidden or temporary files).
func sensorNames(dir string) []string {
	files, _ := results.Files(dir, ".csv")
	var out []string
	for _, f := range files {
		out = append(out, strings.TrimSuffix(f, ".csv"))
	}
	return out
}

// summaryBits reads space_bits from a results folder's summary.json (0
// when it cannot).
func summaryBits(dir string) int {
	data, err := os.ReadFile(filepath.Join(dir, results.SummaryFile))
	if err != nil {
		return 0
	}
	var s struct {
		SpaceBits int `json:"space_bits"` // the key of results.Summary
	}
	if json.Unmarshal(data, &s) != nil {
		return 0
	}
	return s.SpaceBits
}

// RunTimeseries finds a run's timeseries.csv: <dir>/timeseries.csv, or for
// a folder of seed folders (a replay, run --seeds) the lowest complete
// seed's that has one.
func RunTimeseries(dir string) (string, error) {
	path := filepath.Join(dir, results.TimeseriesFile)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	seeds, _ := results.Seeds(dir)
	for _, s := range seeds {
		if p := filepath.Join(s.Path, results.TimeseriesFile); fileExists(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("--from-run %s: no %s (want a run's results folder)", dir, results.TimeseriesFile)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
