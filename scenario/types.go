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
	Name        string                `toml:"name" valid:"name" doc:"short name of the scenario"`
	Description string                `toml:"description" doc:"one line saying what the scenario is"`
	Start       time.Time             `toml:"start" min:"1970-01-01T00:00:00Z" max:"2100-01-01T00:00:00Z" doc:"simulated clock at the start (UTC, RFC 3339)"`
	End         time.Time             `toml:"end" min:"1970-01-01T00:00:00Z" max:"2100-01-01T00:00:00Z" doc:"simulated clock at the end (UTC); must be after start"`
	Bin         param.Duration        `toml:"bin" default:"1m" min:"1s" max:"3660d" doc:"width of one row of timeseries.csv"`
	Space       ipv4.SpaceParams      `toml:"space"`
	Population  ipv4.PopulationParams `toml:"population"`
	Worms       []worm.Params         `toml:"worm" maxlen:"256" doc:"worm variants, one [[worm]] table each"`
	Defense     defense.Params        `toml:"defense"`
	Sensors     []sensor.Params       `toml:"sensor" maxlen:"32" doc:"sensors inside the run, one [[sensor]] table each"`
}
