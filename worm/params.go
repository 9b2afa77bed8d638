package worm

import (
	"time"

	_ "wormwatch/internal/names" // registers the valid:"name" rule of these parameters
	"wormwatch/internal/param"
)

// Params declares one worm variant, as a [[worm]] table of a scenario.
// Every field carries its default, its bounds and its documentation in tags;
// the scenario reader, --set, validation and docs/scenario.md all read them.
type Params struct {
	Name      string    `toml:"name" valid:"name" doc:"short identifier of this variant (crv1, crv2, crii, ...); it names the variant in infections.parquet"`
	Infects   []OS      `toml:"infects" default:"win2000,nt4" doc:"operating-system classes this variant can infect (CRII: win2000 only)"`
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
	Strategy    Strategy    `toml:"strategy" default:"uniform"` // allowed values and doc: the registered strategies (RegisterStrategy)
	Exclude     []string    `toml:"exclude" doc:"prefixes the worm never targets: a draw that lands there is drawn again (uniform, local and hitlist only)"`
	Local       Local       `toml:"local" when:"strategy=local"`
	HitList     HitList     `toml:"hitlist" when:"strategy=hitlist"`
	Sequence    Sequence    `toml:"sequence" when:"strategy=sequence"`
	Permutation Permutation `toml:"permutation" when:"strategy=permutation"`
	Sequential  Sequential  `toml:"sequential" when:"strategy=sequential"`
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
	Model                RateModel      `toml:"model" default:"threads"` // allowed values and doc: the rate models (kinds.go)
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
	Kind                CalendarKind `toml:"kind" default:"always"` // allowed values and doc: the calendars (calendar.go)
	SpreadUntilDay      int          `toml:"spread_until_day" when:"kind=monthly" default:"19" min:"1" max:"31" doc:"monthly: spread on days 1 to this day"`
	FloodUntilDay       int          `toml:"flood_until_day" when:"kind=monthly" default:"27" min:"1" max:"31" doc:"monthly: flood on the days after spreading up to this day, then dormant until the month ends"`
	FloodTarget         string       `toml:"flood_target" when:"kind=monthly" default:"198.137.240.91" doc:"monthly: the address the flood is sent to"`
	FloodBytesPerSecond float64      `toml:"flood_bytes_per_second" when:"kind=monthly" default:"27778" min:"0" max:"1e12" doc:"monthly: bytes per second one flooding host sends (eEye: 400 MB every four hours, derived 27,778 B/s)"`
	FloodTargetMoved    time.Time    `toml:"flood_target_moved" when:"kind=monthly" min:"1970-01-01T00:00:00Z" max:"2100-01-01T00:00:00Z" doc:"monthly: the site at the flood target moved away at this time (the White House moved to .92 on 19 July 2001): flood bytes sent after it reach nothing; empty: never"`
	WakeDelay           param.Dist   `toml:"wake_delay" when:"kind=monthly" doc:"monthly: delay between the month's first midnight on the host's clock and the host scanning again (its first thread awake)"`
	WakeGroups          int          `toml:"wake_groups" when:"kind=monthly" default:"1" min:"1" max:"16" doc:"monthly: after dormancy the host's scanning threads wake in this many groups: the first thread alone at wake_delay, the others in wake_groups - 1 groups of equal size (as near as whole threads allow), each after its own draw of wake_ramp; the host scans at the rate of its awake threads. 1: all threads at once. CERT's lab (K. Houle, NANOG, 2 August 2001): at the moment of wake-up a host scanned about 160 addresses an hour against over 50,000 for a host infected during the scanning days, \"it would appear not all threads wake up at the same time\""`
	WakeRamp            param.Dist   `toml:"wake_ramp" when:"kind=monthly" doc:"monthly: delay between a host's first thread waking and each other group of its threads waking (with wake_groups above 1); a group that would wake after the host's scanning days end does not wake that month"`
	End                 time.Time    `toml:"end" min:"1970-01-01T00:00:00Z" max:"2100-01-01T00:00:00Z" doc:"the worm stops for good at this time on the host's clock (CRII: 1 October 2001); empty: never"`
}

// Reboot is what the worm does to its own host.
type Reboot struct {
	After        param.Duration `toml:"after" min:"0s" max:"3660d" doc:"the worm reboots its host this long after infection, which clears it from memory (CRII: a day); 0: never"`
	AfterChinese param.Duration `toml:"after_chinese" min:"0s" max:"3660d" doc:"the same on Chinese-language hosts; 0: as after (CRII: two days)"`
	Backdoor     bool           `toml:"backdoor" doc:"an infection leaves a backdoor that survives the reboot (CRII); the host is marked in infections.parquet"`
}

// Wire is what one probe puts on the network, used for the traffic columns.
type Wire struct {
	SynBytes     int     `toml:"syn_bytes" default:"48" min:"20" max:"1500" doc:"IP bytes of one SYN (Windows 2000: 20 IP + 28 TCP with options)"`
	RequestBytes int     `toml:"request_bytes" default:"4018" min:"0" max:"1000000" doc:"IP bytes sent on a completed connection besides the SYN: ACK, the 3,818-byte request in three segments, FIN (derived)"`
	Request      Request `toml:"request" default:"codered" doc:"the request line a web server logs for one probe: codered (\"GET /default.ida?\" + 224 N + the encoded tail, Code Red I), codered2 (the same with X, Code Red II), get (GET / HTTP/1.0)"`
}
