package sim

import (
	"math"
	"math/rand/v2"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"

	"wormwatch/internal/radix"
	"wormwatch/worm"
)

// walker moves the hosts of walking strategies (shared sequence,
// permutation, sequential, hit-list) in the fast engine without simulating
// their probes one by one.
//
// A walking host sends probes at rate r to Addr(cur), Addr(cur+1), ... of
// its variant's walk. Only positions that hold a relevant host (susceptible
// and infectable by the variant; for restarting permutation scans also
// hosts it already infected) can change anything, so the host jumps to the
// next relevant position q: reaching it takes d = q - cur + 1 probes, whose
// time is Gamma(d, r). Positions that become irrelevant meanwhile are found
// stale on arrival and the host walks on. Positions that become relevant
// meanwhile are caught by keeping every host attached to the first relevant
// position at or after its cursor: the newly relevant position's successor
// lists the hosts whose path may cross it, and for each the arrival time at
// the new position is drawn from the bridge of its Poisson process, a Beta
// fraction of the time to its scheduled arrival. A change of rate (phase
// change, reboot) likewise places the host on its path by a Binomial draw.
// All of this is exact in distribution.
type walker struct {
	f    *fast
	w    *world
	rng  *rand.Rand
	vw   []*vwalk
	heap eventHeap

	cur   []uint64  // index of the next probe
	t0    []float64 // time the count runs from
	rem   []uint64  // probes left in the host's segment (noEnd: unbounded)
	tgt   []int32   // relevant position targeted, tgtEnd, or tgtNone
	tT    []float64 // time of the scheduled event
	d     []uint64  // the scheduled event is the d-th probe from cur
	gen   []uint32
	mode  []uint8 // modeNone, modeWalk (walking and scanning), modePaused, modeRandom
	att   []int32 // position the host is attached to, or attIdle / attNone
	lnext []int32
	lprev []int32

	// A walking infector hands part of its segment to the host it infects.
	childCur, childRem uint64
	childSet           bool
}

const (
	noEnd   = worm.NoEnd
	tgtNone = -1
	tgtEnd  = -2
	attNone = -1
	attIdle = -2
)

const (
	modeNone uint8 = iota
	modeWalk
	modePaused
	modeRandom
)

// vwalk is the walk of one variant and the positions of the hosts on it.
type vwalk struct {
	*walkPlan
	idx     []uint64 // probe index of each relevant position, ascending
	host    []int32  // host at each position
	relOf   []int32  // host -> position, or -1
	rel     *bitset  // relevant positions
	hasW    *bitset  // positions with hosts attached
	head    []int32  // first host attached to each position
	idle    int32    // hosts attached nowhere: no relevant position ahead
	walkers int      // hosts in walk mode (walking or paused)
}

func newWalker(f *fast, rng *rand.Rand) (*walker, error) {
	w := f.w
	wk := &walker{f: f, w: w, rng: rng, vw: make([]*vwalk, len(w.vars))}
	n := w.n
	wk.cur = make([]uint64, n)
	wk.t0 = make([]float64, n)
	wk.rem = make([]uint64, n)
	wk.tgt = make([]int32, n)
	wk.tT = make([]float64, n)
	wk.d = make([]uint64, n)
	wk.gen = make([]uint32, n)
	wk.mode = make([]uint8, n)
	wk.att = make([]int32, n)
	wk.lnext = make([]int32, n)
	wk.lprev = make([]int32, n)
	for i := range wk.att {
		wk.att[i] = attNone
	}
	for vi, v := range w.vars {
		if !v.Walks() {
			continue
		}
		plan, err := newWalkPlan(vi, v, w.hosts, rng, w.stop)
		if err != nil {
			return nil, err
		}
		walk := plan.walk
		vw := &vwalk{walkPlan: plan, idle: -1, relOf: make([]int32, n)}
		// The hosts in walk order: (position, host) packed in one word,
		// position above, so that sorting the words sorts by position
		// (positions are below 2^32, hosts below 2^31); a radix sort of
		// words takes a tenth of a sort by a comparison function (which
		// was a sixth of a summer seed's setup at 10^6 hosts).
		var ps []uint64
		for h := 0; h < n; h++ {
			if w.stop.Stop() {
				return nil, w.stop.Err()
			}
			vw.relOf[h] = -1
			if !v.Infects[w.h[h].os] {
				continue
			}
			if m, ok := walk.Index(w.h[h].addr); ok {
				if m >= 1<<32 {
					panic("sim: a walk position past 2^32") // spaces are at most 2^32
				}
				ps = append(ps, m<<32|uint64(h))
			}
		}
		radix.Uint64s(ps)
		vw.idx = make([]uint64, len(ps))
		vw.host = make([]int32, len(ps))
		vw.head = make([]int32, len(ps))
		for i, p := range ps {
			h := int32(p & (1<<32 - 1))
			vw.idx[i], vw.host[i], vw.head[i] = p>>32, h, -1
			vw.relOf[h] = int32(i)
		}
		vw.rel = newBitset(len(ps))
		vw.hasW = newBitset(len(ps))
		wk.vw[vi] = vw
	}
	return wk, nil
}

