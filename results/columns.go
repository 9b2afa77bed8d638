package results

import "strings"

// TimeColumn is the first column of every per-bin CSV file of a results
// folder (timeseries.csv, sensors/<name>.csv, bands.csv): the start of
// the bin, RFC 3339 UTC.
const TimeColumn = "time"

// The columns of timeseries.csv and timeseries.parquet after time
// (docs/output.md says what each counts).
const (
	Susceptible      = "susceptible"
	Infected         = "infected"
	InfectedScanning = "infected_scanning"
	InfectedFlooding = "infected_flooding"
	InfectedDormant  = "infected_dormant"
	Patched          = "patched"
	Removed          = "removed"
	NewInfections    = "new_infections"
	EverInfected     = "ever_infected"
	Probes           = "probes"
	SynPackets       = "syn_packets"
	BytesOnWire      = "bytes_on_wire"
	FloodBytes       = "flood_bytes"
	PatchedHome      = "patched_home"
	RemovedHome      = "removed_home"
	EverUnpatched    = "ever_unpatched"
)

// TimeseriesColumns are the columns of timeseries.csv and
// timeseries.parquet, in order.
var TimeseriesColumns = []string{
	TimeColumn, Susceptible, Infected, InfectedScanning, InfectedFlooding,
	InfectedDormant, Patched, Removed, NewInfections, EverInfected,
	Probes, SynPackets, BytesOnWire, FloodBytes,
	PatchedHome, RemovedHome, EverUnpatched,
}

// SeriesColumns are the columns of timeseries.csv after time, in order:
// the series of a run, each of which gets a band in bands.csv.
func SeriesColumns() []string { return append([]string(nil), TimeseriesColumns[1:]...) }

// The columns of a sensor series (sensors/<name>.csv, and what `detect
// --series` writes) after time.
const (
	SensorProbes            = "probes"
	SensorSources           = "sources"
	SensorNewSources        = "new_sources"
	SensorCumulativeSources = "cumulative_sources"
	SensorSize              = "size"
)

// SensorColumns are the columns of a sensor series, in order. The same
// schema is written for every sensor, simulated or counted from logs.
var SensorColumns = []string{TimeColumn, SensorProbes, SensorSources, SensorNewSources, SensorCumulativeSources, SensorSize}

// SensorBandColumns are the columns of a sensor series that get a band in
// bands.csv, in order (its size does not vary between seeds).
var SensorBandColumns = []string{SensorProbes, SensorSources, SensorNewSources, SensorCumulativeSources}

// SensorBand is the name of the band of a sensor's column in bands.csv
// and in a Replay: "<sensor>_<column>" ("ucsd-8_cumulative_sources").
func SensorBand(sensor, column string) string { return sensor + "_" + column }

// SensorOfBand returns the sensor whose column a band name is (the
// inverse of SensorBand), or false when it is not one.
func SensorOfBand(band, column string) (string, bool) {
	s, ok := strings.CutSuffix(band, "_"+column)
	return s, ok && s != ""
}

// The three quantiles over seeds of a band, as the suffixes of its columns
// in bands.csv.
const (
	P05 = "_p05"
	P50 = "_p50"
	P95 = "_p95"
)

// BandQuantiles are the suffixes of a band's three columns in bands.csv,
// in order.
var BandQuantiles = [3]string{P05, P50, P95}

// BandColumn is the column of bands.csv that holds one quantile of a band
// ("infected" and P05: "infected_p05").
func BandColumn(band, quantile string) string { return band + quantile }

// BandColumns are a band's three columns in bands.csv, in order.
func BandColumns(band string) [3]string {
	return [3]string{band + P05, band + P50, band + P95}
}
