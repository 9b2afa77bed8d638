package sensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/stat/distuv"

	"wormwatch/internal/ctxpoll"
	"wormwatch/internal/randx"
	"wormwatch/internal/satint"
	"wormwatch/ipv4"
)

// Row is one bin of a sensor's series (sensors/<name>.csv).
type Row struct {
	Time              time.Time // start of the bin (UTC)
	Probes            int64     // probes that landed in the sensor's block during the bin
	Sources           int64     // distinct source addresses seen during the bin
	NewSources        int64     // source addresses seen for the first time during the bin
	CumulativeSources int64     // distinct source addresses seen so far
}

// Telescope counts what a network telescope (or one web server) sees
// during a run.
//
// A scanning host whose probes land in the block at rate mu (its probe
// rate times the share of its target distribution inside the block) is a
// Poisson source of probes into the block, independent of every other
// host. The telescope follows each scanning host at its current address in
// one of two states:
//   - not seen yet at this address: the time to its first probe into the
//     block is Exp(mu) from when it starts scanning or gets the address.
//     Drawn per host, it gives the first-seen times, so new and cumulative
//     sources, and that probe and source of its bin.
//   - seen: its probes over any stretch of time are a Poisson count,
//     independent of the past. The hosts of one rate that are seen and
//     scanning through a whole bin of width D are counted together: how
//     many of them send 0, 1, 2, ... probes is a multinomial draw (a
//     sequence of binomials), which gives their sources and probes jointly.
//     A host whose state changes within the bin (it starts, stops, is first
//     seen, gets a new address) has each stretch of the bin drawn on its
//     own: a Poisson count of probes, and a source if it is its first probe
//     at this address in the bin.
//
// This is exact in distribution, with one exception far too small to see:
// when a seen host expects mu D > 40 probes per bin, its count is drawn as
// Poisson(mu D) instead of Poisson conditioned on at least one probe (a
// total-variation error below e^-40 per host and bin).
//
// Home machines with DHCP leases get a new address every lease; a host
// seen at one address is a new source again at the next, and can be two
// sources in one bin.
//
// Inside a recording window (a telescope's capture, or the whole run of a
// web server) every probe is drawn instead, with its time and destination
// (see Probes), and the window's bins are counted from those probes, so
// the series, the capture and the access log agree.
type Telescope struct {
	name  string
	rng   *rand.Rand
	r     ipv4.Range
	bits  int
	start time.Time
	binW  float64
	lease float64
	seed  uint64

	h       []thost
	buckets [][]ref // pending host events, by the bin that holds them
	classes map[float64]int32
	cls     []class // rate classes in the order they appeared: draws never depend on map order
	cond    condCache
	lastCls int32 // the class found last (most hosts share one): -1 none

	cur     int     // the open bin
	t0      float64 // its start
	touched []int32 // hosts touched in the open bin
	probes  int64   // counts of the open bin so far
	sources int64
	newSrc  int64
	lambda  float64 // mean of the probes of the open bin not drawn yet (from hosts already counted as sources)
	cum     int64
	rows    []Row

	win *window // individual probes, for a capture or an access log; nil if none

	stop      *ctxpoll.Poller // the run's cancellation: loops give up when it says so
	saturated bool            // a bin's probes passed math.MaxInt64 (held there)
}

// thost is what the telescope keeps per host, in one record.
type thost struct {
	pendT  float64 // the pending event (+Inf: none)
	segA   float64 // for a touched host seen at its address: start of the stretch not counted yet
	stamp  uint32  // bumped at every new plan: older bucket entries are stale
	seen   int32   // last address epoch at which the host was seen; -1 never
	srcBin int32   // last bin in which the host was counted as a source; -1 never
	touch  int32   // last bin in which the host was touched (had an event); -1 never
	cls    int32   // its rate class while it scans
	pend   uint8   // kind of the pending event
	flags  uint8
}

// Kinds of pending host events.
const (
	evFirst uint8 = iota // its first probe into the block at its current address
	evAddr               // a new address (end of a DHCP lease)
	evProbe              // its next probe, inside a recording window
)

// Host flags.
const (
	fSeen uint8 = 1 << iota // scanning outside a recording window, and seen at its current address
	fDHCP                   // gets a new address every lease
)

type ref struct {
	h     int32
	stamp uint32
}

type class struct {
	mu     float64
	steady int64 // hosts of the class scanning, seen at their address and not touched in the open bin
}

