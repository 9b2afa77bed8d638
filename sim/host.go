package sim

import (
	"math"
	"slices"

	"wormwatch/worm"
)

// Host states.
const (
	stSusceptible uint8 = iota
	stInfected
	stPatched
	stRemoved
)

// Host flags.
const (
	flEver     uint8 = 1 << iota // infected at least once
	flBackdoor                   // carries a backdoor
	flOff                        // switched off at night
	flHome                       // home or small-business machine
	flDark                       // susceptible but switched off or not arrived yet: out of the target sets until evPowerOn
)

// hrec is one host's record: what the engine reads and writes for a host
// on every infection sits together, so touching a host costs one cache
// miss, not ten. It is 24 bytes; the host's clock error and time zone,
// read once per calendar change or only for machines switched off at
// night, stay in the population's slices (world.hosts).
type hrec struct {
	addr  uint32
	gen   uint32 // generation: bumped when an infection ends, so its events go stale
	state uint8
	phase worm.Phase
	varOf uint8 // variant of the current infection
	flags uint8
	os    uint8
	lang  uint8
	cls   uint8 // rate class while scanning (fast engine)
	grp   uint8 // bitmask of the susceptible groups the host belongs to (fast engine)
	// cureAt is when the current infection's memory is cleared (a reboot,
	// the machine switched off): calendar events after it are not scheduled.
	cureAt float64
}

// tryInfect is how both engines infect: an infecting probe that reaches
// susceptible host h at t infects it unless the machine is switched off or
// the probe is lost to congestion. (Both are exact thinnings of the probe
// process.) It reports whether h was infected.
func (w *world) tryInfect(h, infector int32, vi uint8, t float64) bool {
	// The clock error is read first, so that its cache miss overlaps the
	// miss on the host's record instead of following it.
	clock := w.hosts.ClockError[h]
	if !w.arrived(h, t) {
		return false // not on the network yet (the per-probe engine probes it)
	}
	if w.h[h].flags&flOff != 0 && w.def.Offline(h, w.hosts.UTCOffset[h], t) {
		// Switched off: no infection. Take it out of the target sets until
		// it is switched on (it has no hazard meanwhile, so this changes
		// nothing in distribution and saves drawing it again all night).
		w.h[h].flags |= flDark
		w.g.suscRemove(h)
		w.push(event{t: w.def.NextOn(h, w.hosts.UTCOffset[h], t), host: h, gen: w.h[h].gen, kind: evPowerOn})
		return false
	}
	if w.def.Congested() && !w.def.Accept(w.nScan, int64(w.n), w.rng.Float64()) {
		return false
	}
	w.infect(h, infector, vi, t, clock)
	return true
}

// seed infects a variant's seed hosts, uniform among the susceptible hosts
// it can infect that are on the network (arrived; population.arrivals):
// the first k of a uniform shuffle of those hosts in id order (a partial
// Fisher-Yates shuffle). The shuffle is kept sparse (the positions it
// swapped, in a map) and a position is turned into its host by counting
// candidates from the start of its chunk, so a seed costs one pass over
// the hosts and no list of them.
func (w *world) seed(vi uint8, t float64) {
	w.g.activate(int(vi))
	v := w.vars[vi]
	picked := map[int32]bool{} // hosts infected here: candidates still, for nth
	cand := func(h int) bool {
		return w.seedable(int32(h), v, t) || picked[int32(h)]
	}
	const chunk = 1024
	starts := make([]int, 0, w.n/chunk+1) // candidates before each chunk
	m := 0
	for h := 0; h < w.n; h++ {
		if h%chunk == 0 {
			starts = append(starts, m)
		}
		if w.seedable(int32(h), v, t) {
			m++
		}
	}
	// nth returns the host at position p of the candidates in id order.
	nth := func(p int) int32 {
		c, _ := slices.BinarySearch(starts, p+1)
		h, left := (c-1)*chunk, p-starts[c-1]
		for ; !cand(h) || left > 0; h++ {
			if cand(h) {
				left--
			}
		}
		return int32(h)
	}
	k := min(v.P.Seeds, m)
	w.seedK[vi] = k
	swapped := map[int]int{} // position -> the position whose host it holds
	at := func(p int) int {
		if q, ok := swapped[p]; ok {
			return q
		}
		return p
	}
	for i := 0; i < k; i++ {
		j := i + w.rng.IntN(m-i)
		pi, pj := at(i), at(j)
		swapped[i], swapped[j] = pj, pi
		h := nth(pj)
		picked[h] = true
		w.infect(h, -1, vi, t, w.hosts.ClockError[h])
	}
}

