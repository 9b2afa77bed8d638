package worm

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"

	"wormwatch/ipv4"
)

// checkPermutation checks that m -> Addr(m) is a bijection on [0, n),
// that Index inverts it, and that Step from Cursor(0) follows Addr (with
// CursorIndex giving back m) and comes back to the start after n steps.
func checkPermutation(t *testing.T, w interface {
	Walk
	Stepper
}, n uint64) {
	t.Helper()
	if w.Len() != n {
		t.Fatalf("Len() = %d, want %d", w.Len(), n)
	}
	if !w.Cyclic() {
		t.Error("Cyclic() = false for a permutation walk")
	}
	seen := make([]bool, n)
	c := w.Cursor(0)
	for m := range n {
		a := w.Addr(m)
		if uint64(a) >= n {
			t.Fatalf("Addr(%d) = %d outside [0, %d)", m, a, n)
		}
		if seen[a] {
			t.Fatalf("Addr(%d) = %d repeats an earlier address", m, a)
		}
		seen[a] = true
		if i, ok := w.Index(a); !ok || i != m {
			t.Fatalf("Index(Addr(%d) = %d) = %d, %v", m, a, i, ok)
		}
		if i := w.CursorIndex(c); i != m {
			t.Fatalf("CursorIndex of the cursor of probe %d = %d", m, i)
		}
		var sa uint32
		sa, c = w.Step(c)
		if sa != a {
			t.Fatalf("step %d of the walk from Cursor(0) is %d, Addr says %d", m, sa, a)
		}
	}
	if c != w.Cursor(0) {
		t.Errorf("after %d steps the cursor is %d, not back at Cursor(0) = %d", n, c, w.Cursor(0))
	}
	if n < 1<<32 {
		if _, ok := w.Index(uint32(n)); ok {
			t.Errorf("Index(%d) found an address outside the space", n)
		}
	}
}

// TestFeistelBijection checks the keyed permutation exhaustively on small
// spaces (even and odd bits, so cycle walking is exercised).
func TestFeistelBijection(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		bits int
		key  uint64
	}{{16, 1}, {16, 0}, {17, 42}, {19, 7}, {20, 0xdeadbeef}} {
		t.Run(fmt.Sprintf("%dbits_key%d", tc.bits, tc.key), func(t *testing.T) {
			t.Parallel()
			checkPermutation(t, NewFeistel(tc.bits, tc.key), 1<<uint(tc.bits))
		})
	}
}

// TestFeistelLarge checks Index(Addr(m)) = m and the range on sampled
// probes of large spaces, and the cursor's wrap at the end.
func TestFeistelLarge(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, bits := range []int{24, 25, 31, 32} {
		f := NewFeistel(bits, 2001)
		n := uint64(1) << uint(bits)
		for range 2000 {
			m := rng.Uint64N(n)
			a := f.Addr(m)
			if uint64(a) >= n {
				t.Fatalf("%d bits: Addr(%d) = %d outside the space", bits, m, a)
			}
			if i, ok := f.Index(a); !ok || i != m {
				t.Fatalf("%d bits: Index(Addr(%d)) = %d, %v", bits, m, i, ok)
			}
		}
		a, next := f.Step(n - 1)
		if a != f.Addr(n-1) || next != 0 {
			t.Errorf("%d bits: Step(last) = %d, %d, want %d, 0", bits, a, next, f.Addr(n-1))
		}
	}
}

// TestFeistelKeys checks that the same key gives the same order and
// different keys give unrelated orders: two independent random
// permutations agree on about one position (Poisson(1)), so more than 10
// agreements out of 65,536 would be a sign the key is not used.
func TestFeistelKeys(t *testing.T) {
	t.Parallel()
	const bits = 16
	keys := []uint64{0, 1, 2, 1 << 40, 0x9e3779b97f4a7c15}
	for i, k1 := range keys {
		a, again := NewFeistel(bits, k1), NewFeistel(bits, k1)
		for m := range uint64(1 << bits) {
			if a.Addr(m) != again.Addr(m) {
				t.Fatalf("key %d: two walks differ at %d", k1, m)
			}
		}
		for _, k2 := range keys[i+1:] {
			b := NewFeistel(bits, k2)
			same := 0
			for m := range uint64(1 << bits) {
				if a.Addr(m) == b.Addr(m) {
					same++
				}
			}
			if same > 10 {
				t.Errorf("keys %d and %d agree on %d of %d positions", k1, k2, same, 1<<bits)
			}
		}
	}
}

