package sensor

import (
	"math"
	"math/rand/v2"
	"sort"
)

// Probe is one probe a sensor received, for its packet capture or its
// access log.
type Probe struct {
	Seconds float64 // since the start of the run
	Src     uint32  // the scanning host (space coordinates)
	Dst     uint32  // the address probed, inside the sensor's block
	Variant uint8   // index of the worm variant
}

// recorder draws the individual probes a sensor receives during a window:
// each scanning host's probes into the block form a Poisson process of rate
// mu, so from the moment it scans (or the window opens) its next probe is
// Exp(mu) away; the probe goes to a uniform address of the block. (Within
// the block every address is equally likely for every random strategy; for
// hosts whose own /8 or /16 overlaps the block only partly this is an
// approximation.)
type recorder struct {
	from, to float64
	rng      *rand.Rand
	lo, size uint64
	next     []float64 // each host's next probe into the block (+Inf: none)
	stamp    []uint32
	src      []uint32
	variant  []uint8
	buckets  [][]ref
	binW     float64
	scanning []int32 // hosts scanning now, for when the window opens
	pos      []int32 // index in scanning, or -1
	opened   bool
	probes   []Probe
}

func newRecorder(from, to float64, r *rand.Rand, lo, size uint64, nHosts, nbins int, binW float64) *recorder {
	rc := &recorder{
		from: from, to: to, rng: r, lo: lo, size: size, binW: binW,
		next: make([]float64, nHosts), stamp: make([]uint32, nHosts), src: make([]uint32, nHosts),
		variant: make([]uint8, nHosts), pos: make([]int32, nHosts), buckets: make([][]ref, nbins+1),
	}
	for i := range rc.next {
		rc.next[i] = math.Inf(1)
		rc.pos[i] = -1
	}
	return rc
}

// start notes that host h scans from now with rate mu into the block.
func (rc *recorder) start(h int32, mu, now float64, src uint32, variant uint8) {
	rc.src[h], rc.variant[h] = src, variant
	rc.pos[h] = int32(len(rc.scanning))
	rc.scanning = append(rc.scanning, h)
	if rc.opened {
		rc.plan(h, mu, math.Max(now, rc.from))
	}
}

// stop notes that host h stops scanning at now.
func (rc *recorder) stop(h int32, mu, now float64) {
	rc.settle(h, mu, now)
	rc.stamp[h]++
	rc.next[h] = math.Inf(1)
	i := rc.pos[h]
	last := rc.scanning[len(rc.scanning)-1]
	rc.scanning[i] = last
	rc.pos[last] = i
	rc.scanning = rc.scanning[:len(rc.scanning)-1]
	rc.pos[h] = -1
}

// open starts the window: every host scanning now gets its first probe.
func (rc *recorder) open(mu func(int32) float64) {
	rc.opened = true
	for _, h := range rc.scanning {
		rc.plan(h, mu(h), rc.from)
	}
}

func (rc *recorder) plan(h int32, mu, now float64) {
	rc.stamp[h]++
	rc.next[h] = math.Inf(1)
	if mu <= 0 {
		return
	}
	t := now + rc.rng.ExpFloat64()/mu
	if t >= rc.to {
		return
	}
	rc.next[h] = t
	if b := int(t / rc.binW); b < len(rc.buckets) {
		rc.buckets[b] = append(rc.buckets[b], ref{h, rc.stamp[h]})
	}
}

// settle records host h's probes up to time upTo.
func (rc *recorder) settle(h int32, mu, upTo float64) {
	for rc.next[h] <= upTo {
		t := rc.next[h]
		rc.probes = append(rc.probes, Probe{Seconds: t, Src: rc.src[h], Dst: uint32(rc.lo + rc.rng.Uint64N(rc.size)), Variant: rc.variant[h]})
		rc.plan(h, mu, t)
	}
}

// closeBin records the probes of bin b up to t1.
func (rc *recorder) closeBin(b int, t1 float64, mu func(int32) float64) {
	for i := 0; i < len(rc.buckets[b]); i++ {
		r := rc.buckets[b][i]
		if r.stamp == rc.stamp[r.h] {
			rc.settle(r.h, mu(r.h), t1)
		}
	}
	rc.buckets[b] = nil
}

// sorted returns the recorded probes in time order.
func (rc *recorder) sorted() []Probe {
	sort.SliceStable(rc.probes, func(i, j int) bool { return rc.probes[i].Seconds < rc.probes[j].Seconds })
	return rc.probes
}
