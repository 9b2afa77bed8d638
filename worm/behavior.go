// Package worm holds what a worm does, as data plus small strategy types:
// how an infected host picks the target of each probe, how fast it scans,
// its calendar (phases by the day of the month on the host's own clock),
// and what it does to its host (reboots, backdoors).
//
// It knows nothing about how an outbreak is simulated: package sim asks it
// questions ("which phase is this host in at time t, and when does that
// change?", "what is the probe rate of an infected host of this language?",
// "which addresses does this strategy probe, and in which order?").
package worm

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"wormwatch/ipv4"
)

// Phase is what an infected host's worm is doing.
type Phase uint8

// The phases of an infected host.
const (
	Scanning Phase = iota // probing for new hosts
	Flooding              // sending the flood to a fixed target
	Dormant               // asleep in memory, waiting for its calendar
	Ended                 // stopped for good (after Calendar.End)
)

func (p Phase) String() string {
	switch p {
	case Scanning:
		return "scanning"
	case Flooding:
		return "flooding"
	case Dormant:
		return "dormant"
	case Ended:
		return "ended"
	}
	return fmt.Sprintf("phase(%d)", uint8(p))
}

// Component is one part of a random target distribution: with probability
// Weight a probe goes to a uniform address of the host's own block of
// prefix length Level (0: the whole space).
type Component struct {
	Level  int
	Weight float64
}

// Variant is a worm variant compiled for one scenario: its parameters plus
// everything derived from them that the engine asks for repeatedly.
type Variant struct {
	Index   int
	Name    string
	P       Params
	Space   ipv4.Space
	Exclude ipv4.Ranges // addresses never targeted (a draw there is drawn again)
	// Components of the random part of the strategy (uniform, local, and
	// what hit-list and partitioned permutation hosts do after their list).
	Components []Component
	// Infects[os] tells whether the variant can infect hosts of that OS class.
	Infects [2]bool
	// StartSeconds is when the seeds are infected, in seconds from the
	// scenario start.
	StartSeconds float64

	start      time.Time // scenario start
	segs       []calSeg  // the monthly calendar, precomputed around the start
	rate       [3]float64
	endSeconds float64 // Calendar.End in seconds of host clock from scenario start; +Inf if none
	flood      uint32  // flood target address (space coordinates)
	floodOK    bool
}

// calSeg is a stretch of a monthly calendar: from this host-clock time
// (seconds since the scenario start) the phase is phase, until the next
// segment's from.
type calSeg struct {
	from  float64
	phase Phase
}

// Compile turns parameters into a Variant for a scenario starting at start
// in space sp, where answerFraction is the share of addresses that answer a
// port-80 SYN.
func Compile(index int, p Params, sp ipv4.Space, start time.Time, answerFraction float64) (*Variant, error) {
	v := &Variant{Index: index, Name: p.Name, P: p, Space: sp, start: start}
	ex, err := sp.ParseRanges(p.Targeting.Exclude)
	if err != nil {
		return nil, fmt.Errorf("worm %s: targeting.exclude: %w", p.Name, err)
	}
	v.Exclude = ex
	for _, os := range p.Infects {
		switch os {
		case "win2000":
			v.Infects[ipv4.OSWin2000] = true
		case "nt4":
			v.Infects[ipv4.OSNT4] = true
		default:
			return nil, fmt.Errorf("worm %s: infects: unknown OS class %q (want win2000 or nt4)", p.Name, os)
		}
	}
	switch p.Targeting.Strategy {
	case "local":
		l := p.Targeting.Local
		v.Components = []Component{{0, 1 - l.Own8 - l.Own16}, {8, l.Own8}, {16, l.Own16}}
	default:
		v.Components = []Component{{0, 1}}
	}
	// Drop empty components so the engine never keeps indexes it cannot use.
	kept := v.Components[:0]
	for _, c := range v.Components {
		if c.Weight > 0 {
			kept = append(kept, c)
		}
	}
	v.Components = kept
	if p.Start.IsZero() {
		v.StartSeconds = 0
	} else {
		v.StartSeconds = p.Start.Sub(start).Seconds()
	}
	for lang := uint8(0); lang < 3; lang++ {
		v.rate[lang] = rateFor(p.Rate, lang, answerFraction)
	}
	v.endSeconds = math.Inf(1)
	if !p.Calendar.End.IsZero() {
		v.endSeconds = p.Calendar.End.Sub(start).Seconds()
	}
	if p.Calendar.Kind == "monthly" && p.Calendar.FloodTarget != "" {
		a, err := sp.ParseAddr(p.Calendar.FloodTarget)
		if err != nil {
			return nil, fmt.Errorf("worm %s: calendar.flood_target: %w", p.Name, err)
		}
		v.flood, v.floodOK = a, true
	}
	if p.Calendar.Kind == "monthly" {
		v.buildSegments()
	}
	return v, nil
}

