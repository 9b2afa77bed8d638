package scenario

import (
	"time"

	"wormwatch/defense"
	"wormwatch/internal/param"
	"wormwatch/ipv4"
	"wormwatch/sensor"
	"wormwatch/worm"
)

// Scenario is one outbreak to simulate: the address space, the vulnerable
// population, the worm variants and the clock. A run is a pure function of
// (Scenario, seed).
type Scenario struct {
	Name        string                `toml:"name" doc:"short name of the scenario"`
	Description string                `toml:"description" doc:"one line saying what the scenario is"`
	Start       time.Time             `toml:"start" doc:"simulated clock at the start (UTC, RFC 3339)"`
	End         time.Time             `toml:"end" doc:"simulated clock at the end (UTC); must be after start"`
	Bin         param.Duration        `toml:"bin" default:"1m" doc:"width of one row of timeseries.csv"`
	Space       ipv4.SpaceParams      `toml:"space"`
	Population  ipv4.PopulationParams `toml:"population"`
	Worms       []worm.Params         `toml:"worm" doc:"worm variants, one [[worm]] table each"`
	Defense     defense.Params        `toml:"defense"`
	Sensors     []sensor.Params       `toml:"sensor" doc:"sensors inside the run, one [[sensor]] table each"`
}
