package worm

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"wormwatch/ipv4"
)

// localVariant compiles a local-preference worm with the given weights and
// exclusions (own8 = own16 = 0 is the uniform worm).
func localVariant(t testing.TB, bits int, own8, own16 float64, exclude []string) *Variant {
	t.Helper()
	p := defaultParams("z")
	p.Targeting.Strategy = "local"
	p.Targeting.Local = Local{Own8: own8, Own16: own16}
	p.Targeting.Exclude = exclude
	return mustCompile(t, p, ipv4.Space{Bits: bits}, julyStart, 0)
}

// addrOf maps a dotted quad into a space of the given bits (its top bits).
func addrOf(t testing.TB, bits int, s string) uint32 {
	t.Helper()
	ip := netip.MustParseAddr(s).As4()
	v := uint32(ip[0])<<24 | uint32(ip[1])<<16 | uint32(ip[2])<<8 | uint32(ip[3])
	return v >> uint(32-bits)
}

const (
	two16 = 1 << 16
	two20 = 1 << 20
	two24 = 1 << 24
	two25 = 1 << 25
	two32 = 1 << 32
)

// TestAcceptanceHand checks Z against hand arithmetic:
// Z = sum_k w_k (size_k - excluded_k - self_k) / size_k.
func TestAcceptanceHand(t *testing.T) {
	t.Parallel()
	crii := []string{"127.0.0.0/8", "224.0.0.0/8"}
	tests := []struct {
		name        string
		bits        int
		own8, own16 float64
		exclude     []string
		host        string
		want        float64
	}{
		{"uniform, no exclusion", 32, 0, 0, nil, "10.1.2.3",
			float64(two32-1) / two32},
		{"uniform, crii exclusions", 32, 0, 0, crii, "10.1.2.3",
			float64(two32-two25-1) / two32},
		{"crii weights, no exclusion", 32, 0.5, 0.375, nil, "10.1.2.3",
			0.125*(two32-1)/two32 + 0.5*(two24-1)/two24 + 0.375*(two16-1)/two16},
		{"crii, host outside the exclusions", 32, 0.5, 0.375, crii, "10.1.2.3",
			0.125*(two32-two25-1)/two32 + 0.5*(two24-1)/two24 + 0.375*(two16-1)/two16},
		{"crii, host in 126/8 next to 127/8", 32, 0.5, 0.375, crii, "126.255.255.255",
			0.125*(two32-two25-1)/two32 + 0.5*(two24-1)/two24 + 0.375*(two16-1)/two16},
		{"crii, own /16 holds an excluded /24", 32, 0.5, 0.375, append(crii, "10.1.5.0/24"), "10.1.2.3",
			// whole space: two /8s, one /24 and the host; own /8 and own
			// /16: the /24 and the host.
			0.125*(two32-two25-256-1)/two32 + 0.5*(two24-256-1)/two24 + 0.375*(two16-256-1)/two16},
		{"crii, host inside an excluded /24", 32, 0.5, 0.375, append(crii, "10.1.2.0/24"), "10.1.2.3",
			// the host is already excluded: not counted twice
			0.125*(two32-two25-256)/two32 + 0.5*(two24-256)/two24 + 0.375*(two16-256)/two16},
		{"crii, host in 127/8", 32, 0.5, 0.375, crii, "127.0.0.1",
			0.125 * (two32 - two25) / two32},
		// In a 20-bit space a /8 has 4,096 addresses, a /16 has 16 and
		// 10.1.64.0/18 is 4 of the 16 addresses of 10.1.0.0/16.
		{"20 bits, crii, own /16 holds an excluded /18", 20, 0.5, 0.375, append(crii, "10.1.64.0/18"), "10.1.2.3",
			0.125*(two20-2*4096-4-1)/two20 + 0.5*(4096.0-4-1)/4096 + 0.375*(16.0-4-1)/16},
		// A /24 is shorter than one address of a 20-bit space: it
		// excludes the one address (a /20 of IPv4) that holds it.
		{"20 bits, excluded /24 in own /16", 20, 0.5, 0.375, []string{"10.1.80.0/24"}, "10.1.2.3",
			0.125*(two20-1-1)/two20 + 0.5*(4096.0-1-1)/4096 + 0.375*(16.0-1-1)/16},
		// In a 16-bit space the own /16 is the host alone: that
		// component never finds a target.
		{"16 bits, crii", 16, 0.5, 0.375, crii, "10.1.2.3",
			0.125*(two16-2*256-1)/two16 + 0.5*(256.0-1)/256},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := localVariant(t, tc.bits, tc.own8, tc.own16, tc.exclude)
			if got := v.Acceptance(addrOf(t, tc.bits, tc.host)); !closeTo(got, tc.want, 1e-12) {
				t.Errorf("Z = %.15g, want %.15g", got, tc.want)
			}
		})
	}
}

