// Package replay replays a scenario over many seeds and checks it against
// what was measured: it runs the seeds in parallel (each deterministic),
// computes the 5%, 50% and 95% bands over seeds of every series, fits the
// random-constant-spread logistic to the telescope's view, and puts each
// published figure beside the simulated median and 90% band.
package replay

import (
	"encoding/json"
	"math"
	"time"
)

// Result is what a replay produced, for the report and for tools.
type Result struct {
	Scenario     string
	Description  string
	Version      string
	Seeds        []uint64
	Start        time.Time
	BinSeconds   float64
	ScenarioTOML []byte // the resolved scenario, as run

	// Times are the starts of the bins; every band has one value per time.
	Times []time.Time
	// Bands are every column of timeseries.csv (susceptible, infected, ...)
	// and of each sensor file, the latter named "<sensor>_<column>".
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
type Band struct {
	Name          string
	P05, P50, P95 []float64
}

// Band returns the band of the given name, or nil.
func (r *Result) Band(name string) *Band {
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

// Validation puts the published figures beside the simulation.
type Validation struct {
	Checks   []Check
	Logistic Logistic
	Traffic  []Quantity
}

// Check is one published figure beside the simulated median and 90% band.
type Check struct {
	Name     string  `json:"name"`
	Source   string  `json:"source"`
	Measured float64 `json:"measured"`
	Unit     string  `json:"unit"`
	P05      float64 `json:"sim_p05"`
	P50      float64 `json:"sim_p50"`
	P95      float64 `json:"sim_p95"`
	Inside   bool    `json:"inside"` // the measured value lies within [P05, P95]
	Note     string  `json:"note,omitempty"`
}

// Logistic is the random-constant-spread fit a(t) = e^{K(t-T)}/(1+e^{K(t-T)})
// to the telescope's cumulative sources on the outbreak day, per seed.
type Logistic struct {
	Series         string       `json:"series"`
	KPerHour       [3]float64   `json:"k_per_hour"` // p05, p50, p95 over seeds
	T              [3]time.Time `json:"t"`          // midpoint, p05, p50, p95
	PublishedKLow  float64      `json:"published_k_low"`
	PublishedKHigh float64      `json:"published_k_high"`
	Source         string       `json:"source"`
}

// Quantity is a simulated figure with no published counterpart to check
// against (total probes, peak packet and bit rates, flood bytes).
type Quantity struct {
	Name string  `json:"name"`
	Unit string  `json:"unit"`
	P05  float64 `json:"p05"`
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	Note string  `json:"note,omitempty"`
}

// num is a float for JSON: NaN (a figure no seed produced) is written as null.
type num float64

// MarshalJSON implements json.Marshaler.
func (x num) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(x))
}

// MarshalJSON writes a check; figures no seed produced are null.
func (c Check) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Name     string `json:"name"`
		Source   string `json:"source"`
		Measured num    `json:"measured"`
		Unit     string `json:"unit"`
		P05      num    `json:"sim_p05"`
		P50      num    `json:"sim_p50"`
		P95      num    `json:"sim_p95"`
		Inside   bool   `json:"inside"`
		Note     string `json:"note,omitempty"`
	}{c.Name, c.Source, num(c.Measured), c.Unit, num(c.P05), num(c.P50), num(c.P95), c.Inside, c.Note})
}

// MarshalJSON writes a quantity; figures no seed produced are null.
func (q Quantity) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Name string `json:"name"`
		Unit string `json:"unit"`
		P05  num    `json:"p05"`
		P50  num    `json:"p50"`
		P95  num    `json:"p95"`
		Note string `json:"note,omitempty"`
	}{q.Name, q.Unit, num(q.P05), num(q.P50), num(q.P95), q.Note})
}
