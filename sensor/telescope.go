package sensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

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

// Telescope counts what a network telescope sees during a run.
//
// A scanning host whose probes land in the block at rate mu (its probe
// rate times the share of its target distribution inside the block) is a
// Poisson source of telescope probes, so:
//   - the time from when it starts scanning (or gets a new address) to its
//     first probe into the block is Exp(mu): drawn per host, it gives the
//     first-seen times, new sources and cumulative sources exactly;
//   - in a bin of width D during which n hosts of one rate scan, the
//     number seen is Binomial(n, 1 - exp(-mu D)), and probes are the sources
//     plus a Poisson draw with the exact remaining mean. When the number of
//     hosts scanning changes within the bin, n is its time average (the one
//     approximation: exact when the count is steady over the bin).
//
// Home machines with DHCP leases get a new address every lease; a host
// seen at one address is a new source again at the next.
type Telescope struct {
	name  string
	rng   *rand.Rand
	r     ipv4.Range
	start time.Time
	binW  float64
	lease float64
	seed  uint64

	h       []thost
	buckets [][]ref

	classes map[float64]*class
	order   []*class // classes in the order they appeared: draws never depend on map order
	lastC   *class
	rec     *recorder // individual probes, for a capture or an access log; nil if none
	newSrc  int64
	cum     int64
	rows    []Row
}

// thost is what the telescope keeps per host, in one record.
type thost struct {
	pendT  float64 // the pending event (+Inf: none)
	mu     float64 // probes per second into the block while scanning
	stamp  uint32
	seen   int32 // last address epoch at which the host was seen; -1 never
	pendFS bool  // the pending event: true, first probe into the block; false, a new address
	dhcp   bool
}

type ref struct {
	h     int32
	stamp uint32
}

type class struct {
	mu    float64
	n     int64
	last  float64 // time of the last change of n
	area  float64 // integral of n over the bin so far
	touch bool
}

// NewTelescope makes the telescope p of a run over nHosts hosts in space
// sp, starting at start with nbins bins of binSeconds. Home machines with
// DHCP get a new address every lease seconds (0: never).
func NewTelescope(p Params, sp ipv4.Space, start time.Time, binSeconds float64, nbins, nHosts int, lease float64, rng *rand.Rand) (*Telescope, error) {
	r, err := sp.ParsePrefix(p.Prefix)
	if err != nil {
		return nil, fmt.Errorf("sensor %s: prefix: %w", p.Name, err)
	}
	if p.Kind == "webserver" && r.Len() != 1 {
		return nil, fmt.Errorf("sensor %s: a web server has one address, and %s covers %d", p.Name, p.Prefix, r.Len())
	}
	t := &Telescope{
		name: p.Name, rng: rng, r: r, start: start, binW: binSeconds, lease: lease, seed: rng.Uint64(),
		h: make([]thost, nHosts), buckets: make([][]ref, nbins+1), classes: map[float64]*class{},
	}
	// A web server logs every probe it gets; a telescope can capture a
	// window of them. Their draws come from a stream of their own.
	end := float64(nbins) * binSeconds
	switch {
	case p.Kind == "webserver":
		t.rec = newRecorder(0, end, rand.New(rand.NewPCG(rng.Uint64(), 1)), r.Lo, r.Len(), nHosts, nbins, binSeconds)
	case p.Capture > 0:
		from := 0.0
		if !p.CaptureStart.IsZero() {
			from = p.CaptureStart.Sub(start).Seconds()
		}
		t.rec = newRecorder(from, math.Min(from+p.Capture.Seconds(), end), rand.New(rand.NewPCG(rng.Uint64(), 1)), r.Lo, r.Len(), nHosts, nbins, binSeconds)
	}
	if t.rec != nil && t.rec.from <= 0 {
		t.rec.open(t.muOf)
	}
	for i := range t.h {
		t.h[i] = thost{pendT: math.Inf(1), seen: -1}
	}
	return t, nil
}

// Name returns the sensor's name.
func (t *Telescope) Name() string { return t.name }

// Range returns the block the telescope watches.
func (t *Telescope) Range() ipv4.Range { return t.r }

// Rows returns the series so far.
func (t *Telescope) Rows() []Row { return t.rows }

// SetDHCP marks host h as getting a new address every lease.
func (t *Telescope) SetDHCP(h int32) { t.h[h].dhcp = t.lease > 0 }

// phase is host h's fixed offset in its lease cycle.
func (t *Telescope) phase(h int32) float64 {
	x := t.seed ^ uint64(h)*0x9e3779b97f4a7c15
	x ^= x >> 31
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 29
	return float64(x>>11) / (1 << 53) * t.lease
}

