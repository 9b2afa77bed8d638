package ipv4

import (
	"fmt"
	"math/bits"
	"slices"
	"sort"
	"strings"
)

// Ranges is a set of addresses of one space, kept as sorted, disjoint,
// non-adjacent ranges. The zero value is the empty set. A Ranges is
// immutable once made, so it may be shared between goroutines.
type Ranges struct {
	space Space
	list  []Range
}

// Special is the word that stands for the whole SpecialPurpose list in a
// list of ranges (space.reserved).
const Special = "special"

// ParseRanges reads a list of prefixes ("10.0.0.0/8"), bare addresses
// (taken as /32) and the word "special", which stands for the whole
// SpecialPurpose list, and returns their union in the space. An error
// names the bad entry by its position in the list, counting from 1.
func (s Space) ParseRanges(list []string) (Ranges, error) {
	var rs []Range
	for i, text := range list {
		if strings.EqualFold(strings.TrimSpace(text), Special) {
			for _, sp := range SpecialPurpose {
				r, err := s.ParsePrefix(sp)
				if err != nil {
					// SpecialPurpose is a fixed, tested list.
					panic(fmt.Sprintf("ipv4: SpecialPurpose entry %q: %v", sp, err))
				}
				rs = append(rs, r)
			}
			continue
		}
		r, err := s.ParsePrefix(text)
		if err != nil {
			return Ranges{}, fmt.Errorf("entry %d of %d: %w; the entry may also be \"special\" (the IANA special-purpose ranges)", i+1, len(list), err)
		}
		rs = append(rs, r)
	}
	return s.MakeRanges(rs...), nil
}

// MakeRanges returns the union of the given ranges, clipped to the space.
func (s Space) MakeRanges(rs ...Range) Ranges {
	size := s.Size()
	list := make([]Range, 0, len(rs))
	for _, r := range rs {
		r.Hi = min(r.Hi, size)
		if r.Lo < r.Hi {
			list = append(list, r)
		}
	}
	slices.SortFunc(list, func(a, b Range) int {
		switch {
		case a.Lo < b.Lo:
			return -1
		case a.Lo > b.Lo:
			return 1
		}
		return 0
	})
	out := list[:0]
	for _, r := range list {
		if n := len(out); n > 0 && r.Lo <= out[n-1].Hi {
			out[n-1].Hi = max(out[n-1].Hi, r.Hi)
			continue
		}
		out = append(out, r)
	}
	return Ranges{space: s, list: slices.Clip(out)}
}

// Space returns the space the set belongs to (the zero Space for the zero
// value).
func (rs Ranges) Space() Space { return rs.space }

// List returns a copy of the set's ranges, sorted and disjoint.
func (rs Ranges) List() []Range { return slices.Clone(rs.list) }

// Len returns the number of disjoint ranges in the set.
func (rs Ranges) Len() int { return len(rs.list) }

// Size returns the number of addresses in the set.
func (rs Ranges) Size() uint64 {
	var n uint64
	for _, r := range rs.list {
		n += r.Len()
	}
	return n
}

// find returns the index of the first range whose Hi is above a.
func (rs Ranges) find(a uint64) int {
	return sort.Search(len(rs.list), func(i int) bool { return rs.list[i].Hi > a })
}

// Contains reports whether address a is in the set.
func (rs Ranges) Contains(a uint32) bool {
	_, ok := rs.Containing(a)
	return ok
}

// Containing returns the range of the set that holds address a, if any.
func (rs Ranges) Containing(a uint32) (Range, bool) {
	i := rs.find(uint64(a))
	if i < len(rs.list) && rs.list[i].Contains(a) {
		return rs.list[i], true
	}
	return Range{}, false
}

// Overlap returns how many addresses of r are in the set.
func (rs Ranges) Overlap(r Range) uint64 {
	var n uint64
	for i := rs.find(r.Lo); i < len(rs.list) && rs.list[i].Lo < r.Hi; i++ {
		lo, hi := max(rs.list[i].Lo, r.Lo), min(rs.list[i].Hi, r.Hi)
		if lo < hi {
			n += hi - lo
		}
	}
	return n
}

// Gaps returns the parts of r that are not in the set, in ascending order.
func (rs Ranges) Gaps(r Range) []Range {
	var out []Range
	at := r.Lo
	for i := rs.find(r.Lo); i < len(rs.list) && rs.list[i].Lo < r.Hi; i++ {
		if rs.list[i].Lo > at {
			out = append(out, Range{Lo: at, Hi: rs.list[i].Lo})
		}
		at = max(at, rs.list[i].Hi)
	}
	if at < r.Hi {
		out = append(out, Range{Lo: at, Hi: r.Hi})
	}
	return out
}

// Complement returns the addresses of the space that are not in the set.
// The zero Ranges has no space, so its complement is empty: use
// Space.MakeRanges() to make an empty set of a given space.
func (rs Ranges) Complement() Ranges {
	if rs.space.Bits == 0 {
		return Ranges{}
	}
	return Ranges{space: rs.space, list: rs.Gaps(Range{Lo: 0, Hi: rs.space.Size()})}
}

// FormatRange writes r as a prefix ("10.0.0.0/8") when it is one, else as
// "first-last" in dotted quads. In a scaled space the prefix length is the
// IPv4 one (an address of a 20-bit space is a /20 of IPv4), and the last
// address is the last IPv4 address the range stands for.
func (s Space) FormatRange(r Range) string {
	if r.Len() == 0 {
		return "(empty)"
	}
	n := r.Len()
	if n&(n-1) == 0 && r.Lo&(n-1) == 0 {
		// An aligned power-of-two block: a prefix.
		plen := s.Bits - (bits.Len64(n) - 1)
		return fmt.Sprintf("%s/%d", s.Format(uint32(r.Lo)), plen)
	}
	last := s.IPv4(uint32(r.Hi - 1)).As4()
	// Fill the low bits a scaled address cannot tell apart.
	v := uint32(last[0])<<24 | uint32(last[1])<<16 | uint32(last[2])<<8 | uint32(last[3])
	v |= uint32(uint64(1)<<s.Shift() - 1)
	return fmt.Sprintf("%s-%d.%d.%d.%d", s.Format(uint32(r.Lo)), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}