// relevant tells whether the host at a position can change anything when a
// probe of the variant reaches it.
func (wk *walker) relevant(vw *vwalk, h int32) bool {
	switch wk.w.h[h].state {
	case stSusceptible:
		return wk.w.h[h].flags&flDark == 0
	case stInfected:
		return vw.restart && int(wk.w.h[h].varOf) == vw.vi
	}
	return false
}

// update tells the walks that host h may have become relevant.
func (wk *walker) update(h int32, t float64) {
	for _, vw := range wk.vw {
		if vw == nil || vw.relOf[h] < 0 {
			continue
		}
		q := int(vw.relOf[h])
		// A position that stops being relevant keeps its bit until a host
		// arrives there and finds it stale (fire clears it): cheaper than
		// clearing it on every change, and exact, since arrivals check.
		if vw.rel.get(q) || !wk.relevant(vw, h) {
			continue
		}
		vw.rel.set(q)
		if vw.walkers > 0 {
			wk.inserted(vw, q, t)
		}
	}
}

// dist is the number of probes from index a to index b along the walk
// (0 when equal); for a non-cyclic walk b must not be before a.
func (vw *vwalk) dist(a, b uint64) uint64 {
	if b >= a {
		return b - a
	}
	if vw.cyclic {
		return vw.n - a + b
	}
	return noEnd
}

// firstRelevant returns the first relevant position at or after index cur
// (wrapping for cyclic walks), or -1.
func (vw *vwalk) firstRelevant(cur uint64) int {
	i := sort.Search(len(vw.idx), func(i int) bool { return vw.idx[i] >= cur })
	q := vw.rel.next(i)
	if q < 0 && vw.cyclic {
		q = vw.rel.next(0)
	}
	return q
}

func (wk *walker) attach(vw *vwalk, h int32, q int32) {
	wk.detach(vw, h)
	wk.att[h] = q
	var head *int32
	if q == attIdle {
		head = &vw.idle
	} else {
		head = &vw.head[q]
		if *head < 0 {
			vw.hasW.set(int(q))
		}
	}
	wk.lprev[h] = -1
	wk.lnext[h] = *head
	if *head >= 0 {
		wk.lprev[*head] = h
	}
	*head = h
}

func (wk *walker) detach(vw *vwalk, h int32) {
	q := wk.att[h]
	if q == attNone {
		return
	}
	var head *int32
	if q == attIdle {
		head = &vw.idle
	} else {
		head = &vw.head[q]
	}
	if p := wk.lprev[h]; p >= 0 {
		wk.lnext[p] = wk.lnext[h]
	} else {
		*head = wk.lnext[h]
	}
	if nx := wk.lnext[h]; nx >= 0 {
		wk.lprev[nx] = wk.lprev[h]
	}
	if q != attIdle && *head < 0 {
		vw.hasW.clear(int(q))
	}
	wk.att[h] = attNone
}

func (wk *walker) rate(h int32) float64 {
	fv := wk.f.vinfo[wk.w.h[h].varOf]
	return fv.classes[wk.w.h[h].cls].rate
}

// travel draws the time a host at rate r takes for d probes.
func (wk *walker) travel(d uint64, r float64) float64 {
	if d == 1 {
		return wk.rng.ExpFloat64() / r
	}
	return distuv.Gamma{Alpha: float64(d), Beta: r, Src: wk.rng}.Rand()
}

// infected sets up the walk of a host just infected by a walking variant.
func (wk *walker) infected(h, infector int32, t float64) {
	wk.update(h, t)
	vw := wk.vw[wk.w.h[h].varOf]
	child, childCur, childRem := wk.childSet, wk.childCur, wk.childRem
	wk.childSet = false
	if vw == nil {
		return
	}
	if wk.mode[h] == modeWalk || wk.mode[h] == modePaused {
		vw.walkers-- // a re-infection: the old walk is over
	}
	wk.mode[h] = modeRandom
	wk.gen[h]++
	wk.detach(vw, h)
	cur, rem, ok := vw.begin(wk.w, wk.rng, h, infector, child, childCur, childRem)
	if !ok {
		return
	}
	wk.cur[h], wk.rem[h] = cur, rem
	wk.mode[h] = modePaused
	vw.walkers++
}

