package sweep

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distmv"
	"gonum.org/v1/gonum/stat/samplemv"

	"wormwatch/internal/param"
)

// Point is one point of a design: a value of each factor.
type Point struct {
	// Block is the matrix of Saltelli's design the point belongs to: "A",
	// "B", or "AB1" ... "ABd" (A with the column of factor i from B); empty
	// for other designs. Row is the point's row within it, from 0.
	Block string
	Row   int
	Text  []string  // per factor, the value as --set takes it
	Num   []float64 // per factor, the value as a number (date-times: Unix seconds; durations: seconds); NaN for a string or a boolean
}

// Sets returns the --set assignments of the point.
func (p Point) Sets(factors []Factor) []string {
	out := make([]string, len(factors))
	for i, f := range factors {
		out[i] = f.Key + "=" + p.Text[i]
	}
	return out
}

// DesignPoints returns the points of the design, in the order they are run and
// written:
//   - grid: every combination of the factors' values, the first factor
//     varying slowest;
//   - lhs: Points points of a Latin hypercube (gonum's samplemv), drawn
//     with a generator seeded with SampleSeed;
//   - sobol: the N rows of A, then of B, then of each A_B^(i), where row j
//     of A and of B are the first and last d coordinates of point j+1 of a
//     2d-dimensional Sobol sequence (the origin, point 0, is skipped).
func (s *Spec) DesignPoints() ([]Point, error) {
	d := len(s.Factors)
	switch s.Design {
	case DesignGrid:
		n := 1
		for _, f := range s.Factors {
			n *= len(f.Values)
		}
		pts := make([]Point, n)
		for k := range pts {
			p := Point{Text: make([]string, d), Num: make([]float64, d)}
			rest := k
			for i := d - 1; i >= 0; i-- {
				vals := s.Factors[i].Values
				v := vals[rest%len(vals)]
				rest /= len(vals)
				t, err := valueText(v)
				if err != nil {
					return nil, err // checked by ParseFile
				}
				p.Text[i], p.Num[i] = t, gridNumber(v)
			}
			pts[k] = p
		}
		return pts, nil
	case DesignLHS:
		batch := mat.NewDense(s.Points, d, nil)
		src := rand.NewPCG(s.SampleSeed, 0x1a71c)
		samplemv.LatinHypercube{Q: distmv.NewUnitUniform(d, src), Src: src}.Sample(batch)
		pts := make([]Point, s.Points)
		for k := range pts {
			pts[k] = s.at(batch.RawRowView(k))
		}
		return pts, nil
	case DesignSobol:
		seq, err := NewSobol(2 * d)
		if err != nil {
			return nil, err
		}
		u := make([]float64, 2*d)
		seq.Next(u) // the origin
		a, b := make([][]float64, s.N), make([][]float64, s.N)
		for j := range s.N {
			if !seq.Next(u) {
				return nil, fmt.Errorf("sobol: the sequence is used up")
			}
			a[j] = append([]float64(nil), u[:d]...)
			b[j] = append([]float64(nil), u[d:]...)
		}
		pts := make([]Point, 0, s.N*(d+2))
		for j := range s.N {
			p := s.at(a[j])
			p.Block, p.Row = "A", j
			pts = append(pts, p)
		}
		for j := range s.N {
			p := s.at(b[j])
			p.Block, p.Row = "B", j
			pts = append(pts, p)
		}
		for i := range d {
			for j := range s.N {
				ab := append([]float64(nil), a[j]...)
				ab[i] = b[j][i]
				p := s.at(ab)
				p.Block, p.Row = "AB"+strconv.Itoa(i+1), j
				pts = append(pts, p)
			}
		}
		return pts, nil
	}
	return nil, fmt.Errorf("design %q", s.Design)
}

// at maps a point of the unit cube to the factors' values.
func (s *Spec) at(u []float64) Point {
	d := len(s.Factors)
	p := Point{Text: make([]string, d), Num: make([]float64, d)}
	for i, f := range s.Factors {
		p.Text[i], p.Num[i] = f.at(u[i])
	}
	return p
}

// at maps u in [0, 1) to a value between the factor's bounds:
//   - numbers: lo + u (hi - lo), or exp of that on logarithms with log =
//     true, written with 6 significant digits;
//   - integers (both bounds integers): each of lo ... hi equally likely
//     (floor of lo + u (hi - lo + 1)); with log = true, the rounded value;
//   - date-times and durations: to the whole second.
func (f Factor) at(u float64) (string, float64) {
	lo, hi := f.lo, f.hi
	if f.Log {
		lo, hi = math.Log(lo), math.Log(hi)
	}
	x := lo + u*(hi-lo)
	if f.Log {
		x = math.Exp(x)
	}
	switch f.kind {
	case kindInt:
		if f.Log {
			x = math.Round(x)
		} else {
			x = math.Floor(f.lo + u*(f.hi-f.lo+1))
		}
		x = math.Max(f.lo, math.Min(f.hi, x))
		return strconv.FormatInt(int64(x), 10), x
	case kindTime:
		x = math.Round(x)
		return time.Unix(int64(x), 0).UTC().Format(time.RFC3339), x
	case kindDuration:
		x = math.Round(x)
		return param.Duration(time.Duration(x) * time.Second).String(), x
	}
	x, _ = strconv.ParseFloat(strconv.FormatFloat(x, 'g', 6, 64), 64)
	x = math.Max(f.lo, math.Min(f.hi, x))
	return formatFloat(x), x
}

// gridNumber is a grid value as a number (see Point.Num).
func gridNumber(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	case time.Time:
		return float64(x.Unix())
	case string:
		if d, err := param.ParseDuration(x); err == nil {
			return d.Seconds()
		}
	}
	return math.NaN()
}
