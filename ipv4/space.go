// Package ipv4 holds the address space of a simulation: its size (IPv4, or
// a scaled model of it with fewer bits), prefixes and ranges in it, the
// reserved and special-purpose ranges, and the placement of a vulnerable
// population of hosts over it.
//
// An address in a space of b bits is an integer in [0, 2^b). It stands for
// the IPv4 address a << (32-b), so prefixes are counted from the top bits in
// any space: 10.0.0.0/8 is the 10th 256th of a 20-bit space as of IPv4.
//
// Ranges is a merged set of ranges (space.reserved). Place puts a
// population of hosts outside it: uniformly, clustered by Zipf weights over
// /8 and /16 blocks (the 2001 victims were concentrated by country and by
// kind of network; the per-block shape is an assumption), or from a file,
// and draws each host's attributes. HilbertD2XY lays the space out as on
// the xkcd and CAIDA IPv4 maps. README.md in this directory describes the
// placement model and its parameters.
package ipv4

import (
	"fmt"
	"net/netip"
	"strings"
)

// Space is an address space of 2^Bits addresses, 16 <= Bits <= 32.
type Space struct {
	Bits int
}

// Size returns the number of addresses, 2^Bits.
func (s Space) Size() uint64 { return 1 << uint(s.Bits) }

// Shift returns 32 - Bits: how far an address is shifted to become IPv4.
func (s Space) Shift() uint { return uint(32 - s.Bits) }

// IPv4 returns the IPv4 address an address of the space stands for.
func (s Space) IPv4(a uint32) netip.Addr {
	v := a << s.Shift()
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// Format returns the dotted-quad form of an address of the space.
func (s Space) Format(a uint32) string { return s.IPv4(a).String() }

// FromIPv4 maps an IPv4 address into the space (dropping the low 32-Bits
// bits, which a scaled space cannot tell apart).
func (s Space) FromIPv4(ip netip.Addr) uint32 {
	b := ip.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	return v >> s.Shift()
}

// Range is the half-open interval [Lo, Hi) of addresses of a space.
// Hi may be 2^32 in a 32-bit space, so it is a uint64.
type Range struct {
	Lo, Hi uint64
}

// Len returns the number of addresses in the range.
func (r Range) Len() uint64 { return r.Hi - r.Lo }

// Contains reports whether a lies in the range.
func (r Range) Contains(a uint32) bool { return uint64(a) >= r.Lo && uint64(a) < r.Hi }

// ParseAddr reads a dotted-quad IPv4 address and maps it into the space.
func (s Space) ParseAddr(text string) (uint32, error) {
	ip, err := netip.ParseAddr(strings.TrimSpace(text))
	if err != nil || !ip.Is4() {
		return 0, fmt.Errorf("%q is not an IPv4 address (want a.b.c.d)", text)
	}
	return s.FromIPv4(ip), nil
}

// ParsePrefix reads "a.b.c.d/n" (or a bare address, taken as /32) and
// returns the addresses of the space it covers. A prefix longer than the
// space's bits covers the one scaled address that holds its first IPv4
// address.
func (s Space) ParsePrefix(text string) (Range, error) {
	text = strings.TrimSpace(text)
	var p netip.Prefix
	var err error
	if strings.Contains(text, "/") {
		p, err = netip.ParsePrefix(text)
	} else {
		var ip netip.Addr
		ip, err = netip.ParseAddr(text)
		if err == nil {
			p = netip.PrefixFrom(ip, ip.BitLen())
		}
	}
	if err != nil || !p.Addr().Is4() {
		return Range{}, fmt.Errorf("%q is not an IPv4 prefix (want a.b.c.d/n)", text)
	}
	if p.Masked() != p {
		return Range{}, fmt.Errorf("%q has bits set after the prefix length (did you mean %s?)", text, p.Masked())
	}
	lo := uint64(s.FromIPv4(p.Addr()))
	n := p.Bits()
	if n >= s.Bits {
		return Range{Lo: lo, Hi: lo + 1}, nil
	}
	return Range{Lo: lo, Hi: lo + 1<<uint(s.Bits-n)}, nil
}

// SpecialPurpose lists the IPv4 ranges that hold no ordinary Internet
// hosts: the IANA IPv4 Special-Purpose Address Registry (RFC 6890 and
// successors) plus the multicast and reserved space 224.0.0.0/3.
var SpecialPurpose = []string{
	"0.0.0.0/8",          // "this network" (RFC 791)
	"10.0.0.0/8",         // private use (RFC 1918)
	"100.64.0.0/10",      // shared address space (RFC 6598)
	"127.0.0.0/8",        // loopback (RFC 1122)
	"169.254.0.0/16",     // link local (RFC 3927)
	"172.16.0.0/12",      // private use (RFC 1918)
	"192.0.0.0/24",       // IETF protocol assignments (RFC 6890)
	"192.0.2.0/24",       // documentation TEST-NET-1 (RFC 5737)
	"192.88.99.0/24",     // 6to4 relay anycast (RFC 3068)
	"192.168.0.0/16",     // private use (RFC 1918)
	"198.18.0.0/15",      // benchmarking (RFC 2544)
	"198.51.100.0/24",    // documentation TEST-NET-2 (RFC 5737)
	"203.0.113.0/24",     // documentation TEST-NET-3 (RFC 5737)
	"224.0.0.0/4",        // multicast (RFC 5771)
	"240.0.0.0/4",        // reserved for future use (RFC 1112), with broadcast
	"255.255.255.255/32", // limited broadcast (RFC 919), inside 240/4
}
