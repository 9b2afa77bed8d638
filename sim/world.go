// Package sim is the outbreak engine: the host table, the scheduled events
// of worm calendars and reboots, the random streams, the time series, and
// two ways of generating infections:
//
//   - the fast engine ("fast") draws only the probes that land on
//     susceptible hosts. Each scanning host is a Poisson source of probes
//     whose rate is constant between events, so the probes that infect form
//     a thinned Poisson process whose rate is a sum over blocks of
//     (scanning pressure) x (susceptible hosts); the engine draws the next
//     such probe, then its block, infector and target, in O(1) or O(log n).
//     Walking strategies (shared sequences, permutations, hit-lists,
//     sequential scans) jump each host straight to the next position of its
//     walk that holds a susceptible host, with a Gamma-distributed travel
//     time. Everything else is counted in aggregate.
//   - the per-probe engine ("probe") simulates every probe: the oracle the
//     fast engine is tested against, for spaces of at most 2^24 addresses.
//
// A run is a pure function of (scenario, seed): the same inputs give the
// same result, bit for bit, on any machine and with any number of runs in
// parallel.
package sim

import (
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"wormwatch/defense"
	"wormwatch/internal/ctxpoll"
	"wormwatch/internal/randx"
	"wormwatch/internal/satint"
	"wormwatch/ipv4"
	"wormwatch/scenario"
	"wormwatch/sensor"
	"wormwatch/worm"
)

// Engine names.
const (
	EngineFast  = "fast"
	EngineProbe = "probe"
)

// MaxProbeEngineBits is the largest space the per-probe engine accepts.
const MaxProbeEngineBits = 24

// Options control a run beyond its scenario and seed.
type Options struct {
	Engine   string          // EngineFast (default) or EngineProbe
	BaseDir  string          // folder that relative paths in the scenario are read from
	Progress func(Progress)  // called after every bin, if set
	Hosts    *ipv4.Hosts     // use this population instead of placing one (tests)
	Observe  func(Infection) // called for every infection, if set
	// Snapshots are times (seconds from the start) at which to record the
	// infected hosts per /16 (Result.Snapshots), for maps.
	Snapshots []float64
}

// Progress is the state of a run after a bin, for progress displays.
type Progress struct {
	Time          time.Time // end of the bin
	Fraction      float64   // share of the simulated period done
	Infected      int64
	NewInfections int64 // in the bin
	BinSeconds    float64
}

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
	flDark                       // susceptible but switched off: out of the target sets until evPowerOn
)

// hrec is one host's record: what the engine reads and writes for a host
// sits together, so touching a host costs one cache miss, not ten.
type hrec struct {
	addr  uint32
	clock int32  // seconds the host's clock is ahead of UTC
	gen   uint32 // generation: bumped when an infection ends, so its events go stale
	state uint8
	phase worm.Phase
	varOf uint8 // variant of the current infection
	flags uint8
	os    uint8
	lang  uint8
	cls   uint8 // rate class while scanning (fast engine)
	grp   uint8 // bitmask of the susceptible groups the host belongs to (fast engine)
	utc   int16 // the owner's time zone, minutes east of UTC
	// cureAt is when the current infection's memory is cleared (a reboot,
	// the machine switched off): calendar events after it are not scheduled.
	cureAt float64
}

// generator produces the infections of a run. The world tells it about
// every change of who scans and who is susceptible, integrates time through
// it, and asks it for the next infection.
type generator interface {
	// step draws the generator's next event after the world's time. If it
	// comes before limit, step advances the world to it, performs it and
	// returns true; otherwise it returns false and changes nothing (the
	// draws are memoryless, so nothing is lost by drawing again later).
	step(limit float64) bool
	// advance accounts for the time from t0 to t1 with no state change.
	advance(t0, t1 float64)
	// infected tells that host h was just infected by infector (-1 for a
	// seed), before its calendar starts it scanning.
	infected(h, infector int32, t float64)
	scanStart(h int32, t float64)
	scanStop(h int32, t float64)
	suscAdd(h int32)
	suscRemove(h int32)
	// retired tells that infected host h was patched or removed.
	retired(h int32)
	// activate tells that variant vi starts (its seeds are about to be
	// infected).
	activate(vi int)
	// binProbes returns the probes variant v sent since the last call.
	binProbes(v int) int64
}