// NewTelescope makes the telescope p of a run over nHosts hosts in space
// sp, starting at start with nbins bins of binSeconds. Home machines with
// DHCP get a new address every lease seconds (0: never).
//
// stop (which may be nil) is the run's cancellation: when it says so,
// NewTelescope returns its error, and the telescope's loops give up
// (Stopped then reports true, and the bin being closed gets no row), so
// that no setting of a sensor keeps a cancelled run going.
func NewTelescope(p Params, sp ipv4.Space, start time.Time, binSeconds float64, nbins, nHosts int, lease float64, rng *rand.Rand, stop *ctxpoll.Poller) (*Telescope, error) {
	k, err := kinds.Get(p.Kind)
	if err != nil {
		return nil, fmt.Errorf("sensor %s: %w", p.Name, err)
	}
	r, err := CheckPrefix(p, sp)
	if err != nil {
		return nil, fmt.Errorf("sensor %s: prefix: %w", p.Name, err)
	}
	t := &Telescope{
		name: p.Name, rng: rng, r: r, bits: sp.Bits, start: start, binW: binSeconds, lease: lease, seed: rng.Uint64(),
		h: make([]thost, nHosts), buckets: make([][]ref, nbins+1), classes: map[float64]int32{}, cond: condCache{}, lastCls: -1,
		stop: stop,
	}
	for i := range t.h {
		if stop.Stop() {
			return nil, stop.Err()
		}
		t.h[i] = thost{pendT: math.Inf(1), seen: -1, srcBin: -1, touch: -1}
	}
	// A web server logs every probe it gets; a telescope can capture a
	// window of them.
	if from, to, ok := k.window(p, start, float64(nbins)*binSeconds); ok {
		t.win = newWindow(from, to, r, nHosts, p.RecordMax)
	}
	return t, nil
}

// Name returns the sensor's name.
func (t *Telescope) Name() string { return t.name }

// Range returns the block the telescope watches.
func (t *Telescope) Range() ipv4.Range { return t.r }

// Rows returns the series so far.
func (t *Telescope) Rows() []Row { return t.rows }

// Saturated reports whether the probes of some bin passed math.MaxInt64:
// that bin's Probes holds math.MaxInt64 instead.
func (t *Telescope) Saturated() bool { return t.saturated }

// Stopped reports whether the telescope gave up because the run was
// cancelled; its rows are then those of the bins it closed before.
func (t *Telescope) Stopped() bool { return t.stop.Err() != nil }

// addProbes adds n probes to the open bin, saturating at math.MaxInt64.
func (t *Telescope) addProbes(n int64) {
	var sat bool
	t.probes, sat = satint.Add(t.probes, n)
	t.saturated = t.saturated || sat || n == satint.Max
}

// SetDHCP marks host h as getting a new address every lease. Call it
// before the host first scans.
func (t *Telescope) SetDHCP(h int32) {
	if t.lease > 0 {
		t.h[h].flags |= fDHCP
	}
}

// phase is host h's fixed offset in its lease cycle.
func (t *Telescope) phase(h int32) float64 {
	x := t.seed ^ uint64(h)*0x9e3779b97f4a7c15
	x ^= x >> 31
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 29
	return float64(x>>11) / (1 << 53) * t.lease
}

// epoch returns the address epoch of host h at time now and when it ends
// (always after now).
func (t *Telescope) epoch(h int32, now float64) (int32, float64) {
	if t.h[h].flags&fDHCP == 0 {
		return 0, math.Inf(1)
	}
	ph := t.phase(h)
	e := math.Floor((now + ph) / t.lease)
	end := (e+1)*t.lease - ph
	if end <= now { // rounding at the very end of a lease
		e++
		end = (e+1)*t.lease - ph
	}
	return int32(e), end
}

// ScanStart tells that host h (at address src, infected by variant)
// starts scanning at now, with probes landing in the block at rate mu.
func (t *Telescope) ScanStart(h int32, mu, now float64, src uint32, variant uint8) {
	t.advance(now)
	th := &t.h[h]
	th.cls = t.classOf(mu)
	t.cut(h, now)
	if t.win != nil {
		t.win.add(h, src, variant)
	}
	if t.recording() {
		t.planProbe(h, now)
	} else {
		t.enter(h, now)
	}
	t.schedule(h)
}

