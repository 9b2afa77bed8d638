package sim

import (
	"fmt"
	"math"
	"math/rand/v2"

	"wormwatch/internal/satint"
	"wormwatch/ipv4"
	"wormwatch/worm"
)

// fast is the thinned engine. For the random strategies (uniform, local and
// the random part of the others) a scanning host i sends probes at rate r_i;
// each lands on address b of its component k's scope (the whole space, its
// own /8, its own /16) with probability w_k / (Z_i * |scope_k|), where Z_i is
// the share of draws not redrawn (excluded ranges, the host itself). So the
// probes that land on susceptible hosts of one block B of level L form a
// Poisson process of rate
//
//	w_k / |scope| * S(B) * sum_{i in B scanning} r_i / Z_i
//
// and the whole engine draws the next such probe, then (level, block) by a
// sum tree, then the infector's rate class, then the infector and the target
// uniformly inside the block. Hosts in one rate class share (variant,
// language, Z), so r_i / Z_i is one number per class.
type fast struct {
	w      *world
	rng    *rand.Rand
	groups []*suscGroup
	vgrp   []int // variant -> group
	vinfo  []*fastVariant

	lambda float64 // total rate of infecting probes; recomputed when dirty
	dirty  bool    // a set, class count or tree changed since lambda (and each variant's lam, sr)

	walk *walker // nil when no variant walks
}

// suscGroup is the set of susceptible hosts one or more variants can
// target: same OS classes, same excluded ranges. It keeps one blockSet per
// level any of its variants uses.
type suscGroup struct {
	active  bool // its sets are kept only from the start of its first variant
	infects [2]bool
	exclude ipv4.Ranges
	lis     []*levelIndex
	sets    []*blockSet // aligned with lis
	users   []int       // variants that target this group
}

type fastVariant struct {
	v       *worm.Variant
	lis     []*levelIndex // the distinct levels of the components
	gsets   []*blockSet   // the group's susceptible sets, aligned with lis
	trees   []*sumTree    // block weights per level, aligned with lis (nil for level 0)
	comps   []fastComp
	classes []*rateClass // rate classes seen so far
	pos     [][]int32    // per level, a scanning host's place in its class's set (shared by the classes: newClassSet)
	byLang  [3]*rateClass
	byKey   map[classKey]*rateClass
	zConst  bool    // no excluded ranges: Z is the same for every host
	z0      float64 // that Z
	walks   bool    // the variant walks (sequence, permutation, ...)
	hitMass float64 // integral of the infecting-probe rate in this bin
	mass    float64 // integral of the probe rate in this bin
	hits    int64   // random-mode infecting probes in this bin
	lam, sr float64 // lambda() and scanRate(), as of the last rate() (see fast.dirty)
}

type fastComp struct {
	k    int     // index into lis
	coef float64 // w_k / |scope_k|
}

// classKey identifies a rate class: hosts with the same probe rate and the
// same acceptance Z are interchangeable to the engine, whatever their
// language.
type classKey struct {
	rate float64
	z    float64
}

type rateClass struct {
	id    int
	v     int
	rate  float64     // probes per second of one host
	rz    float64     // rate / Z
	n     int64       // hosts of the class scanning in random mode
	walkN int64       // hosts of the class scanning as walkers
	sets  []*blockSet // scanning hosts of the class, aligned with the variant's lis
}