// calendarMonths is how far around the scenario start the monthly calendar
// is precomputed; PhaseAt computes times outside from the calendar directly.
const calendarMonths = 18

// buildSegments precomputes the monthly calendar from calendarMonths before
// the start's month to calendarMonths after it, so that PhaseAt is a binary
// search instead of calendar arithmetic.
func (v *Variant) buildSegments() {
	y, m, _ := v.start.Date()
	first := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC).AddDate(0, -calendarMonths, 0)
	for i := 0; i <= 2*calendarMonths; i++ {
		ms := first.AddDate(0, i, 0)
		t := ms.Sub(v.start).Seconds()
		for {
			ph, next := v.phaseSlow(t)
			if n := len(v.segs); n == 0 || v.segs[n-1].phase != ph {
				v.segs = append(v.segs, calSeg{from: t, phase: ph})
			}
			if next >= ms.AddDate(0, 1, 0).Sub(v.start).Seconds() {
				break
			}
			t = next
		}
	}
	end := first.AddDate(0, 2*calendarMonths+1, 0).Sub(v.start).Seconds()
	v.segs = append(v.segs, calSeg{from: end, phase: Scanning})
}

// Threads returns the scanning threads of an infected host of language lang.
func Threads(r Rate, lang uint8) int {
	t := r.Threads
	if lang == ipv4.LangChinese && r.ThreadsChinese > 0 {
		t = r.ThreadsChinese
	}
	if lang == ipv4.LangEnglish {
		t -= r.NonScanningEnglish
	}
	if t < 0 {
		t = 0
	}
	return t
}

// rateFor is the probe rate (connection attempts per second) of one host:
// each scanning thread loops over connect attempts; an attempt to an
// address that never answers (share 1-q) lasts Timeout, one that ends at
// once (an answer, or a router's ICMP unreachable: share q) lasts
// AnsweredAttempt, so a thread makes 1 / ((1-q) Timeout + q AnsweredAttempt)
// attempts per second.
func rateFor(r Rate, lang uint8, q float64) float64 {
	if r.Model == "fixed" {
		return r.Fixed
	}
	per := (1-q)*r.Timeout.Seconds() + q*r.AnsweredAttempt.Seconds()
	if per <= 0 {
		return 0
	}
	return float64(Threads(r, lang)) / per
}

// Rate returns the probe rate, in probes per second, of a scanning host of
// language lang.
func (v *Variant) Rate(lang uint8) float64 { return v.rate[lang] }

// FloodTarget returns the flood's target address, if the variant floods.
func (v *Variant) FloodTarget() (uint32, bool) { return v.flood, v.floodOK }

// Monthly reports whether the variant follows Code Red's monthly calendar.
func (v *Variant) Monthly() bool { return v.P.Calendar.Kind == "monthly" }

// RebootAfter returns how long after infection the worm reboots a host of
// language lang (0: never).
func (v *Variant) RebootAfter(lang uint8) float64 {
	r := v.P.Reboot
	if lang == ipv4.LangChinese && r.AfterChinese > 0 {
		return r.AfterChinese.Seconds()
	}
	return r.After.Seconds()
}

// PhaseAt returns the phase, on its own calendar, of a host whose clock is
// clockErr seconds ahead of UTC at t seconds after the scenario start, and
// the time at which the calendar phase changes next (+Inf if never).
//
// A monthly worm spreads on days 1..SpreadUntilDay, floods until
// FloodUntilDay and sleeps until the month ends, all by the day of the month
// of the host's clock in UTC. The wake-up delay after dormancy is not part
// of the calendar; the engine adds it when a dormant host reaches day 1.
func (v *Variant) PhaseAt(t float64, clockErr int32) (Phase, float64) {
	hostT := t + float64(clockErr)
	if hostT >= v.endSeconds {
		return Ended, math.Inf(1)
	}
	if v.P.Calendar.Kind != "monthly" {
		return Scanning, v.endSeconds - float64(clockErr)
	}
	n := len(v.segs)
	if n < 2 || hostT < v.segs[0].from || hostT >= v.segs[n-1].from {
		ph, next := v.phaseSlow(hostT)
		return ph, math.Min(next, v.endSeconds) - float64(clockErr)
	}
	i := sort.Search(n, func(i int) bool { return v.segs[i].from > hostT }) - 1
	next := math.Min(v.segs[i+1].from, v.endSeconds)
	return v.segs[i].phase, next - float64(clockErr)
}

