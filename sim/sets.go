package sim

import "math/rand/v2"

// levelIndex splits the hosts (sorted by address) into the blocks of one
// prefix length. Because hosts are sorted, the hosts of a block are the
// contiguous ids [start[b], start[b+1]).
type levelIndex struct {
	level  int
	shift  uint
	byPfx  []int32 // prefix (addr >> shift) -> dense block id, -1 if no host; nil for level 0
	start  []int32 // len nblocks+1
	blocks int
}

func newLevelIndex(addr []uint32, bits, level int) *levelIndex {
	li := &levelIndex{level: level}
	if level <= 0 {
		li.start = []int32{0, int32(len(addr))}
		li.blocks = 1
		return li
	}
	if level > bits {
		level = bits
	}
	li.shift = uint(bits - level)
	li.byPfx = make([]int32, 1<<uint(level))
	for i := range li.byPfx {
		li.byPfx[i] = -1
	}
	prev := int64(-1)
	for i, a := range addr {
		p := int64(a >> li.shift)
		if p != prev {
			li.byPfx[p] = int32(len(li.start))
			li.start = append(li.start, int32(i))
			prev = p
		}
	}
	li.blocks = len(li.start)
	li.start = append(li.start, int32(len(addr)))
	return li
}

// block returns the dense block id of an address that holds a host.
func (li *levelIndex) block(a uint32) int32 {
	if li.byPfx == nil {
		return 0
	}
	return li.byPfx[a>>li.shift]
}

// blockSet is a set of host ids partitioned by the blocks of a levelIndex,
// with O(1) add, remove and uniform pick inside a block: the members of
// block b are perm[start[b] : start[b]+count[b]] in any order, and pos
// gives a member's index in perm. Adding writes at the end of the block's
// members and removing moves the last member into the hole, so each touches
// at most two hosts' entries.
type blockSet struct {
	li    *levelIndex
	perm  []int32
	pos   []int32
	count []int32
	total int64
}

func newBlockSet(li *levelIndex, n int) *blockSet {
	return &blockSet{li: li, perm: make([]int32, n), pos: make([]int32, n), count: make([]int32, li.blocks)}
}

// newClassSet returns a blockSet for the scanning hosts of one rate class
// whose pos is shared with the variant's other classes at that level (a
// host is in one class of its variant at a time). A set of one block
// grows its perm as members come, so that a class few hosts ever join (a
// host ramping up after dormancy, worm.Variant.WakeGroups) costs memory in
// proportion to them, not to the population.
func newClassSet(li *levelIndex, pos []int32) *blockSet {
	s := &blockSet{li: li, pos: pos, count: make([]int32, li.blocks)}
	if li.blocks > 1 {
		s.perm = make([]int32, len(pos))
	}
	return s
}

func (s *blockSet) add(h int32, b int32) {
	j := s.li.start[b] + s.count[b]
	if int(j) == len(s.perm) {
		s.perm = append(s.perm, 0) // a set of one block grows (newClassSet)
	}
	s.perm[j] = h
	s.pos[h] = j
	s.count[b]++
	s.total++
}

func (s *blockSet) remove(h int32, b int32) {
	i := s.pos[h]
	j := s.li.start[b] + s.count[b] - 1
	o := s.perm[j]
	s.perm[i] = o
	s.pos[o] = i
	s.count[b]--
	s.total--
}

func (s *blockSet) pick(b int32, r *rand.Rand) int32 {
	return s.perm[s.li.start[b]+int32(r.IntN(int(s.count[b])))]
}

// sumTree keeps non-negative weights and their total, and picks an index
// with probability proportional to its weight, both in O(log n). Each inner
// node is recomputed from its two children on update, so rounding never
// accumulates over a run.
type sumTree struct {
	size int // leaves, a power of two
	node []float64
}

func newSumTree(n int) *sumTree {
	size := 1
	for size < n {
		size <<= 1
	}
	return &sumTree{size: size, node: make([]float64, 2*size)}
}

func (t *sumTree) set(i int, w float64) {
	k := i + t.size
	t.node[k] = w
	for k >>= 1; k >= 1; k >>= 1 {
		t.node[k] = t.node[2*k] + t.node[2*k+1]
	}
}

func (t *sumTree) total() float64 { return t.node[1] }

// find returns the leaf where the running sum passes u, 0 <= u < total.
// A leaf of weight zero is never returned.
func (t *sumTree) find(u float64) int {
	k := 1
	for k < t.size {
		l := t.node[2*k]
		if u < l || t.node[2*k+1] == 0 {
			k = 2 * k
		} else {
			u -= l
			k = 2*k + 1
		}
	}
	return k - t.size
}
