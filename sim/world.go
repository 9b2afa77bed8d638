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
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"wormwatch/defense"
	"wormwatch/internal/ctxpoll"
	"wormwatch/internal/radix"
	"wormwatch/ipv4"
	"wormwatch/scenario"
	"wormwatch/sensor"
	"wormwatch/worm"
)

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
	// NoInfections tells that the caller does not read Result.Infections
	// (ensembles written without --infections): the run leaves it empty
	// and, where the hosts are interchangeable (see lumpable), does not
	// place them at all. Nothing else in the result changes.
	NoInfections bool
	// Unlumped runs a run whose hosts are interchangeable host by host
	// like any other, instead of by counts (lumped.go): for the tests and
	// the bench that hold the two against each other.
	Unlumped bool
}

// Progress is the state of a run after a bin, for progress displays.
type Progress struct {
	Time          time.Time // end of the bin
	Fraction      float64   // share of the simulated period done
	Infected      int64
	NewInfections int64 // in the bin
	BinSeconds    float64
}

// world is one run of the engine: what it simulates, in named parts. The
// parts are embedded, so the engine's code reads their fields as the
// world's (w.nS, w.heap, w.tels); each part says what it holds. Run builds
// a world in steps (newWorld, addSensors, startGenerator,
// scheduleDefences, scheduleSeeds), runs its event loop (loop.go) and
// collects its result (finish).
type world struct {
	runSpec    // what is simulated: the scenario, its space, hosts and variants, the clock
	hostTable  // the state of every host
	counters   // the hosts in each state, and what the open bin adds up
	eventQueue // what happens next, and the time
	sensorSet  // the sensors and their shares of each variant's probes
	streams    // the random streams the world draws from

	output // what the run hands back

	def *defense.Defense // the defences: per-host schedules and acceptance
	g   generator        // the infections: the fast or the per-probe engine (engine.go)
}

// runSpec is what a run simulates; it does not change while the run goes.
type runSpec struct {
	stop  *ctxpoll.Poller // the run's context, looked at every so many steps
	sc    *scenario.Scenario
	sp    ipv4.Space
	hosts *ipv4.Hosts
	vars  []*worm.Variant
	n     int       // hosts
	start time.Time // the scenario's start, UTC
	end   float64   // the run's length, seconds
	binW  float64   // the width of a bin, seconds
	nbins int       // bins of the time series
	opt   Options
}

// hostTable is the state of every host (host.go).
type hostTable struct {
	h []hrec // one record (24 bytes) per host
	// awake is, per host, how many of its threads' wake groups are awake
	// (worm.Variant.WakeGroups) while it ramps up after dormancy; 0 means
	// every thread. Nil when no variant wakes in groups.
	awake []uint8
	// arrive is, per host, when it comes online (seconds from the start;
	// 0: on the network from the start), for hosts that arrive after the
	// start (population.arrivals); nil when none does, so that runs
	// without arrivals read and draw nothing more.
	arrive []float32
}

// counters are the hosts in each state, kept as hosts change, and what
// the open bin accumulates for its row of the time series.
type counters struct {
	nS, nI, nScan, nFlood, nDorm, nP, nR, nEver int64
	// nPHome and nRHome are the patched and the removed home machines;
	// nEverUnp the hosts ever infected that are neither patched nor
	// removed. Kept as hosts change, like the others.
	nPHome, nRHome, nEverUnp int64
	newInf                   int64     // infections in the open bin
	floodHosts               []int64   // flooding hosts, per variant
	floodMass                []float64 // host-seconds of flooding in the open bin, per variant
	seedK                    []int     // seeds each variant actually got
}

// eventQueue is what is scheduled to happen, and the world's time.
type eventQueue struct {
	heap  *binQueue // events that arise while the run goes (calendars, reboots, seeds)
	sched []event   // events known at the start (patches, filtering), sorted
	next  int       // the first of sched not yet handled
	t     float64   // the world's time, seconds from the start
}

// sensorSet is the sensors of the run.
type sensorSet struct {
	tels  []*sensor.Telescope
	share [][]float32 // per telescope, per (variant, /16): share of a host's probes landing in the block (NaN: not computed)
}

// streams are the random streams the world draws from while it runs (the
// setup draws from streams of its own; see stream).
type streams struct {
	rng  *rand.Rand // engine: events, seeds, wake-ups
	trng *rand.Rand // traffic: probe counts and packet splits
}

