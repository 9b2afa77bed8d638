package ipv4

import "fmt"

// HilbertD2XY returns the cell (x, y) of a 2^order × 2^order grid that the
// Hilbert curve visits at step d, 0 <= d < 4^order, 0 <= order <= 32.
// x grows to the right and y downwards. For even orders this is the layout
// of the xkcd "Map of the Internet" and CAIDA's IPv4 maps: the curve starts
// at the top-left corner, takes its first step to the right and ends at the
// top-right corner, so with order 4 the /8 blocks 0, 1, 2, 3 sit at (0,0),
// (1,0), (1,1), (0,1) and 255 at (15,0), and with order 8 each cell is a
// /16. (Odd orders also run from the top-left to the top-right corner,
// but take their first step downwards.)
//
// The algorithm is the classic one (Wikipedia, "Hilbert curve", d2xy):
// two bits of d at a time, from the lowest, rotating the partial
// coordinates by the quadrant.
func HilbertD2XY(order int, d uint64) (x, y uint32) {
	checkOrder(order, d)
	var px, py uint64
	t := d
	for s := uint64(1); s < uint64(1)<<uint(order); s <<= 1 {
		rx := 1 & (t >> 1)
		ry := 1 & (t ^ rx)
		px, py = hilbertRot(s, px, py, rx, ry)
		px += s * rx
		py += s * ry
		t >>= 2
	}
	return uint32(px), uint32(py)
}

// HilbertXY2D is the inverse of HilbertD2XY: the step at which the curve
// of the given order visits cell (x, y). x and y must be below 2^order.
func HilbertXY2D(order int, x, y uint32) uint64 {
	checkOrder(order, 0)
	n := uint64(1) << uint(order)
	px, py := uint64(x), uint64(y)
	if px >= n || py >= n {
		panic(fmt.Sprintf("ipv4: HilbertXY2D: cell (%d, %d) outside a %d×%d grid", x, y, n, n))
	}
	var d uint64
	for s := n / 2; s > 0; s /= 2 {
		var rx, ry uint64
		if px&s != 0 {
			rx = 1
		}
		if py&s != 0 {
			ry = 1
		}
		d += s * s * ((3 * rx) ^ ry)
		px, py = hilbertRot(n, px, py, rx, ry)
	}
	return d
}

// hilbertRot rotates or flips a quadrant of side n as the curve needs.
func hilbertRot(n, x, y, rx, ry uint64) (uint64, uint64) {
	if ry == 0 {
		if rx == 1 {
			x = n - 1 - x
			y = n - 1 - y
		}
		x, y = y, x
	}
	return x, y
}

func checkOrder(order int, d uint64) {
	if order < 0 || order > 32 {
		panic(fmt.Sprintf("ipv4: Hilbert order %d (want 0 to 32)", order))
	}
	if order < 32 && d>>(2*uint(order)) != 0 {
		panic(fmt.Sprintf("ipv4: Hilbert step %d outside a curve of order %d (want below 4^%d)", d, order, order))
	}
}

// HilbertCell returns the cell of a 2^order × 2^order Hilbert map of the
// space that holds address a: each cell is a prefix of length 2·order
// (order 8: a /16 per cell, 256×256 cells for the whole space, the same
// layout in a scaled space as in IPv4). order must be at most Bits/2.
func (s Space) HilbertCell(a uint32, order int) (x, y uint32) {
	if 2*order > s.Bits || order < 0 {
		panic(fmt.Sprintf("ipv4: HilbertCell: order %d in a %d-bit space (want 0 to %d)", order, s.Bits, s.Bits/2))
	}
	return HilbertD2XY(order, uint64(a)>>uint(s.Bits-2*order))
}
