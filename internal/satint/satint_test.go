package satint

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestAdd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b, want int64
		sat        bool
	}{
		{0, 0, 0, false},
		{1, 2, 3, false},
		{Max - 1, 1, Max, false},
		{Max, 0, Max, false},
		{Max, 1, Max, true},
		{Max - 5, 6, Max, true},
		{Max, Max, Max, true},
	}
	for _, tt := range tests {
		if got, sat := Add(tt.a, tt.b); got != tt.want || sat != tt.sat {
			t.Errorf("Add(%d, %d) = %d, %v; want %d, %v", tt.a, tt.b, got, sat, tt.want, tt.sat)
		}
	}
}

func TestMul(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b, want int64
		sat        bool
	}{
		{0, Max, 0, false},
		{Max, 0, 0, false},
		{1 << 31, 1 << 31, 1 << 62, false},
		{1 << 32, 1 << 31, Max, true},
		{Max, 1, Max, false},
		{Max/3 + 1, 3, Max, true},
		{1e9 * 1e9, 10, Max, true},
	}
	for _, tt := range tests {
		if got, sat := Mul(tt.a, tt.b); got != tt.want || sat != tt.sat {
			t.Errorf("Mul(%d, %d) = %d, %v; want %d, %v", tt.a, tt.b, got, sat, tt.want, tt.sat)
		}
	}
	// Against big products computed in float: never negative, exact below
	// Max.
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		a, b := r.Int64N(1<<40), r.Int64N(1<<40)
		got, sat := Mul(a, b)
		exact := float64(a) * float64(b)
		if got < 0 || sat != (exact >= 1<<63) || (!sat && got != a*b) {
			t.Fatalf("Mul(%d, %d) = %d, %v", a, b, got, sat)
		}
	}
}

func TestFloat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		x    float64
		want int64
		sat  bool
	}{
		{0, 0, false},
		{1e18, 1e18, false},
		{math.Nextafter(1<<63, 0), 1<<63 - 1024, false},
		{1 << 63, Max, true},
		{8.7e18 * 10, Max, true},
		{math.Inf(1), Max, true},
		{math.NaN(), 0, false},
	}
	for _, tt := range tests {
		if got, sat := Float(tt.x); got != tt.want || sat != tt.sat {
			t.Errorf("Float(%v) = %d, %v; want %d, %v", tt.x, got, sat, tt.want, tt.sat)
		}
	}
}

func TestCounter(t *testing.T) {
	t.Parallel()
	var c Counter
	c.Add(Max - 10)
	c.Add(5)
	if c.N != Max-5 || c.Saturated {
		t.Errorf("before saturating: %+v", c)
	}
	c.Add(6)
	c.Add(0)
	if c.N != Max || !c.Saturated {
		t.Errorf("after saturating: %+v", c)
	}
}
