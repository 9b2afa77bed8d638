package radix

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestUint64s: random keys (full range, few distinct high digits, small
// ranges, already sorted, constant) come out as slices.Sort sorts them.
func TestUint64s(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for _, gen := range []func() uint64{
		r.Uint64,
		func() uint64 { return r.Uint64N(1000) << 32 },
		func() uint64 { return r.Uint64N(300) },
		func() uint64 { return 7 },
	} {
		for _, n := range []int{0, 1, 2, 3, 100, 10_000} {
			a := make([]uint64, n)
			for i := range a {
				a[i] = gen()
			}
			want := slices.Clone(a)
			slices.Sort(want)
			Uint64s(a)
			if !slices.Equal(a, want) {
				t.Fatalf("n=%d: not sorted like slices.Sort", n)
			}
			Uint64s(a) // sorted already
			if !slices.Equal(a, want) {
				t.Fatalf("n=%d: a sorted input came out changed", n)
			}
		}
	}
}

// TestOrderStable: Order sorts by key and keeps equal keys in input order
// (as slices.SortStableFunc), and leaves the keys alone.
func TestOrderStable(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 5, 1000, 50_000} {
		keys := make([]uint64, n)
		for i := range keys {
			keys[i] = r.Uint64N(64) << (8 * r.UintN(8)) // many ties, digits everywhere
		}
		orig := slices.Clone(keys)
		want := make([]int32, n)
		for i := range want {
			want[i] = int32(i)
		}
		slices.SortStableFunc(want, func(a, b int32) int {
			switch {
			case keys[a] < keys[b]:
				return -1
			case keys[a] > keys[b]:
				return 1
			}
			return 0
		})
		if got := Order(keys); !slices.Equal(got, want) {
			t.Fatalf("n=%d: Order differs from a stable sort", n)
		}
		if !slices.Equal(keys, orig) {
			t.Fatalf("n=%d: Order changed the keys", n)
		}
	}
}

// TestFloat64Key: the keys order the floats as < does.
func TestFloat64Key(t *testing.T) {
	t.Parallel()
	fs := []float64{math.Inf(-1), -1e300, -2.5, -1, -math.SmallestNonzeroFloat64, 0, math.SmallestNonzeroFloat64, 1e-300, 1, 2.5, 1e300, math.Inf(1)}
	for i := 1; i < len(fs); i++ {
		if Float64Key(fs[i-1]) >= Float64Key(fs[i]) {
			t.Errorf("key(%g) >= key(%g)", fs[i-1], fs[i])
		}
	}
	if Float64Key(math.Copysign(0, -1)) >= Float64Key(math.SmallestNonzeroFloat64) {
		t.Error("-0 not below the smallest positive")
	}
}

func BenchmarkUint64s(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	src := make([]uint64, 1_000_000)
	for i := range src {
		src[i] = r.Uint64N(1<<32)<<32 | uint64(i)
	}
	a := make([]uint64, len(src))
	for b.Loop() {
		copy(a, src)
		Uint64s(a)
	}
}

func BenchmarkSlicesSort(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	src := make([]uint64, 1_000_000)
	for i := range src {
		src[i] = r.Uint64N(1<<32)<<32 | uint64(i)
	}
	a := make([]uint64, len(src))
	for b.Loop() {
		copy(a, src)
		slices.Sort(a)
	}
}
