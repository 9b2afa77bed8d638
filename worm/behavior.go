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
	"strings"
	"time"

	"wormwatch/internal/param"
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

// String names the phase, as the outputs write it.
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

	start      time.Time          // scenario start
	strategy   Targeter           // what targeting.strategy does
	cal        calendar           // what calendar.kind does
	segs       []calSeg           // the monthly calendar, precomputed around the start
	wake       param.Distribution // calendar.wake_delay
	ramp       param.Distribution // calendar.wake_ramp
	rate       [3]float64
	rateK      [3][]float64 // rate with k+1 of the wake groups awake (see RateAwake)
	endSeconds float64      // Calendar.End in seconds of host clock from scenario start; +Inf if none
	flood      uint32       // flood target address (space coordinates)
	floodOK    bool
}

// Compile turns parameters into a Variant for a scenario starting at start
// in space sp, where answerFraction is the share of addresses that answer a
// port-80 SYN. The strategy, the rate model, the calendar, the OS classes
// and the wake-up delay must be registered kinds.
func Compile(index int, p Params, sp ipv4.Space, start time.Time, answerFraction float64) (*Variant, error) {
	v := &Variant{Index: index, Name: p.Name, P: p, Space: sp, start: start}
	ex, err := sp.ParseRanges(p.Targeting.Exclude)
	if err != nil {
		return nil, fmt.Errorf("worm %s: targeting.exclude: %w", p.Name, err)
	}
	v.Exclude = ex
	for _, os := range p.Infects {
		code, ok := osClasses.Lookup(os)
		if !ok {
			return nil, fmt.Errorf("worm %s: infects: unknown OS class %q (want %s)", p.Name, os, strings.Join(osClasses.Names(), " or "))
		}
		v.Infects[code] = true
	}
	if v.strategy, err = targeterOf(p.Targeting.Strategy); err != nil {
		return nil, fmt.Errorf("worm %s: targeting.strategy: %w", p.Name, err)
	}
	// Drop empty components so the engine never keeps indexes it cannot use.
	for _, c := range v.strategy.Components(p.Targeting) {
		if c.Weight > 0 {
			v.Components = append(v.Components, c)
		}
	}
	if p.Start.IsZero() {
		v.StartSeconds = 0
	} else {
		v.StartSeconds = p.Start.Sub(start).Seconds()
	}
	model, err := rateModels.Get(p.Rate.Model)
	if err != nil {
		return nil, fmt.Errorf("worm %s: rate.model: %w", p.Name, err)
	}
	for lang := uint8(0); lang < 3; lang++ {
		v.rate[lang] = model.rate(p.Rate, lang, answerFraction)
	}
	if v.wake, err = p.Calendar.WakeDelay.Distribution(); err != nil {
		return nil, fmt.Errorf("worm %s: calendar.wake_delay: %w", p.Name, err)
	}
	if v.ramp, err = p.Calendar.WakeRamp.Distribution(); err != nil {
		return nil, fmt.Errorf("worm %s: calendar.wake_ramp: %w", p.Name, err)
	}
	g := v.WakeGroups()
	for lang := uint8(0); lang < 3; lang++ {
		v.rateK[lang] = make([]float64, g)
		for k := 1; k <= g; k++ {
			v.rateK[lang][k-1] = v.rate[lang] * awakeShare(Threads(p.Rate, lang), k, g)
		}
	}
	v.endSeconds = math.Inf(1)
	if !p.Calendar.End.IsZero() {
		v.endSeconds = p.Calendar.End.Sub(start).Seconds()
	}
	if v.cal, err = calendars.Get(p.Calendar.Kind); err != nil {
		return nil, fmt.Errorf("worm %s: calendar.kind: %w", p.Name, err)
	}
	if err := v.cal.compile(v, sp); err != nil {
		return nil, fmt.Errorf("worm %s: %w", p.Name, err)
	}
	return v, nil
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

// Rate returns the probe rate, in probes per second, of a scanning host of
// language lang.
func (v *Variant) Rate(lang uint8) float64 { return v.rate[lang] }

// WakeGroups returns the groups a host's scanning threads wake in after
// dormancy (calendar.wake_groups; 1 for a calendar without dormancy).
func (v *Variant) WakeGroups() int {
	if !v.Monthly() || v.P.Calendar.WakeGroups < 1 {
		return 1
	}
	return v.P.Calendar.WakeGroups
}

// RateAwake returns the probe rate of a scanning host of language lang
// with k of its WakeGroups() groups of threads awake (k at or above the
// number of groups: every thread, Rate(lang)).
func (v *Variant) RateAwake(lang uint8, k int) float64 {
	r := v.rateK[lang]
	if k >= len(r) || k < 1 {
		return v.rate[lang]
	}
	return r[k-1]
}

// WakeRamp returns the delay between a host's first thread waking and each
// other group of its threads waking (calendar.wake_ramp).
func (v *Variant) WakeRamp() param.Distribution { return v.ramp }

// awakeShare is the share of a host's t scanning threads awake when k of
// its g wake groups are: the first group is one thread, the other t-1
// threads are split as evenly as whole threads allow over the other g-1.
func awakeShare(t, k, g int) float64 {
	if t <= 0 || g <= 1 || k >= g {
		return 1
	}
	return float64(1+(k-1)*(t-1)/(g-1)) / float64(t)
}

// FloodTarget returns the flood's target address, if the variant floods.
func (v *Variant) FloodTarget() (uint32, bool) { return v.flood, v.floodOK }

// Monthly reports whether the variant follows Code Red's monthly calendar.
func (v *Variant) Monthly() bool { return v.P.Calendar.Kind == CalendarMonthly }

// WakeDelay returns the delay between the end of a dormant stretch of the
// calendar and the host scanning again (calendar.wake_delay).
func (v *Variant) WakeDelay() param.Distribution { return v.wake }

// Walker returns the variant's strategy as a Walker, if its hosts walk.
func (v *Variant) Walker() (Walker, bool) {
	w, ok := v.strategy.(Walker)
	return w, ok
}

// Walks reports whether the variant's hosts start by walking an order of
// addresses (see Walker).
func (v *Variant) Walks() bool {
	_, ok := v.strategy.(Walker)
	return ok
}

// RebootAfter returns how long after infection the worm reboots a host of
// language lang (0: never).
func (v *Variant) RebootAfter(lang uint8) float64 {
	r := v.P.Reboot
	if lang == ipv4.LangChinese && r.AfterChinese > 0 {
		return r.AfterChinese.Seconds()
	}
	return r.After.Seconds()
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

// RequestLine returns the request line a web server logs for one probe
// of the variant (its %r in Apache's log format).
func (v *Variant) RequestLine() string { return v.P.Wire.Request.Line() }