// seedable reports whether host h can be one of variant v's seeds at t: a
// susceptible host v infects that is on the network and switched on (a
// machine switched off for the night cannot be infected, and a seed that
// was would die at once, its memory cleared).
func (w *world) seedable(h int32, v *worm.Variant, t float64) bool {
	if w.h[h].state != stSusceptible || !v.Infects[w.h[h].os] || !w.arrived(h, t) {
		return false
	}
	return w.h[h].flags&flOff == 0 || !w.def.Offline(h, w.hosts.UTCOffset[h], t)
}

// infect makes susceptible host h, whose clock error is clock, infected by
// variant vi at time t.
func (w *world) infect(h int32, infector int32, vi uint8, t float64, clock int32) {
	w.h[h].state = stInfected
	w.h[h].varOf = vi
	if w.h[h].flags&flDark != 0 {
		w.h[h].flags &^= flDark // a seed: it was out of the target sets already
	} else {
		w.g.suscRemove(h)
	}
	w.nS--
	w.nI++
	w.newInf++
	if w.h[h].flags&flEver == 0 {
		w.h[h].flags |= flEver
		w.nEver++
		w.nEverUnp++ // infected now: neither patched nor removed
	}
	w.h[h].gen++
	if w.awake != nil {
		w.awake[h] = 0 // infected while the calendar says spread: every thread scans
	}
	w.h[h].phase = worm.Dormant // placeholder until calendar sets it
	w.nDorm++
	// The infector is recorded by host id here and turned into its address
	// when the run ends: reading its record now would stall the event loop
	// on a cache miss; afterwards the loads overlap.
	inf := Infection{
		Seconds: t, Address: w.h[h].addr, Infector: NoInfector, Variant: vi,
		Backdoor: w.h[h].flags&flBackdoor != 0,
	}
	if infector >= 0 {
		inf.Infector = uint32(infector)
	}
	if !w.opt.NoInfections {
		w.res.Infections = append(w.res.Infections, inf)
	}
	if w.opt.Observe != nil {
		if infector >= 0 {
			inf.Infector = w.h[infector].addr
		}
		w.opt.Observe(inf)
	}
	// Three things end an infection by clearing memory: the worm's own
	// reboot, the owner's reboot, the machine switched off for the night.
	// Only the first of them matters, so only it is scheduled, and calendar
	// events after it are not.
	v := w.vars[vi]
	cure, kind := math.Inf(1), evReboot
	if d := v.RebootAfter(w.h[h].lang); d > 0 {
		cure = t + d
	}
	if d := w.def.RebootAfter(w.rng.ExpFloat64(), w.h[h].flags&flHome != 0); t+d < cure {
		cure, kind = t+d, evOwnerReboot
	}
	if w.h[h].flags&flOff != 0 {
		if off := w.def.NextOff(h, w.hosts.UTCOffset[h], t); off < cure {
			cure, kind = off, evPowerOff
		}
	}
	w.h[h].cureAt = cure
	w.push(event{t: cure, host: h, gen: w.h[h].gen, kind: kind})
	w.g.infected(h, infector, t)
	w.calendar(h, t, false, clock)
}

// push schedules an event if it falls before the end of the run.
func (w *world) push(e event) {
	if e.t < w.end {
		w.heap.push(e)
	}
}

// calendar puts infected host h, whose clock error is clock, in the phase
// its calendar gives at t and schedules the next change. After dormancy (or
// flooding) a monthly worm that reaches its spreading days waits its
// wake-up delay first.
func (w *world) calendar(h int32, t float64, boundary bool, clock int32) {
	v := w.vars[w.h[h].varOf]
	ph, next := v.PhaseAt(t, clock)
	if ph == worm.Scanning && boundary && w.h[h].phase != worm.Scanning && (!v.WakeDelay().AlwaysZero() || w.awake != nil && v.WakeGroups() > 1) {
		w.setPhase(h, worm.Dormant, t)
		if wake := t + v.WakeDelay().Sample(w.rng); wake < w.h[h].cureAt {
			w.push(event{t: wake, host: h, gen: w.h[h].gen, kind: evWake})
		}
	} else {
		w.setPhase(h, ph, t)
	}
	if next < w.h[h].cureAt {
		w.push(event{t: next, host: h, gen: w.h[h].gen, kind: evPhase})
	}
}

// setPhase moves infected host h to phase ph, keeping the counters and the
// generator's view of who scans.
func (w *world) setPhase(h int32, ph worm.Phase, t float64) {
	old := w.h[h].phase
	if old == ph {
		return
	}
	w.countPhase(old, -1, w.h[h].varOf)
	w.countPhase(ph, +1, w.h[h].varOf)
	w.h[h].phase = ph
	if old == worm.Scanning {
		w.scanOff(h, t)
	}
	if ph == worm.Scanning {
		w.scanOn(h, t)
	}
}