// epoch returns the address epoch of host h at time now and when it ends.
func (t *Telescope) epoch(h int32, now float64) (int32, float64) {
	if !t.h[h].dhcp {
		return 0, math.Inf(1)
	}
	ph := t.phase(h)
	e := math.Floor((now + ph) / t.lease)
	return int32(e), (e+1)*t.lease - ph
}

// ScanStart tells that host h (at address src, infected by variant)
// starts scanning at now, with probes landing in the block at rate mu.
func (t *Telescope) ScanStart(h int32, mu, now float64, src uint32, variant uint8) {
	t.h[h].mu = mu
	t.change(mu, +1, now)
	t.plan(h, now)
	if t.rec != nil {
		t.rec.start(h, mu, now, src, variant)
	}
}

// ScanStop tells that host h stops scanning at now.
func (t *Telescope) ScanStop(h int32, now float64) {
	t.settle(h, now)
	t.change(t.h[h].mu, -1, now)
	t.h[h].stamp++
	t.h[h].pendT = math.Inf(1)
	if t.rec != nil {
		t.rec.stop(h, t.h[h].mu, now)
	}
}

func (t *Telescope) muOf(h int32) float64 { return t.h[h].mu }

// Probes returns the individual probes recorded (a web server's, or a
// telescope's capture window), in time order; nil if none are recorded.
func (t *Telescope) Probes() []Probe {
	if t.rec == nil {
		return nil
	}
	return t.rec.sorted()
}

// Records reports whether the sensor records individual probes.
func (t *Telescope) Records() bool { return t.rec != nil }

func (t *Telescope) change(mu float64, d int64, now float64) {
	c := t.lastC
	if c == nil || c.mu != mu {
		c = t.classes[mu]
	}
	if c == nil {
		c = &class{mu: mu, last: now}
		t.classes[mu] = c
		t.order = append(t.order, c)
	}
	c.area += float64(c.n) * (now - c.last)
	c.last = now
	c.n += d
	c.touch = true
	t.lastC = c
}

// plan schedules host h's next event from now: its first probe into the
// block if its current address has not been seen, else its next address.
func (t *Telescope) plan(h int32, now float64) {
	e, end := t.epoch(h, now)
	th := &t.h[h]
	next, fs := end, false
	if th.seen < e && th.mu > 0 {
		if x := now + t.rng.ExpFloat64()/th.mu; x < end {
			next, fs = x, true
		}
	}
	th.stamp++
	th.pendT, th.pendFS = next, fs
	if math.IsInf(next, 1) {
		return
	}
	b := int(next / t.binW)
	if b >= len(t.buckets) {
		return // after the end of the run
	}
	t.buckets[b] = append(t.buckets[b], ref{h, th.stamp})
}

// settle performs host h's pending events up to time upTo.
func (t *Telescope) settle(h int32, upTo float64) {
	for t.h[h].pendT <= upTo {
		now := t.h[h].pendT
		if t.h[h].pendFS {
			e, _ := t.epoch(h, now)
			t.h[h].seen = e
			t.newSrc++
			t.cum++
		}
		t.plan(h, now)
	}
}

// CloseBin ends bin b, from t0 to t1, and returns its row.
func (t *Telescope) CloseBin(b int, t0, t1 float64) Row {
	for i := 0; i < len(t.buckets[b]); i++ {
		r := t.buckets[b][i]
		if r.stamp == t.h[r.h].stamp {
			t.settle(r.h, t1)
		}
	}
	t.buckets[b] = nil
	if t.rec != nil {
		t.rec.closeBin(b, t1, t.muOf)
		// Open the capture window at the close of the bin before the one
		// that holds its start: hosts scanning then get their first probe
		// from the window's start; later changes are followed exactly.
		if !t.rec.opened && t.rec.from < t1+t.binW {
			t.rec.open(t.muOf)
		}
	}
	d := t1 - t0
	var sources int64
	var lambda, expSources float64
	for _, c := range t.order {
		if !c.touch && c.n == 0 {
			continue
		}
		c.area += float64(c.n) * (t1 - c.last)
		c.last = t1
		n := int64(math.Round(c.area / d))
		q := 1 - math.Exp(-c.mu*d)
		if n > 0 && q > 0 {
			sources += int64(distuv.Binomial{N: float64(n), P: q, Src: t.rng}.Rand())
		}
		expSources += float64(n) * q
		lambda += c.mu * c.area
		c.area, c.touch = 0, c.n > 0
	}
	sources = max(sources, t.newSrc)
	probes := sources
	if extra := lambda - expSources; extra > 0 {
		probes += int64(distuv.Poisson{Lambda: extra, Src: t.rng}.Rand())
	}
	row := Row{
		Time:   t.start.Add(time.Duration(t0 * float64(time.Second))),
		Probes: probes, Sources: sources, NewSources: t.newSrc, CumulativeSources: t.cum,
	}
	t.newSrc = 0
	t.rows = append(t.rows, row)
	return row
}
