package sim

import (
	"context"
	"math"
	"math/rand/v2"
	"runtime"

	"wormwatch/defense"
	"wormwatch/internal/ctxpoll"
	"wormwatch/internal/satint"
	"wormwatch/ipv4"
	"wormwatch/scenario"
	"wormwatch/worm"
)

// A lumped run is the run of a scenario whose hosts are interchangeable,
// or fall into a few classes of interchangeable hosts: one variant
// scanning uniformly at one rate whatever the host, every host
// infectable, nothing that cures, patches, removes, switches off or
// watches a host, every host online from the start, and no per-host
// output asked for but the infections.
// Then which host of a class is infected, and by whom, does not change
// what happens next: the state of the outbreak is the number of hosts of
// each class in each state, and the continuous-time Markov chain of the
// hosts lumps exactly into the chain of those counts (Kemeny and Snell's
// strong lumpability). Infecting probes arrive at rate
//
//	rate / (Z * 2^bits) * S * I
//
// (each of the I scanning hosts sends rate probes a second, a share
// 1/(Z*2^bits) of them to each other address; Z is the share of draws not
// redrawn, here the host's own address only), each one infects, and its
// target is uniform among the S susceptible hosts. The run draws those
// arrivals (Gillespie's direct method) and nothing per host that does not
// matter: no host table, no target sets, and no placement at all when
// neither the infections nor the hosts' clocks are wanted.
//
// The classes are the hosts' clocks. A worm on a calendar (Code Red's
// monthly one, or an end date) reads the host's clock: the hosts whose
// clock is right share one calendar and are counted together (the
// class), each host with a wrong clock (population.clock.wrong_share,
// 1% by default) keeps its own phase, one by one (own). When the calendar
// turns, every infected host of the class changes phase at once, one
// event; an own host's phase changes are its own events, as in a
// host-by-host run. The hosts of a calendar that wake after a delay drawn
// per host (calendar.wake_delay) are not interchangeable: such a run goes
// host by host.
//
// When the infections are wanted (Result.Infections), the population is
// placed as in any run and the identities within the class are drawn from
// a stream of their own, so that everything else is the same draw for
// draw with or without them: the infector is uniform among the scanning
// hosts (which scan at one rate), and the order in which the class's
// hosts are infected is uniform, drawn when the run ends (resolve). Which
// own host is infected changes what follows (its clock), so that draw is
// the engine's.
type lumped struct {
	w    *world
	v    *worm.Variant
	rate float64 // probes a second of one scanning host
	coef float64 // infecting probes a second per (scanning, susceptible) pair

	mass    float64 // integral of the probe rate in the open bin
	hitMass float64 // integral of the infecting-probe rate in the open bin
	hits    int64   // infecting probes in the open bin

	// quiet is a time up to which the last step drew no infection, the
	// state unchanged since (see step).
	quiet float64

	// The class: the hosts whose clock is right (all of them when the
	// calendar does not read clocks).
	classN, classS, classI int64
	phase                  worm.Phase // of every infected host of the class: its calendar's now

	// own are the hosts with a clock of their own; ownSusc and ownScan
	// index the susceptible and the scanning ones.
	own              []ownHost
	ownSusc, ownScan indexSet

	// When the infections are recorded: the identities stream, the class's
	// addresses (shuffled when the run ends: the class's hosts in the order
	// they were infected), and which infections' Address and Infector hold
	// a class ordinal (the infection's place among the class's) instead of
	// an own host's address.
	id                  *rand.Rand
	addrs               []uint32
	byOrdinal, infOrdin []uint64 // bit sets over Result.Infections
}

// ownHost is a host with a clock of its own.
type ownHost struct {
	addr  uint32
	clock int32 // seconds its clock is ahead of UTC
	phase worm.Phase
}

// indexSet is a set of the indices 0..n-1, swap-remove, for drawing one
// uniformly.
type indexSet struct {
	perm, pos []int32
	n         int
}

func newIndexSet(n int) indexSet {
	s := indexSet{perm: make([]int32, n), pos: make([]int32, n)}
	for i := range s.pos {
		s.pos[i] = -1
	}
	return s
}

func (s *indexSet) add(i int32) {
	s.perm[s.n], s.pos[i] = i, int32(s.n)
	s.n++
}

func (s *indexSet) remove(i int32) {
	p := s.pos[i]
	s.n--
	last := s.perm[s.n]
	s.perm[p], s.pos[last] = last, p
	s.pos[i] = -1
}

