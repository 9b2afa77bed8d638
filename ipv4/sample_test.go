package ipv4

import (
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// chiSquareBounds returns the 1e-6 and 1-1e-6 quantiles of a chi-square
// law with df degrees of freedom: a correct sampler falls outside with
// probability 2e-6.
func chiSquareBounds(df float64) (lo, hi float64) {
	c := distuv.ChiSquared{K: df}
	return c.Quantile(1e-6), c.Quantile(1 - 1e-6)
}

func TestSampleSortedShape(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n uint64
		k int
	}{
		{1, 0}, {1, 1}, {2, 1}, {10, 10}, {10, 5}, {10, 6}, {1000, 999},
		{1 << 16, 30000}, {1 << 16, 40000}, {1 << 20, 200000},
		{1 << 32, 100000}, {1<<32 - 7, 3},
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tt := range tests {
		got := sampleSorted(rng, tt.n, tt.k, nil, nil)
		if len(got) != tt.k {
			t.Errorf("n=%d k=%d: %d values", tt.n, tt.k, len(got))
			continue
		}
		for i, v := range got {
			if uint64(v) >= tt.n {
				t.Errorf("n=%d k=%d: value %d out of range", tt.n, tt.k, v)
				break
			}
			if i > 0 && v <= got[i-1] {
				t.Errorf("n=%d k=%d: values %d, %d not strictly ascending", tt.n, tt.k, got[i-1], v)
				break
			}
		}
	}
}

// TestSampleSortedUniformSubsets checks that every k-subset of a small
// range is equally likely, on both paths: k <= n/2 (redraws of duplicates,
// which are frequent with n this small) and k > n/2 (the complement).
func TestSampleSortedUniformSubsets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n      uint64
		k      int
		trials int
	}{
		{5, 2, 40000}, // 10 subsets, many redraws
		{6, 4, 60000}, // 15 subsets, complement path
		{7, 3, 70000}, // 35 subsets
	}
	for _, tt := range tests {
		rng := rand.New(rand.NewPCG(uint64(tt.n), uint64(tt.k)))
		counts := map[uint64]int{}
		for range tt.trials {
			var mask uint64
			for _, v := range sampleSorted(rng, tt.n, tt.k, nil, nil) {
				mask |= 1 << v
			}
			counts[mask]++
		}
		subsets := binomial(int(tt.n), tt.k)
		if len(counts) != subsets {
			t.Errorf("n=%d k=%d: %d distinct subsets seen, want %d", tt.n, tt.k, len(counts), subsets)
			continue
		}
		exp := float64(tt.trials) / float64(subsets)
		var chi float64
		for mask, c := range counts {
			if got := popcount(mask); got != tt.k {
				t.Errorf("n=%d k=%d: subset %b has %d members", tt.n, tt.k, mask, got)
			}
			d := float64(c) - exp
			chi += d * d / exp
		}
		lo, hi := chiSquareBounds(float64(subsets - 1))
		if chi < lo || chi > hi {
			t.Errorf("n=%d k=%d: chi-square %.1f outside [%.1f, %.1f]", tt.n, tt.k, chi, lo, hi)
		}
	}
}

// TestSampleSortedInclusion checks that each value is included with
// probability k/n, over a range where rounds of redraws are needed. Over T
// trials the inclusion counts c_i have mean Tp and variance Tp(1-p), with
// covariance -Tp(1-p)/(n-1) between values (k is fixed), so
// (n-1)/n · Σ (c_i-Tp)² / (Tp(1-p)) follows a chi-square law with n-1
// degrees of freedom for large T.
func TestSampleSortedInclusion(t *testing.T) {
	t.Parallel()
	const n, k, trials = 60, 25, 20000
	rng := rand.New(rand.NewPCG(9, 9))
	counts := make([]float64, n)
	for range trials {
		for _, v := range sampleSorted(rng, n, k, nil, nil) {
			counts[v]++
		}
	}
	p := float64(k) / n
	var chi float64
	for _, c := range counts {
		d := c - trials*p
		chi += d * d / (trials * p * (1 - p))
	}
	chi *= float64(n-1) / n
	lo, hi := chiSquareBounds(n - 1)
	if chi < lo || chi > hi {
		t.Errorf("chi-square %.1f outside [%.1f, %.1f]", chi, lo, hi)
	}
}

func TestSortUint32(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 100, radixMin - 1, radixMin, 300000} {
		a := make([]uint32, n)
		for i := range a {
			a[i] = rng.Uint32()
			if i%7 == 0 {
				a[i] &= 0xFFFF // many small values and repeats
			}
		}
		want := slices.Clone(a)
		slices.Sort(want)
		sortUint32(a, nil)
		if !slices.Equal(a, want) {
			t.Errorf("n=%d: sortUint32 disagrees with slices.Sort", n)
		}
	}
}

func TestMapToRanges(t *testing.T) {
	t.Parallel()
	free := []Range{{Lo: 10, Hi: 12}, {Lo: 20, Hi: 21}, {Lo: 1<<32 - 2, Hi: 1 << 32}}
	idx := []uint32{0, 1, 2, 3, 4}
	mapToRanges(idx, free)
	want := []uint32{10, 11, 20, 1<<32 - 2, 1<<32 - 1}
	if !slices.Equal(idx, want) {
		t.Errorf("mapToRanges = %v, want %v", idx, want)
	}
}

func TestDedupeSorted(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want []uint32 }{
		{nil, nil},
		{[]uint32{1}, []uint32{1}},
		{[]uint32{1, 1, 2, 3, 3, 3, 9}, []uint32{1, 2, 3, 9}},
	}
	for _, tt := range tests {
		if got := dedupeSorted(slices.Clone(tt.in)); !slices.Equal(got, tt.want) {
			t.Errorf("dedupeSorted(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func binomial(n, k int) int {
	r := 1
	for i := range k {
		r = r * (n - i) / (i + 1)
	}
	return r
}

func popcount(x uint64) int {
	n := 0
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n
}
