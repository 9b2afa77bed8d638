package ipv4

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"wormwatch/internal/ctxpoll"
)

// cell is one /16 block of the clustered support.
type cell struct {
	r      Range   // the /16 in the space
	block8 int     // which /8 (0 to 255) holds it
	rank8  int     // rank of its /8 among the chosen /8s, from 1
	rank16 int     // rank of the /16 among those chosen in its /8, from 1
	weight float64 // probability that a host falls in it (sums to 1)
	free   uint64  // addresses of the /16 outside the reserved ranges
}

// clusterPlan chooses the support of a clustered population: up to
// c.Blocks8 /8 blocks at random among those not wholly reserved, ranked in
// the order drawn, and in the /8 of rank k up to c.Blocks16 of its /16
// blocks that are not wholly reserved, ranked in the order drawn. The /16
// of rank j in the /8 of rank k gets the weight
//
//	k^-Zipf8 / Σ_k' k'^-Zipf8  ×  j^-Zipf16 / Σ_j' j'^-Zipf16,
//
// the sums running over the chosen blocks. A space or /8 with fewer
// eligible blocks than asked uses all of them. Cells come back in address
// order.
func clusterPlan(c ClusterParams, sp Space, reserved Ranges, rng *rand.Rand) ([]cell, error) {
	if err := checkCluster(c); err != nil {
		return nil, err
	}
	size8, size16 := sp.Size()>>8, sp.Size()>>16
	elig8, err := eligible8(sp, reserved)
	if err != nil {
		return nil, err
	}
	chosen8 := pickRandom(elig8, c.Blocks8, rng)
	w8 := zipfWeights(len(chosen8), c.Zipf8)
	var cells []cell
	for k, b8 := range chosen8 {
		var elig16 []int
		for j := range 256 {
			lo := uint64(b8)*size8 + uint64(j)*size16
			r := Range{Lo: lo, Hi: lo + size16}
			if reserved.Overlap(r) < r.Len() {
				elig16 = append(elig16, j)
			}
		}
		chosen16 := pickRandom(elig16, c.Blocks16, rng)
		w16 := zipfWeights(len(chosen16), c.Zipf16)
		for j, b16 := range chosen16 {
			lo := uint64(b8)*size8 + uint64(b16)*size16
			r := Range{Lo: lo, Hi: lo + size16}
			cells = append(cells, cell{
				r: r, block8: b8, rank8: k + 1, rank16: j + 1,
				weight: w8[k] * w16[j],
				free:   r.Len() - reserved.Overlap(r),
			})
		}
	}
	slices.SortFunc(cells, func(a, b cell) int {
		if a.r.Lo < b.r.Lo {
			return -1
		}
		return 1
	})
	return cells, nil
}

// checkCluster checks the parameters of the clustered placement.
func checkCluster(c ClusterParams) error {
	if c.Blocks8 < 1 || c.Blocks8 > 256 {
		return fmt.Errorf("population: clustered.blocks8 = %d (want 1 to 256)", c.Blocks8)
	}
	if c.Blocks16 < 1 || c.Blocks16 > 256 {
		return fmt.Errorf("population: clustered.blocks16 = %d (want 1 to 256)", c.Blocks16)
	}
	for _, z := range []struct {
		key string
		v   float64
	}{{"zipf8", c.Zipf8}, {"zipf16", c.Zipf16}} {
		if !(z.v >= 0 && z.v <= 5) {
			return fmt.Errorf("population: clustered.%s = %v (want 0 to 5)", z.key, z.v)
		}
	}
	return nil
}

// eligible8 returns the /8 blocks not wholly reserved, in address order.
func eligible8(sp Space, reserved Ranges) ([]int, error) {
	size8 := sp.Size() >> 8
	var elig8 []int
	for b := range 256 {
		r := Range{Lo: uint64(b) * size8, Hi: uint64(b+1) * size8}
		if reserved.Overlap(r) < r.Len() {
			elig8 = append(elig8, b)
		}
	}
	if len(elig8) == 0 {
		return nil, fmt.Errorf("population: every /8 block is in space.reserved (want some unreserved space)")
	}
	return elig8, nil
}

// minClusterRoom returns the fewest free addresses the cells of clusterPlan
// can hold, over every choice of blocks it can draw: in each eligible /8,
// the c.Blocks16 eligible /16s with the fewest free addresses (all of them
// if there are fewer); then the c.Blocks8 /8s whose such sums are least.
// A population of at most this many hosts fits whatever the seed.
func minClusterRoom(c ClusterParams, sp Space, reserved Ranges) (uint64, error) {
	if err := checkCluster(c); err != nil {
		return 0, err
	}
	if _, err := eligible8(sp, reserved); err != nil {
		return 0, err
	}
	// The free addresses of every /16, in one sweep over the reserved
	// ranges (65,536 calls of Overlap took most of the time of reading a
	// scenario).
	size16 := sp.Size() >> 16
	free := make([]uint64, 1<<16)
	for j := range free {
		free[j] = size16
	}
	for _, r := range reserved.List() {
		for j := r.Lo / size16; j < 1<<16 && j*size16 < r.Hi; j++ {
			lo, hi := max(r.Lo, j*size16), min(r.Hi, (j+1)*size16)
			free[j] -= hi - lo
		}
	}
	sums := make([]uint64, 0, 256)
	blocks := make([]uint64, 0, 256)
	for b8 := range 256 {
		blocks = blocks[:0]
		for _, n := range free[b8<<8 : (b8+1)<<8] {
			if n > 0 {
				blocks = append(blocks, n)
			}
		}
		if len(blocks) == 0 {
			continue // wholly reserved: never drawn
		}
		slices.Sort(blocks)
		var s uint64
		for _, n := range blocks[:min(c.Blocks16, len(blocks))] {
			s += n
		}
		sums = append(sums, s)
	}
	slices.Sort(sums)
	var total uint64
	for _, s := range sums[:min(c.Blocks8, len(sums))] {
		total += s
	}
	return total, nil
}

