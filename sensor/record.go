package sensor

import (
	"math"
	"slices"

	"wormwatch/ipv4"
)

// Probe is one probe a sensor received, for its packet capture or its
// access log.
type Probe struct {
	Seconds float64 // since the start of the run
	Src     uint32  // the scanning host's address at that time (space coordinates)
	Dst     uint32  // the address probed, inside the sensor's block
	Variant uint8   // index of the worm variant
}

// window is a recording window [from, to): inside it, every probe into the
// block is drawn. Each scanning host's probes form a Poisson process of
// rate mu, so from the moment it scans (or the window opens) its next
// probe is Exp(mu) away, whatever happened before (the process has no
// memory); the probe goes to a uniform address of the block. (Within the
// block every address is equally likely for every random strategy; for
// hosts whose own /8 or /16 overlaps the block only partly this is an
// approximation.)
//
// The window opens when the run's time reaches from (at the first scan
// start, scan stop or bin close at or after it): every host scanning then
// has its earlier events performed, then draws its first probe from from.
// It closes the same way at to, after which hosts go back to being counted
// in aggregate.
type window struct {
	from, to float64
	state    uint8 // winBefore, winOpen, winClosed
	lo, size uint64
	scan     []int32 // hosts scanning now, for when the window opens or closes
	pos      []int32 // index in scan, or -1
	src      []uint32
	variant  []uint8
	probes   []Probe
	max      int     // most probes kept (Params.RecordMax)
	cutAt    float64 // once max is reached: the start of the bin in which it was; probes from then on are not kept
	cut      bool
}

// States of a window.
const (
	winBefore uint8 = iota
	winOpen
	winClosed
)

// DefaultRecordMax is Params.RecordMax's default, used too when it is 0
// (Params made in code): 2^24 probes, 400 MB.
const DefaultRecordMax = 1 << 24

func newWindow(from, to float64, r ipv4.Range, nHosts int, most int64) *window {
	if most <= 0 {
		most = DefaultRecordMax
	}
	w := &window{
		from: math.Max(from, 0), to: to, lo: r.Lo, size: r.Len(), max: int(min(most, math.MaxInt32)),
		pos: make([]int32, nHosts), src: make([]uint32, nHosts), variant: make([]uint8, nHosts),
	}
	for i := range w.pos {
		w.pos[i] = -1
	}
	switch {
	case w.to <= w.from:
		w.state = winClosed // empty: nothing to record
	case w.from <= 0:
		w.state = winOpen // no host scans yet
	}
	return w
}

// add notes that host h scans from now on.
func (w *window) add(h int32, src uint32, variant uint8) {
	w.src[h], w.variant[h] = src, variant
	w.pos[h] = int32(len(w.scan))
	w.scan = append(w.scan, h)
}

// remove notes that host h stops scanning.
func (w *window) remove(h int32) {
	i := w.pos[h]
	if i < 0 {
		return
	}
	last := w.scan[len(w.scan)-1]
	w.scan[i] = last
	w.pos[last] = i
	w.scan = w.scan[:len(w.scan)-1]
	w.pos[h] = -1
}

// recording reports whether the window is open: every probe is drawn.
func (t *Telescope) recording() bool { return t.win != nil && t.win.state == winOpen }

// advance opens or closes the window if time has reached its start or end
// (now included).
func (t *Telescope) advance(now float64) {
	w := t.win
	if w == nil {
		return
	}
	if w.state == winBefore && w.from <= now {
		for _, h := range w.scan {
			t.settle(h, w.from)
			t.cut(h, w.from)
			t.h[h].flags &^= fSeen
			t.planProbe(h, w.from)
			t.schedule(h)
		}
		w.state = winOpen
	}
	if w.state == winOpen && w.to <= now {
		w.state = winClosed
		for _, h := range w.scan {
			t.settle(h, w.to)
			t.cut(h, w.to)
			t.enter(h, w.to)
			t.schedule(h)
		}
	}
}

// planProbe draws host h's next probe after now, inside the window.
func (t *Telescope) planProbe(h int32, now float64) {
	th := &t.h[h]
	th.pendT, th.pend = math.Inf(1), evProbe
	if mu := t.cls[th.cls].mu; mu > 0 {
		if x := now + t.rng.ExpFloat64()/mu; x < t.win.to {
			th.pendT = x
		}
	}
}

// probe records a probe of host h at now and counts it.
func (t *Telescope) probe(h int32, now float64) {
	th := &t.h[h]
	e, _ := t.epoch(h, now)
	switch {
	case th.seen < e:
		th.seen = e
		t.newSrc++
		t.cum++
		t.sources++
		th.srcBin = int32(t.cur)
	case th.srcBin != int32(t.cur):
		t.sources++
		th.srcBin = int32(t.cur)
	}
	t.addProbes(1)
	w := t.win
	dst := uint32(w.lo + t.rng.Uint64N(w.size)) // drawn whether kept or not: the run's random stream does not depend on the cap
	if w.cut && now >= w.cutAt {
		return
	}
	if len(w.probes) >= w.max {
		t.cutRecord()
		if now >= w.cutAt {
			return
		}
	}
	w.probes = append(w.probes, Probe{Seconds: now, Src: t.addrAt(h, e), Dst: dst, Variant: w.variant[h]})
}

// cutRecord ends the kept recording at the start of the open bin, the
// cap (Params.RecordMax) being reached in it: the probes of a bin are
// drawn host by host, not in time order, so the recording is whole only
// up to a bin's start. The probes kept from then on are dropped, and
// later ones not kept; counting goes on as before.
func (t *Telescope) cutRecord() {
	w := t.win
	if !w.cut {
		w.cut, w.cutAt = true, float64(t.cur)*t.binW
	} else {
		w.cutAt = min(w.cutAt, float64(t.cur)*t.binW)
	}
	w.probes = slices.DeleteFunc(w.probes, func(p Probe) bool { return p.Seconds >= w.cutAt })
}

// RecordCut reports whether the recording reached its cap, and when it
// ends then (seconds from the run's start): Probes holds every probe
// before that time and none after.
func (t *Telescope) RecordCut() (at float64, cut bool) {
	if t.win == nil || !t.win.cut {
		return 0, false
	}
	return t.win.cutAt, true
}

// addrAt returns host h's address in its address epoch e: its own at
// first, then (DHCP) an address of the same /16 drawn by a fixed hash.
func (t *Telescope) addrAt(h int32, e int32) uint32 {
	a := t.win.src[h]
	if e == 0 || t.bits <= 16 {
		return a
	}
	low := uint(t.bits - 16)
	x := Mix(t.seed ^ uint64(h)<<32 ^ uint64(uint32(e)))
	return a>>low<<low | uint32(x)&(1<<low-1)
}

// Probes returns the individual probes recorded (a web server's, or a
// telescope's capture window), in time order; nil if none are recorded.
func (t *Telescope) Probes() []Probe {
	if t.win == nil {
		return nil
	}
	slices.SortStableFunc(t.win.probes, func(a, b Probe) int {
		switch {
		case a.Seconds < b.Seconds:
			return -1
		case a.Seconds > b.Seconds:
			return 1
		}
		return 0
	})
	return t.win.probes
}

// Records reports whether the sensor records individual probes.
func (t *Telescope) Records() bool { return t.win != nil }

// Mix is a fixed 64-bit hash (the finalizer of MurmurHash3) for details
// that must be the same on every run: the addresses a DHCP host gets
// here, a probe's source port and IP id in a capture (package capture).
func Mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	return x ^ x>>33
}
