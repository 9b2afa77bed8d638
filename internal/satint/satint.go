// Package satint is saturating arithmetic on int64 counters: a count that
// would pass math.MaxInt64 stays at math.MaxInt64 instead of wrapping to a
// negative number, and the caller is told, so that it can say which
// counters saturated. The engine's counters (probes, packets, bytes) use
// it: with extreme but allowed parameters (a billion probes per second per
// host, megabyte requests) they pass 2^63.
//
// Counts are never negative here; operands must be at least 0.
package satint

import "math"

// Max is the value a saturated counter holds.
const Max = math.MaxInt64

// Add returns a + b, or Max and true when the sum passes Max. a and b must
// be at least 0.
func Add(a, b int64) (int64, bool) {
	if a > Max-b {
		return Max, true
	}
	return a + b, false
}

// Mul returns a * b, or Max and true when the product passes Max. a and b
// must be at least 0.
func Mul(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, false
	}
	if a > Max/b {
		return Max, true
	}
	return a * b, false
}

// Float returns x as an int64, or Max and true when x is at least 2^63
// (or +Inf). Go's conversion of such a float is undefined (on amd64 it
// gives math.MinInt64). x must be at least 0 or NaN; NaN gives 0.
func Float(x float64) (int64, bool) {
	switch {
	case x != x: // NaN
		return 0, false
	case x >= 1<<63:
		return Max, true
	}
	return int64(x), false
}

// Counter accumulates non-negative counts, saturating at Max and
// remembering that it did.
type Counter struct {
	N         int64 // the count so far (Max once saturated)
	Saturated bool  // the count passed Max at some point
}

// Add adds x (at least 0) to the count.
func (c *Counter) Add(x int64) {
	var s bool
	c.N, s = Add(c.N, x)
	c.Saturated = c.Saturated || s
}
