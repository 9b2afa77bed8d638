package report

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"

	"wormwatch/sim/outcome"
)

// Summary is the content of summary.json: what a run was and the few numbers
// one looks at first. Field order is the order of the keys in the file.
// docs/output.md documents every key.
type Summary struct {
	Scenario    string `json:"scenario"`    // scenario name
	Seed        uint64 `json:"seed"`        // random seed
	Engine      string `json:"engine"`      // "fast" or "probe"
	Version     string `json:"version"`     // wormwatch version
	Interrupted bool   `json:"interrupted"` // stopped before its end
	// Saturated lists the counters that reached math.MaxInt64 (2^63 - 1)
	// and stopped there instead of wrapping: probes, syn_packets,
	// bytes_on_wire, flood_bytes, simulated_probes, sensor.NAME.probes.
	// Empty (never null) when none did.
	Saturated []string `json:"saturated"`

	Start      time.Time `json:"start"`       // simulated start (UTC)
	End        time.Time `json:"end"`         // Start + Bins × BinSeconds (UTC)
	BinSeconds float64   `json:"bin_seconds"` // width of a time bin
	Bins       int       `json:"bins"`        // number of time bins
	SpaceBits  int       `json:"space_bits"`  // address space size, 16..32 bits
	Variants   []string  `json:"variants"`    // worm variant names

	WallSeconds         float64  `json:"wall_seconds"`           // engine wall-clock time
	SimulatedProbes     int64    `json:"simulated_probes"`       // probes over the run
	ProbesPerWallSecond *float64 `json:"probes_per_wall_second"` // engine speed, nil if WallSeconds is 0
	Events              int64    `json:"events"`                 // engine events processed

	EverInfected    int64          `json:"ever_infected"`    // distinct hosts ever infected
	InfectionEvents int            `json:"infection_events"` // infections, re-infections included
	Final           outcome.Counts `json:"final"`            // host counts at the end

	PeakNewInfectionsPerMinute *float64   `json:"peak_new_infections_per_minute"`      // see NewSummary
	PeakTime                   *time.Time `json:"peak_time"`                           // see NewSummary
	TimeTo50PercentSeconds     *float64   `json:"time_to_50_percent_infected_seconds"` // see NewSummary
}

// NewSummary computes the summary of a run. version is the program version.
//
//   - End is Start + len(Bins) × BinSeconds.
//   - PeakNewInfectionsPerMinute is the largest NewInfections of a bin, times
//     60 / BinSeconds; PeakTime is the start of the first bin holding it. Both
//     are nil without bins; PeakTime is nil when no bin has an infection.
//   - TimeTo50PercentSeconds is the end of the first bin (seconds since
//     Start) whose EverInfected is at least half of the run's EverInfected
//     (2 × bin ≥ total); nil when EverInfected is 0 or no bin reaches it.
//   - ProbesPerWallSecond is SimulatedProbes / WallSeconds, nil when
//     WallSeconds is not positive.
func NewSummary(res *outcome.Result, version string) Summary {
	s := Summary{
		Scenario:        res.Scenario,
		Seed:            res.Seed,
		Engine:          res.Engine,
		Version:         version,
		Interrupted:     res.Interrupted,
		Saturated:       append([]string{}, res.Saturated...),
		Start:           res.Start.UTC(),
		End:             res.Start.Add(binOffset(len(res.Bins), res.BinSeconds)).UTC(),
		BinSeconds:      res.BinSeconds,
		Bins:            len(res.Bins),
		SpaceBits:       res.SpaceBits,
		Variants:        append([]string{}, res.Variants...),
		WallSeconds:     res.WallSeconds,
		SimulatedProbes: res.SimulatedProbes,
		Events:          res.Events,
		EverInfected:    res.EverInfected,
		InfectionEvents: infectionEvents(res),
		Final:           res.Final,
	}
	if res.WallSeconds > 0 {
		s.ProbesPerWallSecond = ptr(float64(res.SimulatedProbes) / res.WallSeconds)
	}
	if len(res.Bins) > 0 {
		peak := 0
		for i, b := range res.Bins {
			if b.NewInfections > res.Bins[peak].NewInfections {
				peak = i
			}
		}
		s.PeakNewInfectionsPerMinute = ptr(float64(res.Bins[peak].NewInfections) * 60 / res.BinSeconds)
		if res.Bins[peak].NewInfections > 0 {
			s.PeakTime = ptr(res.Bins[peak].Time.UTC())
		}
	}
	if res.EverInfected > 0 {
		for i, b := range res.Bins {
			if 2*b.EverInfected >= res.EverInfected {
				s.TimeTo50PercentSeconds = ptr(float64(i+1) * res.BinSeconds)
				break
			}
		}
	}
	return s
}

// infectionEvents counts the infections of the run from its time series,
// which has them whether or not the run kept Result.Infections (ensembles
// do not: sim.Options.NoInfections). Where it kept them, the two agree:
// the series' rows count the infections of each whole bin.
func infectionEvents(res *outcome.Result) int {
	n := int64(0)
	for _, b := range res.Bins {
		n += b.NewInfections
	}
	return int(n)
}

func ptr[T any](v T) *T { return &v }

// binOffset returns n bins of sec seconds as a duration, rounded to the
// nanosecond.
func binOffset(n int, sec float64) time.Duration {
	return time.Duration(math.Round(float64(n) * sec * 1e9))
}

func writeSummary(w io.Writer, res *outcome.Result, version string) error {
	b, err := json.MarshalIndent(NewSummary(res, version), "", "  ")
	if err != nil {
		return fmt.Errorf("encoding summary: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