// output is what the run hands back, as it builds up.
type output struct {
	res *Result
	// infectorAddrs tells that Result.Infections name infectors by address
	// already (a lumped run), not by host id.
	infectorAddrs bool
	snaps         []float64       // snapshot times still to take, ascending
	saturated     map[string]bool // counters that reached satint.Max, by name (Result.Saturated)
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
	eng, err := engineFor(opt.Engine, sc.Space.Bits)
	if err != nil {
		return nil, err
	}
	var w *world
	if lumpable(sc, opt) == "" {
		w, err = newLumpedWorld(ctx, stop, sc, seed, opt)
	} else {
		w, err = newHostWorld(ctx, stop, eng, sc, seed, opt)
	}
	if err != nil {
		if stop.Err() != nil {
			return nil, stop.Err()
		}
		return nil, err
	}
	w.scheduleSeeds()
	if !w.loop(w.nbins) {
		if len(w.res.Bins) == 0 {
			return nil, stop.Err() // not one whole bin: nothing to keep
		}
		w.res.Interrupted = true
		w.cut()
	}
	if l, ok := w.g.(*lumped); ok {
		l.resolve()
	}
	w.finish()
	w.res.WallSeconds = time.Since(wall).Seconds()
	return w.res, nil
}

// newHostWorld sets up a run host by host: the population placed, the
// host table, the sensors, the engine's generator, the defences' schedule.
func newHostWorld(ctx context.Context, stop *ctxpoll.Poller, eng engine, sc *scenario.Scenario, seed uint64, opt Options) (*world, error) {
	hosts, err := placeHosts(ctx, sc, seed, opt)
	if err != nil {
		return nil, err
	}
	w, err := newWorld(stop, sc, seed, hosts, opt)
	if err != nil {
		return nil, err
	}
	if err := w.addSensors(seed); err != nil {
		return nil, err
	}
	if err := w.startGenerator(eng, seed); err != nil {
		return nil, err
	}
	if err := w.scheduleDefences(seed); err != nil {
		return nil, err
	}
	return w, nil
}

// placeHosts returns the population of the run: the one given in the
// options (tests), or the scenario's, placed from the population's own
// seed (0: the run's).
func placeHosts(ctx context.Context, sc *scenario.Scenario, seed uint64, opt Options) (*ipv4.Hosts, error) {
	if opt.Hosts != nil {
		return opt.Hosts, nil
	}
	sp := ipv4.Space{Bits: sc.Space.Bits}
	reserved, err := sp.ParseRanges(sc.Space.Reserved)
	if err != nil {
		return nil, fmt.Errorf("space.reserved: %w", err)
	}
	pop := sc.Population
	if sc.Defense.Diurnal.OffShare == 0 {
		// The owners' time zones are read only for machines switched off
		// at night: with none, the zones need not be drawn. They are the
		// last draws of the population's stream, so every other attribute
		// is the same (the loader has checked the regions already).
		pop.Regions = nil
	}
	return ipv4.Place(ctx, pop, sp, reserved, opt.BaseDir, stream(popSeed(sc, seed), "population"))
}

// popSeed is the seed of the population's streams: population.seed, or
// the run's seed when it is 0.
func popSeed(sc *scenario.Scenario, seed uint64) uint64 {
	if sc.Population.Seed != 0 {
		return sc.Population.Seed
	}
	return seed
}

// drawArrivals draws which hosts come online after the start and when
// (population.arrivals), from a stream of the population's seed of its
// own: per host in id order, whether it arrives (share), then its time,
// uniform from from to until. It draws nothing when the share is 0.
func (w *world) drawArrivals(seed uint64) {
	a := w.sc.Population.Arrivals
	if a.Share <= 0 {
		return
	}
	rng := stream(popSeed(w.sc, seed), "arrivals")
	from, until := a.From.Sub(w.start).Seconds(), a.Until.Sub(w.start).Seconds()
	w.arrive = make([]float32, w.n)
	for h := range w.arrive {
		if rng.Float64() < a.Share {
			// float32 keeps 4 bytes a host; the event is scheduled at the
			// rounded time, so the two agree.
			w.arrive[h] = float32(from + rng.Float64()*(until-from))
		}
	}
}

// arrived reports whether host h is on the network at t: it came online
// at the start or has arrived since (population.arrivals).
func (w *world) arrived(h int32, t float64) bool {
	return w.arrive == nil || float64(w.arrive[h]) <= t
}

// newWorld sets up the world of a run over hosts: the variants compiled,
// the defences with their per-host traits, the host table, the event
// queue's bins and the result to fill.
func newWorld(stop *ctxpoll.Poller, sc *scenario.Scenario, seed uint64, hosts *ipv4.Hosts, opt Options) (*world, error) {
	w, err := newBareWorld(stop, sc, seed, hosts.Len(), opt)
	if err != nil {
		return nil, err
	}
	w.hosts = hosts
	w.def = defense.New(sc.Defense, w.start, stream(seed, "defense-traits").Uint64())
	w.h = make([]hrec, w.n)
	for _, v := range w.vars {
		if v.WakeGroups() > 1 && !v.WakeRamp().AlwaysZero() {
			w.awake = make([]uint8, w.n)
			break
		}
	}
	for i := range w.h {
		if stop.Stop() {
			return nil, stop.Err()
		}
		w.h[i] = hrec{addr: hosts.Addr[i], os: hosts.OS[i], lang: hosts.Lang[i]}
		if hosts.Flags[i]&ipv4.FlagHome != 0 {
			w.h[i].flags |= flHome
			w.res.HomeHosts++
			if w.def.SwitchesOff(int32(i), true) {
				w.h[i].flags |= flOff
			}
		}
	}
	if !opt.NoInfections {
		w.res.Infections = make([]Infection, 0, hosts.Len())
	}
	return w, nil
}