type world struct {
	stop  *ctxpoll.Poller // the run's context, looked at every so many steps
	sc    *scenario.Scenario
	sp    ipv4.Space
	hosts *ipv4.Hosts
	vars  []*worm.Variant
	n     int
	start time.Time
	end   float64
	binW  float64
	opt   Options

	h []hrec // the host table, one record (one cache line or less) per host

	nS, nI, nScan, nFlood, nDorm, nP, nR, nEver int64
	newInf                                      int64
	floodHosts                                  []int64
	seedK                                       []int // seeds each variant actually got
	floodMass                                   []float64

	heap  *binQueue
	sched []event // events known at the start (patches, filtering), sorted
	next  int     // the first of sched not yet handled
	def   *defense.Defense
	tels  []*sensor.Telescope
	share [][]float32 // per telescope, per (variant, /16): share of a host's probes landing in the block (NaN: not computed)
	rng   *rand.Rand  // engine: events, seeds, wake-ups
	trng  *rand.Rand  // traffic: probe counts and packet splits
	g     generator
	t     float64

	res   *Result
	snaps []float64 // snapshot times still to take, ascending

	saturated map[string]bool // counters that reached satint.Max, by name (Result.Saturated)
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

// stream returns an independent random stream for one purpose of a run.
func stream(seed uint64, purpose string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(purpose))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// Run simulates one outbreak. It returns when the scenario's end is reached
// or ctx is cancelled. Cancellation is noticed within a bounded number of
// steps everywhere: in the setup (population placement, sensors, walks),
// Run then returns ctx's error and no result; during the simulation it
// returns a result with Interrupted set, whose series, infections and
// sensor rows stop at the last whole bin (if no bin was whole, ctx's error).
// Looking at ctx changes nothing a run computes.
func Run(ctx context.Context, sc *scenario.Scenario, seed uint64, opt Options) (*Result, error) {
	wall := time.Now()
	stop := ctxpoll.New(ctx)
	if stop.Now() {
		return nil, stop.Err()
	}
	if opt.Engine == "" {
		opt.Engine = EngineFast
	}
	sp := ipv4.Space{Bits: sc.Space.Bits}
	if opt.Engine == EngineProbe && sp.Bits > MaxProbeEngineBits {
		return nil, fmt.Errorf("the per-probe engine simulates every probe and is limited to spaces of at most 2^%d addresses; this scenario has 2^%d (use --set space.bits=%d or the fast engine)", MaxProbeEngineBits, sp.Bits, MaxProbeEngineBits)
	}
	if opt.Engine != EngineFast && opt.Engine != EngineProbe {
		return nil, fmt.Errorf("unknown engine %q (want %s or %s)", opt.Engine, EngineFast, EngineProbe)
	}
	hosts := opt.Hosts
	if hosts == nil {
		reserved, err := sp.ParseRanges(sc.Space.Reserved)
		if err != nil {
			return nil, fmt.Errorf("space.reserved: %w", err)
		}
		pseed := sc.Population.Seed
		if pseed == 0 {
			pseed = seed
		}
		hosts, err = ipv4.Place(ctx, sc.Population, sp, reserved, opt.BaseDir, stream(pseed, "population"))
		if err != nil {
			return nil, err
		}
	}
	w := &world{
		stop: stop, sc: sc, sp: sp, hosts: hosts, n: hosts.Len(), start: sc.Start.UTC(),
		end: sc.End.Sub(sc.Start).Seconds(), binW: sc.Bin.Seconds(), opt: opt,
		rng: stream(seed, "engine"), trng: stream(seed, "traffic"),
	}
	for i, p := range sc.Worms {
		// Attempts that end at once: addresses that answer, and unreachable ones.
		v, err := worm.Compile(i, p, sp, w.start, sc.Space.AnswerFraction+sc.Space.Unreachable)
		if err != nil {
			return nil, err
		}
		w.vars = append(w.vars, v)
	}
	w.floodHosts = make([]int64, len(w.vars))
	w.seedK = make([]int, len(w.vars))
	w.floodMass = make([]float64, len(w.vars))
	w.def = defense.New(sc.Defense, w.start, stream(seed, "defense-traits").Uint64())
	w.h = make([]hrec, w.n)
	for i := range w.h {
		if stop.Stop() {
			return nil, stop.Err()
		}
		w.h[i] = hrec{addr: hosts.Addr[i], clock: hosts.ClockError[i], os: hosts.OS[i], lang: hosts.Lang[i], utc: hosts.UTCOffset[i]}
		if hosts.Flags[i]&ipv4.FlagHome != 0 {
			w.h[i].flags |= flHome
			if w.def.SwitchesOff(int32(i), true) {
				w.h[i].flags |= flOff
			}
		}
	}
	nb := int(math.Ceil(w.end/w.binW - 1e-9))
	w.heap = newBinQueue(nb, w.binW)
	w.res = &Result{
		Scenario: sc.Name, Seed: seed, Engine: opt.Engine, Start: w.start, BinSeconds: w.binW,
		SpaceBits: sp.Bits, Bins: make([]Bin, 0, nb), Infections: make([]Infection, 0, hosts.Len()),
	}
	for _, v := range w.vars {
		w.res.Variants = append(w.res.Variants, v.Name)
		w.res.Requests = append(w.res.Requests, v.RequestLine())
	}
	w.snaps = append([]float64(nil), opt.Snapshots...)
	sort.Float64s(w.snaps)
	lease := sc.Population.DHCPLease.Seconds()
	for _, sn := range sc.Sensors {
		t, err := sensor.NewTelescope(sn, w.sp, w.start, w.binW, nb, w.n, lease, stream(seed, "sensor-"+sn.Name), stop)
		if err != nil {
			if stop.Err() != nil {
				return nil, stop.Err()
			}
			return nil, err
		}
		for h := range w.h {
			if stop.Stop() {
				return nil, stop.Err()
			}
			if w.h[h].flags&flHome != 0 {
				t.SetDHCP(int32(h))
			}
		}
		w.tels = append(w.tels, t)
		sh := make([]float32, len(sc.Worms)<<16)
		for i := range sh {
			sh[i] = float32(math.NaN())
		}
		w.share = append(w.share, sh)
	}
	var err error
	switch opt.Engine {
	case EngineFast:
		w.g, err = newFast(w, stream(seed, "walk"))
	case EngineProbe:
		w.g, err = newProbe(w, stream(seed, "walk"))
	}
	if stop.Err() != nil {
		return nil, stop.Err()
	}
	if err != nil {
		return nil, err
	}
	drng := stream(seed, "defense")
	patches := w.def.Patches()
	for h := 0; h < w.n; h++ {
		if stop.Stop() {
			return nil, stop.Err()
		}
		if ft := w.def.FilterTime(hosts.Addr[h] >> uint(max(sp.Bits-16, 0))); ft < w.end {
			w.sched = append(w.sched, event{t: math.Max(ft, 0), host: int32(h), kind: evRemove})
		}
		if hosts.Flags[h]&ipv4.FlagPatched != 0 {
			w.h[h].state = stPatched
			w.nP++
			continue
		}
		if patches {
			if pt := w.def.PatchTime(drng.ExpFloat64(), hosts.Flags[h]&ipv4.FlagSharing != 0); pt < w.end {
				w.sched = append(w.sched, event{t: pt, host: int32(h), kind: evPatch})
			}
		}
		w.nS++
		w.g.suscAdd(int32(h))
	}
	slices.SortFunc(w.sched, func(a, b event) int {
		if stop.Stop() {
			return 0 // cancelled: the order no longer matters (sorting ends fast)
		}
		if c := cmp.Compare(a.t, b.t); c != 0 {
			return c
		}
		if c := cmp.Compare(a.host, b.host); c != 0 {
			return c
		}
		return cmp.Compare(a.kind, b.kind)
	})
	if stop.Err() != nil {
		return nil, stop.Err()
	}
	for i, v := range w.vars {
		w.heap.push(event{t: math.Max(0, v.StartSeconds), kind: evSeed, v: uint8(i)})
	}
	if !w.loop(nb) {
		if len(w.res.Bins) == 0 {
			return nil, stop.Err() // not one whole bin: nothing to keep
		}
		w.res.Interrupted = true
		w.cut()
	}
	for i := range w.res.Infections {
		if id := w.res.Infections[i].Infector; id != NoInfector {
			w.res.Infections[i].Infector = w.h[id].addr
		}
	}
	w.res.Final, w.res.EverInfected = w.counts(), w.nEver
	if w.res.Interrupted {
		// The state at the end of the last whole bin.
		last := w.res.Bins[len(w.res.Bins)-1]
		w.res.Final = Counts{
			Susceptible: last.Susceptible, Infected: last.Infected, InfectedScanning: last.InfectedScanning,
			InfectedFlooding: last.InfectedFlooding, InfectedDormant: last.InfectedDormant, Patched: last.Patched, Removed: last.Removed,
		}
		w.res.EverInfected = last.EverInfected
	}
	whole := float64(len(w.res.Bins)) * w.binW
	for i, tel := range w.tels {
		p := sc.Sensors[i]
		rows, probes := tel.Rows(), tel.Probes()
		if w.res.Interrupted {
			rows = rows[:min(len(rows), len(w.res.Bins))]
			probes = slices.DeleteFunc(probes, func(pr sensor.Probe) bool { return pr.Seconds >= whole })
		}
		w.res.Sensors = append(w.res.Sensors, SensorSeries{Name: p.Name, Kind: p.Kind, Prefix: p.Prefix, Size: tel.Range().Len(), Rows: rows, Probes: probes, Records: tel.Records()})
		if tel.Saturated() {
			w.saturate("sensor." + p.Name + ".probes")
		}
	}
	for name := range w.saturated {
		w.res.Saturated = append(w.res.Saturated, name)
	}
	slices.Sort(w.res.Saturated)
	w.res.WallSeconds = time.Since(wall).Seconds()
	return w.res, nil
}

func (w *world) counts() Counts {
	return Counts{
		Susceptible: w.nS, Infected: w.nI, InfectedScanning: w.nScan,
		InfectedFlooding: w.nFlood, InfectedDormant: w.nDorm, Patched: w.nP, Removed: w.nR,
	}
}

// loop runs the event loop over nb bins. It reports false when the run's
// context was cancelled before the last bin closed: the bins closed so far
// are whole, what happened after them is to be dropped (see cut).
func (w *world) loop(nb int) bool {
	for b := 0; b < nb; b++ {
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
func (w *world) saturate(name string) {
	if w.saturated == nil {
		w.saturated = map[string]bool{}
	}
	w.saturated[name] = true
}

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

func (w *world) handle(e event) {
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
		if w.h[h].flags&flDark != 0 && w.h[h].gen == e.gen {
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
		w.calendar(h, e.t, true)
	case evWake:
		ph, _ := w.vars[w.h[h].varOf].PhaseAt(e.t, w.h[h].clock)
		if ph == worm.Scanning && w.h[h].phase == worm.Dormant {
			w.setPhase(h, worm.Scanning, e.t)
		}
	case evReboot:
		if w.vars[w.h[h].varOf].P.Reboot.Backdoor {
			w.h[h].flags |= flBackdoor
		}
		w.cure(h, e.t)
	case evOwnerReboot, evPowerOff:
		w.cure(h, e.t)
	}
}

// tryInfect is how both engines infect: an infecting probe that reaches
// susceptible host h at t infects it unless the machine is switched off or
// the probe is lost to congestion. (Both are exact thinnings of the probe
// process.) It reports whether h was infected.
func (w *world) tryInfect(h, infector int32, vi uint8, t float64) bool {
	if w.h[h].flags&flOff != 0 && w.def.Offline(h, w.h[h].utc, t) {
		// Switched off: no infection. Take it out of the target sets until
		// it is switched on (it has no hazard meanwhile, so this changes
		// nothing in distribution and saves drawing it again all night).
		w.h[h].flags |= flDark
		w.g.suscRemove(h)
		w.push(event{t: w.def.NextOn(h, w.h[h].utc, t), host: h, gen: w.h[h].gen, kind: evPowerOn})
		return false
	}
	if w.def.Congested() && !w.def.Accept(w.nScan, int64(w.n), w.rng.Float64()) {
		return false
	}
	w.infect(h, infector, vi, t)
	return true
}

// seed infects a variant's seed hosts, uniform among the susceptible hosts
// it can infect.
func (w *world) seed(vi uint8, t float64) {
	w.g.activate(int(vi))
	v := w.vars[vi]
	var cand []int32
	for h := 0; h < w.n; h++ {
		if w.h[h].state == stSusceptible && v.Infects[w.h[h].os] {
			cand = append(cand, int32(h))
		}
	}
	k := v.P.Seeds
	if k > len(cand) {
		k = len(cand)
	}
	w.seedK[vi] = k
	// Partial Fisher-Yates: the first k of a uniform shuffle.
	for i := 0; i < k; i++ {
		j := i + w.rng.IntN(len(cand)-i)
		cand[i], cand[j] = cand[j], cand[i]
		w.infect(cand[i], -1, vi, t)
	}
}

// infect makes susceptible host h infected by variant vi at time t.
func (w *world) infect(h int32, infector int32, vi uint8, t float64) {
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
	}
	w.h[h].gen++
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
	w.res.Infections = append(w.res.Infections, inf)
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
	if d := w.def.RebootAfter(w.rng.ExpFloat64()); t+d < cure {
		cure, kind = t+d, evOwnerReboot
	}
	if w.h[h].flags&flOff != 0 {
		if off := w.def.NextOff(h, w.h[h].utc, t); off < cure {
			cure, kind = off, evPowerOff
		}
	}
	w.h[h].cureAt = cure
	w.push(event{t: cure, host: h, gen: w.h[h].gen, kind: kind})
	w.g.infected(h, infector, t)
	w.calendar(h, t, false)
}

// push schedules an event if it falls before the end of the run.
func (w *world) push(e event) {
	if e.t < w.end {
		w.heap.push(e)
	}
}

// calendar puts infected host h in the phase its calendar gives at t and
// schedules the next change. After dormancy (or flooding) a monthly worm
// that reaches its spreading days waits its wake-up delay first.
func (w *world) calendar(h int32, t float64, boundary bool) {
	v := w.vars[w.h[h].varOf]
	ph, next := v.PhaseAt(t, w.h[h].clock)
	if ph == worm.Scanning && boundary && w.h[h].phase != worm.Scanning && !v.WakeDelay().AlwaysZero() {
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
	rate := v.Rate(w.h[h].lang)
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

// scanOff tells the generator and the sensors that host h stops scanning.
func (w *world) scanOff(h int32, t float64) {
	w.g.scanStop(h, t)
	for _, tel := range w.tels {
		tel.ScanStop(h, t)
	}
}

func (w *world) countPhase(ph worm.Phase, d int64, v uint8) {
	switch ph {
	case worm.Scanning:
		w.nScan += d
	case worm.Flooding:
		w.nFlood += d
		w.floodHosts[v] += d
	default:
		w.nDorm += d
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
		w.h[h].state = st
	default:
		return
	}
	if st == stPatched {
		w.nP++
	} else {
		w.nR++
	}
}
