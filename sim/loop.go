package sim

import (
	"math"
	"math/rand/v2"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"wormwatch/internal/randx"
	"wormwatch/internal/satint"
	"wormwatch/worm"
)

// loop runs the event loop over nb bins. It reports false when the run's
// context was cancelled before the last bin closed: the bins closed so far
// are whole, what happened after them is to be dropped (see cut).
func (w *world) loop(nb int) bool {
	for b := 0; b < nb; b++ {
		if !w.runBin(b, nb) {
			return false
		}
	}
	return true
}

// runBin runs bin b of nb: its events, then its row of the time series.
// It reports false when the run is to stop (see loop).
func (w *world) runBin(b, nb int) bool {
	w.heap.advance(b)
	tb := math.Min(float64(b+1)*w.binW, w.end)
	for {
		if w.stop.Stop() {
			return false
		}
		th := math.Inf(1)
		if w.heap.len() > 0 {
			th = w.heap.top().t
		}
		ts := math.Inf(1)
		if w.next < len(w.sched) {
			ts = w.sched[w.next].t
		}
		m := math.Min(math.Min(th, ts), tb)
		if w.g.step(m) {
			w.res.Events++
			continue
		}
		w.advance(m)
		if m >= tb {
			break
		}
		if ts < th {
			w.next++
			w.handle(w.sched[w.next-1])
		} else {
			w.handle(w.heap.pop())
		}
		w.res.Events++
	}
	if w.stop.Err() != nil || !w.closeBin(b) {
		return false // a step or a sensor gave up
	}
	for len(w.snaps) > 0 && w.snaps[0] <= tb {
		w.snapshot(w.snaps[0])
		w.snaps = w.snaps[1:]
	}
	if w.opt.Progress != nil {
		w.opt.Progress(Progress{
			Time: w.start.Add(time.Duration(tb * float64(time.Second))), Fraction: tb / w.end,
			Infected: w.nI, NewInfections: w.res.Bins[b].NewInfections, BinSeconds: w.binW,
		})
	}
	if w.stop.Now() && b+1 < nb {
		return false
	}
	return true
}

// cut drops what an interrupted run did after its last whole bin: the
// infections (in time order) of the bin it was in.
func (w *world) cut() {
	whole := float64(len(w.res.Bins)) * w.binW
	inf := w.res.Infections
	n := len(inf)
	for n > 0 && inf[n-1].Seconds >= whole {
		n--
	}
	w.res.Infections = inf[:n]
}

// saturate records that the counter name reached satint.Max.
func (o *output) saturate(name string) {
	if o.saturated == nil {
		o.saturated = map[string]bool{}
	}
	o.saturated[name] = true
}

// advance moves the world's time to t, accounting the time in between to
// the flood counters and the generator.
func (w *world) advance(t float64) {
	if t <= w.t {
		return
	}
	dt := t - w.t
	for v, n := range w.floodHosts {
		w.floodMass[v] += float64(n) * dt
	}
	w.g.advance(w.t, t)
	w.t = t
}

