package worm

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"sort"
)

// Cyclic is ZMap's address permutation: the multiplicative group of
// integers modulo a prime p just above the space size N is cyclic, so for a
// primitive root g and a start x0 the sequence x0, x0 g, x0 g^2, ... (mod p)
// visits every element of 1..p-1 once per cycle. Element x stands for
// address x-1; elements above N are skipped.
//
// To tell at which probe an address comes, the fast engine needs the
// discrete logarithm. The prime is chosen so that p-1 factors into prime
// powers of at most 2^16, which makes Pohlig-Hellman with one table per
// prime power a handful of modular exponentiations. (Hand-written: no Go
// library offers ZMap's cyclic-group iterator with an inverse.)
type Cyclic struct {
	p, g, x0, n uint64
	logx0       uint64
	factors     []primePower
	skipped     []uint64 // positions k of elements above n, sorted
}

type primePower struct {
	q     uint64 // the prime power
	exp   uint64 // (p-1)/q
	table map[uint64]uint32
	crt   uint64 // coefficient for the Chinese remainder theorem
}

const maxPrimePower = 1 << 16

// NewCyclic picks the prime, a random primitive root and a random start for
// a space of the given bits.
func NewCyclic(spaceBits int, rng *rand.Rand) (*Cyclic, error) {
	n := uint64(1) << uint(spaceBits)
	c := &Cyclic{n: n}
	var pf []uint64
	for cand := n + 1; ; cand++ {
		if cand > n+n/64 {
			return nil, fmt.Errorf("no prime with smooth p-1 found above 2^%d", spaceBits)
		}
		if !big.NewInt(0).SetUint64(cand).ProbablyPrime(0) {
			continue
		}
		if f, ok := smoothFactors(cand - 1); ok {
			c.p, pf = cand, f
			break
		}
	}
	// A random primitive root: g^((p-1)/q) != 1 for every prime q of p-1.
	for {
		g := 2 + rng.Uint64N(c.p-3)
		ok := true
		for _, q := range pf {
			if powmod(g, (c.p-1)/q, c.p) == 1 {
				ok = false
				break
			}
		}
		if ok {
			c.g = g
			break
		}
	}
	// Tables for Pohlig-Hellman, one per prime power of p-1.
	m := c.p - 1
	for _, q := range pf {
		pp := uint64(1)
		for m%(pp*q) == 0 {
			pp *= q
		}
		exp := m / pp
		gamma := powmod(c.g, exp, c.p) // an element of order pp
		t := make(map[uint64]uint32, pp)
		x := uint64(1)
		for j := uint64(0); j < pp; j++ {
			t[x] = uint32(j)
			x = mulmod(x, gamma, c.p)
		}
		// CRT: coefficient e with e = 1 mod pp, e = 0 mod m/pp.
		inv := new(big.Int).ModInverse(new(big.Int).SetUint64(exp%pp), new(big.Int).SetUint64(pp)).Uint64()
		crt := mulmod(exp, inv, m)
		c.factors = append(c.factors, primePower{q: pp, exp: exp, table: t, crt: crt})
	}
	c.x0 = 1 + rng.Uint64N(n)
	c.logx0 = c.dlog(c.x0)
	for x := n + 1; x < c.p; x++ {
		c.skipped = append(c.skipped, c.pos(x))
	}
	sort.Slice(c.skipped, func(i, j int) bool { return c.skipped[i] < c.skipped[j] })
	return c, nil
}

// smoothFactors returns the distinct primes of m if every prime power
// dividing m is at most maxPrimePower.
func smoothFactors(m uint64) ([]uint64, bool) {
	var f []uint64
	for q := uint64(2); q <= maxPrimePower && m > 1; q++ {
		if m%q != 0 {
			continue // composite q never divides: its primes are gone
		}
		pp := uint64(1)
		for m%q == 0 {
			m /= q
			pp *= q
		}
		if pp > maxPrimePower {
			return nil, false
		}
		f = append(f, q)
	}
	return f, m == 1
}

// dlog returns k with g^k = y mod p.
func (c *Cyclic) dlog(y uint64) uint64 {
	m := c.p - 1
	k := uint64(0)
	for _, f := range c.factors {
		xq := uint64(f.table[powmod(y, f.exp, c.p)])
		k = (k + mulmod(xq, f.crt, m)) % m
	}
	return k
}

// pos returns the position k (0 <= k < p-1) of element x: x = x0 g^k.
func (c *Cyclic) pos(x uint64) uint64 {
	m := c.p - 1
	return (c.dlog(x) + m - c.logx0) % m
}

// Len implements Walk.
func (c *Cyclic) Len() uint64 { return c.n }

// rank is the probe index of valid position k.
func (c *Cyclic) rank(k uint64) uint64 {
	return k - uint64(sort.Search(len(c.skipped), func(i int) bool { return c.skipped[i] >= k }))
}

// unrank is the position of probe index m.
func (c *Cyclic) unrank(m uint64) uint64 {
	n := sort.Search(len(c.skipped), func(i int) bool { return c.skipped[i]-uint64(i) > m })
	return m + uint64(n)
}

// Addr implements Walk.
func (c *Cyclic) Addr(m uint64) uint32 {
	return uint32(mulmod(c.x0, powmod(c.g, c.unrank(m), c.p), c.p) - 1)
}

// Index implements Walk.
func (c *Cyclic) Index(a uint32) (uint64, bool) {
	if uint64(a) >= c.n {
		return 0, false
	}
	return c.rank(c.pos(uint64(a) + 1)), true
}

// Cyclic implements Walk.
func (c *Cyclic) Cyclic() bool { return true }

// Cursor implements Stepper: the cursor is the group element.
func (c *Cyclic) Cursor(m uint64) uint64 {
	return mulmod(c.x0, powmod(c.g, c.unrank(m%c.n), c.p), c.p)
}

// Step implements Stepper.
func (c *Cyclic) Step(x uint64) (uint32, uint64) {
	next := mulmod(x, c.g, c.p)
	for next > c.n {
		next = mulmod(next, c.g, c.p)
	}
	return uint32(x - 1), next
}

// CursorIndex implements Stepper: the index of the address the element
// stands for.
func (c *Cyclic) CursorIndex(x uint64) uint64 {
	m, _ := c.Index(uint32(x - 1))
	return m
}
