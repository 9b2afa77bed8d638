package report

import (
	"encoding/csv"
	"io"
	"strconv"
	"time"

	"wormwatch/results"
	"wormwatch/sim/outcome"
)

// SensorColumns are the columns of sensors/<name>.csv, in order: the
// contract's results.SensorColumns. The same schema is written for every
// sensor, simulated or counted from logs.
var SensorColumns = results.SensorColumns

// WriteSensorCSV writes one sensor's series: one row per bin, the bin's
// start as RFC 3339 UTC, then its counts and the sensor's size in
// addresses.
func WriteSensorCSV(w io.Writer, s *outcome.SensorSeries) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(SensorColumns); err != nil {
		return err
	}
	size := strconv.FormatUint(s.Size, 10)
	rec := make([]string, len(SensorColumns))
	for _, r := range s.Rows {
		rec[0] = r.Time.UTC().Format(time.RFC3339)
		rec[1] = strconv.FormatInt(r.Probes, 10)
		rec[2] = strconv.FormatInt(r.Sources, 10)
		rec[3] = strconv.FormatInt(r.NewSources, 10)
		rec[4] = strconv.FormatInt(r.CumulativeSources, 10)
		rec[5] = size
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
