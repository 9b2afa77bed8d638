package worm

import (
	"math/rand/v2"
	"strings"
	"testing"

	"wormwatch/ipv4"
)

// TestKindsDocumented checks the allowed values and the documentation that
// the registries give the parameters of a worm. Both are written in the
// comments of every resolved scenario.toml, so they must stay what the enum
// and doc tags said before the kinds were registered.
func TestKindsDocumented(t *testing.T) {
	t.Parallel()
	cases := []struct {
		enum []string
		doc  string
		want string
		docs string
	}{
		{Strategy("").Enum(), Strategy("").ParamDoc(), "uniform,sequence,local,hitlist,permutation,sequential",
			"uniform: every address equally likely (CRv2); sequence: one shared pseudo-random walk that every new host starts from the beginning (CRv1's constant seed); local: preference for the host's own /8 and /16 (CRII); hitlist: a list of addresses first, then uniform; permutation: a shared full-cycle permutation of the space (ZMap-style cyclic group); sequential: upward from a start address, often near the host (Blaster-like)"},
		{CalendarKind("").Enum(), CalendarKind("").ParamDoc(), "always,monthly", "always: spread until end; monthly: Code Red's day-of-month phases"},
		{RateModel("").Enum(), RateModel("").ParamDoc(), "threads,fixed", "threads: derive the rate from threads and timeouts; fixed: use fixed"},
		{Request("").Enum(), "", "codered,codered2,get", ""},
		{OnInfected("").Enum(), "", "restart,continue", ""},
		{OS("").Enum(), "", "win2000,nt4", ""},
	}
	for _, c := range cases {
		if got := strings.Join(c.enum, ","); got != c.want {
			t.Errorf("values %s, want %s", got, c.want)
		}
		if c.doc != c.docs {
			t.Errorf("doc of %s:\n got %s\nwant %s", c.want, c.doc, c.docs)
		}
	}
}

// TestStrategyChecks checks the rules each strategy states, and which
// strategies refuse excluded prefixes.
func TestStrategyChecks(t *testing.T) {
	t.Parallel()
	env := CheckEnv{Space: ipv4.Space{Bits: 16}, Hosts: 60000}
	var tg Targeting
	tg.Strategy = StrategyLocal
	tg.Local = Local{Own8: 0.7, Own16: 0.4}
	if e := CheckTargeting(tg, env); e == nil || e.Key != "targeting.local.own16" {
		t.Errorf("local 0.7 + 0.4: %v", e)
	}
	tg.Local = Local{Own8: 0.6, Own16: 0.4}
	if e := CheckTargeting(tg, env); e != nil {
		t.Errorf("local 0.6 + 0.4: %v", e)
	}
	tg = Targeting{Strategy: StrategyHitList, HitList: HitList{Size: 70000, VulnerableShare: 1}}
	if e := CheckTargeting(tg, env); e == nil || e.Key != "targeting.hitlist.size" || !strings.Contains(e.Msg, "65536 addresses") {
		t.Errorf("hit-list larger than the space: %v", e)
	}
	tg.HitList = HitList{Size: 10000, VulnerableShare: 0}
	if e := CheckTargeting(tg, env); e == nil || e.Key != "targeting.hitlist.size" {
		t.Errorf("hit-list of non-hosts beside 60000 hosts in 65536 addresses: %v", e)
	}
	if e := CheckTargeting(tg, CheckEnv{Space: env.Space, Hosts: -1}); e != nil {
		t.Errorf("hit-list with hosts not known before placing: %v", e)
	}
	for name, refuses := range map[Strategy]bool{
		StrategyUniform: false, StrategyLocal: false, StrategyHitList: false,
		StrategySequence: true, StrategyPermutation: true, StrategySequential: true,
	} {
		e := CheckExclude(Targeting{Strategy: name, Exclude: []string{"10.0.0.0/8"}})
		if (e != nil) != refuses {
			t.Errorf("%s with exclude: %v, want refused %v", name, e, refuses)
		}
		if e != nil && !strings.Contains(e.Msg, "exclude works with uniform, local and hitlist") {
			t.Errorf("%s: %s", name, e.Msg)
		}
		if e := CheckExclude(Targeting{Strategy: name}); e != nil {
			t.Errorf("%s without exclude: %v", name, e)
		}
	}
	if e := CheckRate(Rate{Model: RateThreads, Threads: 2, NonScanningEnglish: 2}); e == nil || e.Key != "rate.non_scanning_english" {
		t.Errorf("no scanning thread left: %v", e)
	}
	if e := CheckRate(Rate{Model: RateFixed, Threads: 2, NonScanningEnglish: 2}); e != nil {
		t.Errorf("fixed rate: %v", e)
	}
}