// start is called when host h starts scanning; it reports whether the host
// walks (else it scans in random mode). A host that sends no probes (rate
// 0: worm.rate.fixed = 0) never moves along its walk: it is left to the
// random mode, where it adds nothing.
func (wk *walker) start(h int32, t float64) bool {
	if wk.mode[h] != modePaused || wk.rate(h) <= 0 {
		return false
	}
	wk.mode[h] = modeWalk
	wk.schedule(wk.vw[wk.w.h[h].varOf], h, t)
	return true
}

// stop is called when host h stops scanning; it reports whether the host
// was walking. The host's position at t is drawn from its path.
func (wk *walker) stop(h int32, t float64) bool {
	if wk.mode[h] != modeWalk {
		return false
	}
	vw := wk.vw[wk.w.h[h].varOf]
	var m uint64
	switch {
	case wk.tgt[h] == tgtNone:
		// No scheduled event: the count since t0 is unconditioned Poisson.
		m = uint64(poisson(wk.rng, wk.rate(h)*(t-wk.t0[h])))
	case wk.d[h] > 1 && t > wk.t0[h]:
		// The first d-1 probes before the scheduled one fall uniformly in
		// (t0, T): those before t are Binomial.
		frac := (t - wk.t0[h]) / (wk.tT[h] - wk.t0[h])
		m = uint64(binomial(wk.rng, int64(wk.d[h]-1), math.Min(frac, 1)))
	}
	wk.move(vw, h, m, t)
	wk.detach(vw, h)
	wk.gen[h]++
	wk.mode[h] = modePaused
	return true
}

// move advances host h's cursor by m probes, the last of them at time t.
func (wk *walker) move(vw *vwalk, h int32, m uint64, t float64) {
	wk.cur[h] = vw.advance(wk.cur[h], m)
	if wk.rem[h] != noEnd {
		wk.rem[h] -= m
	}
	wk.t0[h] = t
}

// schedule finds host h's next relevant position from its cursor at time t
// and schedules its arrival there, or the end of its share of the walk.
func (wk *walker) schedule(vw *vwalk, h int32, t float64) {
	wk.t0[h] = t
	wk.gen[h]++
	r := wk.rate(h)
	q := vw.firstRelevant(wk.cur[h])
	dq := uint64(noEnd)
	if q >= 0 {
		dq = vw.dist(wk.cur[h], vw.idx[q])
	}
	switch {
	case q >= 0 && (wk.rem[h] == noEnd || dq < wk.rem[h]):
		wk.tgt[h], wk.d[h] = int32(q), dq+1
	case wk.rem[h] != noEnd:
		wk.tgt[h], wk.d[h] = tgtEnd, wk.rem[h]
	default:
		wk.tgt[h], wk.d[h] = tgtNone, 0
		wk.attach(vw, h, attIdle)
		return
	}
	wk.tT[h] = t + wk.travel(wk.d[h], r)
	if q >= 0 {
		wk.attach(vw, h, int32(q))
	} else {
		wk.attach(vw, h, attIdle)
	}
	wk.heap.push(event{t: wk.tT[h], host: h, gen: wk.gen[h]})
}

// inserted handles position q becoming relevant at time t: every walking
// host whose path to its next event crosses q now meets q on the way. Such a
// host is attached to a position between q and the first relevant position
// s after q (or is attached nowhere), so only those lists are visited.
func (wk *walker) inserted(vw *vwalk, q int, t float64) {
	for h := vw.idle; h >= 0; {
		next := wk.lnext[h]
		wk.cross(vw, h, q, t)
		h = next
	}
	L := len(vw.idx)
	s := vw.rel.next(q + 1)
	if s < 0 && vw.cyclic {
		s = vw.rel.next(0)
	}
	limit := L - 1 // offsets from q to visit: a full cycle if nothing else is relevant
	if s >= 0 && s != q {
		limit = (s - q + L) % L
	} else if !vw.cyclic {
		limit = L - 1 - q
	}
	x, prev := q, -1
	for {
		x = vw.hasW.next(x)
		if x < 0 {
			if !vw.cyclic {
				return
			}
			x = vw.hasW.next(0)
			if x < 0 {
				return
			}
		}
		off := (x - q + L) % L
		if off > limit || off <= prev {
			return
		}
		prev = off
		for h := vw.head[x]; h >= 0; {
			next := wk.lnext[h]
			wk.cross(vw, h, q, t)
			h = next
		}
		x++
		if x >= L {
			if !vw.cyclic {
				return
			}
			x = 0
		}
	}
}