// ScanStop tells that host h stops scanning at now.
func (t *Telescope) ScanStop(h int32, now float64) {
	t.advance(now)
	t.settle(h, now)
	t.cut(h, now)
	th := &t.h[h]
	th.flags &^= fSeen
	th.pendT = math.Inf(1)
	th.stamp++
	if t.win != nil {
		t.win.remove(h)
	}
}

func (t *Telescope) classOf(mu float64) int32 {
	if t.lastCls >= 0 && t.cls[t.lastCls].mu == mu {
		return t.lastCls
	}
	if c, ok := t.classes[mu]; ok {
		t.lastCls = c
		return c
	}
	c := int32(len(t.cls))
	t.classes[mu] = c
	t.cls = append(t.cls, class{mu: mu})
	return c
}

// enter puts scanning host h, outside a recording window, in its state at
// now: seen at its current address, or waiting for its first probe there.
func (t *Telescope) enter(h int32, now float64) {
	th := &t.h[h]
	e, end := t.epoch(h, now)
	if th.seen == e {
		th.flags |= fSeen
		th.segA = now
		th.pendT, th.pend = end, evAddr
		return
	}
	th.flags &^= fSeen
	t.planFirst(h, now)
}

// planFirst draws when host h, not seen at its current address, sends its
// first probe there; if that comes after the address ends, the pending
// event is the new address.
func (t *Telescope) planFirst(h int32, now float64) {
	th := &t.h[h]
	_, end := t.epoch(h, now)
	th.pendT, th.pend = end, evAddr
	if mu := t.cls[th.cls].mu; mu > 0 {
		if x := now + t.rng.ExpFloat64()/mu; x < end {
			th.pendT, th.pend = x, evFirst
		}
	}
}

// schedule files host h's pending event in the bucket of its bin.
func (t *Telescope) schedule(h int32) {
	th := &t.h[h]
	th.stamp++
	if math.IsInf(th.pendT, 1) {
		return
	}
	b := max(int(th.pendT/t.binW), t.cur)
	if b >= len(t.buckets) {
		return // after the end of the run
	}
	t.buckets[b] = append(t.buckets[b], ref{h, th.stamp})
}

// cut marks host h as touched in the open bin and, if it is seen at its
// address, counts its probes up to now.
func (t *Telescope) cut(h int32, now float64) {
	th := &t.h[h]
	if th.touch != int32(t.cur) {
		th.touch = int32(t.cur)
		t.touched = append(t.touched, h)
		if th.flags&fSeen != 0 { // it was counted with its class
			t.cls[th.cls].steady--
			th.segA = t.t0
		}
	}
	if th.flags&fSeen != 0 {
		t.count(h, now-th.segA)
	}
	th.segA = now
}

// count draws the probes of host h, seen at its address, over a stretch of
// d seconds of the open bin.
func (t *Telescope) count(h int32, d float64) {
	th := &t.h[h]
	m := t.cls[th.cls].mu * d
	if m <= 0 {
		return
	}
	if th.srcBin == int32(t.cur) {
		t.lambda += m // a source already: only the number matters
		return
	}
	if n := poisson(t.rng, m); n > 0 {
		t.addProbes(n)
		t.sources++
		th.srcBin = int32(t.cur)
	}
}

// settle performs host h's pending events before time upTo.
func (t *Telescope) settle(h int32, upTo float64) {
	th := &t.h[h]
	moved := false
	for th.pendT < upTo {
		if t.stop.Stop() {
			return // cancelled: the run is given up
		}
		now := th.pendT
		moved = true
		switch th.pend {
		case evFirst:
			t.cut(h, now)
			e, end := t.epoch(h, now)
			th.seen = e
			t.newSrc++
			t.cum++
			t.sources++
			t.addProbes(1)
			th.srcBin = int32(t.cur)
			th.flags |= fSeen
			th.pendT, th.pend = end, evAddr
		case evAddr:
			t.cut(h, now)
			th.flags &^= fSeen
			t.planFirst(h, now)
		case evProbe:
			t.probe(h, now)
			t.planProbe(h, now)
		}
	}
	if moved {
		t.schedule(h)
	}
}