// lumpable returns why the hosts of a run of sc with opt cannot be
// lumped into counts, or "" when they can (see lumped).
func lumpable(sc *scenario.Scenario, opt Options) string {
	switch {
	case opt.Unlumped:
		return "asked for host by host"
	case opt.Engine != EngineFast:
		return "not the fast engine"
	case opt.Hosts != nil:
		return "a population was given"
	case opt.Observe != nil:
		return "infections are observed as they happen"
	case len(opt.Snapshots) > 0:
		return "snapshots of the infected hosts are asked for"
	case len(sc.Sensors) > 0:
		return "sensors watch the hosts"
	case len(sc.Worms) != 1:
		return "more than one variant"
	case sc.Population.Patched > 0:
		return "hosts patched at the start"
	case sc.Population.Arrivals.Share > 0:
		return "hosts come online after the start"
	}
	d := sc.Defense
	switch {
	case defense.New(d, sc.Start, 0).Patches():
		return "owners patch"
	case d.Reboot.MeanInterval > 0:
		return "owners reboot"
	case d.Diurnal.OffShare > 0:
		return "machines are switched off at night"
	case !d.Filter.Start.IsZero() && d.Filter.Share > 0:
		return "networks filter"
	case d.Congestion.Eta > 0:
		return "congestion"
	}
	p := sc.Worms[0]
	switch {
	case p.Targeting.Strategy != worm.StrategyUniform:
		return "not uniform scanning"
	case len(p.Targeting.Exclude) > 0:
		return "excluded ranges"
	case p.Reboot.After > 0 || p.Reboot.AfterChinese > 0:
		return "the worm reboots its hosts"
	}
	v, err := worm.Compile(0, p, ipv4.Space{Bits: sc.Space.Bits}, sc.Start.UTC(), sc.Space.AnswerFraction+sc.Space.Unreachable)
	if err != nil {
		return "the variant does not compile" // the host-by-host run says why
	}
	if v.Walks() || len(v.Components) != 1 || v.Components[0].Level != 0 {
		return "not uniform scanning"
	}
	if v.Monthly() && !v.WakeDelay().AlwaysZero() {
		return "hosts wake after a delay of their own"
	}
	if v.WakeGroups() > 1 && !v.WakeRamp().AlwaysZero() {
		return "hosts' threads wake in groups, each after a delay of its own"
	}
	// Hosts of an OS the variant cannot infect would be counted by a draw
	// per host: lump only when every host can be infected.
	win2000 := sc.Population.Win2000
	if (!v.Infects[ipv4.OSWin2000] && win2000 > 0) || (!v.Infects[ipv4.OSNT4] && win2000 < 1) {
		return "some hosts cannot be infected"
	}
	for _, lang := range []uint8{ipv4.LangChinese, ipv4.LangOther} {
		if v.Rate(lang) != v.Rate(ipv4.LangEnglish) {
			return "the rate depends on the language"
		}
	}
	return ""
}

// clocksMatter reports whether the calendar of sc's variant reads the
// hosts' clocks.
func clocksMatter(sc *scenario.Scenario) bool {
	c := sc.Worms[0].Calendar
	return c.Kind != worm.CalendarAlways || !c.End.IsZero()
}

