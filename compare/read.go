package compare

import (
	"errors"
	"fmt"
	"slices"

	"wormwatch/results"
)

// Error is a problem with the folders or files given to compare (a folder
// that is neither a run nor a replay, a malformed file, bins that differ):
// the user's input, not a failure of the program. Its message names the
// folder or file, and the line and column where there is one.
type Error struct{ Msg string }

// Error returns the message.
func (e *Error) Error() string { return e.Msg }

func inputf(format string, a ...any) error { return &Error{Msg: fmt.Sprintf(format, a...)} }

// inputErr makes an error of the results readers (a *results.Error naming
// the file, line and column) an *Error.
func inputErr(err error) error {
	var e *Error
	if err == nil || errors.As(err, &e) {
		return err
	}
	return &Error{Msg: err.Error()}
}

// Columns of timeseries.csv that compare reads (docs/output.md).
var timeseriesCols = []string{results.Infected, results.Patched, results.NewInfections, results.EverInfected, results.Probes}

// bandLevels are the series of bands.csv compare plots, besides each
// sensor's cumulative sources.
var bandLevels = []string{results.Infected, results.Patched}

// bandsOf chooses the bands of a replay's bands.csv that compare reads,
// given its header: the plotted levels, and every sensor's cumulative
// sources (a column "<sensor>_cumulative_sources_p50" names a sensor).
func bandsOf(header []string) []string {
	return append(slices.Clone(bandLevels), sensorCols(results.SensorsOfBands(header, results.SensorCumulativeSources))...)
}

// sensorCols are the band names of the sensors' cumulative sources.
func sensorCols(sensors []string) []string {
	out := make([]string, len(sensors))
	for i, s := range sensors {
		out[i] = results.SensorBand(s, results.SensorCumulativeSources)
	}
	return out
}
