package sim

// res, not outcome: the tests declare a type of that name.
import res "wormwatch/sim/outcome"

// The types of a run's result live in package outcome, so that the
// packages that write or summarise results need not import the engine;
// these aliases keep their engine-side names.
type (
	// Bin is one row of the time series (outcome.Bin).
	Bin = res.Bin
	// Infection is one infection event (outcome.Infection).
	Infection = res.Infection
	// Result is everything one run produces (outcome.Result).
	Result = res.Result
	// Snapshot is the infected hosts per /16 at one moment (outcome.Snapshot).
	Snapshot = res.Snapshot
	// SensorSeries is what one sensor recorded (outcome.SensorSeries).
	SensorSeries = res.SensorSeries
	// Counts are the hosts in each state at one moment (outcome.Counts).
	Counts = res.Counts
)

// NoInfector marks a seed infection in Infection.Infector.
const NoInfector = res.NoInfector