// newLumpedWorld sets up a lumped run. The population is placed when the
// infections are recorded, when some clocks are wrong and the calendar
// reads them, or when it is a file (which has to be read to be counted);
// otherwise only counted. Every host is susceptible.
func newLumpedWorld(ctx context.Context, stop *ctxpoll.Poller, sc *scenario.Scenario, seed uint64, opt Options) (*world, error) {
	clocks := clocksMatter(sc) && sc.Population.Clock.WrongShare > 0
	var hosts *ipv4.Hosts
	n := 0
	if opt.NoInfections && !clocks && sc.Population.Placement != ipv4.PlacementFile {
		sp := ipv4.Space{Bits: sc.Space.Bits}
		reserved, err := sp.ParseRanges(sc.Space.Reserved)
		if err != nil {
			return nil, err
		}
		if n, err = ipv4.CheckPlacement(ctx, sc.Population, sp, reserved, opt.BaseDir); err != nil {
			return nil, err
		}
	} else {
		var err error
		if hosts, err = placeHosts(ctx, sc, seed, opt); err != nil {
			return nil, err
		}
		n = hosts.Len()
	}
	w, err := newBareWorld(stop, sc, seed, n, opt)
	if err != nil {
		return nil, err
	}
	v := w.vars[0]
	l := &lumped{w: w, v: v, rate: v.Rate(ipv4.LangEnglish)}
	if z := v.Acceptance(0); z > 0 {
		// The one component of uniform scanning: the whole space.
		l.coef = l.rate * v.Components[0].Weight / (z * float64(w.sp.Size()))
	}
	record := !opt.NoInfections
	if record {
		l.id = stream(seed, "lumped-identity")
	}
	if hosts != nil {
		// The class's addresses, moved to the front of the population's
		// (which nothing else reads now), the own hosts' kept with them.
		class := hosts.Addr[:0]
		for h := range n {
			if stop.Stop() {
				return nil, stop.Err()
			}
			if clocks && hosts.ClockError[h] != 0 {
				l.own = append(l.own, ownHost{addr: hosts.Addr[h], clock: hosts.ClockError[h]})
			} else {
				class = append(class, hosts.Addr[h])
			}
		}
		if record {
			l.addrs = class
		}
		// The population's other tables go before the infections' table,
		// the largest, takes their place (at 10^8 hosts, 0.7 GB and 2.4 GB).
		if n >= 1<<24 {
			runtime.GC()
		}
	}
	if record {
		w.res.Infections = make([]Infection, 0, n)
		l.byOrdinal = make([]uint64, (n+63)/64)
		l.infOrdin = make([]uint64, (n+63)/64)
	}
	l.classN = int64(n - len(l.own))
	l.classS = l.classN
	l.ownSusc, l.ownScan = newIndexSet(len(l.own)), newIndexSet(len(l.own))
	for i := range l.own {
		l.ownSusc.add(int32(i))
	}
	// The class's calendar, from the start.
	ph, next := v.PhaseAt(0, 0)
	l.phase = ph
	w.push(event{t: next, host: -1, kind: evPhase})
	w.g = l
	w.nS = int64(n)
	// Home machines behave as the others here and are not told apart (nor
	// always placed): the run reports their expected number, the same
	// whether the hosts were placed or only counted.
	w.res.HomeHosts = int64(math.Round(sc.Population.Home * float64(n)))
	return w, nil
}

// handle performs an event of a lumped run: the seeds, or a turn of the
// calendar of the class (host -1) or of an own host.
func (l *lumped) handle(e event) {
	w := l.w
	switch {
	case e.kind == evSeed:
		k := min(int64(w.vars[0].P.Seeds), w.nS)
		w.seedK[0] = int(k)
		for range k {
			l.infect(e.t, false)
		}
	case e.kind == evPhase && e.host < 0:
		ph, next := l.v.PhaseAt(e.t, 0)
		if ph != l.phase {
			w.countPhase(l.phase, -l.classI, 0)
			w.countPhase(ph, l.classI, 0)
			l.phase = ph
		}
		w.push(event{t: next, host: -1, kind: evPhase})
	case e.kind == evPhase:
		l.setPhase(e.host, e.t)
	default:
		panic("sim: an event a lumped run does not have")
	}
}

// setPhase puts infected own host i in the phase of its calendar at t and
// schedules its next turn.
func (l *lumped) setPhase(i int32, t float64) {
	o := &l.own[i]
	ph, next := l.v.PhaseAt(t, o.clock)
	if ph != o.phase {
		if o.phase == worm.Scanning {
			l.ownScan.remove(i)
		}
		if ph == worm.Scanning {
			l.ownScan.add(i)
		}
		l.w.countPhase(o.phase, -1, 0)
		l.w.countPhase(ph, 1, 0)
		o.phase = ph
	}
	l.w.push(event{t: next, host: i, kind: evPhase})
}