// closeBin writes the row of bin b. Probe counts come from the generator;
// SYN packets and bytes are split from them: each probe meets an address
// that answers (space.answer_fraction) or a router's ICMP unreachable
// (space.unreachable_fraction): one SYN, and if the address accepts (share
// http_fraction of those that answer) the request follows; otherwise it
// sends syns_per_silent_attempt SYNs into silence.
//
// Counters saturate at satint.Max instead of wrapping (a billion probes a
// second from each of many hosts, with megabyte requests, pass 2^63), and
// a counter that reaches it is recorded in Result.Saturated. closeBin
// reports false, and writes no row, when a sensor gave up on a cancelled
// run.
func (w *world) closeBin(b int) bool {
	row := Bin{
		Time:        w.start.Add(time.Duration(float64(b) * w.binW * float64(time.Second))),
		Susceptible: w.nS, Infected: w.nI, InfectedScanning: w.nScan, InfectedFlooding: w.nFlood,
		InfectedDormant: w.nDorm, Patched: w.nP, Removed: w.nR, NewInfections: w.newInf, EverInfected: w.nEver,
		PatchedHome: w.nPHome, RemovedHome: w.nRHome, EverUnpatched: w.nEverUnp,
	}
	q, hf := w.sc.Space.AnswerFraction+w.sc.Space.Unreachable, w.sc.Space.HTTPFraction
	ansShare := 0.0
	if q > 0 {
		ansShare = w.sc.Space.AnswerFraction / q
	}
	add := func(a, b int64) int64 { s, _ := satint.Add(a, b); return s }
	mul := func(a, b int64) int64 { s, _ := satint.Mul(a, b); return s }
	for i, v := range w.vars {
		p := w.g.binProbes(i)
		row.Probes = add(row.Probes, p)
		if p > 0 {
			quick := binomial(w.trng, p, math.Min(q, 1)) // one SYN each
			http := binomial(w.trng, binomial(w.trng, quick, ansShare), hf)
			syn := add(quick, mul(p-quick, int64(v.P.Rate.SynsPerSilentAttempt)))
			row.SynPackets = add(row.SynPackets, syn)
			row.BytesOnWire = add(row.BytesOnWire, add(mul(syn, int64(v.P.Wire.SynBytes)), mul(http, int64(v.P.Wire.RequestBytes))))
		}
		flood, _ := satint.Float(math.Round(w.floodMass[i] * v.P.Calendar.FloodBytesPerSecond))
		row.FloodBytes = add(row.FloodBytes, flood)
		w.floodMass[i] = 0
	}
	t0 := float64(b) * w.binW
	t1 := math.Min(float64(b+1)*w.binW, w.end)
	for _, tel := range w.tels {
		tel.CloseBin(b, t0, t1)
		if tel.Stopped() {
			return false
		}
	}
	// A count of exactly satint.Max is a saturated one (or one that would
	// have passed it had an input not saturated first).
	for _, c := range []struct {
		name string
		v    int64
	}{{"probes", row.Probes}, {"syn_packets", row.SynPackets}, {"bytes_on_wire", row.BytesOnWire}, {"flood_bytes", row.FloodBytes}} {
		if c.v == satint.Max {
			w.saturate(c.name)
		}
	}
	if w.res.SimulatedProbes = add(w.res.SimulatedProbes, row.Probes); w.res.SimulatedProbes == satint.Max {
		w.saturate("simulated_probes")
	}
	w.newInf = 0
	w.res.Bins = append(w.res.Bins, row)
	return true
}

// binomial draws Binomial(n, p).
func binomial(r *rand.Rand, n int64, p float64) int64 { return randx.Binomial(r, n, p) }

// poisson draws Poisson(mean), held at satint.Max when the draw passes it.
func poisson(r *rand.Rand, mean float64) int64 {
	if mean <= 0 {
		return 0
	}
	n, _ := satint.Float(distuv.Poisson{Lambda: mean, Src: r}.Rand())
	return n
}

// handle performs a scheduled event: a variant's seeds, a patch, a
// removal, a machine switched back on, or an event of an infection (a
// calendar phase, a wake-up, a reboot, a switch-off), which is stale if the
// infection it belongs to is over.
func (w *world) handle(e event) {
	if l, ok := w.g.(*lumped); ok {
		l.handle(e)
		return
	}
	h := e.host
	switch e.kind {
	case evSeed:
		w.seed(e.v, e.t)
		return
	case evPatch:
		w.retire(h, e.t, stPatched)
		return
	case evRemove:
		w.retire(h, e.t, stRemoved)
		return
	case evPowerOn:
		// A host that has not arrived yet stays dark (a night that ends
		// before its arrival does not bring it online: its own event will).
		if w.h[h].flags&flDark != 0 && w.h[h].gen == e.gen && w.arrived(h, e.t) {
			w.h[h].flags &^= flDark
			if w.h[h].state == stSusceptible {
				w.g.suscAdd(h)
			}
		}
		return
	}
	if w.h[h].gen != e.gen || w.h[h].state != stInfected {
		return // stale: the infection it belonged to is over
	}
	switch e.kind {
	case evPhase:
		w.calendar(h, e.t, true, w.hosts.ClockError[h])
	case evWake:
		ph, next := w.vars[w.h[h].varOf].PhaseAt(e.t, w.hosts.ClockError[h])
		if ph == worm.Scanning && w.h[h].phase == worm.Dormant {
			w.wake(h, e.t, next)
		}
	case evWakeGroup:
		w.wakeGroup(h, e.t)
	case evReboot:
		if w.vars[w.h[h].varOf].P.Reboot.Backdoor {
			w.h[h].flags |= flBackdoor
		}
		w.cure(h, e.t)
	case evOwnerReboot, evPowerOff:
		w.cure(h, e.t)
	}
}

// snapshot records the infected hosts per /16 at t (taken at the end of
// the bin that holds t).
func (w *world) snapshot(t float64) {
	counts := make([]uint32, 1<<16)
	shift := uint(max(w.sp.Bits-16, 0))
	for i := range w.h {
		if w.h[i].state == stInfected {
			counts[w.h[i].addr>>shift]++
		}
	}
	w.res.Snapshots = append(w.res.Snapshots, Snapshot{Seconds: t, Infected: counts})
}
