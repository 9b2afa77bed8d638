package study

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strconv"

	"wormwatch/ipv4"
	"wormwatch/pool"
)

// Member is one member of the alliance: a /16 and a few /24s, each
// watched by a telescope of its own.
type Member struct {
	Name     string   `json:"name"`
	Prefixes []string `json:"prefixes"` // IPv4 prefixes: the /16 first, then the /24s
}

// SensorName returns the name of the telescope that watches the
// member's j-th prefix: "<member>-16", then "<member>-24-1", ...
func (m Member) SensorName(j int) string {
	if j == 0 {
		return m.Name + "-16"
	}
	return m.Name + "-24-" + strconv.Itoa(j)
}

// MaxMembers and MaxSlash24 bound a study's members and /24s per member.
const (
	MaxMembers = 1000
	MaxSlash24 = 16
)

// Place draws the blocks of members members, each a /16 and slash24 /24s,
// at random from seed (the same seed gives the same blocks): the /16s
// distinct, the /24s in other /16s than the members', no two blocks
// overlapping in the space sp (in a space of fewer than 24 bits distinct
// /24s can be one address: they are drawn again), and none in the IANA
// special-purpose ranges (ipv4.SpecialPurpose).
func Place(seed uint64, sp ipv4.Space, members, slash24 int) ([]Member, error) {
	if members < 1 || members > MaxMembers || slash24 < 0 || slash24 > MaxSlash24 {
		return nil, fmt.Errorf("%d members with %d /24s each: want 1 to %d members, 0 to %d /24s", members, slash24, MaxMembers, MaxSlash24)
	}
	rng := rand.New(rand.NewPCG(seed, purpose("pool-placement")))
	eligible := eligible16()
	// The members' /16s: the first of a partial shuffle.
	for i := range members {
		j := i + rng.IntN(len(eligible)-i)
		eligible[i], eligible[j] = eligible[j], eligible[i]
	}
	out := make([]Member, members)
	width := len(strconv.Itoa(members))
	used := map[uint64]bool{} // the ranges taken, by their first address in the space
	for i := range out {
		a := eligible[i]
		out[i] = Member{Name: fmt.Sprintf("m%0*d", max(width, 2), i+1), Prefixes: []string{fmt.Sprintf("%d.%d.0.0/16", a>>8, a&255)}}
		r, _ := sp.ParsePrefix(out[i].Prefixes[0])
		used[r.Lo] = true
	}
	others := eligible[members:]
	for i := range out {
		for range slash24 {
			p, err := draw24(rng, sp, others, used)
			if err != nil {
				return nil, err
			}
			out[i].Prefixes = append(out[i].Prefixes, p)
		}
	}
	return out, nil
}

// draw24 draws a /24 in one of the /16s others whose range in sp is not
// used yet, and marks it used.
func draw24(rng *rand.Rand, sp ipv4.Space, others []uint16, used map[uint64]bool) (string, error) {
	for range 1000 {
		a := others[rng.IntN(len(others))]
		p := fmt.Sprintf("%d.%d.%d.0/24", a>>8, a&255, rng.IntN(256))
		r, _ := sp.ParsePrefix(p)
		if !used[r.Lo] {
			used[r.Lo] = true
			return p, nil
		}
	}
	return "", fmt.Errorf("no room for another /24 in a space of %d bits: use fewer members or /24s", sp.Bits)
}

// eligible16 returns the /16s (their top 16 bits) that do not overlap a
// special-purpose range, in order.
func eligible16() []uint16 {
	v4 := ipv4.Space{Bits: 32}
	special, err := v4.ParseRanges([]string{ipv4.Special})
	if err != nil {
		panic(err) // a fixed, tested list
	}
	var out []uint16
	for a := range 1 << 16 {
		if special.Overlap(ipv4.Range{Lo: uint64(a) << 16, Hi: uint64(a+1) << 16}) == 0 {
			out = append(out, uint16(a))
		}
	}
	return out
}

// purpose turns a word into the second word of a PCG seed.
func purpose(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// blocks returns the blocks of the member's telescopes in the space sp,
// named by their sensors.
func (m Member) blocks(sp ipv4.Space) ([]pool.Block, error) {
	var out []pool.Block
	for j, p := range m.Prefixes {
		r, err := sp.ParsePrefix(p)
		if err != nil {
			return nil, err
		}
		out = append(out, pool.Block{Name: m.SensorName(j), Lo: r.Lo, Hi: r.Hi})
	}
	return out, nil
}
