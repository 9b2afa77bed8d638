package pool

import (
	"fmt"
	"net/netip"
	"slices"
)

// Block is the addresses one sensor watches: [Lo, Hi) in the coordinates
// of its space (for IPv4, the 32-bit address; for a scaled space of b
// bits, as package ipv4 counts them, the top b bits).
type Block struct {
	Name   string // the sensor's name, for messages
	Lo, Hi uint64
}

// Size returns the number of addresses of the block.
func (b Block) Size() uint64 { return b.Hi - b.Lo }

// PrefixBlock returns the block of an IPv4 prefix (in IPv4 coordinates).
func PrefixBlock(name string, p netip.Prefix) (Block, error) {
	if !p.IsValid() || !p.Addr().Is4() {
		return Block{}, fmt.Errorf("sensor %s: %s is not an IPv4 prefix", name, p)
	}
	a := p.Masked().Addr().As4()
	lo := uint64(a[0])<<24 | uint64(a[1])<<16 | uint64(a[2])<<8 | uint64(a[3])
	return Block{Name: name, Lo: lo, Hi: lo + 1<<(32-p.Bits())}, nil
}

// Size returns the number of addresses of the blocks together, after
// checking that there is at least one, that each holds an address (Lo <
// Hi), and that no two overlap: a union of overlapping blocks would count
// the addresses they share twice. An overlap is an error that names both
// blocks.
func Size(blocks []Block) (uint64, error) {
	if len(blocks) == 0 {
		return 0, fmt.Errorf("a union needs at least one sensor")
	}
	sorted := slices.Clone(blocks)
	slices.SortFunc(sorted, func(a, b Block) int {
		switch {
		case a.Lo < b.Lo:
			return -1
		case a.Lo > b.Lo:
			return 1
		}
		return 0
	})
	var size uint64
	for i, b := range sorted {
		if b.Hi <= b.Lo {
			return 0, fmt.Errorf("sensor %s: empty block [%d, %d)", b.Name, b.Lo, b.Hi)
		}
		if i > 0 && sorted[i-1].Hi > b.Lo {
			return 0, fmt.Errorf("sensors %s and %s overlap: [%d, %d) and [%d, %d) share %d addresses (the blocks of a union must be disjoint)",
				sorted[i-1].Name, b.Name, sorted[i-1].Lo, sorted[i-1].Hi, b.Lo, b.Hi, min(sorted[i-1].Hi, b.Hi)-b.Lo)
		}
		size += b.Size()
	}
	return size, nil
}
