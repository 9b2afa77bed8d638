// Package stattest holds the statistics the project's statistical tests
// share: the two-sample Kolmogorov-Smirnov test with its p-value (gonum
// gives the statistic, not the distribution).
package stattest

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/stat"
)

// KSPValue returns the asymptotic p-value of the two-sample
// Kolmogorov-Smirnov statistic d for samples of sizes n and m, with
// Stephens' small-sample correction (Numerical Recipes, probks).
func KSPValue(d float64, n, m int) float64 {
	ne := float64(n*m) / float64(n+m)
	lam := (math.Sqrt(ne) + 0.12 + 0.11/math.Sqrt(ne)) * d
	// The series 2 sum (-1)^(k-1) exp(-2 k^2 lam^2); for small lam it does
	// not converge and the p-value is 1 (Numerical Recipes' convention).
	sum, sign, prev := 0.0, 1.0, 0.0
	for k := 1; k <= 100; k++ {
		term := sign * 2 * math.Exp(-2*float64(k*k)*lam*lam)
		sum += term
		if math.Abs(term) <= 0.001*prev || math.Abs(term) <= 1e-8*math.Abs(sum) {
			return math.Min(math.Max(sum, 0), 1)
		}
		sign, prev = -sign, math.Abs(term)
	}
	return 1
}

// KS returns the two-sample Kolmogorov-Smirnov statistic of a and b and
// its p-value. a and b are not modified.
func KS(a, b []float64) (d, p float64) {
	x := append([]float64(nil), a...)
	y := append([]float64(nil), b...)
	sort.Float64s(x)
	sort.Float64s(y)
	d = stat.KolmogorovSmirnov(x, nil, y, nil)
	return d, KSPValue(d, len(x), len(y))
}