// prefix is an exclusion in IPv4 terms, for the brute-force reference.
type prefix struct {
	base uint64 // first IPv4 address
	plen int
}

// excludedRef reports whether address b of a space of the given bits is
// excluded: the IPv4 block it stands for meets one of the prefixes.
func excludedRef(b uint32, bits int, ps []prefix) bool {
	lo := uint64(b) << uint(32-bits)
	hi := lo + 1<<uint(32-bits)
	for _, p := range ps {
		plo, phi := p.base, p.base+1<<uint(32-p.plen)
		if lo < phi && plo < hi {
			return true
		}
	}
	return false
}

// acceptanceRef counts, for each component, the addresses of the whole
// space that lie in the host's block and would be accepted.
func acceptanceRef(a uint32, bits int, comps []Component, ps []prefix) float64 {
	z := 0.0
	for _, c := range comps {
		var in, ok int
		for b := uint32(0); uint64(b) < 1<<uint(bits); b++ {
			if c.Level > 0 && b>>uint(bits-min(c.Level, bits)) != a>>uint(bits-min(c.Level, bits)) {
				continue
			}
			in++
			if b != a && !excludedRef(b, bits, ps) {
				ok++
			}
		}
		z += c.Weight * float64(ok) / float64(in)
	}
	return z
}

// TestAcceptanceBruteForce compares Z with counting over the whole space,
// for random exclusion lists (prefixes from /3 to /30, so some are shorter
// than one address of the space) and random hosts, some inside an
// exclusion.
func TestAcceptanceBruteForce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		bits, lists, hosts int
		own8, own16        float64
	}{
		{16, 12, 20, 0.5, 0.375},
		{16, 6, 10, 0.3, 0.6},
		{16, 4, 10, 0, 0},
		{18, 3, 5, 0.5, 0.375},
		{20, 2, 3, 0.5, 0.375},
	}
	for i, tc := range tests {
		t.Run(fmt.Sprintf("%dbits_%d", tc.bits, i), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(uint64(i), 77))
			for range tc.lists {
				var ps []prefix
				var texts []string
				for range 1 + rng.IntN(6) {
					plen := 3 + rng.IntN(28)
					base := rng.Uint64N(two32) &^ (1<<uint(32-plen) - 1)
					ps = append(ps, prefix{base, plen})
					ip := netip.AddrFrom4([4]byte{byte(base >> 24), byte(base >> 16), byte(base >> 8), byte(base)})
					texts = append(texts, netip.PrefixFrom(ip, plen).String())
				}
				v := localVariant(t, tc.bits, tc.own8, tc.own16, texts)
				for h := range tc.hosts {
					a := uint32(rng.Uint64N(1 << uint(tc.bits)))
					if h%3 == 0 {
						// a host inside the first prefix
						p := ps[0]
						a = uint32((p.base + rng.Uint64N(1<<uint(32-p.plen))) >> uint(32-tc.bits))
					}
					want := acceptanceRef(a, tc.bits, v.Components, ps)
					if got := v.Acceptance(a); !closeTo(got, want, 1e-12) {
						t.Fatalf("exclude %v, host %s: Z = %.15g, brute force %.15g", texts, v.Space.Format(a), got, want)
					}
				}
			}
		})
	}
}

// TestScope checks the block of each level that holds an address.
func TestScope(t *testing.T) {
	t.Parallel()
	tests := []struct {
		bits, level int
		host        string
		lo, size    uint64
	}{
		{32, 0, "10.1.2.3", 0, two32},
		{32, 8, "10.1.2.3", 10 << 24, two24},
		{32, 16, "10.1.2.3", 10<<24 | 1<<16, two16},
		{32, 32, "10.1.2.3", 10<<24 | 1<<16 | 2<<8 | 3, 1},
		{20, 0, "10.1.2.3", 0, two20},
		{20, 8, "10.1.2.3", 10 << 12, 4096},
		{20, 16, "10.1.2.3", 10<<12 | 1<<4, 16},
		{20, 20, "10.1.2.3", 10<<12 | 1<<4, 1},
		{20, 24, "10.1.2.3", 10<<12 | 1<<4, 1},
		{16, 8, "255.255.255.255", 255 << 8, 256},
		{16, 16, "255.255.0.0", 255<<8 | 255, 1},
	}
	for _, tc := range tests {
		v := localVariant(t, tc.bits, 0.5, 0.375, nil)
		lo, size := v.Scope(addrOf(t, tc.bits, tc.host), tc.level)
		if lo != tc.lo || size != tc.size {
			t.Errorf("%d bits: Scope(%s, /%d) = %d, %d, want %d, %d", tc.bits, tc.host, tc.level, lo, size, tc.lo, tc.size)
		}
	}
}