// newBareWorld sets up what every run of n hosts has, whatever its engine:
// the variants compiled, the clock, the random streams, the event queue's
// bins and the result to fill; no host table (newWorld adds it).
func newBareWorld(stop *ctxpoll.Poller, sc *scenario.Scenario, seed uint64, n int, opt Options) (*world, error) {
	w := &world{
		runSpec: runSpec{
			stop: stop, sc: sc, sp: ipv4.Space{Bits: sc.Space.Bits}, n: n, start: sc.Start.UTC(),
			end: sc.End.Sub(sc.Start).Seconds(), binW: sc.Bin.Seconds(), opt: opt,
		},
		streams: streams{rng: stream(seed, "engine"), trng: stream(seed, "traffic")},
	}
	for i, p := range sc.Worms {
		// Attempts that end at once: addresses that answer, and unreachable ones.
		v, err := worm.Compile(i, p, w.sp, w.start, sc.Space.AnswerFraction+sc.Space.Unreachable)
		if err != nil {
			return nil, err
		}
		w.vars = append(w.vars, v)
	}
	w.floodHosts = make([]int64, len(w.vars))
	w.seedK = make([]int, len(w.vars))
	w.floodMass = make([]float64, len(w.vars))
	w.nbins = int(math.Ceil(w.end/w.binW - 1e-9))
	w.heap = newBinQueue(w.nbins, w.binW)
	w.res = &Result{
		Scenario: sc.Name, Seed: seed, Engine: opt.Engine, Start: w.start, BinSeconds: w.binW,
		SpaceBits: w.sp.Bits, Bins: make([]Bin, 0, w.nbins),
	}
	for _, v := range w.vars {
		w.res.Variants = append(w.res.Variants, v.Name)
		w.res.Requests = append(w.res.Requests, v.RequestLine())
	}
	w.snaps = append([]float64(nil), opt.Snapshots...)
	sort.Float64s(w.snaps)
	return w, nil
}

// addSensors sets up the scenario's sensors, each with its own stream,
// and tells them which hosts get new addresses (DHCP).
func (w *world) addSensors(seed uint64) error {
	lease := w.sc.Population.DHCPLease.Seconds()
	for _, sn := range w.sc.Sensors {
		t, err := sensor.NewTelescope(sn, w.sp, w.start, w.binW, w.nbins, w.n, lease, stream(seed, "sensor-"+sn.Name), w.stop)
		if err != nil {
			if w.stop.Err() != nil {
				return w.stop.Err()
			}
			return err
		}
		for h := range w.h {
			if w.stop.Stop() {
				return w.stop.Err()
			}
			if w.h[h].flags&flHome != 0 {
				t.SetDHCP(int32(h))
			}
		}
		w.tels = append(w.tels, t)
		sh := make([]float32, len(w.sc.Worms)<<16)
		for i := range sh {
			sh[i] = float32(math.NaN())
		}
		w.share = append(w.share, sh)
	}
	return nil
}

// startGenerator starts the engine's generator of infections, with the
// run's walk stream.
func (w *world) startGenerator(e engine, seed uint64) error {
	g, err := e.start(w, stream(seed, "walk"))
	if w.stop.Err() != nil {
		return w.stop.Err()
	}
	if err != nil {
		return err
	}
	w.g = g
	return nil
}

