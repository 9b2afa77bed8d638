// Package sensor holds the sensors inside a run: network telescopes that
// watch a block of unused addresses and count the worm's probes that land
// there, as CAIDA counted Code Red from UCSD's /8 (a host counts once it is
// seen sending a SYN to port 80). Each sensor writes one row per bin:
// probes, distinct sources, new sources and cumulative sources.
package sensor

import (
	"time"

	_ "wormwatch/internal/names" // registers the valid:"name" rule of these parameters
	"wormwatch/internal/param"
)

// Params declares one sensor ([[sensor]] table of a scenario).
type Params struct {
	Name         string         `toml:"name" valid:"name" doc:"name of the sensor; its series is written to sensors/<name>.csv"`
	Kind         Kind           `toml:"kind" default:"telescope"` // allowed values and doc: the kinds (kinds.go)
	Prefix       string         `toml:"prefix" default:"44.0.0.0/8" doc:"the monitored block (UCSD's telescope: 44.0.0.0/8); for a web server, its address"`
	Capture      param.Duration `toml:"capture" when:"kind=telescope" min:"0s" max:"3660d" doc:"telescope: write the SYN packets received during a window this long from capture_start to sensors/<name>.pcap; 0: no capture"`
	CaptureStart time.Time      `toml:"capture_start" when:"kind=telescope" min:"1970-01-01T00:00:00Z" max:"2100-01-01T00:00:00Z" doc:"telescope: start of the capture window (UTC); empty: the scenario start"`
	RecordMax    int64          `toml:"record_max" default:"16777216" min:"1" max:"1073741824" doc:"most probes kept in memory for the capture (telescope) or the log (web server), 24 bytes each; past it the recording ends at the start of the bin in which it was reached (the series stays exact; summary.json lists sensor.<name>.record under saturated)"`
}
