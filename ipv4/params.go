package ipv4

import (
	"time"

	"wormwatch/internal/param"
)

// SpaceParams declares the address space of a scenario.
type SpaceParams struct {
	Bits           int      `toml:"bits" default:"32" min:"16" max:"32" doc:"address bits: 32 is IPv4; fewer is a scaled model of it (prefixes are counted from the top, so 10.0.0.0/8 is the 10th 256th of any space)"`
	Reserved       []string `toml:"reserved" default:"special" doc:"ranges where no host of the population is placed: prefixes, or \"special\" for the IANA special-purpose list (0/8, 10/8, 127/8, 224/4, ...)"`
	AnswerFraction float64  `toml:"answer_fraction" default:"0.03" min:"0" max:"1" doc:"share of addresses that answer a SYN to port 80 (RST or SYN-ACK); assumption"`
	Unreachable    float64  `toml:"unreachable_fraction" default:"0" min:"0" max:"1" doc:"share of addresses for which a router answers at once with ICMP unreachable: the attempt ends quickly after one SYN; assumption"`
	HTTPFraction   float64  `toml:"http_fraction" default:"0.25" min:"0" max:"1" doc:"share of the answering addresses that accept the connection and receive the request; assumption"`
}

// PopulationParams declares the vulnerable population: where the hosts sit
// and what each carries.
type PopulationParams struct {
	Hosts     int            `toml:"hosts" default:"360000" min:"1" max:"100000000" doc:"vulnerable hosts (Code Red: about 360,000)"`
	Placement Placement      `toml:"placement" default:"clustered"` // allowed values and doc: the placements registered (population.go)
	File      string         `toml:"file" when:"placement=file" doc:"file of addresses (one per line) or prefixes with counts (\"192.0.2.0/24 17\"), relative to the scenario file"`
	Seed      uint64         `toml:"seed" doc:"seed of the placement and the host attributes; 0 derives it from the run seed"`
	Clustered ClusterParams  `toml:"clustered" when:"placement=clustered"`
	Patched   float64        `toml:"patched" default:"0" min:"0" max:"1" doc:"share of hosts already patched at the start"`
	Win2000   float64        `toml:"win2000" default:"0.8" min:"0" max:"1" doc:"share of hosts on Windows 2000 / IIS 5 (the rest NT 4 / IIS 4); assumption"`
	English   float64        `toml:"english" default:"0.6" min:"0" max:"1" doc:"share of English-language systems; assumption from the victims' geography"`
	Chinese   float64        `toml:"chinese" default:"0.09" min:"0" max:"1" doc:"share of Chinese-language systems (CAIDA: China 5%, Taiwan 4%)"`
	Home      float64        `toml:"home" default:"0.6" min:"0" max:"1" doc:"share of home and small-business machines (CAIDA: mostly); assumption"`
	Sharing   float64        `toml:"sharing" default:"0.1" min:"0" max:"1" doc:"share of owners in an information-sharing group; assumption"`
	DHCPLease param.Duration `toml:"dhcp_lease" min:"1m" max:"3660d" zero:"never" doc:"home and small-business machines get a new address this often (DHCP churn), so sensors count more addresses than hosts over days; 0: addresses never change"`
	Clock     ClockParams    `toml:"clock"`
	Regions   []Region       `toml:"region" maxlen:"100" doc:"time zones of the owners; default: CAIDA's geography of the victims (US, Korea, China, Taiwan) with the rest split by assumption"`
	Arrivals  Arrivals       `toml:"arrivals"`
}

// Arrivals are vulnerable machines that come online after the start:
// those that were not on the network, or not vulnerable, at the start
// (issue 12: new Windows 2000 installations with IIS on by default,
// machines reinstalled from the original CD without the patch). Until it
// arrives such a host can be neither probed nor infected, like a machine
// switched off; its owner may patch it before it arrives. No published
// figure gives their number: share is an assumption left to calibration.
type Arrivals struct {
	Share float64   `toml:"share" default:"0" min:"0" max:"1" doc:"share of the hosts that are not on the network at the start and come online later (new installations with IIS on by default, machines reinstalled without the patch); no figure is known: an assumption for calibration, 0 by default"`
	From  time.Time `toml:"from" min:"1970-01-01T00:00:00Z" max:"2100-01-01T00:00:00Z" doc:"earliest time a host comes online (UTC), not before the start; needed when share is above 0"`
	Until time.Time `toml:"until" min:"1970-01-01T00:00:00Z" max:"2100-01-01T00:00:00Z" doc:"latest time a host comes online (UTC), not before from; each arriving host comes online at a time uniform from from to until (after the end: not within the run)"`
}

// ClusterParams weights /8 and /16 blocks by Zipf laws: the k-th most
// populated /8 gets weight k^-zipf8, and inside each /8 the j-th /16 weight
// j^-zipf16; hosts sit at uniform addresses inside their /16.
type ClusterParams struct {
	Blocks8  int     `toml:"blocks8" default:"64" min:"1" max:"256" doc:"/8 blocks that hold hosts, chosen at random among the unreserved ones"`
	Zipf8    float64 `toml:"zipf8" default:"1.0" min:"0" max:"5" doc:"Zipf exponent of the /8 weights"`
	Blocks16 int     `toml:"blocks16" default:"128" min:"1" max:"256" doc:"/16 blocks that hold hosts inside each chosen /8"`
	Zipf16   float64 `toml:"zipf16" default:"1.0" min:"0" max:"5" doc:"Zipf exponent of the /16 weights inside a /8"`
}

// ClockParams is the error of hosts' clocks: most are right, a share is off
// by hours or days.
type ClockParams struct {
	WrongShare float64    `toml:"wrong_share" default:"0.01" min:"0" max:"1" doc:"share of hosts whose clock is wrong; assumption"`
	Error      param.Dist `toml:"error" doc:"error of a wrong clock (seconds added to UTC); default uniform from -3 to +3 days"`
}

// Region is a share of hosts whose owners live in one time zone.
type Region struct {
	Name      string  `toml:"name" doc:"label"`
	Share     float64 `toml:"share" min:"0" max:"1" doc:"share of hosts"`
	UTCOffset float64 `toml:"utc_offset" min:"-12" max:"14" doc:"hours east of UTC"`
}

// SetDefaults sets the owners' time zones to CAIDA's geography of the July
// 2001 victims: United States 43%, Korea 11%, China 5%, Taiwan 4%. The rest
// is split by assumption (Europe 25%, other 12%), and so are the offsets of
// the US (UTC-6, the middle of its zones), Europe (UTC+1) and the rest (UTC).
func (p *PopulationParams) SetDefaults() {
	p.Regions = []Region{
		{Name: "United States", Share: 0.43, UTCOffset: -6},
		{Name: "Korea", Share: 0.11, UTCOffset: 9},
		{Name: "China", Share: 0.05, UTCOffset: 8},
		{Name: "Taiwan", Share: 0.04, UTCOffset: 8},
		{Name: "Europe", Share: 0.25, UTCOffset: 1},
		{Name: "other", Share: 0.12, UTCOffset: 0},
	}
}

// SetDefaults sets the error of a wrong clock to uniform from -3 to +3
// days (an assumption).
func (c *ClockParams) SetDefaults() {
	c.Error = param.Dist{Kind: "uniform", Min: param.Duration(-72 * time.Hour), Max: param.Duration(72 * time.Hour)}
}
