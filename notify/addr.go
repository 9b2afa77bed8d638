package notify

import (
	"encoding/binary"
	"net/netip"
)

// key is an address as a 128-bit number, IPv4 as IPv4-mapped IPv6
// (::ffff:a.b.c.d), so that one ordered table holds both families.
type key struct{ hi, lo uint64 }

// keyOf returns the key of a (IPv4 and IPv4-mapped IPv6 alike).
func keyOf(a netip.Addr) key {
	b := a.Unmap().As16()
	return key{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// addr returns the address of k: IPv4 when k is IPv4-mapped.
func (k key) addr() netip.Addr {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], k.hi)
	binary.BigEndian.PutUint64(b[8:], k.lo)
	return netip.AddrFrom16(b).Unmap()
}

func (k key) cmp(o key) int {
	switch {
	case k.hi < o.hi:
		return -1
	case k.hi > o.hi:
		return 1
	case k.lo < o.lo:
		return -1
	case k.lo > o.lo:
		return 1
	}
	return 0
}

// next returns k+1; ok is false past the last address.
func (k key) next() (key, bool) {
	if k.lo == ^uint64(0) {
		if k.hi == ^uint64(0) {
			return k, false
		}
		return key{k.hi + 1, 0}, true
	}
	return key{k.hi, k.lo + 1}, true
}

// prev returns k-1; k must not be 0.
func (k key) prev() key {
	if k.lo == 0 {
		return key{k.hi - 1, ^uint64(0)}
	}
	return key{k.hi, k.lo - 1}
}

// prefixRange returns the first and last key of a prefix.
func prefixRange(p netip.Prefix) (lo, hi key) {
	p = p.Masked()
	lo = keyOf(p.Addr())
	host := p.Addr().BitLen() - p.Bits() // host bits: 0 to 128
	hi = lo
	switch {
	case host >= 64:
		hi.lo = ^uint64(0)
		if host == 128 {
			hi.hi = ^uint64(0)
		} else {
			hi.hi |= 1<<(host-64) - 1
		}
	case host > 0:
		hi.lo |= 1<<host - 1
	}
	return lo, hi
}
