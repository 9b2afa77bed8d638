package sweep

import (
	"math"

	"wormwatch/report"
)

// runValues is what a sweep keeps of one run: its summary (the content of
// summary.json) and the largest number of hosts infected at the end of a
// bin, which the summary does not hold.
type runValues struct {
	summary      report.Summary
	peakInfected int64
}

// output is one output a sweep reports: its documentation and how it is
// read from a run. NaN means the run has no value (no host was infected,
// say): it is left empty in points.csv and out of the statistics.
type output struct {
	doc string
	of  func(r runValues) float64
}

// outputs are the outputs a sweep file may name (docs/sweep.md lists them;
// docs/output.md documents the summary.json keys they come from).
var outputs = map[string]output{
	"ever_infected":    {"hosts ever infected (summary.json ever_infected)", func(r runValues) float64 { return float64(r.summary.EverInfected) }},
	"infection_events": {"infections, re-infections included (summary.json infection_events)", func(r runValues) float64 { return float64(r.summary.InfectionEvents) }},
	"final.infected":   {"hosts infected at the end (summary.json final.infected)", func(r runValues) float64 { return float64(r.summary.Final.Infected) }},
	"final.susceptible": {"hosts susceptible at the end (summary.json final.susceptible)", func(r runValues) float64 {
		return float64(r.summary.Final.Susceptible)
	}},
	"final.patched": {"hosts patched at the end (summary.json final.patched)", func(r runValues) float64 { return float64(r.summary.Final.Patched) }},
	"final.removed": {"hosts removed at the end (summary.json final.removed)", func(r runValues) float64 { return float64(r.summary.Final.Removed) }},
	"peak_infected": {"the most hosts infected at the end of a bin (column infected of timeseries.csv)", func(r runValues) float64 { return float64(r.peakInfected) }},
	"peak_new_infections_per_minute": {"summary.json peak_new_infections_per_minute", func(r runValues) float64 {
		return deref(r.summary.PeakNewInfectionsPerMinute, 1)
	}},
	"time_to_50_percent_infected_hours": {"summary.json time_to_50_percent_infected_seconds, in hours; empty when no host was infected", func(r runValues) float64 {
		return deref(r.summary.TimeTo50PercentSeconds, 1.0/3600)
	}},
}

// deref returns *p times scale, or NaN for nil.
func deref(p *float64, scale float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p * scale
}