// infect infects one susceptible host at t, uniform among them, by a
// scanning host if byProbe (uniform among them). A host of the class is
// recorded by its ordinal, and so is an infector of the class (see
// resolve): picking the host now would cost two or three reads at random
// in tables of the population's size, an infection.
func (l *lumped) infect(t float64, byProbe bool) {
	w := l.w
	record := l.id != nil
	k := len(w.res.Infections)
	inf := Infection{Seconds: t, Infector: NoInfector}
	if record && byProbe {
		classScan := int64(0)
		if l.phase == worm.Scanning {
			classScan = l.classI
		}
		if u := l.id.Int64N(classScan + int64(l.ownScan.n)); u < classScan {
			inf.Infector = uint32(u)
			l.infOrdin[k/64] |= 1 << (k % 64)
		} else {
			inf.Infector = l.own[l.ownScan.perm[u-classScan]].addr
		}
	}
	u := int64(0)
	if l.ownSusc.n > 0 {
		u = w.rng.Int64N(w.nS)
	}
	if u < l.classS {
		inf.Address = uint32(l.classI)
		if record {
			l.byOrdinal[k/64] |= 1 << (k % 64)
		}
		l.classS--
		l.classI++
		w.countPhase(l.phase, 1, 0)
	} else {
		i := l.ownSusc.perm[u-l.classS]
		l.ownSusc.remove(i)
		o := &l.own[i]
		o.phase = worm.Dormant
		inf.Address = o.addr
		w.countPhase(worm.Dormant, 1, 0) // until its calendar says
		l.setPhase(i, t)
	}
	if record {
		w.res.Infections = append(w.res.Infections, inf)
	}
	w.nS--
	w.nI++
	w.newInf++
	w.nEver++
	w.nEverUnp++ // nothing patches or removes in a lumped run
}

// resolve gives the class's recorded infections their hosts, once the
// run is over: the order in which the class's hosts were infected is
// uniform (they are interchangeable), a shuffle of their addresses drawn
// from the identities stream; the n-th infection of the class is the
// n-th of that order, and so is an infector recorded by its ordinal. The
// shuffle and the reads are independent of one another, so the memory
// serves many at once: 10^8 infections take seconds, where picking each
// host as it is infected would take a minute.
func (l *lumped) resolve() {
	if l.id == nil {
		return
	}
	a := l.addrs
	l.id.Shuffle(len(a), func(i, j int) { a[i], a[j] = a[j], a[i] })
	for k := range l.w.res.Infections {
		in := &l.w.res.Infections[k]
		if l.byOrdinal[k/64]&(1<<(k%64)) != 0 {
			in.Address = a[in.Address]
		}
		if l.infOrdin[k/64]&(1<<(k%64)) != 0 {
			in.Infector = a[in.Infector]
		}
	}
	l.addrs, l.byOrdinal, l.infOrdin = nil, nil, nil
	l.w.infectorAddrs = true
}

// step performs every infection before limit (see generator): nothing
// else happens in a lumped run between the loop's events (the seeds, the
// calendars' turns and the ends of bins), so the draws need not go back
// to the loop one by one. The loop counts one event for a step; step
// counts the others.
//
// A step that ran into limit has drawn that no infection comes before it;
// the loop, told that the step infected hosts, asks again with the same
// limit, and must be told no: a second draw over the same stretch would
// give infections twice the chances (quiet keeps that limit).
func (l *lumped) step(limit float64) bool {
	w := l.w
	from := max(w.t, l.quiet)
	if limit <= from {
		return false
	}
	n := int64(0)
	for {
		lam := l.coef * float64(w.nS) * float64(w.nScan)
		if lam <= 0 {
			break
		}
		tn := from + w.rng.ExpFloat64()/lam
		if tn >= limit {
			l.quiet = limit
			break
		}
		from = tn
		w.advance(tn)
		l.hits++
		l.infect(tn, true)
		n++
	}
	if n == 0 {
		return false
	}
	w.res.Events += n - 1
	return true
}

func (l *lumped) advance(t0, t1 float64) {
	if n := float64(l.w.nScan); n > 0 {
		dt := t1 - t0
		l.mass += l.rate * n * dt
		l.hitMass += l.coef * float64(l.w.nS) * n * dt
	}
}

// binProbes returns the probes of the bin: the infecting ones counted, the
// others a Poisson draw of their mass, as the fast engine does.
func (l *lumped) binProbes(int) int64 {
	p, _ := satint.Add(l.hits, poisson(l.w.trng, math.Max(l.mass-l.hitMass, 0)))
	l.mass, l.hitMass, l.hits = 0, 0, 0
	return p
}

// The host-level notifications of generator: a lumped run has no host
// table, and the world sends none of them.
func (l *lumped) infected(h, infector int32, t float64) {}
func (l *lumped) scanStart(h int32, t float64)          {}
func (l *lumped) scanStop(h int32, t float64)           {}
func (l *lumped) suscAdd(h int32)                       {}
func (l *lumped) suscRemove(h int32)                    {}
func (l *lumped) retired(h int32)                       {}
func (l *lumped) activate(vi int)                       {}
