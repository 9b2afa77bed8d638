// Package defense holds the people and the world around an outbreak:
// owners patching after dated advisories (faster in information-sharing
// groups), ordinary reboots, machines switched off at night in their
// owner's time zone, networks that filter port 80 or disconnect
// subscribers, and congestion that slows infection when scan traffic grows.
// Each is a documented process with parameters; the engine (package sim)
// asks it for per-host schedules and acceptance probabilities.
package defense

import (
	"time"

	_ "wormwatch/internal/names" // registers the valid:"name" rule of these parameters
	"wormwatch/internal/param"
)

// Params declares the defences of a scenario ([defense] table).
type Params struct {
	Patch      Patch      `toml:"patch"`
	Advisories []Advisory `toml:"advisory" maxlen:"100" doc:"dated advisories, each setting how fast unpatched owners patch from its time on"`
	Reboot     Reboot     `toml:"reboot"`
	Diurnal    Diurnal    `toml:"diurnal"`
	Filter     Filter     `toml:"filter"`
	Congestion Congestion `toml:"congestion"`
}

// Patch is how owners patch. Patching a host needs a reboot, which also
// clears an infection: a patched host is immune for good.
type Patch struct {
	Rate          float64 `toml:"rate" default:"0" min:"0" max:"100" doc:"patches per unpatched host per day before the first advisory"`
	SharingFactor float64 `toml:"sharing_factor" default:"1" min:"0" max:"1000" doc:"owners in an information-sharing group (population.sharing) patch this many times faster"`
	HomeFactor    float64 `toml:"home_factor" default:"1" min:"0" max:"1000" doc:"owners of home and small-business machines (population.home) patch this many times as fast as other owners (below 1: slower); it multiplies sharing_factor for an owner who is both. CAIDA's daily survey of about 10,000 IIS 5.0 servers measured well-kept servers, not these machines, which were most of Code Red's victims"`
}

// Advisory is a dated warning. From Time the patch rate of an unpatched
// host is Rate per day; after Duration (if set) it is After.
type Advisory struct {
	Name     string         `toml:"name" valid:"name" doc:"label (used by --set defense.advisory.NAME.time=...)"`
	Time     time.Time      `toml:"time" min:"1970-01-01T00:00:00Z" max:"2100-01-01T00:00:00Z" doc:"when the advisory is published (UTC)"`
	Rate     float64        `toml:"rate" min:"0" max:"100" doc:"patches per unpatched host per day from this time"`
	Duration param.Duration `toml:"duration" min:"0s" max:"3660d" doc:"how long the rate lasts; 0: until the next advisory"`
	After    float64        `toml:"after" min:"0" max:"100" doc:"patches per unpatched host per day once duration has passed"`
}

// Reboot is ordinary reboots of servers by their owners (memoryless); a
// reboot clears a memory-resident worm.
type Reboot struct {
	MeanInterval param.Duration `toml:"mean_interval" min:"1m" max:"3660d" zero:"never" doc:"mean time between ordinary reboots of a machine; 0: never"`
	HomeFactor   float64        `toml:"home_factor" default:"1" min:"0" max:"1000" doc:"home and small-business machines (population.home) are rebooted this many times as often as other machines (0: never); a reboot clears a memory-resident worm and leaves the machine unpatched, susceptible again"`
}

// Diurnal is home and small-business machines switched off at night in
// their owner's time zone. Switching off clears a memory-resident worm; a
// machine that is off can be neither probed nor infected.
type Diurnal struct {
	OffShare float64        `toml:"off_share" default:"0" min:"0" max:"1" doc:"share of home and small-business machines switched off every night"`
	Off      param.Duration `toml:"off" default:"23h" min:"0s" max:"24h" doc:"local time of day they are switched off"`
	On       param.Duration `toml:"on" default:"7h" min:"0s" max:"24h" doc:"local time of day they are switched on"`
	Jitter   param.Duration `toml:"jitter" default:"1h" min:"0s" max:"12h" doc:"each machine's times are shifted by a fixed uniform amount in +-jitter"`
}

// Filter is networks that filter port 80 upstream or disconnect infected
// subscribers: their hosts leave the Internet for good (removed).
type Filter struct {
	Start time.Time      `toml:"start" min:"1970-01-01T00:00:00Z" max:"2100-01-01T00:00:00Z" doc:"when filtering begins; empty: never"`
	Share float64        `toml:"share" default:"0" min:"0" max:"1" doc:"share of /16 networks that filter"`
	Ramp  param.Duration `toml:"ramp" min:"0s" max:"3660d" doc:"networks start filtering at uniform times over this span after start"`
}

// Congestion is Zou, Gong and Towsley's two-factor idea: as scan traffic
// grows, probes are lost. An infecting probe succeeds with probability
// (1 - I/N)^eta, where I is the number of hosts scanning and N the
// vulnerable population.
type Congestion struct {
	Eta float64 `toml:"eta" default:"0" min:"0" max:"20" doc:"exponent of the congestion factor (1 - I/N)^eta; 0: no congestion (Zou et al. used 3)"`
}