// CloseBin ends bin b, from t0 to t1, and returns its row. Bins are
// closed in order. When the run was cancelled (see Stopped) it gives up
// and the bin gets no row.
func (t *Telescope) CloseBin(b int, t0, t1 float64) Row {
	t.advance(math.Nextafter(t1, math.Inf(-1)))
	for i := 0; i < len(t.buckets[b]); i++ {
		if t.stop.Stop() {
			return Row{}
		}
		r := t.buckets[b][i]
		if r.stamp != t.h[r.h].stamp {
			continue
		}
		t.settle(r.h, t1)
		// An event at t1 or later filed here (by rounding) moves on.
		if t.h[r.h].stamp == r.stamp && b+1 < len(t.buckets) {
			t.buckets[b+1] = append(t.buckets[b+1], r)
		}
	}
	t.buckets[b] = nil
	// Hosts seen and scanning through the whole bin, by class; then the
	// hosts touched in the bin count their last stretch and are counted
	// with their class from the next bin on.
	d := t1 - t0
	for i := range t.cls {
		if c := &t.cls[i]; c.steady > 0 {
			s, p := steadyDraw(t.rng, t.cond, c.steady, c.mu*d)
			t.sources += s
			t.addProbes(p)
		}
	}
	for _, h := range t.touched {
		if th := &t.h[h]; th.flags&fSeen != 0 {
			t.count(h, t1-th.segA)
			t.cls[th.cls].steady++
		}
	}
	t.touched = t.touched[:0]
	if t.lambda > 0 {
		t.addProbes(poisson(t.rng, t.lambda))
	}
	if t.stop.Err() != nil {
		return Row{} // a settle gave up: the bin is not whole
	}
	row := Row{
		Time:   t.start.Add(time.Duration(t0 * float64(time.Second))),
		Probes: t.probes, Sources: t.sources, NewSources: t.newSrc, CumulativeSources: t.cum,
	}
	t.rows = append(t.rows, row)
	t.probes, t.sources, t.newSrc, t.lambda = 0, 0, 0, 0
	t.cur = b + 1
	t.t0 = t1
	return row
}

// steadyMaxMean is the expected count per host above which a seen host's
// probes are drawn as Poisson (P(no probe) = e^-40 < 5e-18).
const steadyMaxMean = 40

// steadyDraw returns the sources and probes of n hosts that each send a
// Poisson(m) number of probes: the numbers of hosts with k = 0, 1, 2, ...
// probes are multinomial, drawn as a sequence of binomials, each with the
// probability of k among counts of at least k.
func steadyDraw(rng *rand.Rand, cc condCache, n int64, m float64) (sources, probes int64) {
	if n <= 0 || m <= 0 {
		return 0, 0
	}
	if m > steadyMaxMean {
		sources = n - binomial(rng, n, math.Exp(-m))
		return sources, poisson(rng, m*float64(sources))
	}
	cond := cc.get(m)
	rem := n
	for k := 0; rem > 0; k++ {
		nk := rem // all the rest when P(N = k | N >= k) rounds to 1 (or far in the tail, as a guard)
		if k < len(cond) && cond[k] < 1 {
			nk = binomial(rng, rem, cond[k])
		}
		if k > 0 {
			sources += nk
			probes += int64(k) * nk
		}
		rem -= nk
	}
	return sources, probes
}

// condCache keeps, per mean m, P(N = k | N >= k) for N ~ Poisson(m): a
// telescope draws with the same few means in every bin.
type condCache map[float64][]float64

// get returns P(N = k | N >= k) for k = 0, 1, ... up to where it reaches 1
// (or the guard 10 steadyMaxMean + 100). P(N >= k) is the regularized lower
// incomplete gamma function P(k, m).
func (cc condCache) get(m float64) []float64 {
	if c, ok := cc[m]; ok {
		return c
	}
	var cond []float64
	pk := math.Exp(-m) // P(N = k)
	for k := 0; k < 10*steadyMaxMean+100; k++ {
		if k > 0 {
			pk *= m / float64(k)
		}
		p := pk
		if k > 0 {
			p = pk / mathext.GammaIncReg(float64(k), m)
		}
		if !(p < 1) {
			break
		}
		cond = append(cond, p)
	}
	cc[m] = cond
	return cond
}

// binomial draws Binomial(n, p).
func binomial(rng *rand.Rand, n int64, p float64) int64 { return randx.Binomial(rng, n, p) }

// poisson draws Poisson(m), held at math.MaxInt64 when the draw passes it.
func poisson(rng *rand.Rand, m float64) int64 {
	if m <= 0 {
		return 0
	}
	n, _ := satint.Float(distuv.Poisson{Lambda: m, Src: rng}.Rand())
	return n
}
