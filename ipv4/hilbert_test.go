package ipv4

import (
	"math/rand/v2"
	"testing"
)

// TestHilbertXKCD checks the layout against the top-left 4×4 corner of the
// xkcd "Map of the Internet" (comic 195), copied from the comic: the /8
// numbers as they appear row by row.
func TestHilbertXKCD(t *testing.T) {
	t.Parallel()
	grid := [4][4]uint64{
		{0, 1, 14, 15},
		{3, 2, 13, 12},
		{4, 7, 8, 11},
		{5, 6, 9, 10},
	}
	for y, row := range grid {
		for x, d := range row {
			gx, gy := HilbertD2XY(2, d)
			if gx != uint32(x) || gy != uint32(y) {
				t.Errorf("order 2: step %d at (%d,%d), want (%d,%d)", d, gx, gy, x, y)
			}
		}
	}
	// The whole /8 map (order 4): 0/8 top-left, 255/8 top-right; the
	// bottom-left quadrant (64-127) is a copy of the curve, so it ends at
	// its top-right corner, the centre of the map, where 128 follows (as
	// the 4×4 corner above has 7 and 8 side by side in the middle); the
	// next block of 16 starts right of the first.
	tests := []struct {
		d    uint64
		x, y uint32
	}{
		{0, 0, 0}, {16, 4, 0}, {127, 7, 8}, {128, 8, 8}, {255, 15, 0},
	}
	for _, tt := range tests {
		if x, y := HilbertD2XY(4, tt.d); x != tt.x || y != tt.y {
			t.Errorf("order 4: step %d at (%d,%d), want (%d,%d)", tt.d, x, y, tt.x, tt.y)
		}
	}
}

func TestHilbertInverseAndAdjacency(t *testing.T) {
	t.Parallel()
	for order := 0; order <= 7; order++ {
		n := uint64(1) << uint(order)
		seen := make([]bool, n*n)
		var px, py uint32
		for d := uint64(0); d < n*n; d++ {
			x, y := HilbertD2XY(order, d)
			if uint64(x) >= n || uint64(y) >= n {
				t.Fatalf("order %d: step %d at (%d,%d), outside the grid", order, d, x, y)
			}
			if seen[uint64(y)*n+uint64(x)] {
				t.Fatalf("order %d: cell (%d,%d) visited twice", order, x, y)
			}
			seen[uint64(y)*n+uint64(x)] = true
			if back := HilbertXY2D(order, x, y); back != d {
				t.Fatalf("order %d: XY2D(D2XY(%d)) = %d", order, d, back)
			}
			if d > 0 && absDiff(x, px)+absDiff(y, py) != 1 {
				t.Fatalf("order %d: steps %d (%d,%d) and %d (%d,%d) are not neighbours", order, d-1, px, py, d, x, y)
			}
			px, py = x, y
		}
		// Every order starts top-left and ends top-right.
		if x, y := HilbertD2XY(order, n*n-1); x != uint32(n-1) || y != 0 {
			t.Errorf("order %d: ends at (%d,%d), want (%d,0)", order, x, y, n-1)
		}
	}
	// Large orders: random steps, inverse and neighbours.
	rng := rand.New(rand.NewPCG(7, 8))
	for _, order := range []int{8, 16, 31, 32} {
		cells := uint64(1) << uint(2*order)
		for range 2000 {
			// Any step but the last (cells is 0, that is 2^64, for order 32).
			d := rng.Uint64() % (cells - 1)
			x, y := HilbertD2XY(order, d)
			if back := HilbertXY2D(order, x, y); back != d {
				t.Fatalf("order %d: XY2D(D2XY(%d)) = %d", order, d, back)
			}
			x2, y2 := HilbertD2XY(order, d+1)
			if absDiff(x, x2)+absDiff(y, y2) != 1 {
				t.Fatalf("order %d: steps %d and %d are not neighbours", order, d, d+1)
			}
		}
		last := cells - 1 // wraps to 2^64-1 for order 32
		if x, y := HilbertD2XY(order, last); uint64(x) != uint64(1)<<uint(order)-1 || y != 0 {
			t.Errorf("order %d: ends at (%d,%d), want the top-right corner", order, x, y)
		}
	}
}

func TestHilbertCell(t *testing.T) {
	t.Parallel()
	tests := []struct {
		bits  int
		addr  string
		order int
		x, y  uint32
	}{
		{32, "0.0.0.0", 8, 0, 0},
		{32, "0.1.0.0", 8, 1, 0},
		{32, "255.255.255.255", 8, 255, 0},
		{32, "1.0.0.0", 4, 1, 0},
		{32, "2.0.0.0", 4, 1, 1},
		{32, "128.0.0.0", 4, 8, 8},
	}
	for _, tt := range tests {
		for _, bits := range []int{tt.bits, 20, 16} {
			sp := Space{Bits: bits}
			a, err := sp.ParseAddr(tt.addr)
			if err != nil {
				t.Fatal(err)
			}
			// A /16 is a cell of the order-8 map in every space.
			if x, y := sp.HilbertCell(a, tt.order); x != tt.x || y != tt.y {
				t.Errorf("bits %d: %s at order %d in (%d,%d), want (%d,%d)", bits, tt.addr, tt.order, x, y, tt.x, tt.y)
			}
		}
	}
}

func TestHilbertPanics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		f    func()
	}{
		{"order 33", func() { HilbertD2XY(33, 0) }},
		{"order -1", func() { HilbertD2XY(-1, 0) }},
		{"step too large", func() { HilbertD2XY(2, 16) }},
		{"cell outside", func() { HilbertXY2D(2, 4, 0) }},
		{"cell order too fine", func() { Space{Bits: 16}.HilbertCell(0, 9) }},
	}
	for _, tt := range tests {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", tt.name)
				}
			}()
			tt.f()
		}()
	}
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}