// cross deals with one walking host whose path may cross the newly
// relevant position q at time t.
func (wk *walker) cross(vw *vwalk, h int32, q int, t float64) {
	if wk.mode[h] != modeWalk {
		return
	}
	dq := vw.dist(wk.cur[h], vw.idx[q])
	if wk.tgt[h] == tgtNone {
		// No event scheduled: place the host on its way at t, then go on.
		m := uint64(poisson(wk.rng, wk.rate(h)*(t-wk.t0[h])))
		wk.move(vw, h, m, t)
		wk.schedule(vw, h, t)
		return
	}
	if dq == noEnd || dq+1 > wk.d[h] {
		// Not on the path. If q now comes first among the relevant
		// positions ahead of the host, attach it there.
		if wk.att[h] >= 0 && wk.att[h] != int32(q) && dq < vw.dist(wk.cur[h], vw.idx[wk.att[h]]) {
			wk.attach(vw, h, int32(q))
		} else if wk.att[h] == attIdle && dq != noEnd {
			wk.attach(vw, h, int32(q))
		}
		return
	}
	if dq+1 == wk.d[h] {
		// The scheduled event is the probe to q itself.
		if wk.tgt[h] == tgtEnd {
			wk.tgt[h] = int32(q)
			wk.attach(vw, h, int32(q))
		}
		return
	}
	// The probe to q is the (dq+1)-th of d: its time is a Beta fraction of
	// the way to the scheduled event.
	b := distuv.Beta{Alpha: float64(dq + 1), Beta: float64(wk.d[h] - dq - 1), Src: wk.rng}.Rand()
	tq := wk.t0[h] + (wk.tT[h]-wk.t0[h])*b
	if tq > t {
		wk.gen[h]++
		wk.tgt[h], wk.d[h], wk.tT[h] = int32(q), dq+1, tq
		wk.attach(vw, h, int32(q))
		wk.heap.push(event{t: tq, host: h, gen: wk.gen[h]})
		return
	}
	// It passed q before q became relevant: keep the scheduled event,
	// move the host past q.
	wk.cur[h] = vw.advance(vw.idx[q], 1)
	if wk.rem[h] != noEnd {
		wk.rem[h] -= dq + 1
	}
	wk.d[h] -= dq + 1
	wk.t0[h] = tq
}

// nextTime returns the time of the next walking event, dropping stale ones.
func (wk *walker) nextTime() float64 {
	for wk.heap.len() > 0 {
		e := wk.heap.top()
		if wk.gen[e.host] == e.gen && wk.mode[e.host] == modeWalk {
			return e.t
		}
		wk.heap.pop()
	}
	return math.Inf(1)
}

// fire performs the walking event announced by nextTime.
func (wk *walker) fire(t float64) {
	e := wk.heap.pop()
	h := e.host
	vw := wk.vw[wk.w.h[h].varOf]
	wk.detach(vw, h)
	if wk.tgt[h] == tgtEnd {
		wk.move(vw, h, wk.d[h], t)
		wk.toRandom(vw, h, t)
		return
	}
	q := wk.tgt[h]
	wk.move(vw, h, wk.d[h], t)
	j := vw.host[q]
	switch {
	case wk.w.h[j].state == stSusceptible && wk.w.h[j].flags&flDark == 0:
		rem := wk.rem[h]
		if vw.partitioned && rem != noEnd && rem > 1 {
			keep := rem / 2
			wk.childCur, wk.childRem, wk.childSet = vw.advance(wk.cur[h], keep), rem-keep, true
			wk.rem[h] = keep
		}
		if !wk.w.tryInfect(j, h, uint8(vw.vi), t) {
			wk.rem[h], wk.childSet = rem, false // the probe was lost: nothing handed over
		}
	case vw.restart && wk.w.h[j].state == stInfected && int(wk.w.h[j].varOf) == vw.vi:
		if vw.partitioned {
			wk.rem[h] = 0 // its share is already being walked by others
		} else {
			wk.cur[h] = wk.rng.Uint64N(vw.n)
		}
	default:
		if !wk.relevant(vw, j) {
			vw.rel.clear(int(q)) // stale: see update
		}
	}
	if wk.mode[h] != modeWalk {
		return
	}
	if wk.rem[h] == 0 {
		wk.toRandom(vw, h, t)
		return
	}
	wk.schedule(vw, h, t)
}

// toRandom switches a walking host whose share of the walk is used up to
// random scanning.
func (wk *walker) toRandom(vw *vwalk, h int32, t float64) {
	wk.mode[h] = modeRandom
	wk.gen[h]++
	vw.walkers--
	c := wk.f.vinfo[vw.vi].classes[wk.w.h[h].cls]
	c.walkN--
	wk.f.randomStart(h, c)
}
