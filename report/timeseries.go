package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/parquet-go/parquet-go"

	"wormwatch/results"
	"wormwatch/sim/outcome"
)

// TimeseriesColumns are the columns of timeseries.csv and
// timeseries.parquet, in order: the contract's results.TimeseriesColumns.
var TimeseriesColumns = results.TimeseriesColumns

// binRow is one row of timeseries.parquet. Field order is column order and
// must match TimeseriesColumns (a test checks it).
type binRow struct {
	Time             int64 `parquet:"time,timestamp(millisecond:utc)"`
	Susceptible      int64 `parquet:"susceptible"`
	Infected         int64 `parquet:"infected"`
	InfectedScanning int64 `parquet:"infected_scanning"`
	InfectedFlooding int64 `parquet:"infected_flooding"`
	InfectedDormant  int64 `parquet:"infected_dormant"`
	Patched          int64 `parquet:"patched"`
	Removed          int64 `parquet:"removed"`
	NewInfections    int64 `parquet:"new_infections"`
	EverInfected     int64 `parquet:"ever_infected"`
	Probes           int64 `parquet:"probes"`
	SynPackets       int64 `parquet:"syn_packets"`
	BytesOnWire      int64 `parquet:"bytes_on_wire"`
	FloodBytes       int64 `parquet:"flood_bytes"`
	PatchedHome      int64 `parquet:"patched_home"`
	RemovedHome      int64 `parquet:"removed_home"`
	EverUnpatched    int64 `parquet:"ever_unpatched"`
}

// timeseriesSchema is the schema of timeseries.parquet, named after the
// file rather than the Go type.
var timeseriesSchema = parquet.NewSchema("timeseries", parquet.SchemaOf(new(binRow)))

// counters returns the integer columns of a bin, in column order (all but
// time).
func counters(b *outcome.Bin) [16]int64 {
	return [16]int64{
		b.Susceptible, b.Infected, b.InfectedScanning, b.InfectedFlooding,
		b.InfectedDormant, b.Patched, b.Removed, b.NewInfections, b.EverInfected,
		b.Probes, b.SynPackets, b.BytesOnWire, b.FloodBytes,
		b.PatchedHome, b.RemovedHome, b.EverUnpatched,
	}
}

// formatTime is the text form of times in CSV files: RFC 3339 in UTC, with
// a fraction of a second only when there is one.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func writeTimeseriesCSV(w io.Writer, res *outcome.Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(TimeseriesColumns); err != nil {
		return err
	}
	rec := make([]string, len(TimeseriesColumns))
	for i := range res.Bins {
		b := &res.Bins[i]
		rec[0] = formatTime(b.Time)
		for j, v := range counters(b) {
			rec[j+1] = strconv.FormatInt(v, 10)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func writeTimeseriesParquet(w io.Writer, res *outcome.Result, version string) error {
	opts := append(parquetOptions(res, version), timeseriesSchema, parquet.Compression(snappyCodec))
	pw := parquet.NewGenericWriter[binRow](w, opts...)
	rows := make([]binRow, 0, min(len(res.Bins), 4096))
	flush := func() error {
		_, err := pw.Write(rows)
		rows = rows[:0]
		return err
	}
	for i := range res.Bins {
		b := &res.Bins[i]
		rows = append(rows, binRow{
			Time:             b.Time.UnixMilli(),
			Susceptible:      b.Susceptible,
			Infected:         b.Infected,
			InfectedScanning: b.InfectedScanning,
			InfectedFlooding: b.InfectedFlooding,
			InfectedDormant:  b.InfectedDormant,
			Patched:          b.Patched,
			Removed:          b.Removed,
			NewInfections:    b.NewInfections,
			EverInfected:     b.EverInfected,
			Probes:           b.Probes,
			SynPackets:       b.SynPackets,
			BytesOnWire:      b.BytesOnWire,
			FloodBytes:       b.FloodBytes,
			PatchedHome:      b.PatchedHome,
			RemovedHome:      b.RemovedHome,
			EverUnpatched:    b.EverUnpatched,
		})
		if len(rows) == cap(rows) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	return pw.Close()
}

// parquetOptions are the writer options shared by the Parquet files: the
// creator and the run's identification in the key-value metadata.
func parquetOptions(res *outcome.Result, version string) []parquet.WriterOption {
	return []parquet.WriterOption{
		&parquet.WriterConfig{CreatedBy: "wormwatch version " + version},
		parquet.KeyValueMetadata("wormwatch.scenario", res.Scenario),
		parquet.KeyValueMetadata("wormwatch.seed", strconv.FormatUint(res.Seed, 10)),
		parquet.KeyValueMetadata("wormwatch.engine", res.Engine),
		parquet.KeyValueMetadata("wormwatch.version", version),
		parquet.KeyValueMetadata("wormwatch.start", formatTime(res.Start)),
		parquet.KeyValueMetadata("wormwatch.space_bits", strconv.Itoa(res.SpaceBits)),
	}
}

// checkResult rejects a result this package cannot write faithfully. These
// are engine bugs, not user errors, so the messages name Result fields.
func checkResult(res *outcome.Result) error {
	if res.SpaceBits < 16 || res.SpaceBits > 32 {
		return fmt.Errorf("result: SpaceBits %d outside 16..32", res.SpaceBits)
	}
	if len(res.Bins) > 0 && !(res.BinSeconds > 0 && !math.IsInf(res.BinSeconds, 0)) {
		return fmt.Errorf("result: BinSeconds %v is not a positive finite number", res.BinSeconds)
	}
	if math.IsNaN(res.WallSeconds) || math.IsInf(res.WallSeconds, 0) {
		return fmt.Errorf("result: WallSeconds %v is not finite", res.WallSeconds)
	}
	if len(res.Variants) > 256 {
		return fmt.Errorf("result: %d variants, at most 256 fit Infection.Variant", len(res.Variants))
	}
	size := uint64(1) << uint(res.SpaceBits)
	for i := range res.Infections {
		in := &res.Infections[i]
		switch {
		case int(in.Variant) >= len(res.Variants):
			return fmt.Errorf("result: infection %d: Variant %d out of range (%d variants: %q)", i, in.Variant, len(res.Variants), res.Variants)
		case uint64(in.Address) >= size:
			return fmt.Errorf("result: infection %d: Address %d outside a %d-bit space", i, in.Address, res.SpaceBits)
		case in.Infector != outcome.NoInfector && uint64(in.Infector) >= size:
			return fmt.Errorf("result: infection %d: Infector %d outside a %d-bit space", i, in.Infector, res.SpaceBits)
		case math.IsNaN(in.Seconds) || math.IsInf(in.Seconds, 0):
			return fmt.Errorf("result: infection %d: Seconds %v is not finite", i, in.Seconds)
		}
	}
	return nil
}
