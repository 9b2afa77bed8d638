package worm

import (
	"time"

	"wormwatch/internal/param"
)

// Params declares one worm variant, as a [[worm]] table of a scenario.
// Every field carries its default, its bounds and its documentation in tags;
// the scenario reader, --set, validation and docs/scenario.md all read them.
type Params struct {
	Name      string    `toml:"name" valid:"name" doc:"short identifier of this variant (crv1, crv2, crii, ...); it names the variant in infections.parquet"`
	Infects   []string  `toml:"infects" default:"win2000,nt4" enum:"win2000,nt4" doc:"operating-system classes this variant can infect (CRII: win2000 only)"`
	Start     time.Time `toml:"start" min:"1970-01-01T00:00:00Z" max:"2100-01-01T00:00:00Z" doc:"when the seed hosts are infected (UTC); empty means the scenario start; at or after the end, the variant never appears (what-ifs)"`
	Seeds     int       `toml:"seeds" default:"1" min:"1" max:"1000000" doc:"hosts infected at start, drawn uniformly from the susceptible hosts this variant can infect"`
	Targeting Targeting `toml:"targeting"`
	Rate      Rate      `toml:"rate"`
	Calendar  Calendar  `toml:"calendar"`
	Reboot    Reboot    `toml:"reboot"`
	Wire      Wire      `toml:"wire"`
}

// Targeting chooses how an infected host picks the address of each probe.
type Targeting struct {
	Strategy    string      `toml:"strategy" default:"uniform" enum:"uniform,sequence,local,hitlist,permutation,sequential" doc:"uniform: every address equally likely (CRv2); sequence: one shared pseudo-random walk that every new host starts from the beginning (CRv1's constant seed); local: preference for the host's own /8 and /16 (CRII); hitlist: a list of addresses first, then uniform; permutation: a shared full-cycle permutation of the space (ZMap-style cyclic group); sequential: upward from a start address, often near the host (Blaster-like)"`
	Exclude     []string    `toml:"exclude" doc:"prefixes the worm never targets: a draw that lands there is drawn again (uniform, local and hitlist only)"`
	Local       Local       `toml:"local" when:"strategy=local"`
	HitList     HitList     `toml:"hitlist" when:"strategy=hitlist"`
	Sequence    Sequence    `toml:"sequence" when:"strategy=sequence"`
	Permutation Permutation `toml:"permutation" when:"strategy=permutation"`
	Sequential  Sequential  `toml:"sequential" when:"strategy=sequential"`
}

// Local is CRII-style local preference: each probe goes to the host's own
// /8 with probability Own8, to its own /16 with probability Own16, and
// anywhere otherwise. Prefix lengths are counted from the top of the space,
// so in a 20-bit space a "/8" holds 4,096 addresses.
type Local struct {
	Own8  float64 `toml:"own8" default:"0.5" min:"0" max:"1" doc:"share of probes to an address in the host's own /8 (CRII: 1/2)"`
	Own16 float64 `toml:"own16" default:"0.375" min:"0" max:"1" doc:"share of probes to an address in the host's own /16 (CRII: 3/8); the rest (CRII: 1/8) go anywhere"`
}

// HitList is a Warhol-style hit-list worm: the seeds carry a list of
// addresses, scan it first, and (when partitioned) hand half of what is left
// of their share to each host they infect; a host whose share is used up
// scans uniformly.
type HitList struct {
	Size            int     `toml:"size" default:"10000" min:"1" max:"100000000" doc:"addresses on the list"`
	VulnerableShare float64 `toml:"vulnerable_share" default:"1" min:"0" max:"1" doc:"share of list entries that are hosts of the vulnerable population (the rest are addresses that do not run the target)"`
	Partitioned     bool    `toml:"partitioned" default:"true" doc:"an infector hands half of its remaining list to each host it infects; false: only the seeds scan the list"`
}

// Sequence is CRv1's bug: the pseudo-random generator is seeded with a
// constant, so every infected host probes the same sequence of addresses
// from the same start.
type Sequence struct {
	Key uint64 `toml:"key" doc:"key of the shared walk; 0 derives it from the run seed, so seeds differ in which addresses come first"`
}

// Permutation is permutation scanning over one full-cycle permutation of
// the address space, the multiplicative group modulo a prime just above the
// space size (as ZMap walks IPv4).
type Permutation struct {
	OnInfected  string `toml:"on_infected" default:"restart" enum:"restart,continue" doc:"what a host does when a probe finds an already-infected host: restart at a random point of the permutation (Staniford et al.'s permutation scanning) or continue"`
	Partitioned bool   `toml:"partitioned" default:"false" doc:"the permutation is split among hosts: an infector hands the second half of its remaining segment to the host it infects; a host whose segment is used up scans uniformly"`
}

// Sequential scans upward from a start address, wrapping at the end of the
// space. Blaster chose a start near itself with probability 0.4.
type Sequential struct {
	LocalStart float64 `toml:"local_start" default:"0.4" min:"0" max:"1" doc:"probability that the walk starts at the bottom of the host's own /16 (else at a uniform random address)"`
}