// scanOn tells the generator and the sensors that host h starts scanning.
func (w *world) scanOn(h int32, t float64) {
	w.g.scanStart(h, t)
	if len(w.tels) == 0 {
		return
	}
	v := w.vars[w.h[h].varOf]
	rate := v.RateAwake(w.h[h].lang, w.awakeOf(h))
	a := w.h[h].addr
	for i, tel := range w.tels {
		var p float64
		if tel.Range().Contains(a) {
			p = v.ShareIn(a, tel.Range())
		} else {
			// Outside the block, the share depends only on the host's /16.
			key := uint32(v.Index)<<16 | a>>uint(max(w.sp.Bits-16, 0))
			if x := w.share[i][key]; x == x {
				p = float64(x)
			} else {
				p = v.ShareIn(a, tel.Range())
				w.share[i][key] = float32(p)
			}
		}
		tel.ScanStart(h, rate*p, t, a, w.h[h].varOf)
	}
}

// awakeOf returns how many of scanning host h's wake groups are awake, 0
// for every thread (see hostTable.awake).
func (w *world) awakeOf(h int32) int {
	if w.awake == nil {
		return 0
	}
	return int(w.awake[h])
}

// wake makes dormant host h, whose calendar says spread until next, scan
// from t: with its threads in wake groups (and a ramp), the first thread
// alone, and each other group scheduled after its own draw of the ramp
// if that falls before the scanning days end and the infection does.
func (w *world) wake(h int32, t, next float64) {
	v := w.vars[w.h[h].varOf]
	if g := v.WakeGroups(); g > 1 && w.awake != nil {
		w.awake[h] = 1
		for i := 1; i < g; i++ {
			if tg := t + v.WakeRamp().Sample(w.rng); tg < next && tg < w.h[h].cureAt {
				w.push(event{t: tg, host: h, gen: w.h[h].gen, kind: evWakeGroup})
			}
		}
	}
	w.setPhase(h, worm.Scanning, t)
}

// wakeGroup wakes one more group of scanning host h's threads at t: the
// generator and the sensors see it stop at its old rate and start at the
// new one.
func (w *world) wakeGroup(h int32, t float64) {
	if w.h[h].phase != worm.Scanning || w.awake[h] == 0 {
		return
	}
	w.scanOff(h, t)
	w.awake[h]++
	if int(w.awake[h]) >= w.vars[w.h[h].varOf].WakeGroups() {
		w.awake[h] = 0
	}
	w.scanOn(h, t)
}

// scanOff tells the generator and the sensors that host h stops scanning.
func (w *world) scanOff(h int32, t float64) {
	w.g.scanStop(h, t)
	for _, tel := range w.tels {
		tel.ScanStop(h, t)
	}
}

// countPhase counts d hosts of variant v in or out of phase ph.
func (c *counters) countPhase(ph worm.Phase, d int64, v uint8) {
	switch ph {
	case worm.Scanning:
		c.nScan += d
	case worm.Flooding:
		c.nFlood += d
		c.floodHosts[v] += d
	default:
		c.nDorm += d
	}
}

// endInfection stops host h's worm at t (reboot, patch, removal).
func (w *world) endInfection(h int32, t float64) {
	if w.h[h].phase == worm.Scanning {
		w.scanOff(h, t)
	}
	w.countPhase(w.h[h].phase, -1, w.h[h].varOf)
	w.h[h].gen++
	w.nI--
}

// cure ends the infection of host h at t (a reboot, a machine switched
// off): it becomes susceptible again, since it is still unpatched.
func (w *world) cure(h int32, t float64) {
	w.endInfection(h, t)
	w.h[h].state = stSusceptible
	w.nS++
	w.g.suscAdd(h)
}

// retire makes host h patched or removed at t, for good.
func (w *world) retire(h int32, t float64, st uint8) {
	home := w.h[h].flags&flHome != 0
	if cur := w.h[h].state; (cur == stInfected || cur == stSusceptible) && w.h[h].flags&flEver != 0 {
		w.nEverUnp-- // it leaves the hosts neither patched nor removed
	}
	switch w.h[h].state {
	case stInfected:
		w.endInfection(h, t)
		w.h[h].state = st
		w.g.retired(h)
	case stSusceptible:
		w.nS--
		w.h[h].state = st
		if w.h[h].flags&flDark != 0 {
			w.h[h].flags &^= flDark // already out of the target sets
		} else {
			w.g.suscRemove(h)
		}
	case stPatched:
		if st != stRemoved {
			return
		}
		w.nP--
		if home {
			w.nPHome--
		}
		w.h[h].state = st
	default:
		return
	}
	if st == stPatched {
		w.nP++
		if home {
			w.nPHome++
		}
	} else {
		w.nR++
		if home {
			w.nRHome++
		}
	}
}
