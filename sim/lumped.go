package sim

import (
	"context"
	"math"
	"math/rand/v2"

	"wormwatch/defense"
	"wormwatch/internal/ctxpoll"
	"wormwatch/internal/satint"
	"wormwatch/ipv4"
	"wormwatch/scenario"
	"wormwatch/worm"
)

// A lumped run is the run of a scenario whose hosts are interchangeable:
// one variant scanning uniformly at one rate whatever the host, spreading
// until the end, nothing that cures, patches, removes, switches off or
// watches a host, and no per-host output asked for but the infections.
// Then which host is infected, and by whom, does not change what happens
// next: the state of the outbreak is the number of hosts in each state,
// and the continuous-time Markov chain of the hosts lumps exactly into the
// chain of the counts (Kemeny and Snell's strong lumpability): infecting
// probes arrive at rate
//
//	rate / (Z * 2^bits) * S * I
//
// (each of the I scanning hosts sends rate probes a second, a share
// 1/(Z*2^bits) of them to each other address; Z is the share of draws not
// redrawn, here the host's own address only), and each one infects. The
// run draws those arrivals, Gillespie's direct method on one reaction,
// and nothing per host: no placement (when the infections are not
// wanted), no host table, no target sets. It is the same process as the
// host-by-host run in distribution, and sim's tests hold the two against
// each other and against sim/reference.
//
// When the infections are wanted (Result.Infections), the population is
// placed as in any run and the identities are drawn from a stream of
// their own, so that everything else is the same draw for draw with or
// without them: the host infected is uniform among the susceptible ones
// (a partial Fisher-Yates shuffle of the host ids), its infector uniform
// among the scanning ones (which scan at one rate).
type lumped struct {
	w    *world
	rate float64 // probes a second of one scanning host
	coef float64 // infecting probes a second per (scanning, susceptible) pair

	mass    float64 // integral of the probe rate in the open bin
	hitMass float64 // integral of the infecting-probe rate in the open bin
	hits    int64   // infecting probes in the open bin

	// quiet is a time up to which the last step drew no infection, the
	// state unchanged since (see step).
	quiet float64

	id   *rand.Rand // who is infected and by whom, when recorded
	perm []int32    // host ids; [0, nEver) are the infected, in order (when recorded)
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
	case p.Calendar.Kind != worm.CalendarAlways || !p.Calendar.End.IsZero():
		return "a calendar"
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

// newLumpedWorld sets up a lumped run: the population placed only if the
// infections are recorded (or the population is a file, which has to be
// read to be counted), every host susceptible.
func newLumpedWorld(ctx context.Context, stop *ctxpoll.Poller, sc *scenario.Scenario, seed uint64, opt Options) (*world, error) {
	var hosts *ipv4.Hosts
	n := 0
	if opt.NoInfections && sc.Population.Placement != ipv4.PlacementFile {
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
		// Only the addresses are read from here on.
		hosts = &ipv4.Hosts{Space: hosts.Space, Addr: hosts.Addr}
	}
	w, err := newBareWorld(stop, sc, seed, n, opt)
	if err != nil {
		return nil, err
	}
	v := w.vars[0]
	l := &lumped{w: w, rate: v.Rate(ipv4.LangEnglish)}
	if z := v.Acceptance(0); z > 0 {
		// The one component of uniform scanning: the whole space.
		l.coef = l.rate * v.Components[0].Weight / (z * float64(w.sp.Size()))
	}
	if hosts != nil && !opt.NoInfections {
		w.hosts = hosts
		l.id = stream(seed, "lumped-identity")
		l.perm = make([]int32, n)
		for i := range l.perm {
			l.perm[i] = int32(i)
		}
	}
	w.g = l
	w.nS = int64(n)
	return w, nil
}

// seed infects the variant's seeds at t: uniform among the susceptible
// hosts, which are all of them.
func (l *lumped) seed(t float64) {
	w := l.w
	k := min(int64(w.vars[0].P.Seeds), w.nS)
	w.seedK[0] = int(k)
	for range k {
		l.infect(t, false)
	}
}

// infect infects one susceptible host at t, by a scanning host if byProbe.
func (l *lumped) infect(t float64, byProbe bool) {
	w := l.w
	if l.perm != nil {
		i := int(w.nEver)
		j := i + l.id.IntN(len(l.perm)-i)
		l.perm[i], l.perm[j] = l.perm[j], l.perm[i]
		inf := Infection{Seconds: t, Address: w.hosts.Addr[l.perm[i]], Infector: NoInfector}
		if byProbe {
			// The infected hosts are perm[:i], all scanning (finish turns
			// the id into its address).
			inf.Infector = uint32(l.perm[l.id.IntN(i)])
		}
		w.res.Infections = append(w.res.Infections, inf)
	}
	w.nS--
	w.nI++
	w.nScan++
	w.newInf++
	w.nEver++
}

// step performs every infection before limit (see generator): nothing
// else happens in a lumped run between the loop's other events (the seeds
// and the ends of bins), so the draws need not go back to the loop one by
// one. The loop counts one event for a step; step counts the others.
//
// A step that ran into limit has drawn that no infection comes before it;
// the loop, told that the step infected hosts, asks again with the same
// limit, and must be told no: a second draw over the same stretch would
// give infections twice the chances (quiet keeps that limit).
func (l *lumped) step(limit float64) bool {
	w := l.w
	t, from := w.t, max(w.t, l.quiet)
	if limit <= from {
		return false
	}
	s, i := float64(w.nS), float64(w.nScan)
	n := int64(0)
	scanned, hit := 0.0, 0.0 // integrals of I and of the infecting-probe rate
	for {
		lam := l.coef * s * i
		if lam <= 0 {
			break
		}
		tn := from + w.rng.ExpFloat64()/lam
		if tn >= limit {
			l.quiet = limit
			break
		}
		from = tn
		scanned += i * (tn - t)
		hit += lam * (tn - t)
		t = tn
		l.infect(tn, true)
		s--
		i++
		n++
	}
	if n == 0 {
		return false
	}
	// The world's advance to t, done here: a lumped run has no flooding
	// hosts, and the probes are the ones integrated above.
	l.mass += l.rate * scanned
	l.hitMass += hit
	l.hits += n
	w.t = t
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
// table, and the world sends none of them (its only event is the seeds').
func (l *lumped) infected(h, infector int32, t float64) {}
func (l *lumped) scanStart(h int32, t float64)          {}
func (l *lumped) scanStop(h int32, t float64)           {}
func (l *lumped) suscAdd(h int32)                       {}
func (l *lumped) suscRemove(h int32)                    {}
func (l *lumped) retired(h int32)                       {}
func (l *lumped) activate(vi int)                       {}
