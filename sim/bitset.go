package sim

import "math/bits"

// bitset is a hierarchical bit set: level 0 holds the bits, each higher
// level one bit per non-zero word below, so finding the next set bit after
// a position skips long empty stretches in a few word reads.
type bitset struct {
	lv [][]uint64
	n  int
}

func newBitset(n int) *bitset {
	b := &bitset{n: n}
	size := n
	for {
		words := (size + 63) / 64
		if words == 0 {
			words = 1
		}
		b.lv = append(b.lv, make([]uint64, words))
		if words == 1 {
			break
		}
		size = words
	}
	return b
}

func (b *bitset) get(i int) bool { return b.lv[0][i>>6]&(1<<uint(i&63)) != 0 }

func (b *bitset) set(i int) {
	for l := range b.lv {
		w := &b.lv[l][i>>6]
		was := *w
		*w |= 1 << uint(i&63)
		if was != 0 {
			return
		}
		i >>= 6
	}
}

func (b *bitset) clear(i int) {
	for l := range b.lv {
		w := &b.lv[l][i>>6]
		*w &^= 1 << uint(i&63)
		if *w != 0 {
			return
		}
		i >>= 6
	}
}

// next returns the first set bit at or after i, or -1.
func (b *bitset) next(i int) int {
	if i >= b.n || i < 0 {
		return -1
	}
	l := 0
	for {
		words := b.lv[l]
		wi := i >> 6
		if wi >= len(words) {
			return -1
		}
		if m := words[wi] >> uint(i&63); m != 0 {
			i += bits.TrailingZeros64(m)
			// Descend: bit i at level l is a non-zero word at level l-1.
			for l > 0 {
				l--
				i = i<<6 + bits.TrailingZeros64(b.lv[l][i])
			}
			if i >= b.n {
				return -1
			}
			return i
		}
		// Nothing more in this word: go up and look after it.
		if l == len(b.lv)-1 {
			return -1
		}
		i = wi + 1
		l++
	}
}
