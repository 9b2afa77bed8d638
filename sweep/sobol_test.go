package sweep

import (
	"math"
	"slices"
	"testing"
)

// TestSobolFirstPoints compares the first ten points in three dimensions
// with those printed by Joe and Kuo's sobol.cc with new-joe-kuo-6.21201
// (the same as SciPy's qmc.Sobol(3, scramble=False)).
func TestSobolFirstPoints(t *testing.T) {
	want := [][]float64{
		{0, 0, 0},
		{0.5, 0.5, 0.5},
		{0.75, 0.25, 0.25},
		{0.25, 0.75, 0.75},
		{0.375, 0.375, 0.625},
		{0.875, 0.875, 0.125},
		{0.625, 0.125, 0.875},
		{0.125, 0.625, 0.375},
		{0.1875, 0.3125, 0.9375},
		{0.6875, 0.8125, 0.4375},
	}
	s, err := NewSobol(3)
	if err != nil {
		t.Fatal(err)
	}
	p := make([]float64, 3)
	for i, w := range want {
		if !s.Next(p) {
			t.Fatalf("point %d: sequence ended", i)
		}
		if !slices.Equal(p, w) {
			t.Errorf("point %d = %v, want %v", i, p, w)
		}
	}
}

// TestSobolStratified checks the defining property of a (t, s)-sequence in
// base 2 for every dimension: the first 2^k points, in each coordinate,
// fall one in each interval [i/2^k, (i+1)/2^k), and each coordinate of them
// is a multiple of 2^-k.
func TestSobolStratified(t *testing.T) {
	const k = 10
	s, err := NewSobol(MaxDim)
	if err != nil {
		t.Fatal(err)
	}
	n := 1 << k
	pts := make([][]float64, n)
	for i := range pts {
		pts[i] = make([]float64, MaxDim)
		s.Next(pts[i])
	}
	for d := range MaxDim {
		seen := make([]bool, n)
		for i, p := range pts {
			x := p[d] * float64(n)
			if x != math.Floor(x) {
				t.Fatalf("dimension %d, point %d: %v is not a multiple of 2^-%d", d+1, i, p[d], k)
			}
			if seen[int(x)] {
				t.Fatalf("dimension %d: two of the first %d points in [%d/%d, ...)", d+1, n, int(x), n)
			}
			seen[int(x)] = true
		}
	}
	// Dimensions 1 and 2 form a (0, 2)-sequence: each of the first 64
	// points lies alone in an elementary box of area 1/64, of any shape
	// 2^-a × 2^-(6-a).
	for a := 0; a <= 6; a++ {
		seen := map[[2]int]bool{}
		for _, p := range pts[:64] {
			seen[[2]int{int(p[0] * float64(int(1)<<a)), int(p[1] * float64(int(1)<<(6-a)))}] = true
		}
		if len(seen) != 64 {
			t.Errorf("boxes of 2^-%d × 2^-%d: the first 64 points fill %d of 64", a, 6-a, len(seen))
		}
	}
}

func TestSobolDimensions(t *testing.T) {
	for _, d := range []int{0, MaxDim + 1} {
		if _, err := NewSobol(d); err == nil {
			t.Errorf("NewSobol(%d): no error", d)
		}
	}
}