// pickRandom returns min(k, len(items)) items drawn at random without
// replacement, in the order drawn (a partial Fisher-Yates shuffle of a
// copy).
func pickRandom(items []int, k int, rng *rand.Rand) []int {
	a := slices.Clone(items)
	k = min(k, len(a))
	for i := range k {
		j := i + rng.IntN(len(a)-i)
		a[i], a[j] = a[j], a[i]
	}
	return a[:k]
}

// zipfWeights returns n weights proportional to k^-s, k = 1..n, summing
// to 1.
func zipfWeights(n int, s float64) []float64 {
	w := make([]float64, n)
	var sum float64
	for k := range w {
		w[k] = math.Pow(float64(k+1), -s)
		sum += w[k]
	}
	for k := range w {
		w[k] /= sum
	}
	return w
}

// placeClustered places hosts over the cells of clusterPlan. The numbers
// of hosts per cell are multinomial with the cells' weights; a cell drawn
// more hosts than it has free addresses keeps as many as it holds, and the
// excess is drawn again, multinomially, among the cells that still have
// room, with their weights renormalised, until every host has a place.
// Inside a cell the hosts sit at distinct addresses drawn uniformly among
// its free ones. It returns the addresses in ascending order and the plan.
func placeClustered(hosts int, c ClusterParams, sp Space, reserved Ranges, rng *rand.Rand, stop *ctxpoll.Poller) ([]uint32, []cell, error) {
	if err := checkHosts(hosts); err != nil {
		return nil, nil, err
	}
	cells, err := clusterPlan(c, sp, reserved, rng)
	if err != nil {
		return nil, nil, err
	}
	var capacity uint64
	for _, cl := range cells {
		capacity += cl.free
	}
	if uint64(hosts) > capacity {
		return nil, nil, fmt.Errorf("population: hosts = %d but the %d /16 blocks of the clustered placement (clustered.blocks8 = %d, clustered.blocks16 = %d; a /16 holds %d addresses in a %d-bit space) have only %d free addresses (want hosts <= %d: raise clustered.blocks8 or clustered.blocks16, or use placement = \"uniform\")",
			hosts, len(cells), c.Blocks8, c.Blocks16, sp.Size()>>16, sp.Bits, capacity, capacity)
	}
	counts := allocate(cells, uint64(hosts), rng, stop)
	if stop.Err() != nil {
		return nil, nil, stop.Err()
	}
	addr := make([]uint32, hosts)
	off := 0
	for i, cl := range cells {
		n := int(counts[i])
		if n == 0 {
			continue
		}
		dst := sampleSorted(rng, cl.free, n, addr[off:off+n], stop)
		if stop.Err() != nil {
			return nil, nil, stop.Err()
		}
		mapToRanges(dst, reserved.Gaps(cl.r))
		off += n
	}
	return addr, cells, nil
}

// allocate draws the number of hosts of each cell as placeClustered
// describes. The total free room must be at least hosts.
// When stop says so it returns early, with counts that are not a placement.
func allocate(cells []cell, hosts uint64, rng *rand.Rand, stop *ctxpoll.Poller) []uint64 {
	counts := make([]uint64, len(cells))
	active := make([]int, 0, len(cells))
	cum := make([]float64, 0, len(cells))
	for left := hosts; left > 0; {
		active, cum = active[:0], cum[:0]
		var sum float64
		var roomN uint64
		for i, cl := range cells {
			if counts[i] < cl.free {
				active = append(active, i)
				sum += cl.weight
				cum = append(cum, sum)
				roomN += cl.free - counts[i]
			}
		}
		if left >= roomN {
			// Exactly as much room as hosts: every cell fills up.
			for _, i := range active {
				counts[i] = cells[i].free
			}
			break
		}
		g := newGuide(cum)
		for range left {
			if stop.Stop() {
				return counts
			}
			counts[active[g.first(rng.Float64()*sum)]]++
		}
		left = 0
		for _, i := range active {
			if counts[i] > cells[i].free {
				left += counts[i] - cells[i].free
				counts[i] = cells[i].free
			}
		}
	}
	return counts
}

// guide finds in a cumulative sum the first index k with cum[k] > u (the
// last one if rounding says none) in O(1) expected steps: the inverse of
// the distribution's CDF, as a binary search would find it, through a
// guide table (Chen and Asau's method). Bucket j = int(u*scale) of u starts
// at the first k whose int(cum[k]*scale) >= j: since x -> int(x*scale) is
// non-decreasing, the answer is never before it, so the search from there
// finds the same index a search from 0 would.
type guide struct {
	cum   []float64
	start []int32
	scale float64
}

func newGuide(cum []float64) guide {
	g := guide{cum: cum, start: make([]int32, len(cum)+1)}
	if top := cum[len(cum)-1]; top > 0 {
		g.scale = float64(len(cum)) / top
	}
	k := 0
	for j := range g.start {
		for k < len(cum)-1 && int(cum[k]*g.scale) < j {
			k++
		}
		g.start[j] = int32(k)
	}
	return g
}

func (g guide) first(u float64) int {
	j := min(int(u*g.scale), len(g.start)-1)
	k := int(g.start[j])
	for k < len(g.cum)-1 && !(g.cum[k] > u) {
		k++
	}
	return k
}
