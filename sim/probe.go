package sim

import (
	"fmt"
	"math/rand/v2"

	"wormwatch/worm"
)

// probe is the per-probe engine, the oracle of the fast one: it draws every
// probe of every scanning host (the next probe of the whole population
// comes after an exponential time of rate R, the sum of the hosts' rates,
// from a host chosen in proportion to its rate), picks its target the way
// the worm does (a component, then a uniform address in its scope, drawn
// again if excluded or the host itself; or the next address of its walk)
// and looks the target up in a table of the whole space. It shares with the
// fast engine only the world (calendars, reboots, counters) and the walks'
// starting rules, never the thinning.
type probe struct {
	w      *world
	rng    *rand.Rand
	hostAt []int32  // address -> host, -1 if none
	occ    []uint64 // bit per address: a host is there (small enough to stay in cache)
	cls    []*pclass
	clsAt  []int // per variant, the index in cls of its first class
	clsOf  []int16
	posIn  []int32
	plans  []*walkPlan // per variant, nil if it does not walk
	counts []int64     // probes per variant in this bin

	mode []uint8
	wcur []uint64 // walk cursor (Stepper)
	wrem []uint64 // probes left in the host's share
	r    float64

	// A walking infector hands part of its share to the host it infects.
	pendingChild bool
	pcCur, pcRem uint64
}

type pclass struct {
	v       int
	lang    uint8
	rate    float64
	members []int32
}

func newProbe(w *world, walkRNG *rand.Rand) (*probe, error) {
	p := &probe{
		w: w, rng: w.rng, hostAt: make([]int32, w.sp.Size()), clsOf: make([]int16, w.n),
		posIn: make([]int32, w.n), plans: make([]*walkPlan, len(w.vars)), counts: make([]int64, len(w.vars)),
		mode: make([]uint8, w.n), wcur: make([]uint64, w.n), wrem: make([]uint64, w.n),
	}
	for i := range p.hostAt {
		if w.stop.Stop() {
			return nil, w.stop.Err()
		}
		p.hostAt[i] = -1
	}
	p.occ = make([]uint64, (w.sp.Size()+63)/64)
	for h, a := range w.hosts.Addr {
		p.hostAt[a] = int32(h)
		p.occ[a>>6] |= 1 << (a & 63)
	}
	for vi, v := range w.vars {
		// A class per language and number of awake wake groups (0: all).
		p.clsAt = append(p.clsAt, len(p.cls))
		for lang := uint8(0); lang < 3; lang++ {
			for k := range v.WakeGroups() {
				p.cls = append(p.cls, &pclass{v: vi, lang: lang, rate: v.RateAwake(lang, k)})
			}
		}
		if v.Walks() {
			plan, err := newWalkPlan(vi, v, w.hosts, walkRNG, w.stop)
			if err != nil {
				return nil, err
			}
			if _, ok := plan.walk.(worm.Stepper); !ok {
				return nil, fmt.Errorf("worm %s: the walk of strategy %q cannot be stepped probe by probe (it does not implement worm.Stepper)", v.Name, v.P.Targeting.Strategy)
			}
			p.plans[vi] = plan
		}
	}
	return p, nil
}

// step draws probes until one infects a host or the limit is reached.
func (p *probe) step(limit float64) bool {
	if p.r <= 0 {
		return false
	}
	t := p.w.t
	for {
		if p.w.stop.Stop() {
			return false // cancelled: the world gives up the run
		}
		t += p.rng.ExpFloat64() / p.r
		if t >= limit {
			return false
		}
		if p.fire(t) {
			return true
		}
	}
}

// fire sends one probe at time t and reports whether it changed the world.
func (p *probe) fire(t float64) bool {
	// The source: a class in proportion to its total rate, then a member.
	u := p.rng.Float64() * p.r
	var c *pclass
	for _, k := range p.cls {
		x := float64(len(k.members)) * k.rate
		if x == 0 {
			continue
		}
		c = k
		if u < x {
			break
		}
		u -= x
	}
	h := c.members[p.rng.IntN(len(c.members))]
	vi := c.v
	v := p.w.vars[vi]
	p.counts[vi]++
	if p.mode[h] == modeWalk {
		return p.walkProbe(h, vi, t)
	}
	a := p.randomTarget(v, p.w.h[h].addr)
	if p.occ[a>>6]&(1<<(a&63)) == 0 {
		return false
	}
	if j := p.hostAt[a]; p.w.h[j].state == stSusceptible && v.Infects[p.w.h[j].os] {
		p.w.advance(t)
		return p.w.tryInfect(j, h, uint8(vi), t)
	}
	return false
}

