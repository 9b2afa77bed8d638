// Package outcome holds what one simulated run produced: its time series,
// infections, final counts and sensor series (Result). The engine (sim)
// fills it; the writers of results folders (report) and the replay's
// ensemble read it without importing the engine.
package outcome

import (
	"time"

	"wormwatch/sensor"
)

// Bin is one row of the time series: the state at the end of the bin and
// what happened during it.
type Bin struct {
	Time             time.Time // start of the bin (UTC)
	Susceptible      int64     // vulnerable, not infected, not patched (end of bin)
	Infected         int64     // running a worm, whatever its phase (end of bin)
	InfectedScanning int64     // infected and scanning (end of bin)
	InfectedFlooding int64     // infected and flooding (end of bin)
	InfectedDormant  int64     // infected, neither scanning nor flooding (end of bin)
	Patched          int64     // patched: immune for good (end of bin)
	Removed          int64     // off the network for good (end of bin)
	NewInfections    int64     // infections during the bin (re-infections included)
	EverInfected     int64     // distinct hosts infected at least once so far
	Probes           int64     // probes sent during the bin (connection attempts)
	SynPackets       int64     // SYN packets sent by probes during the bin
	BytesOnWire      int64     // IP bytes sent by probes during the bin
	FloodBytes       int64     // bytes sent by flooding hosts during the bin
	PatchedHome      int64     // patched home and small-business machines (end of bin)
	RemovedHome      int64     // removed home and small-business machines (end of bin)
	EverUnpatched    int64     // hosts ever infected, neither patched nor removed (end of bin)
}

// NoInfector marks a seed infection in Infection.Infector.
const NoInfector = ^uint32(0)

// Infection is one infection event.
type Infection struct {
	Seconds  float64 // time since the scenario start
	Address  uint32  // the infected host, in space coordinates
	Infector uint32  // the infecting host, or NoInfector for a seed
	Variant  uint8   // index into Result.Variants
	Backdoor bool    // the host carried a backdoor when infected
}

// Result is everything one run produces.
type Result struct {
	Scenario        string
	Seed            uint64
	Engine          string // "fast" or "probe"
	Start           time.Time
	BinSeconds      float64
	SpaceBits       int
	Variants        []string
	Requests        []string // the request line a web server logs, per variant
	Bins            []Bin
	Infections      []Infection
	SimulatedProbes int64
	EverInfected    int64
	// HomeHosts is the number of home and small-business machines in the
	// population (population.home); the others are servers. A lumped run
	// (sim's lumped.go), where they behave as the others and are not told
	// apart, reports their expected number, round(home × hosts).
	HomeHosts   int64
	Final       Counts
	WallSeconds float64
	Interrupted bool // the run was stopped before its end (Ctrl-C)
	Events      int64
	Sensors     []SensorSeries
	Snapshots   []Snapshot // when the engine was asked for them (sim.Options.Snapshots)
	// Saturated names the counters that passed math.MaxInt64 somewhere in
	// the run and hold math.MaxInt64 there instead of wrapping around:
	// "probes", "syn_packets", "bytes_on_wire" and "flood_bytes" (columns
	// of the time series, in any bin), "simulated_probes" (the total), and
	// "sensor.NAME.probes" (a sensor's probes, in any bin). Sorted; nil
	// when none did, as for every run of the built-in scenarios. Extreme
	// but allowed parameters get there: a billion probes per second from
	// each of millions of hosts, megabyte requests.
	Saturated []string
}

// Snapshot is the number of infected hosts in each /16 at one moment:
// Infected[i] counts the /16 whose top 16 bits are i.
type Snapshot struct {
	Seconds  float64 // since the start
	Infected []uint32
}

// SensorSeries is what one sensor recorded, one row per bin.
type SensorSeries struct {
	Name   string
	Kind   sensor.Kind
	Prefix string
	Size   uint64 // addresses watched
	Rows   []sensor.Row
	// Records tells that the sensor recorded individual probes (a web
	// server's access log, a telescope's capture window): Probes, in time
	// order.
	Records bool
	Probes  []sensor.Probe
}

// Counts are the hosts in each state at one moment.
type Counts struct {
	Susceptible      int64 `json:"susceptible"`
	Infected         int64 `json:"infected"`
	InfectedScanning int64 `json:"infected_scanning"`
	InfectedFlooding int64 `json:"infected_flooding"`
	InfectedDormant  int64 `json:"infected_dormant"`
	Patched          int64 `json:"patched"`
	Removed          int64 `json:"removed"`
}
