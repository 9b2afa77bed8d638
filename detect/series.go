package detect

import (
	"encoding/csv"
	"io"
	"strconv"
	"time"

	"wormwatch/results"
)

// WriteCSV writes the series as a sensor series CSV, in the schema every
// simulated sensor writes (results.SensorColumns), with size in the size
// column: the addresses the logs cover. A nil series writes the header
// alone.
func (s *Series) WriteCSV(w io.Writer, size uint64) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(results.SensorColumns); err != nil {
		return err
	}
	sz := strconv.FormatUint(size, 10)
	i64 := func(n int64) string { return strconv.FormatInt(n, 10) }
	if s != nil {
		for r := range s.Rows() {
			rec := []string{r.Time.UTC().Format(time.RFC3339), i64(r.Probes), i64(r.Sources), i64(r.NewSources), i64(r.CumulativeSources), sz}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}