// TestFeistelUniformity checks that the first 4,096 probes of a 20-bit
// walk spread over the space: counts in 64 equal blocks, and of 2,048
// disjoint consecutive pairs in 8 x 8 blocks, pass chi-square tests at the
// 0.1% level, for each of several keys.
func TestFeistelUniformity(t *testing.T) {
	t.Parallel()
	const bits, draws, bins = 20, 1 << 12, 64
	crit := distuv.ChiSquared{K: bins - 1}.Quantile(0.999)
	for _, key := range []uint64{1, 2, 3, 12345, 1 << 50} {
		f := NewFeistel(bits, key)
		var count [bins]float64
		for m := range uint64(draws) {
			count[f.Addr(m)>>(bits-6)]++
		}
		chi := 0.0
		e := float64(draws) / bins
		for _, o := range count {
			chi += (o - e) * (o - e) / e
		}
		if chi > crit {
			t.Errorf("key %d: chi-square %.1f over %d blocks, 0.1%% critical value %.1f", key, chi, bins, crit)
		}
		// Pairs (Addr(2i), Addr(2i+1)) over 8 x 8 blocks: a weak walk
		// whose next probe stays near the last one fails this.
		var pairs [bins]float64
		for i := range uint64(draws / 2) {
			pairs[f.Addr(2*i)>>(bits-3)<<3|f.Addr(2*i+1)>>(bits-3)]++
		}
		chi = 0
		e = float64(draws/2) / bins
		for _, o := range pairs {
			chi += (o - e) * (o - e) / e
		}
		if chi > crit {
			t.Errorf("key %d: chi-square %.1f of consecutive pairs over %d cells, 0.1%% critical value %.1f", key, chi, bins, crit)
		}
	}
}

// TestIdentity checks sequential scanning's walk.
func TestIdentity(t *testing.T) {
	t.Parallel()
	w := Identity{N: 1 << 16}
	checkPermutation(t, w, 1<<16)
	for _, a := range []uint32{0, 1, 12345, 1<<16 - 1} {
		if w.Addr(uint64(a)) != a {
			t.Errorf("Addr(%d) = %d", a, w.Addr(uint64(a)))
		}
	}
	if a, next := w.Step(1<<16 - 1); a != 1<<16-1 || next != 0 {
		t.Errorf("Step(last) = %d, %d, want %d, 0", a, next, 1<<16-1)
	}
	if _, ok := w.Index(1 << 16); ok {
		t.Error("Index(2^16) found in a space of 2^16")
	}
}

// everyThird is a population at every address divisible by 3, so the test
// knows which addresses hold hosts without asking the code.
func everyThird(bits int) *ipv4.Hosts {
	h := &ipv4.Hosts{Space: ipv4.Space{Bits: bits}}
	for a := uint64(0); a < 1<<uint(bits); a += 3 {
		h.Addr = append(h.Addr, uint32(a))
	}
	return h
}

// TestHitList checks the list's size, its share of vulnerable hosts,
// distinctness, that the other entries hold no host, that the entries are
// shuffled, and that Index inverts Addr.
func TestHitList(t *testing.T) {
	t.Parallel()
	hosts := everyThird(16) // 21,846 hosts, 43,690 empty addresses
	tests := []struct {
		size      int
		share     float64
		wantHosts int
	}{
		{1000, 1, 1000},
		{1001, 0.5, 501}, // 500.5 rounds up
		{1000, 0.3, 300},
		{999, 0.001, 1},
		{1000, 0, 0},
		{30000, 1, 21846},   // more than the population: all hosts, then empties
		{50000, 0.2, 10000}, // 40,000 of the 43,690 empty addresses
	}
	for i, tc := range tests {
		t.Run(fmt.Sprintf("%d_%v", tc.size, tc.share), func(t *testing.T) {
			t.Parallel()
			l, err := NewHitList(HitList{Size: tc.size, VulnerableShare: tc.share}, hosts, rand.New(rand.NewPCG(uint64(i), 9)), nil)
			if err != nil {
				t.Fatal(err)
			}
			if l.Len() != uint64(tc.size) || len(l.Addrs) != tc.size {
				t.Fatalf("Len() = %d, want %d", l.Len(), tc.size)
			}
			if l.Cyclic() {
				t.Error("a hit-list reports Cyclic")
			}
			seen := map[uint32]bool{}
			vuln, vulnFirstHalf := 0, 0
			c := l.Cursor(0)
			for m := range l.Len() {
				a := l.Addr(m)
				if uint64(a) >= 1<<16 {
					t.Fatalf("entry %d = %d outside the space", m, a)
				}
				if seen[a] {
					t.Fatalf("entry %d = %d repeats", m, a)
				}
				seen[a] = true
				if a%3 == 0 {
					vuln++
					if m < l.Len()/2 {
						vulnFirstHalf++
					}
				}
				if i, ok := l.Index(a); !ok || i != m {
					t.Fatalf("Index(Addr(%d)) = %d, %v", m, i, ok)
				}
				var sa uint32
				sa, c = l.Step(c)
				if sa != a {
					t.Fatalf("Step %d gives %d, Addr %d", m, sa, a)
				}
			}
			if vuln != tc.wantHosts {
				t.Errorf("%d entries are hosts, want %d", vuln, tc.wantHosts)
			}
			// Shuffled: the hosts are spread over both halves. The count in
			// the first half is hypergeometric with sd <= sqrt(size)/4;
			// allow 6 sd.
			if tc.wantHosts > 0 && tc.wantHosts < tc.size {
				mean := float64(tc.wantHosts) / 2
				sd := 0.25 * math.Sqrt(float64(tc.size))
				if d := float64(vulnFirstHalf) - mean; d > 6*sd || d < -6*sd {
					t.Errorf("%d of %d hosts in the first half of the list: not shuffled", vulnFirstHalf, tc.wantHosts)
				}
			}
			for _, a := range []uint32{1, 2, 4, 5, 1<<16 - 2} {
				if !seen[a] {
					if _, ok := l.Index(a); ok {
						t.Errorf("Index(%d) found an address not on the list", a)
					}
				}
			}
		})
	}
}