// scheduleDefences draws what the defences do to each host from the
// start (filtering, patching; hosts patched before the start), makes the
// other hosts susceptible (those that arrive later out of the target sets
// until they do), and sorts the schedule.
func (w *world) scheduleDefences(seed uint64) error {
	w.drawArrivals(seed)
	drng := stream(seed, "defense")
	patches := w.def.Patches()
	// The events are appended in the order (host, kind) (a patch, an
	// arrival, then a removal), so that a stable sort by time orders them
	// by (time, host, kind).
	for h := 0; h < w.n; h++ {
		if w.stop.Stop() {
			return w.stop.Err()
		}
		remove := event{t: math.Inf(1), host: int32(h), kind: evRemove}
		if ft := w.def.FilterTime(w.hosts.Addr[h] >> uint(max(w.sp.Bits-16, 0))); ft < w.end {
			remove.t = math.Max(ft, 0)
		}
		if w.hosts.Flags[h]&ipv4.FlagPatched != 0 {
			w.h[h].state = stPatched
			w.nP++
			if w.h[h].flags&flHome != 0 {
				w.nPHome++
			}
		} else {
			if patches {
				if pt := w.def.PatchTime(drng.ExpFloat64(), w.hosts.Flags[h]&ipv4.FlagSharing != 0, w.hosts.Flags[h]&ipv4.FlagHome != 0); pt < w.end {
					w.sched = append(w.sched, event{t: pt, host: int32(h), kind: evPatch})
				}
			}
			w.nS++
			if !w.arrived(int32(h), 0) {
				// Not on the network yet: out of the target sets, like a
				// machine switched off, until it comes online.
				w.h[h].flags |= flDark
				if at := float64(w.arrive[h]); at < w.end {
					w.sched = append(w.sched, event{t: at, host: int32(h), gen: w.h[h].gen, kind: evPowerOn})
				}
			} else {
				w.g.suscAdd(int32(h))
			}
		}
		if remove.t < w.end {
			w.sched = append(w.sched, remove)
		}
	}
	w.dropSetupAttributes()
	keys := make([]uint64, len(w.sched))
	for i, e := range w.sched {
		keys[i] = radix.Float64Key(e.t)
	}
	sorted := make([]event, len(w.sched))
	for i, j := range radix.Order(keys) {
		sorted[i] = w.sched[j]
	}
	w.sched = sorted
	return w.stop.Err()
}

// dropSetupAttributes lets go of the population's slices that only the
// setup reads (OS, language and flags are in the host table or the
// schedule by now; time zones are read only for machines switched off at
// night), so that the collector can reuse them while the run grows: up to
// 5 bytes a host of 80 at 10^8 hosts. What is read later stays.
func (w *world) dropSetupAttributes() {
	keep := &ipv4.Hosts{Space: w.hosts.Space, Addr: w.hosts.Addr, ClockError: w.hosts.ClockError, UTCOffset: w.hosts.UTCOffset}
	if w.sc.Defense.Diurnal.OffShare == 0 {
		keep.UTCOffset = nil // no host has flOff, the only reason to read it
	}
	w.hosts = keep
}

// scheduleSeeds schedules the infection of each variant's seeds at its
// start (at the run's start if earlier).
func (w *world) scheduleSeeds() {
	for i, v := range w.vars {
		w.heap.push(event{t: math.Max(0, v.StartSeconds), kind: evSeed, v: uint8(i)})
	}
}

// finish completes the result once the loop ended: infectors by address,
// the final counts (those of the last whole bin if the run was
// interrupted), the sensors' series, the saturated counters.
func (w *world) finish() {
	res := w.res
	for i := range res.Infections {
		if id := res.Infections[i].Infector; id != NoInfector && !w.infectorAddrs {
			res.Infections[i].Infector = w.hosts.Addr[id] // 4 bytes a host: fewer cache misses than w.h
		}
	}
	res.Final, res.EverInfected = w.counts(), w.nEver
	if res.Interrupted {
		// The state at the end of the last whole bin.
		last := res.Bins[len(res.Bins)-1]
		res.Final = Counts{
			Susceptible: last.Susceptible, Infected: last.Infected, InfectedScanning: last.InfectedScanning,
			InfectedFlooding: last.InfectedFlooding, InfectedDormant: last.InfectedDormant, Patched: last.Patched, Removed: last.Removed,
		}
		res.EverInfected = last.EverInfected
	}
	whole := float64(len(res.Bins)) * w.binW
	for i, tel := range w.tels {
		p := w.sc.Sensors[i]
		rows, probes := tel.Rows(), tel.Probes()
		if res.Interrupted {
			rows = rows[:min(len(rows), len(res.Bins))]
			probes = slices.DeleteFunc(probes, func(pr sensor.Probe) bool { return pr.Seconds >= whole })
		}
		res.Sensors = append(res.Sensors, SensorSeries{Name: p.Name, Kind: p.Kind, Prefix: p.Prefix, Size: tel.Range().Len(), Rows: rows, Probes: probes, Records: tel.Records()})
		if tel.Saturated() {
			w.saturate("sensor." + p.Name + ".probes")
		}
		if _, cut := tel.RecordCut(); cut {
			w.saturate("sensor." + p.Name + ".record")
		}
	}
	for name := range w.saturated {
		res.Saturated = append(res.Saturated, name)
	}
	slices.Sort(res.Saturated)
}

// counts returns the hosts in each state now.
func (c *counters) counts() Counts {
	return Counts{
		Susceptible: c.nS, Infected: c.nI, InfectedScanning: c.nScan,
		InfectedFlooding: c.nFlood, InfectedDormant: c.nDorm, Patched: c.nP, Removed: c.nR,
	}
}
