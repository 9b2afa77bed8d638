package worm

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"sort"

	"wormwatch/internal/ctxpoll"
	"wormwatch/ipv4"
)

// Walk is an order in which a walking host probes addresses: its m-th
// probe of a cycle goes to Addr(m), 0 <= m < Len(). Walks that cycle
// (sequence, permutation, sequential) start again at 0 after Len()-1.
type Walk interface {
	// Len is the number of probes in one cycle of the walk.
	Len() uint64
	// Addr is the address of probe m.
	Addr(m uint64) uint32
	// Index is the probe index at which address a comes, if it comes.
	Index(a uint32) (uint64, bool)
	// Cyclic reports whether the walk wraps around after Len()-1.
	Cyclic() bool
}

// Stepper is a Walk that can also step from one probe to the next faster
// than Addr, through an opaque cursor (the per-probe engine uses it).
type Stepper interface {
	// Cursor returns the cursor of probe m.
	Cursor(m uint64) uint64
	// Step returns the address of the cursor's probe and the cursor of the
	// probe after it.
	Step(c uint64) (addr uint32, next uint64)
	// CursorIndex returns the probe index of a cursor, the inverse of
	// Cursor.
	CursorIndex(c uint64) uint64
}

// NewWalk builds the walk of a walking variant for one run (see
// Walker.NewWalk): key seeds what is random about the walk (the sequence's
// key, the permutation's generator and start), rng draws the rest (the
// hit-list's contents), hosts is the population. A cancelled stop ends the
// drawing of a hit-list early with its error (stop may be nil).
func NewWalk(v *Variant, key uint64, hosts *ipv4.Hosts, rng *rand.Rand, stop *ctxpoll.Poller) (Walk, error) {
	w, ok := v.Walker()
	if !ok {
		return nil, fmt.Errorf("strategy %q does not walk", v.P.Targeting.Strategy)
	}
	return w.NewWalk(v, key, hosts, rng, stop)
}

// Identity is the walk 0, 1, 2, ... over a space of N addresses: sequential
// scanning.
type Identity struct{ N uint64 }

// Len implements Walk.
func (w Identity) Len() uint64 { return w.N }

// Addr implements Walk.
func (w Identity) Addr(m uint64) uint32 { return uint32(m) }

// Index implements Walk.
func (w Identity) Index(a uint32) (uint64, bool) { return uint64(a), uint64(a) < w.N }

// Cyclic implements Walk.
func (w Identity) Cyclic() bool { return true }

// Cursor implements Stepper.
func (w Identity) Cursor(m uint64) uint64 { return m }

// Step implements Stepper.
func (w Identity) Step(c uint64) (uint32, uint64) { return uint32(c), (c + 1) % w.N }

// CursorIndex implements Stepper: the cursor is the index.
func (w Identity) CursorIndex(c uint64) uint64 { return c }

// Feistel is a keyed pseudo-random permutation of [0, 2^bits): a four-round
// balanced Feistel network on the next even number of bits, restricted to
// the space by cycle walking. It stands for CRv1's generator seeded with a
// constant: one fixed pseudo-random order of all addresses, the same for
// every host. Unlike a linear congruential generator it can be inverted
// cheaply, which the fast engine needs to know when a host's walk reaches a
// given address. (Hand-written: no maintained Go library offers a
// small-domain format-preserving permutation with an inverse.)
type Feistel struct {
	bits, half uint
	mask       uint64
	keys       [4]uint64
}

