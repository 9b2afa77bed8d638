package sweep

import (
	"fmt"
	"math/bits"
)

// The Sobol sequence is written by hand: gonum has Halton and Latin
// hypercube samplers (stat/samplemv) but no Sobol sequence, and a
// dependency for 60 lines and a table is not worth it.

// MaxDim is the most dimensions the Sobol generator has direction numbers
// for.
const MaxDim = 16

// sobolBits is the precision of the points: 2^32 points at most.
const sobolBits = 32

// joeKuo holds Joe and Kuo's direction numbers (new-joe-kuo-6.21201,
// S. Joe and F. Y. Kuo, "Constructing Sobol sequences with better
// two-dimensional projections", SIAM J. Sci. Comput. 30, 2635-2654, 2008)
// for dimensions 2 to 16: the degree s of the primitive polynomial, its
// coefficients a, and the initial numbers m_1 ... m_s. Dimension 1 is van
// der Corput's sequence and needs none.
var joeKuo = [MaxDim - 1]struct {
	s, a uint32
	m    []uint32
}{
	{1, 0, []uint32{1}},
	{2, 1, []uint32{1, 3}},
	{3, 1, []uint32{1, 3, 1}},
	{3, 2, []uint32{1, 1, 1}},
	{4, 1, []uint32{1, 1, 3, 3}},
	{4, 4, []uint32{1, 3, 5, 13}},
	{5, 2, []uint32{1, 1, 5, 5, 17}},
	{5, 4, []uint32{1, 1, 5, 5, 5}},
	{5, 7, []uint32{1, 1, 7, 11, 19}},
	{5, 11, []uint32{1, 1, 5, 1, 1}},
	{5, 13, []uint32{1, 1, 1, 3, 11}},
	{5, 14, []uint32{1, 3, 5, 5, 31}},
	{6, 1, []uint32{1, 3, 3, 9, 7, 49}},
	{6, 13, []uint32{1, 1, 1, 15, 21, 21}},
	{6, 16, []uint32{1, 3, 1, 13, 27, 49}},
}

// Sobol generates the points of the unscrambled Sobol sequence in [0, 1)^d
// in Gray-code order, as Joe and Kuo's sobol.cc (and SciPy's
// qmc.Sobol(scramble=False)) do: the first point is the origin, then
// (1/2, ..., 1/2), ...
type Sobol struct {
	v     [][sobolBits]uint32 // direction numbers, per dimension, scaled to 32 bits
	x     []uint32            // the current point, as 32-bit fractions
	index uint64              // of the next point
}

// NewSobol returns a generator of dim dimensions, 1 to MaxDim.
func NewSobol(dim int) (*Sobol, error) {
	if dim < 1 || dim > MaxDim {
		return nil, fmt.Errorf("sobol: %d dimensions: want 1 to %d", dim, MaxDim)
	}
	s := &Sobol{v: make([][sobolBits]uint32, dim), x: make([]uint32, dim)}
	for k := range sobolBits {
		s.v[0][k] = 1 << (sobolBits - 1 - k)
	}
	for j := 1; j < dim; j++ {
		p := joeKuo[j-1]
		v := &s.v[j]
		for k := uint32(0); k < sobolBits; k++ {
			if k < p.s {
				v[k] = p.m[k] << (sobolBits - 1 - k)
				continue
			}
			v[k] = v[k-p.s] ^ (v[k-p.s] >> p.s)
			for l := uint32(1); l < p.s; l++ {
				if (p.a>>(p.s-1-l))&1 == 1 {
					v[k] ^= v[k-l]
				}
			}
		}
	}
	return s, nil
}

// Next writes the next point into p (of the generator's dimension). It
// returns false, leaving p alone, once the 2^32 points are used up.
func (s *Sobol) Next(p []float64) bool {
	if s.index >= 1<<sobolBits {
		return false
	}
	if s.index > 0 {
		c := bits.TrailingZeros64(^(s.index - 1)) // the rightmost zero bit of index-1
		for j := range s.x {
			s.x[j] ^= s.v[j][c]
		}
	}
	for j, x := range s.x {
		p[j] = float64(x) / (1 << sobolBits)
	}
	s.index++
	return true
}