// phaseSlow is the monthly calendar at host-clock time hostT (seconds since
// the scenario start): the phase and the host-clock time it changes.
func (v *Variant) phaseSlow(hostT float64) (Phase, float64) {
	c := v.P.Calendar
	// Sub-second precision is irrelevant to day boundaries.
	sec := math.Floor(hostT)
	ht := v.start.Add(time.Duration(sec) * time.Second).UTC()
	y, m, d := ht.Date()
	monthStart := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	var phase Phase
	var boundary time.Time
	switch {
	case d <= c.SpreadUntilDay:
		phase, boundary = Scanning, monthStart.AddDate(0, 0, c.SpreadUntilDay)
	case d <= c.FloodUntilDay:
		phase, boundary = Flooding, monthStart.AddDate(0, 0, c.FloodUntilDay)
	default:
		phase, boundary = Dormant, monthStart.AddDate(0, 1, 0)
	}
	// A short month can put the boundary past the month's end; the next
	// phase then starts at the next month (spread again).
	if next := monthStart.AddDate(0, 1, 0); boundary.After(next) {
		boundary = next
	}
	if phase == Flooding && (!v.floodOK || c.FloodBytesPerSecond == 0) {
		// A worm with no flood is simply quiet on those days.
		phase = Dormant
	}
	return phase, boundary.Sub(v.start).Seconds()
}

// Acceptance returns Z, the probability that one draw of the random target
// distribution of a host at address a is accepted: draws that land in the
// excluded ranges or on the host itself are drawn again. A host's probes
// reach address b of component k's scope with rate
// rate * Weight_k / (Z * scopeSize_k).
func (v *Variant) Acceptance(a uint32) float64 {
	z := 0.0
	for _, c := range v.Components {
		lo, size := v.Scope(a, c.Level)
		bad := v.Exclude.Overlap(ipv4.Range{Lo: lo, Hi: lo + size})
		if !v.Exclude.Contains(a) {
			bad++ // the host's own address
		}
		z += c.Weight * float64(size-bad) / float64(size)
	}
	return z
}

// Scope returns the first address and the size of the block of prefix
// length level (counted from the top of the space) that holds a.
func (v *Variant) Scope(a uint32, level int) (lo, size uint64) {
	shift := uint(v.Space.Bits - level)
	if level <= 0 {
		return 0, v.Space.Size()
	}
	if level >= v.Space.Bits {
		return uint64(a), 1
	}
	return uint64(a>>shift) << shift, 1 << shift
}

// ShareIn returns the probability that one probe of a host at address a
// (scanning at random) lands in the range r: the sum over components of
// w_k |scope_k(a) ∩ r, not excluded, not a| / (Z |scope_k|). Walking hosts
// are counted the same way, as if their pseudo-random walk were uniform.
func (v *Variant) ShareIn(a uint32, r ipv4.Range) float64 {
	z := v.Acceptance(a)
	if z <= 0 {
		return 0
	}
	p := 0.0
	for _, c := range v.Components {
		lo, size := v.Scope(a, c.Level)
		in := ipv4.Range{Lo: max(lo, r.Lo), Hi: min(lo+size, r.Hi)}
		if in.Hi <= in.Lo {
			continue
		}
		n := in.Len() - v.Exclude.Overlap(in)
		if in.Contains(a) && !v.Exclude.Contains(a) {
			n-- // never the host itself
		}
		p += c.Weight * float64(n) / float64(size)
	}
	return p / z
}

// codeRedTail is the encoded end of Code Red's request as web servers
// logged it (shared/reference/worm-signatures.md; the sample honeypot logs).
// It is the visible request line only, as IDS signatures quote it.
const codeRedTail = "%u9090%u6858%ucbd3%u7801%u9090%u6858%ucbd3%u7801%u9090%u6858%ucbd3%u7801%u9090%u9090%u8190%u00c3%u0003%u8b00%u531b%u53ff%u0078%u0000%u00=a"

// RequestLine returns the request line a web server logs for one probe of
// the variant (its %r in Apache's log format).
func (v *Variant) RequestLine() string {
	switch v.P.Wire.Request {
	case "codered":
		return "GET /default.ida?" + strings.Repeat("N", 224) + codeRedTail + " HTTP/1.0"
	case "codered2":
		return "GET /default.ida?" + strings.Repeat("X", 224) + codeRedTail + " HTTP/1.0"
	}
	return "GET / HTTP/1.0"
}
