package ipv4

import (
	"math/rand/v2"
	"slices"

	"wormwatch/internal/ctxpoll"
)

// sampleSorted draws k distinct integers uniformly without replacement from
// [0, n), n <= 2^32, and returns them in ascending order in dst[:k] (dst is
// grown if it is shorter).
//
// Method: draw the k values independently and uniformly, sort, drop the
// duplicates, and draw the shortfall again, merging, until k distinct
// values are held. Each round draws exactly the shortfall, so the result
// always has k values. When stop says so, it returns early with dst not
// filled: the caller must look at stop.Err.
//
// Why it is exactly uniform: let π be any permutation of [0, n). Feeding
// the procedure π(x1), π(x2), ... instead of x1, x2, ... gives the set π(S)
// instead of S, because every decision it takes (how many to draw next)
// depends only on how many distinct values it holds, which π preserves.
// Independent uniform draws have the same joint law as their images under
// π, so S and π(S) have the same law for every π: a law on k-subsets that
// no permutation changes gives every k-subset the same probability.
//
// Cost: with k <= n/2 each round leaves a shortfall of about k/n times the
// last one (the chance that a new draw hits a held value), so rounds
// shrink geometrically (10,000,000 of 3.7e9 addresses: about 13,500
// duplicates, then about 36, then none). When k > n/2, it draws the n-k
// values to leave out instead (the complement of a uniform (n-k)-subset is
// a uniform k-subset) and walks [0, n) once, which costs O(n) = O(k).
func sampleSorted(rng *rand.Rand, n uint64, k int, dst []uint32, stop *ctxpoll.Poller) []uint32 {
	if k < 0 || uint64(k) > n || n > 1<<32 {
		panic("ipv4: sampleSorted: want 0 <= k <= n <= 2^32")
	}
	dst = slices.Grow(dst[:0], k)[:k]
	if k == 0 {
		return dst
	}
	if uint64(k) > n/2 {
		skip := sampleSorted(rng, n, int(n-uint64(k)), nil, stop)
		if stop.Err() != nil {
			return dst
		}
		w, j := 0, 0
		for v := uint64(0); v < n; v++ {
			if stop.Stop() {
				return dst
			}
			if j < len(skip) && uint64(skip[j]) == v {
				j++
				continue
			}
			dst[w] = uint32(v)
			w++
		}
		return dst
	}
	var scratch []uint32
	have := 0
	for have < k {
		for i := have; i < k; i++ {
			if stop.Stop() {
				return dst
			}
			dst[i] = uint32(rng.Uint64N(n))
		}
		scratch = sortUint32(dst[have:k], scratch)
		t := len(dedupeSorted(dst[have:k]))
		if have == 0 {
			have = t
			continue
		}
		// Merge the sorted head dst[:have] with the new sorted values
		// dst[have:have+t], from the back, through a copy of the latter.
		scratch = append(scratch[:0], dst[have:have+t]...)
		i, j := have-1, t-1
		for w := have + t - 1; j >= 0; w-- {
			if i >= 0 && dst[i] > scratch[j] {
				dst[w] = dst[i]
				i--
			} else {
				dst[w] = scratch[j]
				j--
			}
		}
		have = len(dedupeSorted(dst[:have+t]))
	}
	return dst
}

// dedupeSorted removes repeats from a sorted slice in place.
func dedupeSorted(a []uint32) []uint32 {
	if len(a) == 0 {
		return a
	}
	w := 1
	for _, v := range a[1:] {
		if v != a[w-1] {
			a[w] = v
			w++
		}
	}
	return a[:w]
}

// radixMin is the length from which sortUint32 uses a radix sort.
const radixMin = 1 << 16

// sortUint32 sorts a in place and returns the scratch buffer it used (for
// reuse). Long slices go through a least-significant-digit radix sort in
// two passes of 16 bits: slices.Sort (pdqsort) takes about 1.2 s for 10^7
// random values on the project's machine, the radix sort about a tenth of
// that, at the price of a scratch copy of 4 bytes per value. The standard
// library has no radix sort, and the routine is short enough to own.
func sortUint32(a, scratch []uint32) []uint32 {
	if len(a) < radixMin {
		slices.Sort(a)
		return scratch
	}
	scratch = slices.Grow(scratch[:0], len(a))[:len(a)]
	var lo, hi [1 << 16]uint32
	for _, v := range a {
		lo[v&0xffff]++
		hi[v>>16]++
	}
	var sl, sh uint32
	for d := range lo {
		lo[d], sl = sl, sl+lo[d]
		hi[d], sh = sh, sh+hi[d]
	}
	for _, v := range a {
		d := v & 0xffff
		scratch[lo[d]] = v
		lo[d]++
	}
	for _, v := range scratch {
		d := v >> 16
		a[hi[d]] = v
		hi[d]++
	}
	return scratch
}

// mapToRanges turns ascending indices into the concatenation of the free
// ranges (index 0 is free[0].Lo) into the addresses they stand for, in
// place. Every index must be below the ranges' total length.
func mapToRanges(idx []uint32, free []Range) {
	j := 0
	var base uint64 // free addresses before free[j]
	for i, x := range idx {
		for uint64(x) >= base+free[j].Len() {
			base += free[j].Len()
			j++
		}
		idx[i] = uint32(free[j].Lo + uint64(x) - base)
	}
}
