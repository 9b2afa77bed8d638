// Package radix sorts by 64-bit keys in linear time: least significant
// digit first, 8 bits a pass, a pass skipped where every key has the same
// digit. The engine's setup sorts a million hosts or events per run this
// way in a fraction of what a comparison sort takes. The standard library
// sorts only by comparison, and no radix sort module is served to this
// project's builds: written by hand.
package radix

import "math"

// Uint64s sorts a in increasing order.
func Uint64s(a []uint64) {
	if len(a) < 2 {
		return
	}
	buf := make([]uint64, len(a))
	src, dst := a, buf
	for shift := uint(0); shift < 64; shift += 8 {
		var count [256]int
		for _, v := range src {
			count[byte(v>>shift)]++
		}
		if count[byte(src[0]>>shift)] == len(src) {
			continue // every key has this digit: the pass would change nothing
		}
		sum := 0
		for i, c := range count {
			count[i] = sum
			sum += c
		}
		for _, v := range src {
			d := byte(v >> shift)
			dst[count[d]] = v
			count[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &a[0] {
		copy(a, src)
	}
}

// Order returns the permutation that sorts keys in increasing order,
// stably: keys[p[0]] <= keys[p[1]] <= ..., equal keys in their order in
// keys. It leaves keys as they were.
func Order(keys []uint64) []int32 {
	n := len(keys)
	p, q := make([]int32, n), make([]int32, n)
	for i := range p {
		p[i] = int32(i)
	}
	if n < 2 {
		return p
	}
	for shift := uint(0); shift < 64; shift += 8 {
		var count [256]int
		for _, k := range keys {
			count[byte(k>>shift)]++
		}
		if count[byte(keys[0]>>shift)] == n {
			continue
		}
		sum := 0
		for i, c := range count {
			count[i] = sum
			sum += c
		}
		for _, i := range p {
			d := byte(keys[i] >> shift)
			q[count[d]] = i
			count[d]++
		}
		p, q = q, p
	}
	return p
}

// Float64Key maps f to a key whose order is the order of the floats
// (-Inf < ... < -0 < +0 < ... < +Inf: -0 just below +0; NaN is not
// ordered and must not be given).
func Float64Key(f float64) uint64 {
	b := math.Float64bits(f)
	if b>>63 != 0 {
		return ^b // negative: reverse their order, below the positives
	}
	return b | 1<<63
}