// TestWalkBegin checks where each walking strategy starts a host's walk:
// the rules the engines followed when they switched on the strategy's
// name (sim/walkplan.go before the registry), draws included.
func TestWalkBegin(t *testing.T) {
	t.Parallel()
	const n = 1000
	type want struct {
		cur, rem uint64
		ok       bool
	}
	random := func(r *rand.Rand) want { return want{r.Uint64N(n), NoEnd, true} }
	cases := []struct {
		name         string
		strategy     Strategy
		partitioned  bool
		seed, handed bool
		want         func(r *rand.Rand) want
		shares       bool // a seed's share: the first of 4 from base 10
		localStart   float64
		addr         uint32
	}{
		{name: "sequence seed", strategy: StrategySequence, seed: true, want: func(*rand.Rand) want { return want{0, NoEnd, true} }},
		{name: "sequence child", strategy: StrategySequence, want: func(*rand.Rand) want { return want{0, NoEnd, true} }},
		{name: "permutation seed", strategy: StrategyPermutation, seed: true, want: random},
		{name: "permutation child", strategy: StrategyPermutation, want: random},
		{name: "partitioned permutation seed", strategy: StrategyPermutation, partitioned: true, seed: true, shares: true},
		{name: "partitioned permutation handed", strategy: StrategyPermutation, partitioned: true, handed: true, want: func(*rand.Rand) want { return want{77, 33, true} }},
		{name: "partitioned permutation not handed", strategy: StrategyPermutation, partitioned: true, want: func(*rand.Rand) want { return want{} }},
		{name: "hit-list seed", strategy: StrategyHitList, seed: true, shares: true},
		{name: "hit-list handed", strategy: StrategyHitList, partitioned: true, handed: true, want: func(*rand.Rand) want { return want{77, 33, true} }},
		{name: "hit-list not handed", strategy: StrategyHitList, want: func(*rand.Rand) want { return want{} }},
		{name: "sequential local", strategy: StrategySequential, localStart: 1, addr: 0x1234, want: func(r *rand.Rand) want { r.Float64(); return want{0x1230, NoEnd, true} }}, // a /16 of a 20-bit space holds 16 addresses
		{name: "sequential anywhere", strategy: StrategySequential, localStart: 0, want: func(r *rand.Rand) want { r.Float64(); return random(r) }},
	}
	for _, c := range cases {
		p := defaultParams("w")
		p.Targeting.Strategy = c.strategy
		p.Targeting.Permutation.Partitioned = c.partitioned
		p.Targeting.HitList.Partitioned = c.partitioned
		p.Targeting.Sequential.LocalStart = c.localStart
		v := mustCompile(t, p, ipv4.Space{Bits: 20}, julyStart, 0)
		wk, ok := v.Walker()
		if !ok {
			t.Fatalf("%s: not a Walker", c.name)
		}
		next := uint64(0)
		s := NewWalkStart(v, Identity{N: n}, 10, 4, &next)
		a, b := rand.New(rand.NewPCG(1, 2)), rand.New(rand.NewPCG(1, 2))
		s.Addr, s.Seed, s.Rand = c.addr, c.seed, a
		s.Handed, s.HandedCur, s.HandedRem = c.handed, 77, 33
		cur, rem, ok := wk.Begin(&s)
		exp := want{10, n / 4, true}
		if !c.shares {
			exp = c.want(b)
		}
		if (want{cur, rem, ok}) != exp {
			t.Errorf("%s: Begin = %d, %d, %v, want %v", c.name, cur, rem, ok, exp)
		}
		if c.shares {
			if next != 1 {
				t.Errorf("%s: %d shares handed out, want 1", c.name, next)
			}
			if cur, rem, _ := wk.Begin(&s); cur != 10+n/4 || rem != n/4 {
				t.Errorf("%s: the second seed's share %d, %d", c.name, cur, rem)
			}
		}
		if a.Uint64() != b.Uint64() {
			t.Errorf("%s: Begin made other draws than the rule", c.name)
		}
	}
}

// TestListCursor checks that a hit-list's cursors are its indexes.
func TestListCursor(t *testing.T) {
	t.Parallel()
	l := &List{Addrs: []uint32{5, 3, 9}}
	for m := range uint64(3) {
		c := l.Cursor(m)
		if a, next := l.Step(c); a != l.Addr(m) || l.CursorIndex(next) != m+1 || l.CursorIndex(c) != m {
			t.Errorf("probe %d: Step(%d) = %d, %d", m, c, a, next)
		}
	}
}