// randomTarget draws the target of one probe of a random-mode host at
// address self, the way the worm draws it.
func (p *probe) randomTarget(v *worm.Variant, self uint32) uint32 {
	for {
		u := p.rng.Float64()
		k := 0
		for k < len(v.Components)-1 && u >= v.Components[k].Weight {
			u -= v.Components[k].Weight
			k++
		}
		lo, size := v.Scope(self, v.Components[k].Level)
		a := uint32(lo + p.rng.Uint64N(size))
		if a == self || v.Exclude.Contains(a) {
			continue
		}
		return a
	}
}

func (p *probe) walkProbe(h int32, vi int, t float64) bool {
	plan := p.plans[vi]
	st := plan.walk.(worm.Stepper)
	a, next := st.Step(p.wcur[h])
	p.wcur[h] = next
	if p.wrem[h] != noEnd {
		p.wrem[h]--
	}
	changed := false
	if p.occ[a>>6]&(1<<(a&63)) != 0 {
		j := p.hostAt[a]
		switch {
		case p.w.h[j].state == stSusceptible && p.w.vars[vi].Infects[p.w.h[j].os]:
			child, ccur, crem := false, uint64(0), uint64(0)
			if plan.partitioned && p.wrem[h] != noEnd && p.wrem[h] > 1 {
				// The index of the next probe is needed to hand over the
				// second half; the cursor of a List or Identity is the index.
				keep := p.wrem[h] / 2
				idx := st.CursorIndex(next)
				child, ccur, crem = true, plan.advance(idx, keep), p.wrem[h]-keep
				p.wrem[h] = keep
			}
			p.pendingChild, p.pcCur, p.pcRem = child, ccur, crem
			p.w.advance(t)
			changed = p.w.tryInfect(j, h, uint8(vi), t)
			if !changed && child {
				p.wrem[h] += crem // the probe was lost: nothing handed over
			}
			p.pendingChild = false
		case plan.restart && p.w.h[j].state == stInfected && int(p.w.h[j].varOf) == vi:
			if plan.partitioned {
				p.wrem[h] = 0
			} else {
				p.wcur[h] = st.Cursor(p.rng.Uint64N(plan.n))
			}
		}
	}
	if p.mode[h] == modeWalk && p.wrem[h] == 0 {
		// Its share of the walk is used up: random scanning from now on.
		p.mode[h] = modeRandom
	}
	return changed
}

func (p *probe) advance(t0, t1 float64) {}

func (p *probe) binProbes(vi int) int64 {
	n := p.counts[vi]
	p.counts[vi] = 0
	return n
}

func (p *probe) infected(h, infector int32, t float64) {
	p.mode[h] = modeRandom
	plan := p.plans[p.w.h[h].varOf]
	if plan == nil {
		return
	}
	cur, rem, ok := plan.begin(p.w, p.rng, h, infector, p.pendingChild, p.pcCur, p.pcRem)
	p.pendingChild = false
	if !ok {
		return
	}
	p.wcur[h] = plan.walk.(worm.Stepper).Cursor(cur)
	p.wrem[h] = rem
	p.mode[h] = modeWalk
}

func (p *probe) scanStart(h int32, t float64) {
	vi := int(p.w.h[h].varOf)
	c := int16(p.clsAt[vi] + int(p.w.h[h].lang)*p.w.vars[vi].WakeGroups() + p.w.awakeOf(h))
	k := p.cls[c]
	p.clsOf[h] = c
	p.posIn[h] = int32(len(k.members))
	k.members = append(k.members, h)
	p.recompute()
}

func (p *probe) scanStop(h int32, t float64) {
	k := p.cls[p.clsOf[h]]
	i := p.posIn[h]
	last := k.members[len(k.members)-1]
	k.members[i] = last
	p.posIn[last] = i
	k.members = k.members[:len(k.members)-1]
	p.recompute()
}

func (p *probe) recompute() {
	p.r = 0
	for _, k := range p.cls {
		p.r += float64(len(k.members)) * k.rate
	}
}

func (p *probe) suscAdd(h int32)    {}
func (p *probe) retired(h int32)    {}
func (p *probe) activate(vi int)    {}
func (p *probe) suscRemove(h int32) {}