// Rate is the scan rate of one infected host.
//
// With model "threads" the rate comes from the connect loop of each thread:
// a probe to an address that never answers ties the thread up for Timeout, a
// probe that meets a live address for AnsweredAttempt, so
//
//	rate = scanning_threads / ((1 - q) * timeout + q * answered_attempt)
//
// where q is space.answer_fraction + space.unreachable_fraction. With model "fixed" every host scans at
// Fixed probes per second.
type Rate struct {
	Model                string         `toml:"model" default:"threads" enum:"threads,fixed" doc:"threads: derive the rate from threads and timeouts; fixed: use fixed"`
	Threads              int            `toml:"threads" default:"100" min:"1" max:"100000" doc:"scanning threads per host (CRv1/CRv2: 100; CRII: 300)"`
	ThreadsChinese       int            `toml:"threads_chinese" default:"0" min:"0" max:"100000" doc:"threads on Chinese-language hosts; 0 means the same as threads (CRII: 600)"`
	NonScanningEnglish   int            `toml:"non_scanning_english" default:"0" min:"0" max:"100000" doc:"threads that do not scan on English-language hosts (CRv1: 1 thread defaces instead)"`
	Timeout              param.Duration `toml:"timeout" default:"21s" min:"1ms" max:"1h" doc:"time a thread waits on an address that never answers (Windows 2000: SYN at 0, 3 and 9 s, given up at 21 s)"`
	AnsweredAttempt      param.Duration `toml:"answered_attempt" default:"500ms" min:"0s" max:"1h" doc:"time a thread spends on an address that answers (RST or HTTP); assumption"`
	Fixed                float64        `toml:"fixed" when:"model=fixed" default:"10" min:"0" max:"1e9" doc:"probes per second per host when model is fixed"`
	SynsPerSilentAttempt int            `toml:"syns_per_silent_attempt" default:"3" min:"1" max:"20" doc:"SYN packets sent to an address that never answers (Windows 2000: 3)"`
}

// Calendar is the worm's schedule by the day of the month on the host's
// own clock (UTC plus the host's clock error).
type Calendar struct {
	Kind                string     `toml:"kind" default:"always" enum:"always,monthly" doc:"always: spread until end; monthly: Code Red's day-of-month phases"`
	SpreadUntilDay      int        `toml:"spread_until_day" when:"kind=monthly" default:"19" min:"1" max:"31" doc:"monthly: spread on days 1 to this day"`
	FloodUntilDay       int        `toml:"flood_until_day" when:"kind=monthly" default:"27" min:"1" max:"31" doc:"monthly: flood on the days after spreading up to this day, then dormant until the month ends"`
	FloodTarget         string     `toml:"flood_target" when:"kind=monthly" default:"198.137.240.91" doc:"monthly: the address the flood is sent to"`
	FloodBytesPerSecond float64    `toml:"flood_bytes_per_second" when:"kind=monthly" default:"27778" min:"0" max:"1e12" doc:"monthly: bytes per second one flooding host sends (eEye: 400 MB every four hours, derived 27,778 B/s)"`
	FloodTargetMoved    time.Time  `toml:"flood_target_moved" when:"kind=monthly" min:"1970-01-01T00:00:00Z" max:"2100-01-01T00:00:00Z" doc:"monthly: the site at the flood target moved away at this time (the White House moved to .92 on 19 July 2001): flood bytes sent after it reach nothing; empty: never"`
	WakeDelay           param.Dist `toml:"wake_delay" when:"kind=monthly" doc:"monthly: delay between the month's first midnight on the host's clock and the host scanning again"`
	End                 time.Time  `toml:"end" min:"1970-01-01T00:00:00Z" max:"2100-01-01T00:00:00Z" doc:"the worm stops for good at this time on the host's clock (CRII: 1 October 2001); empty: never"`
}

// Reboot is what the worm does to its own host.
type Reboot struct {
	After        param.Duration `toml:"after" min:"0s" max:"3660d" doc:"the worm reboots its host this long after infection, which clears it from memory (CRII: a day); 0: never"`
	AfterChinese param.Duration `toml:"after_chinese" min:"0s" max:"3660d" doc:"the same on Chinese-language hosts; 0: as after (CRII: two days)"`
	Backdoor     bool           `toml:"backdoor" doc:"an infection leaves a backdoor that survives the reboot (CRII); the host is marked in infections.parquet"`
}

// Wire is what one probe puts on the network, used for the traffic columns.
type Wire struct {
	SynBytes     int    `toml:"syn_bytes" default:"48" min:"20" max:"1500" doc:"IP bytes of one SYN (Windows 2000: 20 IP + 28 TCP with options)"`
	RequestBytes int    `toml:"request_bytes" default:"4018" min:"0" max:"1000000" doc:"IP bytes sent on a completed connection besides the SYN: ACK, the 3,818-byte request in three segments, FIN (derived)"`
	Request      string `toml:"request" default:"codered" enum:"codered,codered2,get" doc:"the request line a web server logs for one probe: codered (\"GET /default.ida?\" + 224 N + the encoded tail, Code Red I), codered2 (the same with X, Code Red II), get (GET / HTTP/1.0)"`
}