func newFast(w *world, walkRNG *rand.Rand) (*fast, error) {
	f := &fast{w: w, rng: w.rng, dirty: true}
	lvls := map[int]*levelIndex{}
	level := func(l int) *levelIndex {
		li, ok := lvls[l]
		if !ok {
			li = newLevelIndex(w.hosts.Addr, w.sp.Bits, l)
			lvls[l] = li
		}
		return li
	}
	for vi, v := range w.vars {
		fv := &fastVariant{v: v, byKey: map[classKey]*rateClass{}, walks: v.Walks(), zConst: v.Exclude.Len() == 0}
		for _, c := range v.Components {
			l := min(c.Level, w.sp.Bits)
			_, size := v.Scope(0, l)
			k := -1
			for i, li := range fv.lis {
				if li.level == l || (l == 0 && li.level <= 0) {
					k = i
				}
			}
			if k < 0 {
				fv.lis = append(fv.lis, level(l))
				var tr *sumTree
				if l > 0 {
					tr = newSumTree(level(l).blocks)
				}
				fv.trees = append(fv.trees, tr)
				k = len(fv.lis) - 1
			}
			fv.comps = append(fv.comps, fastComp{k: k, coef: c.Weight / float64(size)})
		}
		if fv.zConst && len(w.hosts.Addr) > 0 {
			fv.z0 = v.Acceptance(w.hosts.Addr[0])
		}
		// Find or make the variant's susceptible group.
		g := -1
		for gi, sg := range f.groups {
			if sg.infects == v.Infects && sameRanges(sg.exclude, v.Exclude) {
				g = gi
			}
		}
		if g < 0 {
			if len(f.groups) == worm.MaxTargetGroups {
				return nil, fmt.Errorf("too many distinct target groups (OS classes and exclusions) among the worm variants: at most %d", worm.MaxTargetGroups)
			}
			f.groups = append(f.groups, &suscGroup{infects: v.Infects, exclude: v.Exclude})
			g = len(f.groups) - 1
		}
		sg := f.groups[g]
		sg.users = append(sg.users, vi)
		for _, li := range fv.lis {
			k := -1
			for i, gl := range sg.lis {
				if gl == li {
					k = i
				}
			}
			if k < 0 {
				sg.lis = append(sg.lis, li)
				sg.sets = append(sg.sets, newBlockSet(li, w.n))
				k = len(sg.lis) - 1
			}
			fv.gsets = append(fv.gsets, sg.sets[k])
		}
		f.vgrp = append(f.vgrp, g)
		f.vinfo = append(f.vinfo, fv)
	}
	for gi, sg := range f.groups {
		bit := uint8(1) << uint(gi)
		for h, a := range w.hosts.Addr {
			if w.stop.Stop() {
				return nil, w.stop.Err()
			}
			if sg.infects[w.hosts.OS[h]] && !sg.exclude.Contains(a) {
				w.h[h].grp |= bit
			}
		}
	}
	for _, fv := range f.vinfo {
		if fv.walks {
			wk, err := newWalker(f, walkRNG)
			if err != nil {
				return nil, err
			}
			f.walk = wk
			break
		}
	}
	return f, nil
}

func sameRanges(a, b ipv4.Ranges) bool {
	x, y := a.List(), b.List()
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}

// classFor returns the rate class of scanning host h of variant vi.
func (f *fast) classFor(vi int, h int32) *rateClass {
	fv := f.vinfo[vi]
	lang := f.w.h[h].lang
	k := f.w.awakeOf(h)
	if fv.zConst && k == 0 {
		if c := fv.byLang[lang]; c != nil {
			return c
		}
	}
	z := fv.z0
	if !fv.zConst {
		z = fv.v.Acceptance(f.w.h[h].addr)
	}
	rate := fv.v.RateAwake(lang, k)
	key := classKey{rate, z}
	if c, ok := fv.byKey[key]; ok {
		if fv.zConst && k == 0 {
			fv.byLang[lang] = c
		}
		return c
	}
	if len(fv.classes) == worm.MaxRateClasses {
		panic("more than worm.MaxRateClasses rate classes in one variant: scenario validation bounds them")
	}
	c := &rateClass{id: len(fv.classes), v: vi, rate: rate}
	if z > 0 {
		c.rz = c.rate / z
	}
	if fv.pos == nil {
		fv.pos = make([][]int32, len(fv.lis))
	}
	for k, li := range fv.lis {
		if fv.pos[k] == nil {
			fv.pos[k] = make([]int32, f.w.n)
		}
		c.sets = append(c.sets, newClassSet(li, fv.pos[k]))
	}
	fv.classes = append(fv.classes, c)
	fv.byKey[key] = c
	if fv.zConst && k == 0 {
		fv.byLang[lang] = c
	}
	return c
}

