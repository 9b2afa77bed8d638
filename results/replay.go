package results

import "time"

// Replay is what a replay produced, in memory: the bands over seeds of
// every series, the validation against the published figures, map
// snapshots of one seed, and what was replayed. Package replay makes it;
// the figures (package chart), the report (package page) and tools read
// it, so that drawing a replay needs nothing of the engine.
type Replay struct {
	Scenario     string
	Description  string
	Version      string
	Seeds        []uint64
	Start        time.Time
	BinSeconds   float64
	ScenarioTOML []byte // the resolved scenario, as run
	// Posterior is the calibration folder whose posterior each seed drew
	// PosteriorKeys from (replay --posterior); "" when the seeds share the
	// scenario. The seeds' scenario.toml hold the values drawn.
	Posterior     string
	PosteriorKeys []string

	// Times are the starts of the bins; every band has one value per time.
	Times []time.Time
	// Bands are every column of timeseries.csv (susceptible, infected, ...)
	// and of each sensor file, the latter named SensorBand(sensor, column).
	Bands []Band

	Validation Validation
	// Maps are snapshots of one seed (the first) for the IPv4 map.
	Maps []Snapshot
	// Measured are published points to mark on the plots.
	Measured []Point
	// Sensors names the sensors, in order, with their size in addresses.
	Sensors []SensorInfo
}

// Band is one series over seeds: its 5th, 50th and 95th percentile per bin.
// For a single run the three are the run's own series.
type Band struct {
	Name          string
	P05, P50, P95 []float64
}

// Band returns the band of the given name, or nil.
func (r *Replay) Band(name string) *Band {
	for i := range r.Bands {
		if r.Bands[i].Name == name {
			return &r.Bands[i]
		}
	}
	return nil
}

// SensorInfo describes one sensor of the replayed scenario.
type SensorInfo struct {
	Name   string
	Prefix string
	Size   uint64
}

// Snapshot is the number of infected hosts in each /16 of the space at one
// moment: Infected[i] counts the /16 whose first 16 bits are i (the Hilbert
// curve of order 8 lays them out on a 256 x 256 map, see ipv4.HilbertD2XY).
type Snapshot struct {
	Time     time.Time
	Label    string
	Infected []uint32 // len 65536
}

// Point is a published measurement to mark on a plot.
type Point struct {
	Series string // the band it belongs beside ("infected", "ucsd-8_cumulative_sources", ...)
	Time   time.Time
	Value  float64
	Label  string
	Source string
}