// NewFeistel returns the permutation of a space of the given bits, keyed.
func NewFeistel(spaceBits int, key uint64) *Feistel {
	h := uint((spaceBits + 1) / 2)
	f := &Feistel{bits: uint(spaceBits), half: h, mask: 1<<h - 1}
	s := key
	for i := range f.keys {
		s = splitmix(s)
		f.keys[i] = s
	}
	return f
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func (f *Feistel) round(x uint64, k uint64) uint64 {
	return splitmix(x^k) & f.mask
}

func (f *Feistel) enc(x uint64) uint64 {
	l, r := x>>f.half, x&f.mask
	for _, k := range f.keys {
		l, r = r, l^f.round(r, k)
	}
	return l<<f.half | r
}

func (f *Feistel) dec(x uint64) uint64 {
	l, r := x>>f.half, x&f.mask
	for i := len(f.keys) - 1; i >= 0; i-- {
		l, r = r^f.round(l, f.keys[i]), l
	}
	return l<<f.half | r
}

// Len implements Walk.
func (f *Feistel) Len() uint64 { return 1 << f.bits }

// Addr implements Walk.
func (f *Feistel) Addr(m uint64) uint32 {
	n := uint64(1) << f.bits
	x := f.enc(m)
	for x >= n {
		x = f.enc(x)
	}
	return uint32(x)
}

// Index implements Walk.
func (f *Feistel) Index(a uint32) (uint64, bool) {
	n := uint64(1) << f.bits
	if uint64(a) >= n {
		return 0, false
	}
	x := f.dec(uint64(a))
	for x >= n {
		x = f.dec(x)
	}
	return x, true
}

// Cyclic implements Walk.
func (f *Feistel) Cyclic() bool { return true }

// Cursor implements Stepper.
func (f *Feistel) Cursor(m uint64) uint64 { return m }

// Step implements Stepper.
func (f *Feistel) Step(c uint64) (uint32, uint64) { return f.Addr(c), (c + 1) & (1<<f.bits - 1) }

// CursorIndex implements Stepper: the cursor is the index.
func (f *Feistel) CursorIndex(c uint64) uint64 { return c }

// List is a hit-list: a fixed list of addresses, walked once.
type List struct {
	Addrs []uint32
	index map[uint32]uint64
}

// NewHitList draws a hit-list: round(Size * VulnerableShare) distinct hosts
// of the population (patched ones included: the list was made before), the
// rest distinct addresses that hold no host, in random order. A cancelled
// stop ends it early with its error (stop may be nil).
func NewHitList(p HitList, hosts *ipv4.Hosts, rng *rand.Rand, stop *ctxpoll.Poller) (*List, error) {
	n := hosts.Len()
	if err := CheckHitList(p, n, hosts.Space.Size()); err != nil {
		return nil, err
	}
	kv := hitListHosts(p, n)
	space := hosts.Space.Size()
	l := &List{index: make(map[uint32]uint64, p.Size)}
	// Vulnerable entries: a partial Fisher-Yates over host ids.
	perm := make([]int32, n)
	for i := range perm {
		perm[i] = int32(i)
	}
	for i := 0; i < kv; i++ {
		j := i + rng.IntN(n-i)
		perm[i], perm[j] = perm[j], perm[i]
		l.Addrs = append(l.Addrs, hosts.Addr[perm[i]])
	}
	isHost := func(a uint32) bool {
		i := sort.Search(n, func(i int) bool { return hosts.Addr[i] >= a })
		return i < n && hosts.Addr[i] == a
	}
	seen := make(map[uint32]bool, p.Size-kv)
	for len(l.Addrs) < p.Size {
		if stop.Stop() {
			return nil, stop.Err()
		}
		a := uint32(rng.Uint64N(space))
		if seen[a] || isHost(a) {
			continue
		}
		seen[a] = true
		l.Addrs = append(l.Addrs, a)
	}
	rng.Shuffle(len(l.Addrs), func(i, j int) { l.Addrs[i], l.Addrs[j] = l.Addrs[j], l.Addrs[i] })
	for i, a := range l.Addrs {
		l.index[a] = uint64(i)
	}
	return l, nil
}

// hitListHosts is how many entries of the list p are hosts of a population
// of n.
func hitListHosts(p HitList, n int) int {
	return min(int(float64(p.Size)*p.VulnerableShare+0.5), n)
}

// CheckHitList returns the error NewHitList gives, without drawing, for a
// list p beside a population of n hosts in a space of size addresses: the
// entries that are not hosts must fit in the addresses without one.
func CheckHitList(p HitList, n int, size uint64) error {
	kv := hitListHosts(p, n)
	if uint64(p.Size-kv) > size-uint64(n) {
		return fmt.Errorf("a hit-list of %d addresses, %d of them hosts, does not fit beside %d hosts in a space of %d addresses", p.Size, kv, n, size)
	}
	return nil
}

// Len implements Walk.
func (l *List) Len() uint64 { return uint64(len(l.Addrs)) }

// Addr implements Walk.
func (l *List) Addr(m uint64) uint32 { return l.Addrs[m] }

// Index implements Walk.
func (l *List) Index(a uint32) (uint64, bool) {
	i, ok := l.index[a]
	return i, ok
}

// Cyclic implements Walk.
func (l *List) Cyclic() bool { return false }

// Cursor implements Stepper.
func (l *List) Cursor(m uint64) uint64 { return m }

// Step implements Stepper.
func (l *List) Step(c uint64) (uint32, uint64) { return l.Addrs[c], c + 1 }

// CursorIndex implements Stepper: the cursor is the index.
func (l *List) CursorIndex(c uint64) uint64 { return c }

// mulmod returns a*b mod m for m < 2^63.
func mulmod(a, b, m uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return bits.Rem64(hi, lo, m)
}

func powmod(b, e, m uint64) uint64 {
	r := uint64(1)
	b %= m
	for e > 0 {
		if e&1 == 1 {
			r = mulmod(r, b, m)
		}
		b = mulmod(b, b, m)
		e >>= 1
	}
	return r
}