// pressure is the sum over the random-mode scanning hosts of variant fv in
// block b of level k of rate / Z.
func (fv *fastVariant) pressure(k int, b int32) float64 {
	p := 0.0
	for _, c := range fv.classes {
		if c.n > 0 {
			p += float64(c.sets[k].count[b]) * c.rz
		}
	}
	return p
}

// refresh recomputes the tree leaf of the block that holds address a at
// every level > 0 of variant vi.
func (f *fast) refresh(vi int, a uint32) {
	fv := f.vinfo[vi]
	for k, tr := range fv.trees {
		if tr == nil {
			continue
		}
		b := fv.lis[k].block(a)
		tr.set(int(b), float64(fv.gsets[k].count[b])*fv.pressure(k, b))
	}
	f.dirty = true
}

// term is the rate of infecting probes of one component of a variant.
func (fv *fastVariant) term(c fastComp) float64 {
	if tr := fv.trees[c.k]; tr != nil {
		return c.coef * tr.total()
	}
	return c.coef * float64(fv.gsets[c.k].total) * fv.pressure(c.k, 0)
}

func (fv *fastVariant) lambda() float64 {
	lam := 0.0
	for _, c := range fv.comps {
		lam += fv.term(c)
	}
	return lam
}

func (f *fast) rate() float64 {
	if f.dirty {
		f.lambda = 0
		for _, fv := range f.vinfo {
			fv.lam, fv.sr = fv.lambda(), fv.scanRate()
			f.lambda += fv.lam
		}
		f.dirty = false
	}
	return f.lambda
}

func (f *fast) step(limit float64) bool {
	t := f.w.t
	tn := math.Inf(1)
	if lam := f.rate(); lam > 0 {
		tn = t + f.rng.ExpFloat64()/lam
	}
	walk := false
	if f.walk != nil {
		if tw := f.walk.nextTime(); tw < tn {
			tn, walk = tw, true
		}
	}
	if tn >= limit {
		return false
	}
	f.w.advance(tn)
	if walk {
		f.walk.fire(tn)
	} else {
		f.fire(tn)
	}
	return true
}

// fire draws and performs one infecting probe of the random strategies:
// the component, the block, the infector's class, the infector, the target.
func (f *fast) fire(t float64) {
	u := f.rng.Float64() * f.rate()
	var lastV *fastVariant
	var lastC fastComp
	lastVI, lastX := -1, 0.0
	for vi, fv := range f.vinfo {
		for _, c := range fv.comps {
			x := fv.term(c)
			if x <= 0 {
				continue
			}
			lastV, lastC, lastVI, lastX = fv, c, vi, x
			if u < x {
				f.infectIn(vi, fv, c, u)
				return
			}
			u -= x
		}
	}
	// Rounding left u just past the total: the last non-empty term.
	f.infectIn(lastVI, lastV, lastC, math.Nextafter(lastX, 0))
}

func (f *fast) infectIn(vi int, fv *fastVariant, c fastComp, u float64) {
	b := int32(0)
	if tr := fv.trees[c.k]; tr != nil {
		b = int32(tr.find(math.Min(u/c.coef, tr.total())))
	}
	cls := f.pickClass(fv, c.k, b)
	inf := cls.sets[c.k].pick(b, f.rng)
	tgt := fv.gsets[c.k].pick(b, f.rng)
	fv.hits++
	f.w.tryInfect(tgt, inf, uint8(vi), f.w.t)
}

func (f *fast) pickClass(fv *fastVariant, k int, b int32) *rateClass {
	if len(fv.classes) == 1 {
		return fv.classes[0]
	}
	u := f.rng.Float64() * fv.pressure(k, b)
	var last *rateClass
	for _, c := range fv.classes {
		if c.n == 0 || c.sets[k].count[b] == 0 {
			continue
		}
		x := float64(c.sets[k].count[b]) * c.rz
		last = c
		if u < x {
			return c
		}
		u -= x
	}
	return last
}

// scanRate is the probe rate of all scanning hosts of a variant.
func (fv *fastVariant) scanRate() float64 {
	r := 0.0
	for _, c := range fv.classes {
		r += float64(c.n+c.walkN) * c.rate
	}
	return r
}