// TestHitListPlaced draws a list over a population placed by ipv4.Place.
func TestHitListPlaced(t *testing.T) {
	t.Parallel()
	sp := ipv4.Space{Bits: 20}
	pp := ipv4.PopulationParams{Hosts: 5000, Placement: ipv4.PlacementUniform}
	hosts, err := ipv4.Place(context.Background(), pp, sp, sp.MakeRanges(), "", rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	isHost := map[uint32]bool{}
	for _, a := range hosts.Addr {
		isHost[a] = true
	}
	l, err := NewHitList(HitList{Size: 2000, VulnerableShare: 0.75}, hosts, rand.New(rand.NewPCG(2, 2)), nil)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, a := range l.Addrs {
		if isHost[a] {
			n++
		}
	}
	if n != 1500 {
		t.Errorf("%d of 2000 entries are hosts, want 1500", n)
	}
}

// TestHitListTooBig checks the refusal when the empty entries do not fit.
func TestHitListTooBig(t *testing.T) {
	t.Parallel()
	hosts := everyThird(16)
	// 43,690 empty addresses; 50,000 empty entries wanted.
	if _, err := NewHitList(HitList{Size: 50000, VulnerableShare: 0}, hosts, rand.New(rand.NewPCG(1, 2)), nil); err == nil {
		t.Error("a hit-list of 50,000 empty addresses beside 21,846 hosts in 65,536 was accepted")
	}
	// Exactly fits: every empty address.
	l, err := NewHitList(HitList{Size: 43690, VulnerableShare: 0}, hosts, rand.New(rand.NewPCG(1, 2)), nil)
	if err != nil {
		t.Fatalf("a list of all 43,690 empty addresses: %v", err)
	}
	for _, a := range l.Addrs {
		if a%3 == 0 {
			t.Fatalf("entry %d holds a host", a)
		}
	}
}

// TestNewWalk checks which walk each strategy gets and that a sequence's
// own key overrides the run's.
func TestNewWalk(t *testing.T) {
	t.Parallel()
	hosts := everyThird(16)
	compile := func(strategy Strategy, key uint64) *Variant {
		p := defaultParams("w")
		p.Targeting.Strategy = strategy
		p.Targeting.Sequence.Key = key
		p.Targeting.HitList.Size = 100
		return mustCompile(t, p, ipv4.Space{Bits: 16}, julyStart, 0)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for _, tc := range []struct {
		strategy Strategy
		check    func(Walk) bool
	}{
		{"sequence", func(w Walk) bool { _, ok := w.(*Feistel); return ok }},
		{"permutation", func(w Walk) bool { _, ok := w.(*Cyclic); return ok }},
		{"sequential", func(w Walk) bool { i, ok := w.(Identity); return ok && i.N == 1<<16 }},
		{"hitlist", func(w Walk) bool { l, ok := w.(*List); return ok && l.Len() == 100 }},
	} {
		w, err := NewWalk(compile(tc.strategy, 0), 99, hosts, rng, nil)
		if err != nil || !tc.check(w) {
			t.Errorf("%s: walk %T, err %v", tc.strategy, w, err)
		}
	}
	for _, s := range []Strategy{"uniform", "local"} {
		if w, err := NewWalk(compile(s, 0), 99, hosts, rng, nil); err == nil {
			t.Errorf("%s: got walk %T, want an error", s, w)
		}
	}
	// Key 0 takes the run's key; a set key wins over it.
	fromRun, _ := NewWalk(compile("sequence", 0), 99, hosts, rng, nil)
	own, _ := NewWalk(compile("sequence", 7), 99, hosts, rng, nil)
	ref99, ref7 := NewFeistel(16, 99), NewFeistel(16, 7)
	for m := range uint64(64) {
		if fromRun.Addr(m) != ref99.Addr(m) || own.Addr(m) != ref7.Addr(m) {
			t.Fatalf("probe %d: sequence walks do not follow their keys", m)
		}
	}
}
