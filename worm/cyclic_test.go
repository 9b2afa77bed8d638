package worm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// trialFactor returns the prime factorisation of m by trial division, as
// prime -> exponent.
func trialFactor(m uint64) map[uint64]int {
	f := map[uint64]int{}
	for q := uint64(2); q*q <= m; q++ {
		for m%q == 0 {
			f[q]++
			m /= q
		}
	}
	if m > 1 {
		f[m]++
	}
	return f
}

// TestCyclicWalk checks ZMap's walk on small spaces: every address once
// per cycle in Step order, Addr agrees with the Step walk, Index inverts
// Addr.
func TestCyclicWalk(t *testing.T) {
	t.Parallel()
	for _, bits := range []int{16, 17, 18, 20} {
		for _, seed := range []uint64{1, 2} {
			t.Run(fmt.Sprintf("%dbits_seed%d", bits, seed), func(t *testing.T) {
				t.Parallel()
				c, err := NewCyclic(bits, rand.New(rand.NewPCG(seed, 11)))
				if err != nil {
					t.Fatal(err)
				}
				checkPermutation(t, c, 1<<uint(bits))
				// The cursor of probe m+n is the cursor of probe m.
				n := uint64(1) << uint(bits)
				for _, m := range []uint64{0, 1, n / 3, n - 1} {
					if c.Cursor(m+n) != c.Cursor(m) {
						t.Errorf("Cursor(%d+n) != Cursor(%d)", m, m)
					}
				}
			})
		}
	}
}

// TestCyclicGroup checks the group the walk is built on: p is a prime
// above the space (not far above it), every prime power of p-1 is at most
// 2^16 (so the discrete logarithm tables stay small), and the generator
// has order exactly p-1, counted by brute force.
func TestCyclicGroup(t *testing.T) {
	t.Parallel()
	for _, bits := range []int{16, 17, 18, 20, 24} {
		t.Run(fmt.Sprintf("%dbits", bits), func(t *testing.T) {
			t.Parallel()
			c, err := NewCyclic(bits, rand.New(rand.NewPCG(uint64(bits), 3)))
			if err != nil {
				t.Fatal(err)
			}
			n := uint64(1) << uint(bits)
			if c.p <= n || c.p > n+n/64+1 {
				t.Errorf("p = %d, want just above 2^%d = %d", c.p, bits, n)
			}
			if f := trialFactor(c.p); len(f) != 1 || f[c.p] != 1 {
				t.Errorf("p = %d is not prime: %v", c.p, f)
			}
			for q, e := range trialFactor(c.p - 1) {
				pp := uint64(1)
				for range e {
					pp *= q
				}
				if pp > 1<<16 {
					t.Errorf("p-1 = %d has the prime power %d^%d = %d > 2^16", c.p-1, q, e, pp)
				}
			}
			if c.g < 2 || c.g >= c.p {
				t.Fatalf("generator %d outside [2, p)", c.g)
			}
			if bits > 20 {
				return // the brute-force order count below is 2^bits steps
			}
			x := c.g
			order := uint64(1)
			for x != 1 {
				x = x * c.g % c.p // p < 2^21: the product fits in 64 bits
				order++
			}
			if order != c.p-1 {
				t.Errorf("generator %d has order %d modulo %d, want %d", c.g, order, c.p, c.p-1)
			}
		})
	}
}

// TestCyclicLarge samples Index(Addr(m)) = m in a full-size space.
func TestCyclicLarge(t *testing.T) {
	t.Parallel()
	c, err := NewCyclic(32, rand.New(rand.NewPCG(32, 32)))
	if err != nil {
		t.Fatal(err)
	}
	if c.p <= 1<<32 {
		t.Fatalf("p = %d not above 2^32", c.p)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for range 500 {
		m := rng.Uint64N(1 << 32)
		a := c.Addr(m)
		if i, ok := c.Index(a); !ok || i != m {
			t.Fatalf("Index(Addr(%d) = %d) = %d, %v", m, a, i, ok)
		}
		// Step from Cursor(m) gives Addr(m) and then Addr(m+1).
		a0, next := c.Step(c.Cursor(m))
		a1, _ := c.Step(next)
		if a0 != a || a1 != c.Addr((m+1)%(1<<32)) {
			t.Fatalf("Step at %d: %d, %d, want %d, %d", m, a0, a1, a, c.Addr((m+1)%(1<<32)))
		}
	}
}

// TestCyclicSeeds checks that different random streams give different
// walks and the same stream the same walk.
func TestCyclicSeeds(t *testing.T) {
	t.Parallel()
	walk := func(seed uint64) []uint32 {
		c, err := NewCyclic(20, rand.New(rand.NewPCG(seed, 0)))
		if err != nil {
			t.Fatal(err)
		}
		out := make([]uint32, 100)
		for m := range out {
			out[m] = c.Addr(uint64(m))
		}
		return out
	}
	a, again, b := walk(1), walk(1), walk(2)
	same, sameB := 0, 0
	for m := range a {
		if a[m] == again[m] {
			same++
		}
		if a[m] == b[m] {
			sameB++
		}
	}
	if same != len(a) {
		t.Errorf("the same seed gives walks that differ at %d of %d probes", len(a)-same, len(a))
	}
	if sameB > 2 {
		t.Errorf("seeds 1 and 2 agree on %d of the first %d probes", sameB, len(a))
	}
}

// TestCyclicStart checks that the walk starts at a random point: over 20
// seeds the first probe lands on at least 15 different addresses (a fixed
// start would give one).
func TestCyclicStart(t *testing.T) {
	t.Parallel()
	first := map[uint32]bool{}
	for seed := range uint64(20) {
		c, err := NewCyclic(16, rand.New(rand.NewPCG(seed, 5)))
		if err != nil {
			t.Fatal(err)
		}
		first[c.Addr(0)] = true
	}
	if len(first) < 15 {
		t.Errorf("20 seeds start the walk at only %d different addresses", len(first))
	}
}

// TestSmoothFactors checks the test for p-1 on numbers factored by hand.
func TestSmoothFactors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		m      uint64
		primes []uint64
		ok     bool
	}{
		{1 << 16, []uint64{2}, true},                               // 65,536 = 2^16
		{1 << 17, nil, false},                                      // 2^17 > 2^16
		{3 * (1 << 16), []uint64{2, 3}, true},                      // 196,608
		{59049, []uint64{3}, true},                                 // 3^10 = 59,049
		{177147, nil, false},                                       // 3^11 = 177,147
		{2 * 65537, nil, false},                                    // 65,537 is a prime above 2^16
		{2 * 3 * 5 * 7 * 65521, []uint64{2, 3, 5, 7, 65521}, true}, // 65,521 is the largest prime below 2^16
		{4294967296 + 14, nil, false},                              // 2^32 + 14 = 2 * 3^2 * 5 * 131 * 364,289 (a prime)
	}
	for _, tc := range tests {
		primes, ok := smoothFactors(tc.m)
		if ok != tc.ok || (ok && fmt.Sprint(primes) != fmt.Sprint(tc.primes)) {
			t.Errorf("smoothFactors(%d) = %v, %v, want %v, %v", tc.m, primes, ok, tc.primes, tc.ok)
		}
	}
}