// advance accounts the probes of (t0, t1] to each variant's bin. The
// rates are those rate() last computed, recomputed first if anything
// changed since: the same numbers as computing them here.
func (f *fast) advance(t0, t1 float64) {
	dt := t1 - t0
	f.rate()
	for _, fv := range f.vinfo {
		if fv.sr > 0 {
			fv.mass += fv.sr * dt
			fv.hitMass += fv.lam * dt
		}
	}
}

func (f *fast) binProbes(vi int) int64 {
	fv := f.vinfo[vi]
	rest := fv.mass - fv.hitMass
	p, _ := satint.Add(fv.hits, poisson(f.w.trng, rest))
	fv.mass, fv.hitMass, fv.hits = 0, 0, 0
	return p
}

func (f *fast) scanStart(h int32, t float64) {
	vi := int(f.w.h[h].varOf)
	fv := f.vinfo[vi]
	c := f.classFor(vi, h)
	f.w.h[h].cls = uint8(c.id)
	if fv.walks && f.walk.start(h, t) {
		c.walkN++
		f.dirty = true // the variant's scanRate
		return
	}
	f.randomStart(h, c)
}

// randomStart adds scanning host h to the random-mode sets of its class.
func (f *fast) randomStart(h int32, c *rateClass) {
	a := f.w.h[h].addr
	lis := f.vinfo[c.v].lis
	for k, s := range c.sets {
		s.add(h, lis[k].block(a))
	}
	c.n++
	f.refresh(c.v, a)
}

func (f *fast) infected(h, infector int32, t float64) {
	if f.walk != nil {
		f.walk.infected(h, infector, t)
	}
}

func (f *fast) scanStop(h int32, t float64) {
	vi := int(f.w.h[h].varOf)
	fv := f.vinfo[vi]
	c := fv.classes[f.w.h[h].cls]
	if fv.walks && f.walk.stop(h, t) {
		c.walkN--
		f.dirty = true // the variant's scanRate
		return
	}
	a := f.w.h[h].addr
	for k, s := range c.sets {
		s.remove(h, fv.lis[k].block(a))
	}
	c.n--
	f.refresh(vi, a)
}

// activate starts keeping the susceptible sets of variant vi's group, from
// the hosts susceptible now: before a variant starts, nothing can pick
// targets from its sets, so they need not follow every change.
func (f *fast) activate(vi int) {
	sg := f.groups[f.vgrp[vi]]
	if sg.active {
		return
	}
	sg.active = true
	bit := uint8(1) << uint(f.vgrp[vi])
	for h := range f.w.h {
		hr := &f.w.h[h]
		if hr.grp&bit == 0 || hr.state != stSusceptible || hr.flags&flDark != 0 {
			continue
		}
		for k, s := range sg.sets {
			s.add(int32(h), sg.lis[k].block(hr.addr))
		}
	}
	// No variant of an inactive group has scanned yet, so every block's
	// pressure, and every tree leaf, is still zero: nothing to refresh.
	f.dirty = true
}

func (f *fast) suscAdd(h int32) {
	f.suscChange(h, true)
	if f.walk != nil {
		f.walk.update(h, f.w.t)
	}
}

// retired and suscRemove need not tell the walks: a position that stops
// being relevant is found stale by the first host that reaches it (see
// walker.update).
func (f *fast) retired(h int32) {}

func (f *fast) suscRemove(h int32) {
	f.suscChange(h, false)
}

func (f *fast) suscChange(h int32, add bool) {
	m := f.w.h[h].grp
	if m == 0 {
		return
	}
	a := f.w.h[h].addr
	for gi, sg := range f.groups {
		if m&(1<<uint(gi)) == 0 || !sg.active {
			continue
		}
		for k, s := range sg.sets {
			b := sg.lis[k].block(a)
			if add {
				s.add(h, b)
			} else {
				s.remove(h, b)
			}
		}
		for _, vi := range sg.users {
			f.refresh(vi, a)
		}
	}
	f.dirty = true
}
